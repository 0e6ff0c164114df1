"""A verdict never claims a load that was not reached, through one real pytest session against 127.0.0.1: a run too
short for its ramp-up is refused before any request, and a run that peaked below its users reports both."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.support.processes import PytestProcess
from tests.support.target import TargetServer

TESTS = """
import pytest
from locust import FastHttpUser, constant, task


class Refused(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def page(self):
        self.client.get("/pages/refused-ramp-up")


class Peaking(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def page(self):
        self.client.get("/pages/peaking")


@pytest.mark.load(Refused, users=50, spawn_rate=10, duration=1.5)
def test_too_short_for_its_ramp_up():
    pass


@pytest.mark.load(Peaking, users=20, spawn_rate=4, duration=1.5, min_samples=0)
def test_peaks_below_its_users():
    pass
"""


@pytest.fixture(scope="module")
def reached(tmp_path_factory: pytest.TempPathFactory, target: TargetServer) -> PytestProcess:
    """The one session every test here reads."""
    path = tmp_path_factory.mktemp("reached")
    (path / "test_reached.py").write_text(TESTS)
    session = PytestProcess(path, ("--load-host", target.url, "--junitxml=junit.xml", "-rE"))
    session.finish(timeout=60)
    return session


def test_a_run_too_short_for_its_ramp_up_is_refused_before_any_request(
    reached: PytestProcess, target: TargetServer
) -> None:
    assert "1 passed, 1 error" in reached.output, reached.output
    assert (
        "test_reached.py::test_too_short_for_its_ramp_up: 50 users at a spawn rate of 10/s take 5s to start, "
        "longer than its 1.5s duration"
    ) in reached.output
    assert "Raise the spawn rate to 34/s or more" in reached.output
    assert target.hits.get("/pages/refused-ramp-up", 0) == 0


def test_a_run_that_peaked_below_its_users_reports_both(reached: PytestProcess, target: TargetServer) -> None:
    assert target.hits.get("/pages/peaking", 0) > 0
    row = re.search(r"test_reached.py::test_peaks_below_its_users +(\d+)/20 ", reached.output)
    assert row is not None, reached.output
    root = ET.parse(reached.path / "junit.xml").getroot()
    users = {p.get("name"): p.get("value") for p in root.iter("property")}["load.users"]
    assert users == f"{row[1]}/20" and 0 < int(row[1]) < 20
