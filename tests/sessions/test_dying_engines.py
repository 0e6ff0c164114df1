"""User code that ends its engine, leaves processes behind or spins the CPU: one real session, each fault a test.

An engine ending mid-run (``os._exit``, ``sys.exit`` in a task) leaves its last progress report as the test's
partial result, with the cause; ``sys.exit`` in a listener before any report fails the test naming the code and the
line; daemons user code started (in the engine's group, and in a session of their own) are ended with the scenario and
named; users stuck in a CPU loop fail as a saturated generator first.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import psutil
import pytest

from tests.support.processes import PytestProcess, marked_processes
from tests.support.target import TargetServer

pytestmark = pytest.mark.slow

MODULE = """
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from locust import FastHttpUser, constant, events, task

IMPORTED = time.monotonic()  # each engine imports this module just before its users start
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


class OsExitUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")
        if time.monotonic() - IMPORTED > 1.3:  # after the first progress report (1 s)
            os._exit(1)


class SysExitUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")
        if time.monotonic() - IMPORTED > 1.3:
            sys.exit(3)


class ListenerExitUser(FastHttpUser):
    @task
    def health(self):
        self.client.get("/health")


@events.test_start.add_listener
def quit_at_start(environment, **kwargs):
    if ListenerExitUser in environment.user_classes:
        sys.exit(3)


class DaemonUser(FastHttpUser):
    wait_time = constant(0.05)

    def on_start(self):
        in_group = subprocess.Popen(SLEEPER + ["# in the group"])
        escaped = subprocess.Popen(SLEEPER + ["# a session of its own"], start_new_session=True)
        Path("daemons.txt").write_text(f"{in_group.pid} {escaped.pid}")

    @task
    def health(self):
        self.client.get("/health")


class BusyUser(FastHttpUser):
    wait_time = constant(0.01)

    @task
    def spin(self):
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass


@pytest.mark.load(OsExitUser, users=2, duration=2)
def test_os_exit():
    pass


@pytest.mark.load(SysExitUser, users=2, duration=2)
def test_sys_exit():
    pass


@pytest.mark.load(ListenerExitUser, users=1, duration=1)
def test_listener_exit():
    pass


@pytest.mark.load(DaemonUser, users=1, duration=1)
def test_daemon():
    pass


@pytest.mark.load(BusyUser, users=1, duration=1.5)
def test_busy():
    pass
"""


def line_of(text: str, source: str = MODULE) -> int:
    return next(number for number, line in enumerate(source.splitlines(), 1) if text in line)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, target: TargetServer) -> PytestProcess:
    """The one session every test here reads: each fault a load test of its own."""
    path = tmp_path_factory.mktemp("dying")
    (path / "test_dying.py").write_text(MODULE)
    session = PytestProcess(path, ("--load-host", target.url, "--load-report-dir", "reports", "-rfEw"))
    session.finish(timeout=90)
    return session


@pytest.fixture(scope="module")
def tests_in_report(session: PytestProcess) -> dict[str, dict[str, Any]]:
    document = json.loads((session.path / "reports" / "loadtest-report.json").read_text())
    return {test["nodeid"].split("::")[-1]: test for test in document["tests"]}


def test_the_faults_fail_their_tests_and_nothing_else(session: PytestProcess) -> None:
    assert session.process.returncode == 1, session.output
    assert "4 failed, 1 passed, 1 warning" in session.output
    assert "INTERNALERROR" not in session.output and "Traceback" not in session.output


def test_an_engine_ending_through_os_exit_leaves_its_last_progress_report_as_the_partial_result(
    session: PytestProcess, tests_in_report: dict[str, dict[str, Any]]
) -> None:
    match = re.search(
        r"test_dying\.py::test_os_exit: the load scenario ended 1\.\ds into its 2s: the engine process exited with "
        r"code 1\.\npartial figures \(its last progress report\): (\d+) requests, 0 failures",
        session.output,
    )
    assert match and int(match[1]) > 0, session.output
    record = tests_in_report["test_os_exit"]
    assert record["partial"] and record["result"]["engine_lost"] == "the engine process exited with code 1"
    assert record["result"]["total"]["num_requests"] == int(match[1]) and record["result"]["history"]


def test_sys_exit_in_a_task_says_the_code_and_the_line_that_called_it(session: PytestProcess) -> None:
    assert (
        "the load scenario ended 1." in session.output
        and "into its 2s: the engine process exited with code 3: sys.exit(3) was called at test_dying.py, line "
        f"{line_of('sys.exit(3)')}, in health (sys.exit(3)).\npartial figures (its last progress report):"
        in session.output
    ), session.output


def test_sys_exit_in_a_listener_before_any_report_fails_naming_the_code_and_the_line(
    session: PytestProcess,
) -> None:
    line = line_of("def quit_at_start") + 2
    assert (
        "test_dying.py::test_listener_exit: the load scenario could not run: the engine process exited with code 3 "
        f"before it reported: sys.exit(3) was called at test_dying.py, line {line}, in quit_at_start (sys.exit(3))"
        in session.output
    ), session.output


def test_processes_user_code_left_running_are_ended_and_named(session: PytestProcess) -> None:
    pids = [int(pid) for pid in (session.path / "daemons.txt").read_text().split()]
    assert not [pid for pid in pids if running(pid)]
    assert (
        "LeftoverProcessWarning: test_dying.py::test_daemon: user code left 2 process(es) running after the load "
        "scenario; they were ended (SIGKILL):" in session.output
    ), session.output
    for pid, comment in zip(pids, ["# in the group", "# a session of its own"], strict=True):
        assert f"pid {pid}: {sys.executable} -c import time; time.sleep(60) {comment}" in session.output


def test_users_stuck_in_a_cpu_loop_fail_as_a_saturated_generator_first(session: PytestProcess) -> None:
    assert re.search(
        r"test_dying\.py::test_busy: the load generator was CPU-bound, .*\n(.*\n)*?No request completed in 1\.\ds: "
        r"the generator was too busy to send or finish one\.",
        session.output,
    ), session.output
    assert "test_busy: no request completed" not in session.output


def test_no_process_of_the_session_is_left(session: PytestProcess) -> None:
    assert not marked_processes(session.mark)


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
