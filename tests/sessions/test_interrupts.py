"""Ctrl-C and SIGTERM during a scenario: real signals to a real pytest process, timed, with its process table checked."""

from __future__ import annotations

import json
import signal
import time
import xml.etree.ElementTree as ET

import pytest

from tests.support.processes import PytestProcess, is_engine, marked_processes
from tests.support.target import TargetServer

MODULE = """
import ctypes
import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")


class LoopBlocker(FastHttpUser):
    \"\"\"Blocks the engine's whole event loop in C: it cannot even read the request to stop.\"\"\"

    @task
    def block(self):
        ctypes.CDLL(None).sleep(30)


@pytest.mark.load(HealthUser, users=3, duration=60)
def test_long():
    pass


@pytest.mark.load(LoopBlocker, users=1, duration=60)
def test_stuck():
    pass


def test_never_reached():
    pass
"""
INTERRUPTED = 2  # pytest.ExitCode.INTERRUPTED


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.slow
def test_a_signal_stops_the_scenario_keeps_partial_figures_and_exits_interrupted(
    pytester: pytest.Pytester, target: TargetServer, signum: signal.Signals
) -> None:
    pytester.makepyfile(test_signals=MODULE)
    session = PytestProcess(
        pytester.path, ("--load-host", target.url, "--junitxml=junit.xml", "-k", "long or never")
    )
    session.wait_for("[load] test_long")
    signalled = time.monotonic()
    session.process.send_signal(signum)
    assert session.finish() == INTERRUPTED, session.output
    assert time.monotonic() - signalled < 3.0, (
        "users must stop within a second; pytest then reports and exits"
    )
    assert not marked_processes(session.mark)
    output = session.output
    assert "test_signals.py::test_long: the load scenario was interrupted after" in output
    assert "Interrupted: load scenario interrupted" in output and "test_never_reached" not in output
    summary = [line for line in output.splitlines() if line.startswith("test_signals.py::test_long ")]
    assert summary and summary[0].endswith("FAILED (partial)"), output
    case = ET.parse(pytester.path / "junit.xml").getroot().find(".//testcase[@name='test_long']")
    assert case is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["load.partial"] == "interrupted" and int(properties["load.requests"]) > 0


INTERRUPTING_CONFTEST = """
import atexit
import os
import signal


def interrupt_again():
    os.kill(os.getpid(), signal.SIGINT)  # a Ctrl-C while the session ends


def pytest_sessionfinish():
    interrupt_again()


def pytest_unconfigure():
    interrupt_again()


atexit.register(interrupt_again)  # registered first: it runs last, as the interpreter exits
"""


def test_a_second_ctrl_c_at_any_time_exits_interrupted_with_the_report_and_no_traceback(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    """While the engine cannot stop (its loop blocked in C), then while pytest writes the reports, unconfigures and
    exits: each further Ctrl-C ends the wait or is ignored, never a traceback or a lost report."""
    pytester.makepyfile(test_signals=MODULE)
    pytester.makeconftest(INTERRUPTING_CONFTEST)
    session = PytestProcess(
        pytester.path,
        (
            "--load-host",
            target.url,
            "--load-stop-timeout",
            "20",
            "--load-report-dir",
            "reports",
            "-k",
            "stuck",
        ),
    )
    session.wait_for_engine()
    time.sleep(1.5)  # the engine imported Locust and its only user is stuck in C
    session.process.send_signal(signal.SIGINT)
    time.sleep(0.5)  # the first Ctrl-C would wait up to the stop timeout for figures that never come
    second = time.monotonic()
    session.process.send_signal(signal.SIGINT)
    assert session.finish() == INTERRUPTED, session.output
    assert time.monotonic() - second < 3.0
    assert "Traceback" not in session.output and "KeyboardInterrupt" not in session.output, session.output
    assert "Interrupted: load scenario interrupted" in session.output
    assert (
        "test_signals.py::test_stuck: the load scenario was interrupted after 0.0s of 60s" in session.output
    )
    assert "interrupted already; the session is ending (reports being written)" in session.output
    document = json.loads((pytester.path / "reports" / "loadtest-report.json").read_text())
    assert document["interrupted"] is True
    assert [(test["nodeid"], test["partial"]) for test in document["tests"]] == [
        ("test_signals.py::test_stuck", True)
    ]
    assert not marked_processes(session.mark)


def test_ctrl_c_before_the_users_start_stops_at_once_without_figures(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spawned engine (it imports Locust once the test runs; the fork server may start at collection already)."""
    monkeypatch.setenv("LOAD_FORK_SERVER", "0")
    pytester.makepyfile(test_signals=MODULE)
    session = PytestProcess(pytester.path, ("--load-host", target.url, "-k", "long or never"))
    deadline = time.monotonic() + 30
    while not any(is_engine(process, session.process.pid) for process in marked_processes(session.mark)):
        assert time.monotonic() < deadline and session.process.poll() is None, session.output
        time.sleep(0.01)
    session.process.send_signal(signal.SIGINT)  # the engine is importing Locust: no user has started
    signalled = time.monotonic()
    assert session.finish() == INTERRUPTED, session.output
    assert (
        time.monotonic() - signalled < 4.0
    )  # not the import, the run and its stop (nor a 5 s wait for them)
    assert "Interrupted: load scenario interrupted" in session.output, session.output
    assert "test_never_reached" not in session.output
    assert "was interrupted after" not in session.output  # no empty "partial" result
    assert not marked_processes(session.mark)
