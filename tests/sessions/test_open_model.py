"""The open model (``rate=``): a constant arrival rate of iterations over a pool of users, through real sessions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.settings.rate import parse_rate, rate_per_worker
from tests.support.target import TargetServer

TESTS = """
import json

import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(30)  # ignored under rate=: the schedule starts each iteration

    @task
    def health(self):
        self.client.get("/health")


class SlowUser(FastHttpUser):
    @task
    def slow(self):
        self.client.get("/slow?ms=500")


def save(load_result, name):
    with open(name, "w") as handle:
        json.dump(load_result.to_dict(), handle)


@pytest.mark.load(HealthUser, users=10, duration=2, rate=20, thresholds={"dropped_iterations": "0"})
def test_on_schedule(load_result):
    save(load_result, "on_schedule.json")


@pytest.mark.load(SlowUser, users=2, duration=2, rate=20, thresholds={"dropped_iterations": ">=20"})
def test_slow_target(load_result):
    save(load_result, "slow.json")


@pytest.mark.load(HealthUser, users=2, duration=1, rate="fast")
def test_bad_rate():
    pass


@pytest.mark.load(HealthUser, users=2, duration=1, thresholds={"dropped_iterations": "0"})
def test_dropped_without_rate():
    pass
"""


@pytest.mark.parametrize("value", [0, -1, "10", True, float("nan"), float("inf"), 10**400, [10]])
def test_a_rate_that_is_not_a_positive_number_is_a_usage_error_naming_the_test(value: object) -> None:
    with pytest.raises(
        LoadTestUsageError, match=r"^t\.py::test_x: rate=.* in the load marker: must be a number > 0"
    ):
        parse_rate("t.py::test_x", value)


def test_a_rate_is_a_float_and_split_equally_among_workers() -> None:
    assert parse_rate("t", None) is None
    assert parse_rate("t", 20) == 20.0
    assert rate_per_worker(20.0, 2) == 10.0
    assert rate_per_worker(20.0, 0) == 20.0


@pytest.mark.slow
def test_the_schedule_starts_what_the_rate_demands_and_counts_what_it_drops(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_rate=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "--junitxml=junit.xml"
    )
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*test_bad_rate: rate='fast' in the load marker: must be a number > 0 (iterations started per second, "
            "e.g. rate=10)",
            "*test_dropped_without_rate: threshold dropped_iterations needs the open model: give rate= *",
            "test_rate.py::test_slow_target*PASSED (dropped * of * iterations)",
        ]
    )

    # 20 iterations a second for 2 s, whatever the users' own wait time (30 s): ~40, each one request
    on_schedule = json.loads((pytester.path / "on_schedule.json").read_text())
    assert 38 <= on_schedule["iterations"] <= 42
    assert on_schedule["dropped_iterations"] == 0
    assert on_schedule["iterations"] - 10 <= on_schedule["total"]["num_requests"] <= on_schedule["iterations"]

    # 2 users against a 500 ms target can start ~4 iterations a second of the 20 due: the rest are dropped, counted
    slow = json.loads((pytester.path / "slow.json").read_text())
    assert slow["iterations"] <= 12
    assert slow["dropped_iterations"] >= 25
    assert 38 <= slow["iterations"] + slow["dropped_iterations"] <= 42

    case = {c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")}
    properties = {p.get("name"): p.get("value") for p in case["test_slow_target"].iter("property")}
    assert properties["load.iterations"] == str(slow["iterations"])
    assert properties["load.dropped_iterations"] == str(slow["dropped_iterations"])
    assert properties["load.threshold.dropped_iterations"].startswith(
        f"pass: {slow['dropped_iterations']} (limit >= 20)"
    )


ABORTING = """
import pytest
from locust import FastHttpUser, task


class SlowUser(FastHttpUser):
    @task
    def slow(self):
        self.client.get("/slow?ms=500")


@pytest.mark.load(SlowUser, users=2, duration=30, rate=20, thresholds={"dropped_iterations": "<10 abort"})
def test_drops_too_many():
    pass
"""


def test_dropped_iterations_abort_the_run_once_they_pass_the_limit(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    """2 users against a 500 ms target start ~4 of the 20 iterations due each second: 10 are dropped within a second,
    and the 30 s run stops, judged on the engine's figures each second as at the end."""
    pytester.makepyfile(test_aborting=ABORTING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines(
        [
            r".*test_drops_too_many: stopped early at [0-4]\.\d+s of 30s because dropped_iterations '<10 abort' failed: measured \d+"
        ]
    )
