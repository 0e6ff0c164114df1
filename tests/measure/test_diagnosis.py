"""Messages that diagnose: when a breach started, where it came from, the top errors, the baseline's value, on
crafted results (no sessions)."""

from __future__ import annotations

from pytest_loadtest.measure.diagnosis import MAX_LINES, diagnosis
from pytest_loadtest.measure.gates import judge
from pytest_loadtest.measure.result import EntryStats, ErrorCount, LoadResult, ProgressPoint
from pytest_loadtest.measure.thresholds import evaluate, parse_thresholds
from pytest_loadtest.scenario import Scenario

TEST_ID = "test_x.py::test_a"
HISTORY = (
    ProgressPoint(1.0, 5, 40, 0, 40.0, 20.0),
    ProgressPoint(2.0, 5, 80, 0, 40.0, 30.0),
    ProgressPoint(3.0, 5, 110, 6, 30.0, 450.0),
    ProgressPoint(4.0, 5, 140, 12, 30.0, 480.0),
)


def entry(name: str, times: dict[float, int], failures: int = 0) -> EntryStats:
    requests = sum(times.values())
    return EntryStats(
        name, requests, failures, sum(t * n for t, n in times.items()), min(times), max(times), 4.0, times
    )


SLOW = entry("GET /slow", {20.0: 10, 450.0: 20}, failures=8)
FAST = entry("GET /fast", {10.0: 100, 300.0: 5}, failures=4)
TOTAL = entry("Aggregated", {10.0: 100, 20.0: 10, 300.0: 5, 450.0: 20}, failures=12)
ERRORS = (
    ErrorCount("GET", "/slow", "HTTPError('503 Service Unavailable')", 8),
    ErrorCount("GET", "/fast", "HTTPError('500 Server Error')", 3),
    ErrorCount("GET", "/fast", "ConnectionResetError(104)", 1),
    ErrorCount("GET", "/fast", "HTTPError('502 Bad Gateway')", 1),
)


def degrading(**changes: object) -> LoadResult:
    fields = {
        "total": TOTAL,
        "entries": {"GET /slow": SLOW, "GET /fast": FAST},
        "errors": ERRORS,
        "history": HISTORY,
        **changes,
    }
    return LoadResult(TEST_ID, "http://127.0.0.1:1", 5, 4.0, 4.0, **fields)  # type: ignore[arg-type]


def diagnosed(spec: dict[str, str], result: LoadResult, **options: object) -> list[str]:
    return diagnosis(evaluate(parse_thresholds(spec, TEST_ID), result), result, **options)  # type: ignore[arg-type]


def test_a_failed_p95_says_when_it_first_broke_and_which_entries_were_slow() -> None:
    assert diagnosed({"p95": "<200ms"}, degrading(errors=())) == [
        "p95 first broke < 200 ms at 3.0s (450 ms)",
        "p95: most requests slower than 200 ms in GET /slow (20), GET /fast (5)",
    ]


def test_a_failed_fail_ratio_says_when_failures_began_and_where_with_the_top_three_errors() -> None:
    assert diagnosed({"fail_ratio": "<5%"}, degrading()) == [
        "fail_ratio first broke < 5.00% at 3.0s (20.00%)",
        "fail_ratio: most failures in GET /slow (8), GET /fast (4)",
        "top errors:",
        "  8x GET /slow: HTTPError('503 Service Unavailable')",
        "  3x GET /fast: HTTPError('500 Server Error')",
        "  1x GET /fast: ConnectionResetError(104)",
    ]


def test_a_compared_baseline_gives_its_value_of_each_failed_metric() -> None:
    baseline = entry("Aggregated", {10.0: 90, 40.0: 10})
    lines = diagnosed({"p95": "<200ms", "rps": ">=1"}, degrading(errors=()), baseline=baseline)
    assert lines[-1] == "p95: baseline 40 ms"
    assert not any("rps" in line for line in lines)  # rps passed: nothing to explain


def test_a_diagnosis_stays_within_its_line_budget() -> None:
    many = {f"GET /e{index}": entry(f"GET /e{index}", {900.0: 1}, failures=1) for index in range(20)}
    spec = {
        "p95": "<200ms",
        "p50": "<200ms",
        "avg": "<200ms",
        "max": "<200ms",
        "fail_ratio": "<1%",
        "p99": "<1s",
    }
    lines = diagnosed(
        spec, degrading(total=entry("Aggregated", {900.0: 20}, failures=20), entries=many), baseline=TOTAL
    )
    assert len(lines) == MAX_LINES


def test_the_threshold_failure_puts_the_diagnosis_between_the_headline_and_the_table() -> None:
    scenario = Scenario(
        TEST_ID, (), users=5, spawn_rate=5, duration=4.0, host="http://127.0.0.1:1",
        thresholds=parse_thresholds({"p95": "<200ms", "fail_ratio": "<50%"}, TEST_ID),
    )  # fmt: skip
    message = judge(scenario, degrading(errors=ERRORS[:1])).message
    assert message is not None
    assert message.splitlines()[:6] == [
        f"{TEST_ID}: 1 of 2 load thresholds failed",
        "p95 first broke < 200 ms at 3.0s (450 ms)",
        "p95: most requests slower than 200 ms in GET /slow (20), GET /fast (5)",
        "top errors:",
        "  8x GET /slow: HTTPError('503 Service Unavailable')",
        "threshold   limit     measured  verdict",
    ]
