"""Warnings that do not fail, and each threshold as an outcome of its own, through one real pytest session against
127.0.0.1: a breached warning passes with a LoadThresholdWarning and a WARN row, strict and ``-W error`` fail on it,
and ``--load-threshold-cases`` gives every threshold its own JUnit test case while each test keeps its verdict."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.support.processes import PytestProcess
from tests.support.target import TargetServer

CONFTEST = """
import os


def pytest_runtest_setup(item):
    # --load-strict for the strict test alone (the environment is read as each test starts)
    if "strict" in item.name:
        os.environ["LOAD_STRICT"] = "1"
    else:
        os.environ.pop("LOAD_STRICT", None)
"""

TESTS = """
import pytest
from locust import FastHttpUser, constant, task


class Slow(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def slow(self):
        self.client.get("/slow?ms=20")


WARN = {"p50": "<1ms"}  # breached: every request takes 20 ms


@pytest.mark.load(Slow, users=2, spawn_rate=20, duration=0.5, thresholds={"p50": "<5s"}, warn=WARN)
def test_warned():
    pass


@pytest.mark.load(Slow, users=2, spawn_rate=20, duration=0.5, thresholds={"p50": "<5s"}, warn=WARN)
def test_warned_strict():
    pass


@pytest.mark.filterwarnings("error::pytest_loadtest.plugin.LoadThresholdWarning")
@pytest.mark.load(Slow, users=2, spawn_rate=20, duration=0.5, thresholds={"p50": "<5s"}, warn=WARN)
def test_warned_as_error():
    pass


@pytest.mark.load(Slow, users=2, spawn_rate=20, duration=0.5, thresholds={"avg": "<5s", "max": "<1ms"})
def test_one_passed_one_failed():
    pass
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, target: TargetServer) -> PytestProcess:
    """The one session every test here reads."""
    path = tmp_path_factory.mktemp("warnings")
    (path / "conftest.py").write_text(CONFTEST)
    (path / "test_warned.py").write_text(TESTS)
    # --maxfail counts the three failing tests, not their failed thresholds too: the last test still runs
    arguments = ("--load-host", target.url, "--junitxml=junit.xml", "--load-threshold-cases", "--maxfail=3")
    session = PytestProcess(path, arguments)
    session.finish(timeout=60)
    return session


def junit_cases(session: PytestProcess) -> dict[str, ET.Element]:
    root = ET.parse(session.path / "junit.xml").getroot()
    return {f"{case.get('classname')}.{case.get('name')}": case for case in root.iter("testcase")}


def records(session: PytestProcess) -> dict[str, dict[str, Any]]:
    document = json.loads((session.path / "load_test_reports" / "loadtest-report.json").read_text())
    return {record["nodeid"].split("::")[-1]: record for record in document["tests"]}


def test_a_breached_warning_passes_the_test_with_a_pytest_warning_and_a_warn_row(
    session: PytestProcess,
) -> None:
    assert "test_warned.py::test_warned: load warning p50 '<1ms' did not hold: measured" in session.output
    assert "LoadThresholdWarning" in session.output
    warned = records(session)["test_warned"]
    assert warned["outcome"] == "passed"
    assert [(v["label"], v["status"], v["passed"]) for v in warned["thresholds"]] == [
        ("p50", "pass", True),
        ("fail_ratio", "pass", True),
        ("p50", "warn", True),
    ]
    assert warned["parameters"]["warnings"][0]["warning"] is True
    properties = {
        p.get("name"): p.get("value")
        for p in junit_cases(session)["test_warned.test_warned"].iter("property")
    }
    assert str(properties["load.warning.p50"]).startswith("warn: ")


def test_strict_and_w_error_fail_the_test_on_a_breached_warning(session: PytestProcess) -> None:
    strict = records(session)["test_warned_strict"]
    assert strict["outcome"] == "failed"
    assert strict["thresholds"][-1]["status"] == "fail"
    assert "1 of 3 load thresholds failed" in strict["message"]
    assert records(session)["test_warned_as_error"]["outcome"] == "failed"
    assert (
        "test_warned.py::test_warned_as_error: load warning p50 '<1ms' did not hold: measured "
    ) in session.output
    assert "(a warnings filter makes LoadThresholdWarning an error)" in session.output


def test_each_threshold_is_a_test_case_of_its_own_while_the_test_keeps_its_verdict(
    session: PytestProcess,
) -> None:
    cases = junit_cases(session)
    test = "test_warned.test_one_passed_one_failed"
    assert cases[test].find("failure") is not None
    assert cases[f"{test}.threshold[avg < 5000 ms]"].find("failure") is None
    failed = cases[f"{test}.threshold[max < 1 ms]"].find("failure")
    assert failed is not None and "FAIL: measured" in str(failed.get("message"))
    assert cases["test_warned.test_warned.warning[p50 < 1 ms (warning)]"].find("failure") is None
    # pytest counts the tests apart from their thresholds, and lists only the tests among its failures
    assert (
        "3 failed, 1 passed, 1 warning, 8 thresholds passed, 2 thresholds warned, 2 thresholds failed in"
        in session.output
    )
    assert "FAILED test_warned.py::test_one_passed_one_failed" in session.output
    assert "FAILED test_warned.py::test_one_passed_one_failed::threshold" not in session.output
    # and its summary has a line per threshold
    lines = [line.split() for line in session.output.splitlines()]
    assert [
        line[-1] for line in lines if line[:2] == ["test_warned.py::test_one_passed_one_failed", "max"]
    ] == ["FAIL"]
