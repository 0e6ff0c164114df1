"""The thresholds grammar, judged without pytest sessions or Locust runs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import EntryStats, LoadResult
from pytest_loadtest.measure.thresholds import (
    Status,
    evaluate,
    parse_condition,
    parse_thresholds,
    render_table,
)


def entry(name: str, times: dict[float, int], failures: int = 0, window: float = 10.0) -> EntryStats:
    requests = sum(times.values())
    return EntryStats(
        name=name,
        num_requests=requests,
        num_failures=failures,
        total_response_time=sum(rt * count for rt, count in times.items()),
        min_response_time=min(times, default=0.0),
        max_response_time=max(times, default=0.0),
        window=window,
        histogram=times,
    )


def result_with(**entries: EntryStats) -> LoadResult:
    total = entry("Aggregated", {10.0: 90, 200.0: 10}, failures=2)
    return LoadResult("t::x", "http://127.0.0.1", 5, 10.0, 10.0, total, {e.name: e for e in entries.values()})


@pytest.mark.parametrize(
    ("metric", "condition", "op", "limit"),
    [
        ("p95", "<100ms", "<", 100.0),
        ("p95", "<= 0.2s", "<=", 200.0),
        ("p99.9", 300, "<=", 300.0),
        ("avg", "50", "<=", 50.0),
        ("fail_ratio", "<1%", "<", 0.01),
        ("fail_ratio", 0.05, "<=", 0.05),
        ("rps", 50, ">=", 50.0),
        ("rps", ">=50/s", ">=", 50.0),
        ("requests", "100", ">=", 100.0),
        ("failures", "0", "<=", 0.0),
        ("median", ">1ms", ">", 1.0),
        ("dropped_iterations", "0", "<=", 0.0),
    ],
)
def test_conditions_parse_with_units_and_default_directions(
    metric: str, condition: object, op: str, limit: float
) -> None:
    threshold = parse_condition(metric, condition, "test_x")
    assert (threshold.op, threshold.limit) == (op, pytest.approx(limit))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"p95x": "<1ms"}, "unknown threshold metric 'p95x'"),
        ({"p95": "=<100ms"}, "cannot parse condition '=<100ms'"),
        ({"p95": "<100%"}, "unit '%' in '<100%' does not fit p95"),
        ({"fail_ratio": "<1ms"}, "unit 'ms' in '<1ms' does not fit fail_ratio"),
        (
            {"fail_ratio": "<5"},
            "limit in '<5' is over 100%: a ratio is a fraction from 0 to 1 or a percentage from 0% to 100%; did you mean '<5%'?",
        ),
        ({"fail_ratio": "<200%"}, "limit in '<200%' is over 100%"),
        ({"rps": "fast"}, "cannot parse condition 'fast'"),
        ({"GET /health": {"p99x": "<1"}}, "unknown threshold metric 'GET /health' -> 'p99x'"),
        ({"p95": True}, "condition must be a string"),
        ("p95<100", "thresholds must be a dict"),
        ({"p95": "<-5ms"}, "must be a finite number >= 0"),
        (
            {"GET /health": {"dropped_iterations": 0}},
            "threshold 'GET /health' -> 'dropped_iterations': dropped_iterations counts the whole run, not one entry",
        ),
    ],
)
def test_bad_thresholds_name_the_test_and_the_key(spec: object, message: str) -> None:
    with pytest.raises(LoadTestUsageError) as raised:
        parse_thresholds(spec, "tests/test_api.py::test_x")
    assert str(raised.value).startswith("tests/test_api.py::test_x: ")
    assert message in str(raised.value)


def test_verdicts_for_total_and_entries() -> None:
    health = entry("GET /health", {5.0: 50})
    thresholds = parse_thresholds(
        {
            "p95": "<100ms",
            "fail_ratio": "<1%",
            "rps": ">=5",
            "GET /health": {"p99": "<300ms"},
            "/health": {"max": 1},
        },
        "t",
    )
    verdicts = evaluate(thresholds, result_with(health=health))
    assert [(v.threshold.label, v.status) for v in verdicts] == [
        ("p95", Status.FAIL),  # 10% of requests took 200 ms
        ("fail_ratio", Status.FAIL),  # 2%
        ("rps", Status.PASS),  # 10/s
        ("GET /health p99", Status.PASS),
        ("/health max", Status.FAIL),  # a request name matches every method of that name
    ]
    assert verdicts[0].measured == 200.0


def test_dropped_iterations_are_judged_on_the_whole_run_and_without_an_open_model_have_no_data() -> None:
    thresholds = parse_thresholds({"dropped_iterations": "<=5", "p95": "<1s"}, "t")
    open_model = replace(result_with(), iterations=90, dropped_iterations=6)
    assert [(v.measured, v.status) for v in evaluate(thresholds, open_model)] == [
        (6.0, Status.FAIL),
        (200.0, Status.PASS),
    ]
    assert evaluate(thresholds, replace(open_model, dropped_iterations=5))[0].status is Status.PASS
    assert evaluate(thresholds, result_with())[0].status is Status.NO_DATA  # a closed-model run drops nothing


def test_a_threshold_on_a_missing_entry_has_no_data_and_fails() -> None:
    (verdict,) = evaluate(parse_thresholds({"GET /nope": {"p95": 10}}, "t"), result_with())
    assert verdict.status is Status.NO_DATA and not verdict.passed


def test_table_lists_every_threshold_limit_measured_and_verdict() -> None:
    verdicts = evaluate(parse_thresholds({"p95": "<100ms", "rps": ">=5"}, "t"), result_with())
    table = render_table(verdicts).splitlines()
    assert table[0].split() == ["threshold", "limit", "measured", "verdict"]
    assert table[2].split() == ["p95", "<", "100", "ms", "200", "ms", "FAIL"]
    assert table[3].split() == ["rps", ">=", "5.0/s", "10.0/s", "PASS"]
