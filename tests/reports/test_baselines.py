"""Baselines: per-entry regression limits, where a baseline was measured, and comparisons that say when it differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import TOTAL_NAME, EntryStats, LoadResult
from pytest_loadtest.reports import baselines

TEST_ID = "t.py::test_a"
ORIGIN = {
    "cpu_count": 2,
    "cpu_model": "Some CPU @ 2.0GHz",
    "python": "3.11.9",
    "locust": "2.47.0",
    "pytest-loadtest": "0.1.0",
    "profile": None,
}


def entry(key: str, p95_ms: float, requests: int = 100) -> EntryStats:
    histogram = {1.0: requests - requests // 10, p95_ms: requests // 10}
    total_time = sum(rt * n for rt, n in histogram.items())
    return EntryStats(key, requests, 0, total_time, 1.0, p95_ms, 10.0, histogram)


def result(health_ms: float, items_ms: float, users: int = 2) -> LoadResult:
    measured = {"GET /health": entry("GET /health", health_ms), "GET /items": entry("GET /items", items_ms)}
    return LoadResult(TEST_ID, "http://127.0.0.1:1", users, 10.0, 10.0, entry(TOTAL_NAME, 5.0), measured)


def test_limits_may_name_an_entry_every_entry_or_the_total() -> None:
    total, health, every, colons = baselines.parse_limits(
        "p95:10%, GET /health:p95:-5%,*:rps:-20%,GET http://h:8000/x:p99:1.5%"
    )
    assert (total.entry, total.metric, total.percent) == (None, "p95", 10.0)
    assert (health.entry, health.metric, health.percent) == ("GET /health", "p95", -5.0)
    assert (every.entry, every.metric, every.percent) == ("*", "rps", -20.0)
    assert (colons.entry, colons.metric, colons.percent) == ("GET http://h:8000/x", "p99", 1.5)
    assert total.applies_to(TOTAL_NAME) and not total.applies_to("GET /health")
    assert health.applies_to("GET /health") and not health.applies_to("POST /health")
    assert not health.applies_to(TOTAL_NAME) and not every.applies_to(TOTAL_NAME)
    assert every.applies_to("POST /anything")
    (by_name,) = baselines.parse_limits("/health:p95:10%")
    assert by_name.applies_to("GET /health") and by_name.applies_to("POST /health")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("GET /health:p95", "cannot parse 'GET /health:p95'"),
        ("GET /health:speed:5%", "unknown metric 'speed'"),
    ],
)
def test_a_bad_per_entry_limit_is_a_usage_error_naming_it(spec: str, problem: str) -> None:
    with pytest.raises(LoadTestUsageError, match=r"^--load-compare-fail: ") as raised:
        baselines.parse_limits(spec)
    assert problem in str(raised.value)


def test_a_per_entry_limit_fails_on_its_entry_only() -> None:
    before, now = result(health_ms=20.0, items_ms=20.0), result(health_ms=30.0, items_ms=30.0)
    limits = baselines.parse_limits("GET /health:p95:10%")
    (health,) = baselines.compare_entries(before.entries, now.entries, limits)
    assert (health.entry, health.metric, health.regressed) == ("GET /health", "p95", True)
    assert not any(c.regressed for c in baselines.compare(before.total, now.total, limits))
    message = baselines.regression_message(TEST_ID, baselines.Baseline("b", "then", Path("x"), {}), [health])
    assert message == (
        f"{TEST_ID}: regressed against baseline 'b' (saved then):\n"
        "  GET /health p95: baseline 20 ms, current 30 ms, change +50.0% (allowed +10%)"
    )


def test_the_wildcard_compares_each_entry_of_the_baseline_and_a_named_limit_comes_first() -> None:
    before, now = result(health_ms=20.0, items_ms=20.0), result(health_ms=30.0, items_ms=21.0)
    comparisons = baselines.compare_entries(
        {**before.entries, "GET /gone": entry("GET /gone", 5.0)},  # not in the current run: not compared
        now.entries,
        baselines.parse_limits("GET /health:p95:60%,*:p95:10%"),
    )
    rows = {(c.entry, c.metric): c for c in comparisons}
    assert set(rows) == {("GET /health", "p95"), ("GET /items", "p95")}
    assert not rows["GET /health", "p95"].regressed  # +50% within its own 60%, not the wildcard's 10%
    assert not rows["GET /items", "p95"].regressed  # +5%


def test_a_saved_baseline_keeps_entries_origin_and_settings(tmp_path: Path) -> None:
    record = {"nodeid": TEST_ID, "result": result(20.0, 20.0).to_dict()}
    tests, skipped = baselines.baseline_tests([record])
    assert not skipped
    baselines.save_baseline(tmp_path, "b", tests, {}, "then", ORIGIN)
    loaded = baselines.load_baseline(tmp_path, "b")
    assert json.loads((tmp_path / "b.json").read_text())["schema_version"] == 2
    assert loaded.origin == ORIGIN and loaded.settings[TEST_ID] == {"users": 2, "duration": 10.0}
    assert loaded.entries[TEST_ID]["GET /health"].percentile(0.95) == 20.0
    assert baselines.origin_differences(loaded.origin, ORIGIN) == []
    assert baselines.settings_differences(loaded.settings[TEST_ID], result(20.0, 20.0)) == []


def test_an_old_baseline_without_origin_or_entries_loads_as_unknown_origin(tmp_path: Path) -> None:
    old = {"schema_version": 1, "name": "old", "saved_at": "then", "environment": {}, "tests": {}}
    old["tests"] = {TEST_ID: {"users": 2, "duration": 10.0, "total": entry(TOTAL_NAME, 5.0).to_dict()}}
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    loaded = baselines.load_baseline(tmp_path, "old")
    assert loaded.origin is None and loaded.entries == {TEST_ID: {}}
    assert loaded.tests[TEST_ID].num_requests == 100
    assert baselines.origin_differences(loaded.origin, ORIGIN) == [baselines.UNKNOWN_ORIGIN]


def test_differences_name_what_changed_with_both_values() -> None:
    elsewhere = {**ORIGIN, "cpu_count": 8, "locust": "2.40.0"}
    assert baselines.origin_differences(elsewhere, ORIGIN) == [
        "CPUs 8 in the baseline, 2 now",
        "Locust 2.40.0 in the baseline, 2.47.0 now",
    ]
    saved = {"users": 10, "duration": 10.0}
    assert baselines.settings_differences(saved, result(1.0, 1.0, users=2)) == [
        "users 10 in the baseline, 2 now"
    ]


def test_the_cpu_model_comes_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: X\nmodel name\t: Fast CPU 9000\n", encoding="utf-8")
    assert baselines.cpu_model(cpuinfo) == "Fast CPU 9000"
    origin = baselines.measurement_origin("smoke")
    assert origin["profile"] == "smoke" and origin["cpu_count"] and origin["python"]


def test_a_regression_measured_otherwise_is_shown_as_not_failed_unless_compare_any() -> None:
    before, now = result(20.0, 20.0), result(30.0, 20.0, users=3)
    comparisons = baselines.compare_entries(before.entries, now.entries, baselines.parse_limits("*:p95:10%"))
    rows = [(TEST_ID, [c.to_dict() for c in comparisons], ["users 2 in the baseline, 3 now"])]
    baseline = baselines.Baseline("b", "then", Path("x"), {})
    shown = baselines.render_comparisons(baseline, rows, ["CPUs 8 in the baseline, 2 now"], compare_any=False)
    lines = shown.splitlines()
    assert lines[:3] == [
        "compared with baseline 'b' (saved then)",
        "measured otherwise: CPUs 8 in the baseline, 2 now",
        "regressions against a baseline measured otherwise are shown, not failed (--load-compare-any fails them)",
    ]
    assert any(
        "GET /health p95" in line and "REGRESSED (allowed +10%), not failed: measured otherwise" in line
        for line in lines
    )
    assert any("measured otherwise: users 2 in the baseline, 3 now" in line for line in lines)
    strict = baselines.render_comparisons(baseline, rows, [], compare_any=True)
    assert "not failed" not in strict and "REGRESSED (allowed +10%)" in strict
