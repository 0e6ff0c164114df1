"""What a scenario leaves running is found by its engine's group and its run's token, ended and named; how an engine
ended is said; where user code called ``sys.exit`` is said. Real processes, no Locust run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pytest_loadtest.engine.leftovers import RUN_VARIABLE, end_leftovers, new_token
from pytest_loadtest.engine.processes import exit_description
from pytest_loadtest.runtime.engine_main import exit_called

SLEEPER = "import time; print('up', flush=True); time.sleep(30)"

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc"), reason="leftovers are found through /proc (Linux)"
)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def start(
    processes: list[subprocess.Popen[bytes]],
    name: str,
    group: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """A sleeper in a session of its own, or in ``group`` (0: a group of its own in this session); started once it
    says so (its command line and environment are then its own, not this process's)."""
    process = subprocess.Popen(
        [sys.executable, "-c", SLEEPER, name],
        stdout=subprocess.PIPE,
        start_new_session=group is None,
        process_group=group,
        env=env,
    )
    processes.append(process)
    assert process.stdout is not None and process.stdout.readline() == b"up\n"
    return process


def test_what_carries_the_token_or_stays_in_the_group_is_ended_and_named_and_nothing_else(
    started: list[subprocess.Popen[bytes]],
) -> None:
    token = new_token()
    engine = start(started, "engine", group=0)  # where the engine would be: the leader of its group
    in_group = start(started, "in-group", group=engine.pid)
    escaped = start(started, "escaped", env={**os.environ, RUN_VARIABLE: token})
    other_run = start(started, "other", env={**os.environ, RUN_VARIABLE: new_token()})

    ended = end_leftovers(token, engine.pid)

    assert sorted((leftover.pid, leftover.own) for leftover in ended) == sorted(
        [(engine.pid, True), (in_group.pid, False), (escaped.pid, False)]
    )
    described = {leftover.pid: leftover.describe() for leftover in ended}
    assert described[escaped.pid] == f"pid {escaped.pid}: {sys.executable} -c {SLEEPER} escaped"
    for process in (engine, in_group, escaped):
        assert process.wait(timeout=5) == -signal.SIGKILL
    assert other_run.poll() is None
    assert end_leftovers(token, engine.pid) == []


@pytest.mark.parametrize(
    ("code", "described"),
    [
        (3, "exited with code 3"),
        (-signal.SIGKILL, "was killed by SIGKILL (killed, or ended by the out-of-memory killer)"),
        (-signal.SIGTERM, "was killed by SIGTERM"),
    ],
)
def test_how_a_process_ended_is_said_from_its_exit_code(code: int, described: str) -> None:
    assert exit_description(code) == described


def test_sys_exit_is_told_with_its_argument_and_the_line_that_called_it() -> None:
    def task() -> None:
        sys.exit(3)

    with pytest.raises(SystemExit) as raised:
        task()
    line = task.__code__.co_firstlineno + 1
    called = exit_called(raised.value)
    assert called.argument == "3"
    assert called.where == f"tests/engine/test_leftovers.py, line {line}, in task (sys.exit(3))"
