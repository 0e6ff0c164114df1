"""What a failing threshold's message says beside the table: when the breach started, where it came from, the top
errors, and the baseline's value. At most ``MAX_LINES`` lines, each one short and deterministic.

- when: the first progress point (the run's history, one a second) whose p95, rps or fail_ratio breaks a failed
  top-level threshold on that metric;
- where: of two entries or more, those with the most requests slower than a failed latency limit, or the most
  failures for a failed ``fail_ratio``/``failures`` limit (three at most);
- errors: the three most frequent errors, with their counts;
- baseline: the baseline's value of each failed top-level threshold's metric, when a baseline was compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pytest_loadtest.measure.result import EntryStats, LoadResult, ProgressPoint
from pytest_loadtest.measure.thresholds import measure
from pytest_loadtest.measure.verdicts import Kind, Status, Verdict, format_value

MAX_LINES = 15
_SHOWN = 3


def diagnosis(
    verdicts: Iterable[Verdict], result: LoadResult, baseline: EntryStats | None = None, errors: bool = True
) -> list[str]:
    """The lines that explain the failed thresholds among ``verdicts``; ``baseline``: the compared run's total;
    ``errors``: False when the message lists the top errors already (``failed_requests_note``)."""
    failed = [v for v in verdicts if v.status is Status.FAIL and v.threshold.scope is None]
    lines = [
        line for verdict in failed for line in (_started(verdict, result), _contributors(verdict, result))
    ]
    if errors:
        lines.extend(_top_errors(result))
    if baseline is not None:
        lines.extend(_baseline_value(verdict, baseline) for verdict in failed)
    return [line for line in lines if line][:MAX_LINES]


def _interval_fail_ratio(previous: ProgressPoint | None, point: ProgressPoint) -> float | None:
    requests = point.requests - (previous.requests if previous else 0)
    failures = point.failures - (previous.failures if previous else 0)
    return failures / requests if requests > 0 else None


def _started(verdict: Verdict, result: LoadResult) -> str:
    """When the history first broke the threshold (its metric as the history samples it each second)."""
    threshold = verdict.threshold
    figure: Callable[[ProgressPoint | None, ProgressPoint], float | None] | None = {
        "p95": lambda _, point: point.p95 if point.requests else None,
        "rps": lambda _, point: point.rps,
        "fail_ratio": _interval_fail_ratio,
    }.get(threshold.metric)
    if figure is None:
        return ""
    previous = None
    for point in result.history:
        value = figure(previous, point)
        if value is not None and not threshold.holds_for(value):
            shown = format_value(threshold.kind, value)
            return f"{threshold.label} first broke {threshold.describe_limit()} at {point.elapsed:.1f}s ({shown})"
        previous = point
    return ""


def _contributors(verdict: Verdict, result: LoadResult) -> str:
    """The entries that weigh most in a failed latency or failure limit."""
    threshold = verdict.threshold
    if len(result.entries) < 2:  # one entry is the total: nothing to single out
        return ""
    if threshold.kind is Kind.LATENCY and threshold.op in ("<", "<="):
        counted = {
            name: sum(count for time, count in entry.histogram.items() if not threshold.holds_for(time))
            for name, entry in result.entries.items()
        }
        what = f"requests slower than {format_value(threshold.kind, threshold.limit)}"
    elif threshold.metric in ("fail_ratio", "failures"):
        counted = {name: entry.num_failures for name, entry in result.entries.items()}
        what = "failures"
    else:
        return ""
    ranked = sorted((item for item in counted.items() if item[1]), key=lambda item: (-item[1], item[0]))[
        :_SHOWN
    ]
    if not ranked:
        return ""
    return f"{threshold.label}: most {what} in " + ", ".join(f"{name} ({count})" for name, count in ranked)


def _top_errors(result: LoadResult) -> list[str]:
    errors = sorted(result.errors, key=lambda error: -error.occurrences)[:_SHOWN]
    if not errors:
        return []
    return ["top errors:"] + [f"  {e.occurrences}x {e.method} {e.name}: {e.error}" for e in errors]


def _baseline_value(verdict: Verdict, baseline: EntryStats) -> str:
    threshold = verdict.threshold
    if baseline.num_requests == 0 and threshold.kind is not Kind.COUNT:
        return ""
    return f"{threshold.label}: baseline {format_value(threshold.kind, measure(baseline, threshold.metric))}"
