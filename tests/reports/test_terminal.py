"""The end-of-session summary table, drawn from the records the session's JSON and index.html are written from."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from pytest_loadtest.measure.result import EntryStats, LoadResult
from pytest_loadtest.measure.saturation import GeneratorCpu
from pytest_loadtest.reports import json_report
from pytest_loadtest.reports.terminal import render_summary
from pytest_loadtest.scenario import Scenario, UserClassRef


def _result(test_id: str) -> LoadResult:
    """100 requests in 2 s, one failed: 90 took 10 ms and 10 took 20 ms."""
    total = EntryStats("Aggregated", 100, 1, 1100.0, 10.0, 20.0, 2.0, {10.0: 90, 20.0: 10})
    return LoadResult(test_id, "http://127.0.0.1:1", 5, 2.0, 2.0, total, {"GET /health": total})


def _record(nodeid: str, outcome: str, result: LoadResult | None) -> dict[str, Any]:
    """A record as the controller gets it: built by the plugin's own function, then through JSON (as from a
    pytest-xdist worker)."""
    scenario = Scenario(nodeid, (UserClassRef("mod", "User", None),), 5, 5.0, 2.0, "http://127.0.0.1:1")
    record = json_report.test_record(nodeid, outcome, scenario, result, "", {}, started=0.0, finished=2.0)
    return json.loads(json.dumps(record))  # type: ignore[no-any-return]


def test_the_summary_has_one_row_per_record_with_its_figures_outcome_and_qualifiers() -> None:
    saturated_cpu = GeneratorCpu("engine", 1.0, 0.97, 0.1, 0.95, 10.0)
    open_model = replace(
        _result("t.py::test_open"), generator_cpu=saturated_cpu, iterations=10, dropped_iterations=3
    )
    records = [
        _record("t.py::test_fast", "passed", _result("t.py::test_fast")),
        _record("t.py::test_stopped", "failed", replace(_result("t.py::test_stopped"), interrupted=True)),
        _record("t.py::test_open", "failed", open_model),
    ]
    open_verdict = "FAILED (saturated) (dropped 3 of 13 iterations)"
    assert render_summary(records).splitlines() == [
        "test                users  requests  fail %  rps  p50 ms  p95 ms  p99 ms  verdict",
        "------------------  -----  --------  ------  ---  ------  ------  ------  "
        + "-" * len(open_verdict),
        "t.py::test_fast         5       100    1.00   50      10      20      20  PASSED",
        "t.py::test_stopped      5       100    1.00   50      10      20      20  FAILED (partial)",
        f"t.py::test_open         5       100    1.00   50      10      20      20  {open_verdict}",
    ]


def test_a_load_test_that_measured_nothing_is_listed_with_dashes_as_partial() -> None:
    (header, _, row) = render_summary([_record("t.py::test_down", "failed", None)]).splitlines()
    assert header.split()[:2] == ["test", "users"]
    assert row.split() == ["t.py::test_down", *["-"] * 7, "FAILED", "(partial)"]
