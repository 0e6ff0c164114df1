"""The ``load.*`` JUnit properties of a result."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_loadtest.measure.result import EntryStats, LoadResult
from pytest_loadtest.reports.junit import load_properties

TOTAL = EntryStats("Aggregated", 100, 1, 1100.0, 10.0, 20.0, 2.0, {10.0: 90, 20.0: 10})
RESULT = LoadResult("t.py::test_a", "http://127.0.0.1:1", 5, 2.0, 2.0, TOTAL, {"GET /health": TOTAL})


def test_a_complete_run_has_its_figures_and_no_partial_property() -> None:
    properties = dict(load_properties(RESULT))
    assert {
        name: properties[f"load.{name}"] for name in ("users", "requests", "fail_ratio", "rps", "p95")
    } == {
        "users": "5",
        "requests": "100",
        "fail_ratio": "0.01",
        "rps": "50",
        "p95": "20",
    }
    assert "load.partial" not in properties


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (replace(RESULT, interrupted=True), "interrupted"),
        (replace(RESULT, unreachable=True), "target unreachable"),
        (replace(RESULT, lost_workers=("worker 1 exited with code -9",)), "lost workers"),
        (replace(RESULT, engine_lost="the engine process exited with code 1"), "engine lost"),
        (replace(RESULT, aborted="fail_ratio failed"), "aborted"),
    ],
)
def test_the_partial_property_says_why_the_run_did_not_complete(result: LoadResult, reason: str) -> None:
    assert dict(load_properties(result))["load.partial"] == reason
