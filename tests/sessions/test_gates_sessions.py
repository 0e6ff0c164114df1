"""The gates through a real pytest session: a script judging the session's result gets the plugin's verdict."""

from __future__ import annotations

import json

import pytest

from pytest_loadtest import LoadResult, Scenario, Threshold, judge
from tests.support.target import TargetServer

TESTS = """
import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")


class FailingUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def calls(self):
        self.client.get("/health")
        self.client.get("/status/500")


@pytest.mark.load(HealthUser, users=2, duration=1, thresholds={"p95": "<1s"})
def test_passes(load_result):
    assert load_result.judged and load_result.passed and load_result.failed_gate is None


@pytest.mark.load(FailingUser, users=2, duration=1, thresholds={"p95": "<1s"})
def test_fails_on_its_failed_requests():
    pass
"""


def test_a_script_judging_the_sessions_result_gets_the_plugins_verdict(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_gates=TESTS)
    session = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
    session.assert_outcomes(passed=1, failed=1)
    document = json.loads((pytester.path / "load_test_reports" / "loadtest-report.json").read_text())
    record = {test["nodeid"]: test for test in document["tests"]}[
        "test_gates.py::test_fails_on_its_failed_requests"
    ]
    parameters = record["parameters"]
    scenario = Scenario(
        record["nodeid"],
        (),
        users=parameters["users"],
        spawn_rate=parameters["spawn_rate"],
        duration=parameters["duration"],
        host=parameters["host"],
        thresholds=tuple(Threshold.from_dict(threshold) for threshold in parameters["thresholds"]),
        warmup=parameters["warmup"],
    )
    judgement = judge(scenario, LoadResult.from_dict(record["result"]))
    assert judgement.failed is not None and judgement.failed.name == "thresholds"
    assert judgement.message is not None and "requests failed" in judgement.message
    plugin_message = record["message"].partition("\nLogged at WARNING or above during the run:")[0]
    assert judgement.message == plugin_message
    assert [verdict.to_dict() for verdict in judgement.result.thresholds] == record["thresholds"]
