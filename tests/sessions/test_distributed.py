"""Distributed scenarios: a Locust master in the engine, workers in their own processes, through real pytest sessions.

Each session's worker processes are found in the process table by a mark in their environment: none may survive.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.processes import MARK, PytestProcess, marked_processes
from tests.support.target import TargetServer

USERS = """
import json

import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.01)

    @task
    def health(self):
        self.client.get("/health")


def save(load_result, name):
    with open(name, "w") as handle:
        json.dump(load_result.to_dict(), handle)
"""


def write_tests(pytester: pytest.Pytester, name: str, imports: str, tests: str) -> None:
    """users.py (above) and a test module ``name`` importing ``imports`` from it."""
    pytester.makepyfile(users=USERS, **{name: f"import pytest\nfrom users import {imports}\n{tests}"})


def worker_processes(mark: str) -> list[psutil.Process]:
    """Live worker processes (ours, or Locust's own ``--worker``) of the session tagged with ``mark``."""
    found = []
    for process in marked_processes(mark):
        try:
            command = " ".join(process.cmdline())
        except psutil.Error:
            continue
        if "worker_main" in command or "worker_process" in command or "--worker" in command:
            found.append(process)
    return found


@pytest.fixture
def mark(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Tags every process the test's pytest session starts; none of its workers may be alive afterwards."""
    value = f"distributed-{time.monotonic_ns()}"
    monkeypatch.setenv(MARK, value)
    yield value
    assert worker_processes(value) == []


def test_totals_are_exactly_what_the_workers_sent(pytester: pytest.Pytester, mark: str) -> None:
    write_tests(
        pytester,
        "test_totals",
        "HealthUser, save",
        """
@pytest.mark.load(HealthUser, users=4, duration=2, workers=2)
def test_spread(load_result):
    save(load_result, "spread.json")
""",
    )
    with (
        TargetServer() as target
    ):  # its own: the session's shared one may still be answering an earlier test's users
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
        result.assert_outcomes(passed=1)
        hits = target.hits.get("/health", 0)
    figures = json.loads((pytester.path / "spread.json").read_text())
    total, workers = figures["total"]["num_requests"], figures["workers"]
    assert total > 100
    assert len(workers) == 2 and figures["lost_workers"] == []
    assert [worker["users"] for worker in workers] == [2, 2]  # Locust's dispatcher spreads the users evenly
    assert all(worker["pid"] for worker in workers)
    # what each worker counted itself is what the master merged from it, and the sum is the total
    assert [worker["sent"] for worker in workers] == [worker["received"] for worker in workers]
    assert sum(worker["received"] for worker in workers) == total
    # the target saw every counted request, plus at most one in flight per user when the users were stopped
    assert total <= hits <= total + 4


def test_a_run_that_ends_during_the_ramp_up_ends_on_time(
    pytester: pytest.Pytester, target: TargetServer, mark: str
) -> None:
    """A master dispatches users at the spawn rate; 20 users at 4/s take 5 s, the scenario ends after 2 s."""
    write_tests(
        pytester,
        "test_ramp",
        "HealthUser, save",
        """
@pytest.mark.load(HealthUser, users=20, spawn_rate=4, duration=2, workers=2, min_samples=0)
def test_ramp(load_result):
    save(load_result, "ramp.json")
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
    result.assert_outcomes(passed=1)
    figures = json.loads((pytester.path / "ramp.json").read_text())
    assert figures["total"]["num_requests"] > 0 and not figures["interrupted"]
    assert 0 < sum(worker["users"] for worker in figures["workers"]) < 20  # stopped mid-ramp
    assert 2.0 <= figures["elapsed"] < 3.0  # on time: the whole ramp-up would have taken 5 s


def long_distributed_session(
    pytester: pytest.Pytester, target: TargetServer, mark: str, name: str, users: int = 2
) -> PytestProcess:
    """A session whose one load test ``name`` runs 120 s on two local workers, returned once its users run."""
    write_tests(
        pytester,
        name,
        "HealthUser",
        f"""
@pytest.mark.load(HealthUser, users={users}, duration=120)
def {name}():
    pass
""",
    )
    session = PytestProcess(pytester.path, ("--load-host", target.url, "--load-workers", "2"), mark)
    session.wait_for(f"[load] {name}")
    assert len(worker_processes(mark)) == 2
    return session


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signal_number", "how"),
    [
        # SIGKILL: the engine sees the process exit; SIGSTOP: alive but silent, Locust marks it missing after 3 beats
        (signal.SIGKILL, "exited with code -9"),
        (signal.SIGSTOP, "missed 3 heartbeats"),
    ],
    ids=["SIGKILL", "SIGSTOP"],
)
def test_a_lost_worker_fails_the_test_within_seconds_naming_it(
    pytester: pytest.Pytester, target: TargetServer, mark: str, signal_number: int, how: str
) -> None:
    session = long_distributed_session(pytester, target, mark, "test_lost", users=4)
    victim = max(worker_processes(mark), key=lambda process: process.pid)
    victim.send_signal(signal_number)
    assert session.finish(timeout=30) == 1, session.output  # long before the 120 s duration
    pytest.LineMatcher(session.output.splitlines()).fnmatch_lines(
        [
            "*test_lost: lost 1 Locust worker(s) during the load scenario; stopped after *s of 120s.",
            f"*- worker * (local worker *, pid {victim.pid}, index *) {how} *s into the run*",
            "*partial figures *: * requests, 0 failures, * req/s, p50 * ms, p95 * ms",
        ]
    )


def test_ctrl_c_stops_the_master_and_every_worker(
    pytester: pytest.Pytester, target: TargetServer, mark: str
) -> None:
    session = long_distributed_session(pytester, target, mark, "test_long")
    session.process.send_signal(signal.SIGINT)
    assert session.finish(timeout=20) == 2  # pytest's "interrupted"
    assert "was interrupted after" in session.output
    assert worker_processes(mark) == []  # pytest exited only after the engine had ended both workers


def test_workers_stop_when_pytest_itself_is_killed(
    pytester: pytest.Pytester, target: TargetServer, mark: str
) -> None:
    """SIGKILL leaves pytest no chance to clean up: the engine and its workers see their pipes close and stop."""
    session = long_distributed_session(pytester, target, mark, "test_orphaned")
    session.process.kill()
    session.finish()
    deadline = time.monotonic() + 20
    while marked_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marked_processes(mark) == [], "the engine or its workers outlived a killed pytest"


REMOTE_WORKERS = {  # the commands docs/LOAD_TESTING.md gives for a worker started elsewhere
    "locust": lambda port, module: [
        "locust", "--worker", "-f", module, "--master-host", "127.0.0.1", "--master-port", str(port),
    ],
    "worker_main": lambda port, module: [
        "python", "-m", "pytest_loadtest.runtime.worker_main", "--master-host", "127.0.0.1", "--master-port", str(port),
        module,
    ],
}  # fmt: skip


def test_the_former_worker_entry_point_is_the_documented_one() -> None:
    """Scripts and manifests that start workers with ``python -m pytest_loadtest.worker_process`` keep working."""
    former, documented = (
        subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=30)
        for module in ("pytest_loadtest.worker_process", "pytest_loadtest.runtime.worker_main")
    )
    assert former.returncode == documented.returncode == 0
    assert former.stdout == documented.stdout and "--master-host" in former.stdout


@pytest.mark.parametrize("command", sorted(REMOTE_WORKERS))
def test_expected_workers_started_elsewhere_with_the_documented_command(
    pytester: pytest.Pytester, target: TargetServer, mark: str, command: str
) -> None:
    write_tests(
        pytester,
        "test_remote",
        "HealthUser, save",
        """
@pytest.mark.load(HealthUser, users=2, duration=2)
def test_remote(load_result):
    save(load_result, "remote.json")
""",
    )
    port = _free_port()
    session = PytestProcess(
        pytester.path,
        ("--load-host", target.url, "--load-expect-workers", "1", "--load-master-bind-port", str(port)),
        mark,
    )
    executable = str(Path(sys.executable).parent / REMOTE_WORKERS[command](port, "")[0])
    worker = subprocess.Popen(
        [executable, *REMOTE_WORKERS[command](port, "test_remote.py")[1:]],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert session.finish(timeout=60) == 0, session.output
        assert worker.wait(timeout=15) == 0  # the master told it to quit
    finally:
        worker.kill()
        worker.wait()
    figures = json.loads((pytester.path / "remote.json").read_text())
    [share] = figures["workers"]
    assert (
        share["pid"] is None
        and share["users"] == 2
        and share["received"] == figures["total"]["num_requests"] > 0
    )


@pytest.mark.slow
def test_a_looping_worker_serves_every_scenario_of_the_session_until_sigterm(
    pytester: pytest.Pytester, target: TargetServer, mark: str
) -> None:
    write_tests(
        pytester,
        "test_twice",
        "HealthUser, save",
        """
@pytest.mark.load(HealthUser, users=2, duration=1)
def test_first(load_result):
    save(load_result, "first.json")

@pytest.mark.load(HealthUser, users=2, duration=1)
def test_second(load_result):
    save(load_result, "second.json")
""",
    )
    port = _free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "pytest_loadtest.runtime.worker_main", "--master-host", "127.0.0.1",
         "--master-port", str(port), "--loop", "test_twice.py"],
        cwd=pytester.path, env={**os.environ, MARK: mark}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        session = PytestProcess(
            pytester.path,
            ("--load-host", target.url, "--load-expect-workers", "1", "--load-master-bind-port", str(port)),
            mark,
        )
        assert session.finish(timeout=90) == 0, session.output
        assert worker.poll() is None  # still serving, for the next session
        shares = [
            json.loads((pytester.path / f"{name}.json").read_text())["workers"]
            for name in ("first", "second")
        ]
        assert [len(share) for share in shares] == [1, 1] and shares[0][0]["id"] != shares[1][0]["id"]
        worker.terminate()
        assert worker.wait(timeout=15) == 0
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.slow
def test_xdist_spreads_load_tests_over_workers_but_never_runs_two_at_once(
    pytester: pytest.Pytester, target: TargetServer, mark: str
) -> None:
    """``pytest -n 2 --load-workers 2``: each scenario's users log when they send, in a file per engine process (the
    Locust workers' parent); the scenarios' spans of time must not overlap."""
    pytester.makepyfile(
        timed_users="""
import os, time
from locust import FastHttpUser, constant, task

class TimedUser(FastHttpUser):
    wait_time = constant(0.02)

    @task
    def health(self):
        with open(f"sent-{os.getppid()}.txt", "a") as log:  # one engine process per scenario
            log.write(f"{time.time()}\\n")
        self.client.get("/health")
""",
        test_spread="""
import os, pytest
from timed_users import TimedUser
"""
        + "".join(
            f"""
@pytest.mark.load(TimedUser, users=2, duration=1)
def test_load_{i}(load_result):
    assert len(load_result.workers) == 2
    with open(f"worker-{i}.txt", "w") as out:
        out.write(os.environ["PYTEST_XDIST_WORKER"])
"""
            for i in range(2)  # one per xdist worker: they would run at the same time but for the lock
        ),
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "-n", "2", "--load-workers", "2"
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    assert {path.read_text() for path in pytester.path.glob("worker-*.txt")} == {"gw0", "gw1"}
    spans = sorted(
        (min(times), max(times))
        for times in (
            [float(line) for line in log.read_text().split()] for log in pytester.path.glob("sent-*.txt")
        )
    )
    assert len(spans) == 2
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start > end, f"two load scenarios overlapped in time: {spans}"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["missing.py"],
            "no such file: missing.py (give the test module whose User classes the worker runs)",
        ),
        (
            ["--allowed-host", "http://", "users.py"],
            "--allowed-host: cannot use allowed host 'http://': a URL entry",
        ),
    ],
)
def test_a_worker_started_by_hand_refuses_bad_arguments_clearly(
    pytester: pytest.Pytester, arguments: list[str], message: str
) -> None:
    pytester.makepyfile(users=USERS)
    finished = subprocess.run(
        [sys.executable, "-m", "pytest_loadtest.runtime.worker_main", "--loop", *arguments],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (finished.returncode, finished.stderr.strip()[: len(message)]) == (2, message)


def test_missing_workers_fail_with_how_many_connected(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    write_tests(
        pytester,
        "test_alone",
        "HealthUser",
        """
@pytest.mark.load(HealthUser, users=2, duration=1)
def test_alone():
    pass
""",
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "--load-workers", "1", "--load-expect-workers", "1",
        "--load-master-bind-port", "0", "--load-worker-timeout", "1.5",
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            # the local worker may or may not have connected within 1.5 s on a busy machine; the remote one never does
            "*test_alone: the load scenario could not run: only ? of 2 Locust workers connected to the master at "
            "127.0.0.1:* within 1.5s (1 local, 1 expected from elsewhere); start each remote worker with: "
            "python -m pytest_loadtest.runtime.worker_main --master-host <this host> --master-port * <test file>*"
        ]
    )


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("given", "environment", "noted"),
    [
        (["--load-workers", "auto"], {}, True),
        (["-o", "load_workers=auto"], {}, True),
        ([], {"LOAD_WORKERS": "auto"}, True),
        (["--load-workers", "2"], {}, False),
        (["-o", "load_workers=auto", "--load-workers", "2"], {}, False),  # the command line comes first
        (
            ["-o", "load_workers=auto"],
            {"LOAD_WORKERS": "0"},
            False,
        ),  # and the environment before the ini file
    ],
)
def test_the_session_header_says_what_auto_picks_here_and_why_when_the_session_asks_for_it(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    given: list[str],
    environment: dict[str, str],
    noted: bool,
) -> None:
    from pytest_loadtest.settings.distribution import auto_workers_note, available_cores

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *given)
    result.assert_outcomes(passed=1)
    assert (auto_workers_note(available_cores()) in result.stdout.lines) is noted, result.stdout.str()
