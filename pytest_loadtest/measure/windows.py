"""Sustained thresholds and aborting a run: conditions judged over sliding windows of the run's timeline.

A sustained condition (``"p95": "<500ms over 10s"``) holds when every sliding window of that many seconds of the
measured window (ticks of about a second, so a step of one second; the warm-up is not in the timeline) meets it. A
window's figures come from its ticks merged: its requests, failures and response-time histogram, so its
percentiles are exact to Locust's bucketing, as the whole run's. A window counts only with enough behind it: a
latency metric needs the samples ``evidence.samples_needed`` asks of the whole run, ``fail_ratio`` at least
``max(1, min_samples)`` requests, ``rps`` a window that starts once every user runs (after the ramp-up). The
verdict reports the worst window that counts (the highest value for an upper bound, the lowest for a lower bound;
the first of equally bad ones, where the breach began), when it was and its samples; INCONCLUSIVE when none counts.

With ``--load-workers`` the master's figures grow when a worker's report arrives (every 3 s, Locust's
``WORKER_REPORT_INTERVAL``): windows are judged on the figures as they arrived, so a window holds whole reports and
one shorter than the interval may hold none or one. Give sustained conditions a window of several report intervals.

Aborting: a condition with the ``abort`` suffix, or with the scenario's ``abort_on_fail`` every condition that can no
longer pass once it failed (a sustained one, whose failed window stays failed; an upper bound on ``requests``,
``failures`` or ``dropped_iterations``, which only grow), is judged by the engine once a second, on the figures so
far, from ``abort_after`` seconds into the measured window; the first that fails stops the run. A whole-run condition
given ``abort`` explicitly is judged on the figures so far, as k6's ``abortOnFail`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pytest_loadtest.measure.evidence import EvidenceRule, samples_needed
from pytest_loadtest.measure.result import EntryStats, Tick, Timeline, merge_ticks
from pytest_loadtest.measure.verdicts import Kind, Status, Threshold, Verdict

Figure = Callable[[EntryStats, str], float]
"""The value of a metric for an entry's figures (``thresholds.measure``)."""
_GROWING_COUNTS = frozenset({"requests", "failures", "dropped_iterations"})


@dataclass(frozen=True)
class Window:
    """One sliding window of a timeline: from ``start`` to ``end`` seconds into the measured window."""

    start: float
    end: float
    figures: Tick

    def as_entry(self, name: str) -> EntryStats:
        """The window's figures as an entry, so that a metric is measured on it as on the whole run."""
        histogram = self.figures.histogram
        return EntryStats(
            name=name,
            num_requests=self.figures.requests,
            num_failures=self.figures.failures,
            total_response_time=self.figures.response_time,
            min_response_time=min(histogram, default=0.0),
            max_response_time=max(histogram, default=0.0),
            window=self.end - self.start,
            histogram=histogram,
        )


def sliding_windows(timeline: Timeline, key: str, seconds: float) -> list[Window]:
    """Every window of ``seconds`` (whole ticks, step one tick) of the entry ``key`` names; none when the timeline
    is shorter."""
    ticks = timeline.ticks(key)
    length = max(1, round(seconds))
    return [
        Window(
            timeline.start_of(first),
            timeline.ends[first + length - 1],
            merge_ticks(ticks[first : first + length]),
        )
        for first in range(len(ticks) - length + 1)
    ]


def window_counts(threshold: Threshold, window: Window, evidence: EvidenceRule) -> bool:
    """Whether a window has enough behind it to judge ``threshold`` on."""
    figures = window.figures
    if threshold.kind is Kind.LATENCY:
        samples = sum(figures.histogram.values())
        return samples >= max(1, samples_needed(threshold.metric, evidence.min_samples))
    if threshold.metric == "fail_ratio":
        return figures.requests >= max(1, math.ceil(evidence.min_samples))
    return evidence.min_samples <= 0 or evidence.warmup + window.start >= evidence.ramp_up


def judge_sustained(
    threshold: Threshold, timeline: Timeline, key: str, evidence: EvidenceRule, figure: Figure
) -> Verdict:
    """The verdict on a sustained threshold: its worst counted window, or INCONCLUSIVE when none counts."""
    assert threshold.window is not None, threshold
    windows = sliding_windows(timeline, key, threshold.window)
    counted = [window for window in windows if window_counts(threshold, window, evidence)]
    span = f"{threshold.window:g}s"
    if not counted:
        run = timeline.ends[-1] if timeline.ends else 0.0
        why = (
            f"the run ({run:.1f}s) is shorter than the {span} window"
            if not windows
            else f"no {span} window has enough samples"
        )
        return Verdict(threshold, None, Status.INCONCLUSIVE, 0, why)
    measured = [(figure(window.as_entry(key), threshold.metric), window) for window in counted]
    upper = threshold.op in ("<", "<=")
    value, worst = (max if upper else min)(measured, key=lambda pair: pair[0])
    samples = (
        sum(worst.figures.histogram.values()) if threshold.kind is Kind.LATENCY else worst.figures.requests
    )
    status = Status.PASS if threshold.holds_for(value) else Status.FAIL
    note = f"worst {span} window {worst.start:.0f}-{worst.end:.0f}s"
    return Verdict(threshold, value, status, samples, note)


def abortable(thresholds: Iterable[Threshold], abort_on_fail: bool) -> tuple[Threshold, ...]:
    """The thresholds whose failure stops the run: those marked ``abort``, and with ``abort_on_fail`` every one that
    cannot pass any more once it failed."""

    def final_once_failed(threshold: Threshold) -> bool:
        if threshold.window is not None:
            return True
        return threshold.metric in _GROWING_COUNTS and threshold.op in ("<", "<=")

    return tuple(
        threshold
        for threshold in thresholds
        if threshold.abort or (abort_on_fail and not threshold.implicit and final_once_failed(threshold))
    )


def abort_reason(verdicts: Iterable[Verdict]) -> str | None:
    """Why the run stops now: the first failed verdict among the abortable thresholds'; None while none failed."""
    failed = next((verdict for verdict in verdicts if verdict.status is Status.FAIL), None)
    if failed is None:
        return None
    return f"{failed.threshold.label} {failed.threshold.condition!r} failed: measured {failed.describe_measured()}"


def stopped_early(elapsed: float, duration: float, reason: str) -> str:
    """The line a test stopped by an abort condition fails with."""
    return f"stopped early at {elapsed:.1f}s of {duration:g}s because {reason}"
