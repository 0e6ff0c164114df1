"""Warnings that do not fail (judged, then in JUnit and the summary), each threshold as a report of its own, and the
workers a distributed run's JUnit names: units without a pytest session."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from pytest_loadtest.measure.gates import judge
from pytest_loadtest.measure.result import EntryStats, LoadResult, WorkerShare
from pytest_loadtest.measure.thresholds import parse_thresholds
from pytest_loadtest.measure.verdicts import Status, Threshold
from pytest_loadtest.plugin.outcomes import CASE_PROPERTY, threshold_reports, threshold_status
from pytest_loadtest.reports import json_report
from pytest_loadtest.reports.junit import load_properties
from pytest_loadtest.reports.terminal import render_summary
from pytest_loadtest.scenario import Scenario, UserClassRef

TEST_ID = "t.py::test_a"
TOTAL = EntryStats("Aggregated", 100, 0, 2000.0, 10.0, 30.0, 2.0, {20.0: 100})
"""100 requests in 2 s, none failed, each 20 ms."""
RESULT = LoadResult(TEST_ID, "http://127.0.0.1:1", 5, 2.0, 2.0, TOTAL, {"GET /health": TOTAL})


def scenario(warn: dict[str, str], strict: bool = False, **thresholds: str) -> Scenario:
    return Scenario(
        TEST_ID,
        (UserClassRef("mod", "User", None),),
        5,
        5.0,
        2.0,
        "http://127.0.0.1:1",
        thresholds=parse_thresholds(thresholds, TEST_ID),
        warnings=tuple(replace(w, warning=True) for w in parse_thresholds(warn, TEST_ID)),
        strict=strict,
        threshold_cases=True,
    )


def test_a_breached_warning_is_warn_and_fails_nothing() -> None:
    judgement = judge(scenario({"p50": "<10ms", "avg": "<50ms"}, p95="<1s"), RESULT)
    assert judgement.passed
    assert [(v.threshold.label, v.status) for v in judgement.result.thresholds] == [
        ("p95", Status.PASS),
        ("p50", Status.WARN),
        ("avg", Status.PASS),
    ]


def test_a_warning_with_too_few_samples_is_warn_too_and_keeps_its_note() -> None:
    thin = replace(RESULT, total=replace(TOTAL, num_requests=10, histogram={20.0: 10}))
    (warned,) = judge(scenario({"p99": "<1s"}), thin).result.thresholds
    assert warned.status is Status.WARN and "samples" in warned.note


def test_strict_fails_the_test_on_a_breached_warning_as_on_a_threshold() -> None:
    judgement = judge(scenario({"p50": "<10ms"}, strict=True, p95="<1s"), RESULT)
    assert judgement.failed is not None and judgement.failed.name == "thresholds"
    assert judgement.message is not None
    assert judgement.message.startswith(f"{TEST_ID}: 1 of 2 load thresholds failed")
    assert judgement.message.splitlines()[-1].split() == [
        "p50",
        "<",
        "10",
        "ms",
        "(warning)",
        "20",
        "ms",
        "FAIL",
    ]


def test_a_warning_survives_json_with_its_kind() -> None:
    threshold = Threshold("p50", "<", 10.0, "<10ms", warning=True)
    assert Threshold.from_dict(json.loads(json.dumps(threshold.to_dict()))) == threshold
    assert Threshold.from_dict({**threshold.to_dict(), "warning": None}).warning is False


def test_junit_names_warnings_apart_from_thresholds() -> None:
    result = judge(scenario({"p50": "<10ms"}, p50="<1s"), RESULT).result
    properties = dict(load_properties(result))
    assert properties["load.threshold.p50"] == "pass: 20 ms (limit < 1000 ms)"
    assert properties["load.warning.p50"] == "warn: 20 ms (limit < 10 ms (warning))"


@pytest.mark.parametrize(
    ("received", "reported"),
    [((40, 60), "2"), ((100, 0), "1")],
)
def test_junit_has_the_workers_configured_and_those_that_reported(
    received: tuple[int, int], reported: str
) -> None:
    shares = tuple(WorkerShare(f"w{i}", i, 2, count) for i, count in enumerate(received))
    properties = dict(load_properties(replace(RESULT, workers=shares), workers=2))
    assert (properties["load.workers"], properties["load.workers_reported"]) == ("2", reported)


def test_a_local_run_has_no_workers_property() -> None:
    assert "load.workers" not in dict(load_properties(RESULT))


def record(outcome: str, case_scenario: Scenario) -> dict[str, Any]:
    """A record as the controller gets it, through JSON (as from a pytest-xdist worker)."""
    result = judge(case_scenario, RESULT).result
    made = json_report.test_record(TEST_ID, outcome, case_scenario, result, "", {}, started=0.0, finished=2.0)
    return json.loads(json.dumps(made))  # type: ignore[no-any-return]


def test_the_summary_marks_warnings_and_lists_every_threshold_on_a_line_with_threshold_cases() -> None:
    lines = render_summary([record("passed", scenario({"p50": "<10ms"}, p95="<1s"))]).splitlines()
    assert lines[2].endswith("PASSED (1 warning)")
    without = replace(scenario({"p50": "<10ms"}, p95="<1s"), threshold_cases=False)
    assert render_summary([record("passed", without)]).splitlines() == lines[:3]
    assert lines[-2:] == [
        "t.py::test_a  p95        < 1000 ms          20 ms     PASS",
        "t.py::test_a  p50        < 10 ms (warning)  20 ms     WARN",
    ]


def call_report() -> pytest.TestReport:
    return pytest.TestReport(TEST_ID, ("t.py", 3, "test_a"), {}, "failed", "failed", "call", duration=2.5)


def test_each_verdict_is_a_report_of_its_own_with_a_category_of_its_own() -> None:
    case_scenario = scenario({"p50": "<10ms"}, p95="<1s", avg="<1ms")
    reports = threshold_reports(call_report(), record("failed", case_scenario))
    assert [(r.nodeid, r.outcome, threshold_status(r)) for r in reports] == [
        (f"{TEST_ID}::threshold[p95 < 1000 ms]", "passed", ("thresholds passed", "", "")),
        (f"{TEST_ID}::threshold[avg < 1 ms]", "failed", ("thresholds failed", "", "")),
        (f"{TEST_ID}::warning[p50 < 10 ms (warning)]", "passed", ("thresholds warned", "", "")),
    ]
    assert reports[1].longreprtext == "FAIL: measured 20 ms (limit < 1 ms)"
    assert all(dict(r.user_properties)[CASE_PROPERTY] == TEST_ID and r.duration == 2.5 for r in reports)
    assert threshold_status(call_report()) is None  # the test's own report keeps pytest's categories


def test_no_threshold_reports_unless_the_scenario_asks_for_them() -> None:
    quiet = replace(scenario({}, p95="<1s"), threshold_cases=False)
    assert threshold_reports(call_report(), record("passed", quiet)) == []
