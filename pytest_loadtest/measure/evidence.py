"""When a threshold's figure means something: the rule behind INCONCLUSIVE verdicts.

A percentile needs samples beyond it. With nearest-rank percentiles, a p99 over fewer than 100 response times is
the slowest response, not a 99th percentile; in general ``pNN`` needs ``min_samples / (1 - NN/100)`` samples, so
that at least ``min_samples`` of them lie in the tail beyond it (default 1: p50 needs 2, p95 20, p99 100, p99.9
1,000). ``avg``, ``min``, ``max`` and ``p100`` need ``min_samples``, ``median`` counts as p50.

A rate needs the users running: ``rps`` is inconclusive when the run (warm-up included) ended before its ramp-up,
the time Locust takes to start every user at ``spawn_rate`` (``users / spawn_rate`` seconds; none when every user
starts at once), so its users never all ran together. Counts (``requests``, ``failures``) and ``fail_ratio`` are
always judged. ``min_samples = 0`` turns both rules off.

A figure the missing evidence could only push one way is judged all the same when it already decides the threshold
in that direction: more users only raise ``rps``, more samples only raise ``max`` (``p100``) and only lower ``min``.
So ``rps >= 10/s`` met while the ramp-up was unfinished passes, ``rps < 100/s`` breached fails, ``max < 1s``
breached on thin samples fails and ``min < 5ms`` met passes; the other direction stays inconclusive. A percentile or
an average may move either way with more samples: a thin one stays inconclusive whatever its value. Latency is not
held to the ramp-up: a latency limit breached by fewer users than planned fails.

A run with no completed request at all measured nothing, thresholds or not: that fails the test on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pytest_loadtest.measure.result import EntryStats, LoadResult
from pytest_loadtest.measure.verdicts import Threshold, percentile_fraction

DEFAULT_MIN_SAMPLES = 1.0
_TAIL_ONLY = {"avg": 0.0, "min": 0.0, "max": 0.0, "median": 0.5}
"""Latency metrics that are not spelled pNN, as the percentile whose tail they need (0: any sample will do)."""


def samples_needed(metric: str, min_samples: float) -> int:
    """How many response times a latency metric needs to be judged; 0 for metrics that are always judged."""
    fraction = _TAIL_ONLY.get(metric, percentile_fraction(metric))
    if fraction is None:
        return 0
    tail = 1.0 - fraction
    if tail <= 0:  # p100 is the maximum
        return math.ceil(min_samples)
    return math.ceil(round(min_samples / tail, 6))  # round: 1 / (1 - 0.99) is 99.99999999999991


_GROWS_WITH_EVIDENCE = {"rps": True, "max": True, "p100": True, "min": False}
"""Figures that more users (rps) or more samples move only one way: True when they can only rise, False fall."""


def decided_anyway(threshold: Threshold, entry: EntryStats) -> bool:
    """Whether ``entry``'s figure decides ``threshold`` even on missing evidence: it holds a lower bound on a figure
    that can only rise (or an upper bound on one that can only fall), or breaches the opposite bound."""
    grows = _GROWS_WITH_EVIDENCE.get(threshold.metric)
    if grows is None:
        return False
    figures = {"rps": entry.rps, "max": entry.max, "p100": entry.percentile(1.0), "min": entry.min}
    value = figures[threshold.metric]
    lower_bound = threshold.op in (">", ">=")
    return threshold.holds_for(value) == (lower_bound == grows)


def ramp_up_seconds(users: int, spawn_rate: float) -> float:
    """Seconds until every user runs: none when all start at once, else ``users / spawn_rate``."""
    return 0.0 if spawn_rate >= users else users / spawn_rate


@dataclass(frozen=True)
class EvidenceRule:
    """What a scenario's figures must have behind them before a threshold is judged on them."""

    min_samples: float = DEFAULT_MIN_SAMPLES
    ramp_up: float = 0.0
    """Seconds from the start until every user runs."""
    warmup: float = 0.0
    """Seconds run before the measured window (they count towards the ramp-up)."""

    def shortfall(self, threshold: Threshold, entry: EntryStats, elapsed: float) -> str | None:
        """Why ``entry`` is too thin to judge ``threshold`` on (for the verdict table), or None when it is not."""
        if self.min_samples <= 0 or decided_anyway(threshold, entry):
            return None
        if threshold.metric == "rps":
            run = self.warmup + elapsed
            if run < self.ramp_up:
                return f"the run ({run:.1f}s) ended before its ramp-up ({self.ramp_up:.1f}s)"
            return None
        needed = samples_needed(threshold.metric, self.min_samples)
        samples = sum(entry.histogram.values())
        if samples < needed:
            return f"{samples} of {needed} samples"
        return None


def nothing_measured_message(test_id: str, result: LoadResult) -> str | None:
    """The failure of a run in which no request completed (users stuck on a silent target, or sending nothing)."""
    if result.total.num_requests or result.total.num_failures:
        return None
    running = result.history[-1].users if result.history else 0
    return (
        f"{test_id}: no request completed in {result.elapsed:.1f}s ({running} users running at the end): nothing "
        "was measured. The target never answered within the run, or the users sent no request (requests still "
        "waiting for an answer when the scenario stopped are not counted)"
    )
