"""Saved baselines, in the spirit of pytest-benchmark: save a session's figures by name, compare a later run with them.

Files: ``<rootdir>/.loadtest/NAME.json``, each written whole or not at all. A session that did not measure every test
in full does not replace a saved baseline (unless forced). ``--load-compare-fail=p95:10%,rps:-5%`` is parsed into ``RegressionLimit``
value objects: a positive limit allows an increase up to that much, a negative one a decrease up to that much.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import EntryStats
from pytest_loadtest.measure.thresholds import METRICS_HELP, format_value, measure, metric_kind
from pytest_loadtest.reports.files import replace_file
from pytest_loadtest.reports.table import Column, format_table

BASELINE_DIR = ".loadtest"
SCHEMA_VERSION = 1
COMPARED_METRICS = ("requests", "fail_ratio", "rps", "p50", "p95", "p99")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_LIMIT = re.compile(r"^\s*(?P<metric>[A-Za-z0-9_.]+)\s*:\s*(?P<percent>[+-]?\d+(?:\.\d+)?)\s*%\s*$")


def check_name(name: str, option: str) -> str:
    if not _NAME.fullmatch(name):
        raise LoadTestUsageError(
            f"{option}: {name!r} is not a valid baseline name; use letters, digits, '.', '_' and '-' "
            "(at most 100, starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class RegressionLimit:
    """How much ``metric`` may change relative to the baseline: +10 allows up to 10% more, -5 up to 5% less."""

    metric: str
    percent: float

    def exceeded(self, change: float) -> bool:
        if self.percent >= 0:
            return change * 100 > self.percent
        return change * 100 < self.percent

    def describe(self) -> str:
        return f"{'+' if self.percent >= 0 else ''}{self.percent:g}%"


def parse_limits(text: str) -> tuple[RegressionLimit, ...]:
    """Parse ``p95:10%,rps:-5%``; a bad item is a usage error naming it."""
    limits = []
    for item in text.split(","):
        match = _LIMIT.match(item)
        if match is None:
            raise LoadTestUsageError(
                f"--load-compare-fail: cannot parse {item.strip()!r}; expected METRIC:N% (an increase allowed up to "
                "N%) or METRIC:-N% (a decrease allowed up to N%), comma-separated, e.g. p95:10%,rps:-5%"
            )
        metric = match["metric"]
        if metric_kind(metric) is None:
            raise LoadTestUsageError(
                f"--load-compare-fail: unknown metric {metric!r} in {item.strip()!r}; known: {METRICS_HELP}"
            )
        limits.append(RegressionLimit(metric, float(match["percent"])))
    return tuple(limits)


@dataclass(frozen=True)
class Baseline:
    """A saved session: figures (the total entry) per test node id."""

    name: str
    saved_at: str
    path: Path
    tests: Mapping[str, EntryStats]

    def describe(self) -> str:
        return f"{self.name!r} (saved {self.saved_at})"


def baseline_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.json"


def previously_saved(path: Path) -> str | None:
    """When the baseline at ``path`` was saved ("?" when unreadable); None when there is none."""
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["saved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


def baseline_tests(records: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The figures a baseline keeps per test, and the tests left out (partial or no figures)."""
    tests, skipped = {}, []
    for record in records:
        result = record.get("result")
        if result is None or record.get("partial"):
            skipped.append(record["nodeid"])  # partial figures would make a misleading baseline
            continue
        tests[record["nodeid"]] = {
            "users": result["users"],
            "duration": result["duration"],
            "total": result["total"],
        }
    return tests, skipped


def incomplete(skipped: Sequence[str], tests: int, interrupted: bool) -> str | None:
    """Why a session's figures must not replace a saved baseline, or None when every test was measured in full."""
    reasons = ["the session was interrupted"] if interrupted else []
    if skipped:
        reasons.append(
            f"{len(skipped)} of {len(skipped) + tests} tests have partial or no figures ({', '.join(skipped)})"
        )
    return "; ".join(reasons) or None


def save_baseline(
    directory: Path,
    name: str,
    tests: Mapping[str, Any],
    environment: Mapping[str, Any],
    saved_at: str,
) -> Path:
    """Write ``directory/NAME.json`` atomically, replacing one of that name; returns its path."""
    path = baseline_path(directory, name)
    document = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "saved_at": saved_at,
        "environment": dict(environment),
        "tests": dict(tests),
    }
    replace_file(path, (json.dumps(document, indent=2) + "\n").encode())
    return path


def saved_names(directory: Path) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.json")) if directory.is_dir() else []


def load_baseline(directory: Path, name: str | None) -> Baseline:
    """The baseline called ``name``, or the most recently saved one when ``name`` is None."""
    names = saved_names(directory)
    if not names:
        raise LoadTestUsageError(
            f"--load-compare: no saved baseline in {directory}; save one first with --load-save NAME"
        )
    if name is None:
        name = max(names, key=lambda stem: (baseline_path(directory, stem).stat().st_mtime, stem))
    elif name not in names:
        raise LoadTestUsageError(
            f"--load-compare: no baseline named {name!r} in {directory} (saved: {', '.join(names)})"
        )
    path = baseline_path(directory, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tests = {nodeid: EntryStats.from_dict(test["total"]) for nodeid, test in data["tests"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LoadTestUsageError(f"--load-compare: cannot read the baseline {path}: {exc!r}") from None
    return Baseline(name, str(data.get("saved_at", "?")), path, tests)


@dataclass(frozen=True)
class Comparison:
    """One metric of one test: baseline, current, relative change and whether it broke its limit."""

    metric: str
    baseline: float
    current: float
    limit: RegressionLimit | None

    @property
    def change(self) -> float:
        if self.baseline == 0:
            return 0.0 if self.current == 0 else math.inf
        return (self.current - self.baseline) / self.baseline

    @property
    def regressed(self) -> bool:
        return self.limit is not None and self.limit.exceeded(self.change)

    def describe_change(self) -> str:
        return "new" if math.isinf(self.change) else f"{self.change * 100:+.1f}%"

    def to_dict(self) -> dict[str, Any]:
        kind = metric_kind(self.metric)
        assert kind is not None
        return {
            "metric": self.metric,
            "baseline": self.baseline,
            "current": self.current,
            "change": None if math.isinf(self.change) else self.change,
            "regressed": self.regressed,
            "baseline_text": format_value(kind, self.baseline),
            "current_text": format_value(kind, self.current),
            "change_text": self.describe_change(),
            "limit_text": self.limit.describe() if self.limit else None,
        }


def compare(baseline: EntryStats, current: EntryStats, limits: Sequence[RegressionLimit]) -> list[Comparison]:
    """The usual metrics and every limited one, baseline against current (both the total entry)."""
    by_metric = {limit.metric: limit for limit in limits}
    metrics = list(dict.fromkeys([*COMPARED_METRICS, *by_metric]))
    return [
        Comparison(metric, measure(baseline, metric), measure(current, metric), by_metric.get(metric))
        for metric in metrics
    ]


def regression_message(test_id: str, baseline: Baseline, comparisons: Iterable[Comparison]) -> str | None:
    """The failure message when a limit is broken, else None."""
    broken = [comparison.to_dict() for comparison in comparisons if comparison.regressed]
    if not broken:
        return None
    lines = [f"{test_id}: regressed against baseline {baseline.describe()}:"]
    lines += [
        f"  {row['metric']}: baseline {row['baseline_text']}, current {row['current_text']}, "
        f"change {row['change_text']} (allowed {row['limit_text']})"
        for row in broken
    ]
    return "\n".join(lines)


def render_comparisons(
    baseline: Baseline, rows: Sequence[tuple[str, Sequence[Mapping[str, Any]] | None]]
) -> str:
    """A terminal table: per test, each metric's baseline, current value and change; regressions marked."""
    table: list[tuple[str, ...]] = []
    for nodeid, comparisons in rows:
        if comparisons is None:
            table.append((nodeid, "-", "not in baseline", "", "", ""))
            continue
        for index, row in enumerate(comparisons):
            mark = f"REGRESSED (allowed {row['limit_text']})" if row["regressed"] else ""
            table.append(
                (
                    nodeid if index == 0 else "",
                    row["metric"],
                    row["baseline_text"],
                    row["current_text"],
                    row["change_text"],
                    mark,
                )
            )
    columns = [Column(title) for title in ("test", "metric", "baseline", "current", "change", "")]
    return f"compared with baseline {baseline.describe()}\n{format_table(columns, table, rule=False)}"
