"""The thresholds grammar: parse ``{"p95": "<100ms", "GET /health": {"p99": "<300ms"}}``, judge, render.

A condition is an operator (``<``, ``<=``, ``>``, ``>=``) then a number with an optional unit: ``ms`` or ``s`` for
latency metrics, ``%`` for ``fail_ratio``. A bare number is an upper bound for latency, ``fail_ratio``, ``failures``
and ``dropped_iterations``, a lower bound for ``rps`` and ``requests``. ``dropped_iterations`` (the open model's
iterations dropped for want of a free user) belongs to the whole run, so it is a top-level threshold only.

Two suffixes follow the condition, in this order: ``over <window>`` (``"<500ms over 10s"``: a sustained condition,
judged on every sliding window of that many whole seconds, see ``windows.py``; latency metrics, ``fail_ratio`` and
``rps``) and ``abort`` (``"<5% abort"``: the run stops as soon as the condition fails, see ``windows.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping

from pytest_loadtest.errors import LoadTestUsageError, shown
from pytest_loadtest.measure.evidence import EvidenceRule
from pytest_loadtest.measure.result import TOTAL_NAME, EntryStats, LoadResult
from pytest_loadtest.measure.verdicts import Kind, Status, percentile_fraction

# The types live in verdicts.py; these names are re-exported for the modules that import them with the grammar.
from pytest_loadtest.measure.verdicts import Threshold as Threshold
from pytest_loadtest.measure.verdicts import Verdict as Verdict
from pytest_loadtest.measure.verdicts import format_value as format_value
from pytest_loadtest.measure.verdicts import metric_kind as metric_kind
from pytest_loadtest.measure.windows import judge_sustained
from pytest_loadtest.reports.table import Column, format_table

_CONDITION = re.compile(
    r"^\s*(?P<op><=|>=|<|>)?\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>[a-z%/]*)\s*$"
)
_SUFFIXES = re.compile(
    r"^(?P<condition>.*?)(?:\s+over\s+(?P<window>\S+))?(?:\s+(?P<abort>abort))?\s*$", re.DOTALL
)
_WINDOW = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>s|m|h)$")
_WINDOW_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
WINDOW_KINDS = frozenset({Kind.LATENCY, Kind.RATIO, Kind.RATE})
"""Metrics a sustained condition may judge per window: counts grow with the window, so they have none."""
RUN_METRICS = frozenset({"dropped_iterations"})
"""Metrics of the whole run, not of a request entry: top-level thresholds only."""
_LOWER_BOUND_BY_DEFAULT = frozenset({"rps", "requests"})
_UNITS: dict[Kind, dict[str, float]] = {
    Kind.LATENCY: {"": 1.0, "ms": 1.0, "s": 1000.0},
    Kind.RATIO: {"": 1.0, "%": 0.01},
    Kind.RATE: {"": 1.0, "/s": 1.0},
    Kind.COUNT: {"": 1.0},
}
METRICS_HELP = (
    "avg, min, max, median, pNN or pNN.N (p50, p95, p99.9), fail_ratio, rps, requests, failures, "
    "dropped_iterations (with rate=)"
)


TOLERANCE_METRICS = frozenset({"fail_ratio", "failures"})
"""Top-level thresholds that state how many failed requests a test tolerates."""


def with_failure_tolerance(thresholds: tuple[Threshold, ...], tolerance: float) -> tuple[Threshold, ...]:
    """The thresholds, plus ``fail_ratio <= tolerance`` when none of them states a tolerance of its own.

    Plain ``locust --headless`` exits 1 when any request failed (``--exit-code-on-error``); a load test fails the
    same way unless it says how many failures it accepts: a top-level ``fail_ratio`` or ``failures`` threshold, or
    the session's ``max_fail_ratio`` (default 0)."""
    if any(threshold.scope is None and threshold.metric in TOLERANCE_METRICS for threshold in thresholds):
        return thresholds
    condition = f"<={tolerance * 100:g}% (max_fail_ratio)"
    return (*thresholds, Threshold("fail_ratio", "<=", tolerance, condition, None, implicit=True))


def failed_requests_note(verdicts: Iterable[Verdict], result: LoadResult) -> str | None:
    """Why a run whose thresholds stated no failure tolerance failed on its failed requests, and the way out."""
    if not any(v.threshold.implicit and v.status is Status.FAIL for v in verdicts):
        return None
    total = result.total
    errors = sorted(result.errors, key=lambda error: -error.occurrences)[:3]
    shown_errors = "".join(
        f"\n  {error.occurrences}x {error.method} {error.name}: {error.error}" for error in errors
    )
    return (
        f"{total.num_failures} of {total.num_requests} requests failed ({total.fail_ratio:.2%}); top errors:"
        f"{shown_errors}\nA load test fails on any failed request unless it states a tolerance, as "
        "`locust --headless` exits 1 when a request failed: add a top-level threshold such as "
        '{"fail_ratio": "<1%"} (or {"failures": "<=10"}), or set --load-max-fail-ratio 1% (ini load_max_fail_ratio, '
        "LOAD_MAX_FAIL_RATIO) for every load test of the session"
    )


def parse_thresholds(spec: object, where: str) -> tuple[Threshold, ...]:
    """Parse a user's thresholds mapping; ``where`` names its source (the test) in every error."""
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise LoadTestUsageError(
            f"{where}: thresholds must be a dict of metric -> condition, got {shown(spec)}"
        )
    parsed: list[Threshold] = []
    for key, value in spec.items():
        if not isinstance(key, str):
            raise LoadTestUsageError(
                f"{where}: threshold key {shown(key)} must be a metric name or an entry name"
            )
        if metric_kind(key) is None and isinstance(value, Mapping):
            parsed.extend(_parse_scope(key, value, where))
        else:
            parsed.append(parse_condition(key, value, where))
    return tuple(parsed)


def _parse_scope(scope: str, spec: Mapping[object, object], where: str) -> list[Threshold]:
    if not scope.strip():
        raise LoadTestUsageError(f"{where}: threshold entry name must not be empty")
    conditions = []
    for metric, condition in spec.items():
        if not isinstance(metric, str):
            raise LoadTestUsageError(
                f"{where}: threshold key {shown(metric)} under {scope!r} must be a metric name"
            )
        conditions.append(parse_condition(metric, condition, where, scope))
    return conditions


def parse_condition(metric: str, condition: object, where: str, scope: str | None = None) -> Threshold:
    """Parse one ``metric: condition`` pair into a Threshold, or raise LoadTestUsageError naming it."""
    key = f"{scope!r} -> {metric!r}" if scope else repr(metric)
    kind = metric_kind(metric)
    if kind is None:
        raise LoadTestUsageError(
            f"{where}: unknown threshold metric {key}; known metrics: {METRICS_HELP} "
            "(a key naming an entry such as 'GET /health' takes a dict of its own thresholds)"
        )
    if scope and metric in RUN_METRICS:
        raise LoadTestUsageError(
            f"{where}: threshold {key}: {metric} counts the whole run, not one entry; put it at the top level "
            "of the thresholds"
        )
    if isinstance(condition, bool) or not isinstance(condition, (str, int, float)):
        raise LoadTestUsageError(
            f"{where}: threshold {key}: condition must be a string such as '<200ms', got {shown(condition)}"
        )
    if isinstance(condition, int) and condition.bit_length() > 1024:
        raise LoadTestUsageError(f"{where}: threshold {key}: limit {shown(condition)} is too large")
    text = str(condition)
    suffixes = _SUFFIXES.match(text)
    assert suffixes is not None  # every text matches: both suffixes are optional
    window = _parse_window(suffixes["window"], metric, kind, key, text, where)
    match = _CONDITION.match(suffixes["condition"])
    if match is None:
        raise LoadTestUsageError(
            f"{where}: threshold {key}: cannot parse condition {shown(text)}; "
            "expected an operator (<, <=, >, >=) then a number with an optional unit, e.g. '<200ms', '>=50', '<1%', "
            "then optionally 'over 10s' (a sustained condition) and 'abort' (stop the run when it fails)"
        )
    unit = match["unit"]
    units = _UNITS[kind]
    if unit not in units:
        allowed = ", ".join(repr(u) for u in units if u) or "none"
        raise LoadTestUsageError(
            f"{where}: threshold {key}: unit {unit!r} in {text!r} does not fit {metric} (allowed: {allowed})"
        )
    limit = float(match["number"]) * units[unit]
    if not math.isfinite(limit) or limit < 0:
        raise LoadTestUsageError(f"{where}: threshold {key}: limit in {text!r} must be a finite number >= 0")
    if kind is Kind.RATIO and limit > 1.0:
        hint = f"; did you mean '{match['op'] or ''}{match['number']}%'?" if not unit else ""
        raise LoadTestUsageError(
            f"{where}: threshold {key}: limit in {text!r} is over 100%: a ratio is a fraction from 0 to 1 "
            f"or a percentage from 0% to 100%{hint}"
        )
    op = match["op"] or (">=" if metric in _LOWER_BOUND_BY_DEFAULT else "<=")
    abort = suffixes["abort"] is not None
    if abort and window is None and kind is Kind.COUNT and op in (">", ">="):
        raise LoadTestUsageError(
            f"{where}: threshold {key}: {text!r} cannot abort: a lower bound on a count is only decided when the "
            "run ends"
        )
    return Threshold(metric, op, limit, text.strip(), scope, window=window, abort=abort)


def _parse_window(
    window: str | None, metric: str, kind: Kind, key: str, text: str, where: str
) -> float | None:
    """The seconds of an ``over <window>`` suffix: whole seconds, at least 1; None without one."""
    if window is None:
        return None
    if kind not in WINDOW_KINDS:
        raise LoadTestUsageError(
            f"{where}: threshold {key}: {metric} in {text!r} cannot be sustained over a window (a count grows "
            "with it): windows judge latency metrics, fail_ratio and rps"
        )
    match = _WINDOW.match(window)
    seconds = float(match["number"]) * _WINDOW_UNITS[match["unit"]] if match else 0.0
    if seconds < 1 or not seconds.is_integer():
        raise LoadTestUsageError(
            f"{where}: threshold {key}: window {window!r} in {text!r} must be a whole number of seconds, at least "
            "1, such as 'over 10s' or 'over 1m'"
        )
    return seconds


def measure(entry: EntryStats, metric: str) -> float:
    """The value of ``metric`` for one entry of a result."""
    fraction = percentile_fraction(metric)
    if fraction is not None:
        return entry.percentile(fraction)
    values: dict[str, Callable[[], float]] = {
        "avg": lambda: entry.avg,
        "min": lambda: entry.min,
        "max": lambda: entry.max,
        "median": lambda: entry.median,
        "fail_ratio": lambda: entry.fail_ratio,
        "rps": lambda: entry.rps,
        "requests": lambda: float(entry.num_requests),
        "failures": lambda: float(entry.num_failures),
    }
    return values[metric]()


def evaluate(
    thresholds: Iterable[Threshold], result: LoadResult, evidence: EvidenceRule | None = None
) -> tuple[Verdict, ...]:
    """Judge every threshold against a result; with ``evidence``, one judged on too few samples is INCONCLUSIVE."""
    verdicts = []
    for threshold in thresholds:
        if threshold.metric in RUN_METRICS:
            verdicts.append(_judge_run_figure(threshold, result))
            continue
        entry = result.total if threshold.scope is None else result.find_entry(threshold.scope)
        if entry is None or (entry.num_requests == 0 and threshold.kind is not Kind.COUNT):
            verdicts.append(Verdict(threshold, None, Status.NO_DATA))
            continue
        if threshold.window is not None:
            key = threshold.scope or TOTAL_NAME
            rule = evidence or EvidenceRule(min_samples=0)
            verdicts.append(judge_sustained(threshold, result.timeline, key, rule, measure))
            continue
        value, samples = measure(entry, threshold.metric), sum(entry.histogram.values())
        shortfall = evidence.shortfall(threshold, entry, result.elapsed) if evidence else None
        if shortfall:
            verdicts.append(Verdict(threshold, value, Status.INCONCLUSIVE, samples, shortfall))
        else:
            status = Status.PASS if threshold.holds_for(value) else Status.FAIL
            verdicts.append(Verdict(threshold, value, status, samples))
    return tuple(verdicts)


def _judge_run_figure(threshold: Threshold, result: LoadResult) -> Verdict:
    """A threshold on a figure of the whole run: counted, so judged whatever the number of samples."""
    value = {"dropped_iterations": result.dropped_iterations}[threshold.metric]
    if value is None:
        return Verdict(threshold, None, Status.NO_DATA)
    status = Status.PASS if threshold.holds_for(float(value)) else Status.FAIL
    return Verdict(threshold, float(value), status)


def failure_headline(verdicts: Iterable[Verdict]) -> str:
    """The first line of a threshold failure, e.g. "2 of 3 load thresholds failed, 1 inconclusive (...)"."""
    judged = list(verdicts)
    inconclusive = sum(v.status is Status.INCONCLUSIVE for v in judged)
    failed = sum(not v.passed for v in judged) - inconclusive
    total = len(judged)
    if not inconclusive:
        return f"{failed} of {total} load thresholds failed"
    counted = (
        f"{failed} of {total} load thresholds failed, {inconclusive}"
        if failed
        else f"{inconclusive} of {total} load thresholds"
    )
    return (
        f"{counted} inconclusive (too few samples to judge: run longer or with more users, "
        "or lower min_samples / --load-min-samples)"
    )


def render_table(verdicts: Iterable[Verdict]) -> str:
    """A small fixed-width table: every threshold, its limit, the measured value, its verdict."""
    return format_table(
        [Column("threshold"), Column("limit"), Column("measured"), Column("verdict")],
        [
            (v.threshold.label, v.threshold.describe_limit(), v.describe_measured(), v.status.value.upper())
            for v in verdicts
        ],
    )
