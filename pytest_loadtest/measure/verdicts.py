"""The types of a threshold and of its verdict: plain data that imports nothing of the package.

A leaf, so that the result model (``result.py``) holds verdicts without depending on the judging: the grammar and
the evaluation are in ``thresholds.py``, the order of every reason a load test fails in ``gates.py``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

_PERCENTILE = re.compile(r"^p(?P<pct>\d{1,2}(?:\.\d+)?|100)\Z")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Kind(Enum):
    """What a metric measures decides its units and which way a bare number points."""

    LATENCY = "latency"
    RATIO = "ratio"
    RATE = "rate"
    COUNT = "count"


_FIXED_METRICS: dict[str, Kind] = {
    "avg": Kind.LATENCY,
    "min": Kind.LATENCY,
    "max": Kind.LATENCY,
    "median": Kind.LATENCY,
    "fail_ratio": Kind.RATIO,
    "rps": Kind.RATE,
    "requests": Kind.COUNT,
    "failures": Kind.COUNT,
    "dropped_iterations": Kind.COUNT,
}


def metric_kind(metric: str) -> Kind | None:
    """The kind of a metric name, or None when the name is not a metric."""
    if metric in _FIXED_METRICS:
        return _FIXED_METRICS[metric]
    match = _PERCENTILE.match(metric)
    if match and 0 < float(match["pct"]) <= 100:
        return Kind.LATENCY
    return None


def percentile_fraction(metric: str) -> float | None:
    """The fraction a ``pNN`` metric names (``p99.9`` -> 0.999); None for other metrics."""
    match = _PERCENTILE.match(metric)
    return float(match["pct"]) / 100.0 if match else None


def format_value(kind: Kind, value: float) -> str:
    if kind is Kind.RATIO:
        return f"{value * 100:.2f}%"
    if kind is Kind.COUNT:
        return f"{value:.0f}"
    if kind is Kind.RATE:
        return f"{value:.1f}/s"
    return f"{value:.4g} ms"


@dataclass(frozen=True)
class Threshold:
    """One parsed condition: ``scope`` is None for the total, else the entry the user named."""

    metric: str
    op: str
    limit: float
    condition: str
    scope: str | None = None
    implicit: bool = False
    """The failure tolerance a test gets when its thresholds state none (see ``with_failure_tolerance``)."""
    window: float | None = None
    """Seconds of the sliding windows a sustained condition (``"<500ms over 10s"``) holds in; None: the whole run."""
    abort: bool = False
    """The condition's ``abort`` suffix: the run stops as soon as it fails (see measure/windows.py)."""
    warning: bool = False
    """A condition of the marker's ``warn=``: breached, it warns (WARN) instead of failing, unless strict."""

    @property
    def kind(self) -> Kind:
        kind = metric_kind(self.metric)
        assert kind is not None, self.metric
        return kind

    @property
    def label(self) -> str:
        return f"{self.scope} {self.metric}" if self.scope else self.metric

    def holds_for(self, value: float) -> bool:
        return _OPERATORS[self.op](value, self.limit)

    def describe_limit(self) -> str:
        limit = f"{self.op} {format_value(self.kind, self.limit)}"
        if self.window is not None:
            limit = f"{limit} over {self.window:g}s"
        return f"{limit} (warning)" if self.warning else limit

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "op": self.op,
            "limit": self.limit,
            "condition": self.condition,
            "scope": self.scope,
            "implicit": self.implicit,
            "window": self.window,
            "abort": self.abort,
            "warning": self.warning,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Threshold:
        return cls(
            str(data["metric"]),
            str(data["op"]),
            float(data["limit"]),
            str(data["condition"]),
            data["scope"],
            bool(data.get("implicit", False)),
            None if data.get("window") is None else float(data["window"]),
            bool(data.get("abort", False)),
            warning=bool(data.get("warning", False)),
        )


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no data"
    INCONCLUSIVE = "inconclusive"
    """Measured on too few samples to mean anything (see evidence.py); fails the test like FAIL."""
    WARN = "warn"
    """A warning (``warn=``) that did not hold: reported, but the test does not fail on it (unless strict)."""


@dataclass(frozen=True)
class Verdict:
    """How one threshold fared: the measured value (None when there was nothing to measure) and the status."""

    threshold: Threshold
    measured: float | None
    status: Status
    samples: int | None = None
    """Response times behind the measured value."""
    note: str = ""
    """Why the verdict is INCONCLUSIVE, e.g. "30 of 100 samples"; for a sustained threshold, its worst window."""

    @property
    def passed(self) -> bool:
        """Whether the test may pass on this verdict: a PASS, or a WARN (a breached warning fails nothing)."""
        return self.status in (Status.PASS, Status.WARN)

    def describe_measured(self) -> str:
        shown = "-" if self.measured is None else format_value(self.threshold.kind, self.measured)
        return f"{shown} ({self.note})" if self.note else shown

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold.to_dict(),
            "label": self.threshold.label,
            "limit": self.threshold.describe_limit(),
            "measured": self.measured,
            "status": self.status.value,
            "passed": self.passed,
            "samples": self.samples,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        measured, samples = data.get("measured"), data.get("samples")
        return cls(
            Threshold.from_dict(data["threshold"]),
            None if measured is None else float(measured),
            Status(data["status"]),
            None if samples is None else int(samples),
            str(data.get("note", "")),
        )
