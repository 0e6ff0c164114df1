"""Saved baselines, in the spirit of pytest-benchmark: save a session's figures by name, compare a later run with them.

Files: ``<rootdir>/.loadtest/NAME.json``, each written whole or not at all. A session that did not measure every test
in full does not replace a saved baseline (unless forced). ``--load-compare-fail=p95:10%,rps:-5%`` is parsed into ``RegressionLimit``
value objects: a positive limit allows an increase up to that much, a negative one a decrease up to that much; an
item may name the entry it limits (``GET /health:p95:10%``) or every entry (``*:p95:10%``), else it limits the total.

A baseline records where it was measured (``measurement_origin``: CPUs, CPU model, Python, Locust, pytest-loadtest,
profile) and each test's users and duration. A comparison with one measured elsewhere or otherwise (``differences``),
or with an older baseline that does not say (unknown origin), is shown but fails no test unless ``--load-compare-any``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import TOTAL_NAME, EntryStats, LoadResult, find_entry
from pytest_loadtest.measure.thresholds import METRICS_HELP, format_value, measure, metric_kind
from pytest_loadtest.reports.files import replace_file
from pytest_loadtest.reports.table import Column, format_table

BASELINE_DIR = ".loadtest"
SCHEMA_VERSION = 2
"""2 added ``origin`` and each test's ``entries``; files of version 1 still load, of unknown origin."""
COMPARED_METRICS = ("requests", "fail_ratio", "rps", "p50", "p95", "p99")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_LIMIT = re.compile(
    r"^\s*(?:(?P<entry>.*\S)\s*:)?\s*(?P<metric>[A-Za-z0-9_.]+)\s*:\s*(?P<percent>[+-]?\d+(?:\.\d+)?)\s*%\s*$"
)
EVERY_ENTRY = "*"
"""The entry of a limit that applies to every entry (``*:p95:10%``)."""
UNKNOWN_ORIGIN = (
    "unknown origin: the baseline does not say where it was measured (saved by an older pytest-loadtest)"
)


def check_name(name: str, option: str) -> str:
    if not _NAME.fullmatch(name):
        raise LoadTestUsageError(
            f"{option}: {name!r} is not a valid baseline name; use letters, digits, '.', '_' and '-' "
            "(at most 100, starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class RegressionLimit:
    """How much ``metric`` may change relative to the baseline: +10 allows up to 10% more, -5 up to 5% less; of the
    total (``entry`` None), of one entry (``"GET /health"``, or ``"/health"`` for every method) or of each
    (``EVERY_ENTRY``)."""

    metric: str
    percent: float
    entry: str | None = None

    def applies_to(self, entry: str) -> bool:
        """Whether it limits ``entry`` (a key such as ``GET /health``, or ``TOTAL_NAME``)."""
        if self.entry is None:
            return entry == TOTAL_NAME
        if entry == TOTAL_NAME:
            return False
        return self.entry in (EVERY_ENTRY, entry, entry.split(" ", 1)[-1])

    def exceeded(self, change: float) -> bool:
        if self.percent >= 0:
            return change * 100 > self.percent
        return change * 100 < self.percent

    def describe(self) -> str:
        return f"{'+' if self.percent >= 0 else ''}{self.percent:g}%"


def parse_limits(text: str) -> tuple[RegressionLimit, ...]:
    """Parse ``p95:10%,GET /health:p95:5%,*:rps:-5%``; a bad item is a usage error naming it."""
    limits = []
    for item in text.split(","):
        match = _LIMIT.match(item)
        if match is None:
            raise LoadTestUsageError(
                f"--load-compare-fail: cannot parse {item.strip()!r}; expected METRIC:N% (an increase allowed up to "
                "N%) or METRIC:-N% (a decrease allowed up to N%), comma-separated, e.g. p95:10%,rps:-5%; ENTRY: "
                "before one limits that entry (GET /health:p95:10%), *: each entry"
            )
        metric = match["metric"]
        if metric_kind(metric) is None:
            raise LoadTestUsageError(
                f"--load-compare-fail: unknown metric {metric!r} in {item.strip()!r}; known: {METRICS_HELP}"
            )
        limits.append(RegressionLimit(metric, float(match["percent"]), match["entry"]))
    return tuple(limits)


@dataclass(frozen=True)
class Baseline:
    """A saved session: figures per test node id (the total, each entry), where and how they were measured."""

    name: str
    saved_at: str
    path: Path
    tests: Mapping[str, EntryStats]
    """The total entry of each test."""
    entries: Mapping[str, Mapping[str, EntryStats]] = field(default_factory=dict)
    """Each test's entries by key (``GET /health``); none in a version 1 file."""
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Each test's ``users`` and ``duration``."""
    origin: Mapping[str, Any] | None = None
    """``measurement_origin()`` when it was saved; None: unknown (a version 1 file)."""

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
            "entries": result["entries"],
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
    origin: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``directory/NAME.json`` atomically, replacing one of that name; returns its path."""
    path = baseline_path(directory, name)
    document = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "saved_at": saved_at,
        "origin": dict(origin) if origin is not None else None,
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
        saved = data["tests"]
        tests = {nodeid: EntryStats.from_dict(test["total"]) for nodeid, test in saved.items()}
        entries = {
            nodeid: {key: EntryStats.from_dict(entry) for key, entry in test.get("entries", {}).items()}
            for nodeid, test in saved.items()
        }
        settings = {
            nodeid: {key: test.get(key) for key in ("users", "duration")} for nodeid, test in saved.items()
        }
        origin = data.get("origin")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoadTestUsageError(f"--load-compare: cannot read the baseline {path}: {exc!r}") from None
    return Baseline(
        name,
        str(data.get("saved_at", "?")),
        path,
        tests,
        entries,
        settings,
        origin if isinstance(origin, dict) else None,
    )


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what ``platform`` knows, else None."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def measurement_origin(profile: str | None) -> dict[str, Any]:
    """Where and with what this session measures: what a baseline records and a comparison checks."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "locust": _version("locust"),
        "pytest-loadtest": _version("pytest-loadtest"),
        "profile": profile,
    }


_ORIGIN_LABELS = {
    "cpu_count": "CPUs",
    "cpu_model": "CPU",
    "python": "Python",
    "locust": "Locust",
    "pytest-loadtest": "pytest-loadtest",
    "profile": "profile",
}


def origin_differences(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """How the session's origin differs from the baseline's (``UNKNOWN_ORIGIN`` when the baseline has none)."""
    if saved is None:
        return [UNKNOWN_ORIGIN]
    return [
        f"{label} {saved.get(key)!s} in the baseline, {current.get(key)!s} now"
        for key, label in _ORIGIN_LABELS.items()
        if saved.get(key) != current.get(key)
    ]


def settings_differences(saved: Mapping[str, Any], result: LoadResult) -> list[str]:
    """How a test's users and duration differ from the baseline's."""
    now = {"users": result.users, "duration": result.duration}
    return [
        f"{key} {saved.get(key)!s} in the baseline, {now[key]:g} now"
        for key in now
        if saved.get(key) != now[key]
    ]


@dataclass(frozen=True)
class Comparison:
    """One metric of one test: baseline, current, relative change and whether it broke its limit."""

    metric: str
    baseline: float
    current: float
    limit: RegressionLimit | None
    entry: str = TOTAL_NAME
    """The entry compared: ``TOTAL_NAME`` or a key such as ``GET /health``."""

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
            "entry": self.entry,
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
    by_metric = {limit.metric: limit for limit in limits if limit.applies_to(TOTAL_NAME)}
    metrics = list(dict.fromkeys([*COMPARED_METRICS, *by_metric]))
    return [
        Comparison(metric, measure(baseline, metric), measure(current, metric), by_metric.get(metric))
        for metric in metrics
    ]


def compare_entries(
    baseline: Mapping[str, EntryStats], current: Mapping[str, EntryStats], limits: Sequence[RegressionLimit]
) -> list[Comparison]:
    """The metrics of the entries that per-entry limits name (each of both runs for ``*``), baseline against
    current; an entry missing from either run is not compared."""
    keys = [
        key
        for limit in limits
        if limit.entry is not None
        for key in (sorted(baseline) if limit.entry == EVERY_ENTRY else [limit.entry])
    ]
    comparisons: list[Comparison] = []
    for key in dict.fromkeys(keys):
        before, now = find_entry(baseline, key), find_entry(current, key)
        if before is None or now is None:
            continue
        by_metric: dict[str, RegressionLimit] = {}
        for limit in limits:
            if limit.applies_to(key):
                by_metric.setdefault(limit.metric, limit)  # of two limits of one metric, the first given wins
        comparisons += [
            Comparison(metric, measure(before, metric), measure(now, metric), limit, key)
            for metric, limit in by_metric.items()
        ]
    return comparisons


def regression_message(test_id: str, baseline: Baseline, comparisons: Iterable[Comparison]) -> str | None:
    """The failure message when a limit is broken, else None."""
    broken = [comparison.to_dict() for comparison in comparisons if comparison.regressed]
    if not broken:
        return None
    lines = [f"{test_id}: regressed against baseline {baseline.describe()}:"]
    lines += [
        f"  {_label(row)}: baseline {row['baseline_text']}, current {row['current_text']}, "
        f"change {row['change_text']} (allowed {row['limit_text']})"
        for row in broken
    ]
    return "\n".join(lines)


def _label(row: Mapping[str, Any]) -> str:
    """``p95`` for the total, ``GET /health p95`` for an entry."""
    entry = row.get("entry", TOTAL_NAME)
    return str(row["metric"]) if entry == TOTAL_NAME else f"{entry} {row['metric']}"


def render_comparisons(
    baseline: Baseline,
    rows: Sequence[tuple[str, Sequence[Mapping[str, Any]] | None, Sequence[str]]],
    origin: Sequence[str],
    *,
    compare_any: bool,
) -> str:
    """A terminal table: per test, each metric's baseline, current value and change; regressions marked. ``rows``:
    each test's comparisons (None: not in the baseline) and how its settings differ from the baseline's; ``origin``:
    how the session's origin differs. A regression measured otherwise says it failed nothing (unless compare_any)."""
    table: list[tuple[str, ...]] = []
    for nodeid, comparisons, differences in rows:
        if comparisons is None:
            table.append((nodeid, "-", "not in baseline", "", "", ""))
            continue
        elsewhere = bool(origin or differences) and not compare_any
        for index, row in enumerate(comparisons):
            mark = f"REGRESSED (allowed {row['limit_text']})" if row["regressed"] else ""
            table.append(
                (
                    nodeid if index == 0 else "",
                    _label(row),
                    row["baseline_text"],
                    row["current_text"],
                    row["change_text"],
                    f"{mark}, not failed: measured otherwise" if mark and elsewhere else mark,
                )
            )
        if differences:
            table.append(("", "-", "", "", "", f"measured otherwise: {'; '.join(differences)}"))
    columns = [Column(title) for title in ("test", "metric", "baseline", "current", "change", "")]
    lines = [f"compared with baseline {baseline.describe()}"]
    if origin:
        lines.append(f"measured otherwise: {'; '.join(origin)}")
    if (origin or any(differences for _, _, differences in rows)) and not compare_any:
        lines.append(
            "regressions against a baseline measured otherwise are shown, not failed (--load-compare-any fails them)"
        )
    return "\n".join([*lines, format_table(columns, table, rule=False)])
