"""Which scenarios queue behind each other (those of one test run: its xdist workers), and the lock they share: in a
private directory, never through a planted symlink, gone once released."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_loadtest.engine.serial import (
    LOCK_NAME,
    current_run_id,
    lock_directory,
    one_scenario_at_a_time,
)
from pytest_loadtest.errors import EngineError

RUN_ID = "0123456789abcdef"


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The system's temporary directory, for the lock, is this test's own."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield tmp_path


def test_an_xdist_worker_takes_its_runs_id_from_its_workerinput() -> None:
    assert current_run_id({"testrunuid": "abc123", "workerid": "gw1"}) == "abc123"


def test_a_session_that_is_no_xdist_worker_is_a_run_of_its_own_whatever_its_environment_inherited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pytest session started by a test in an xdist worker inherits the worker's PYTEST_XDIST_TESTRUNUID."""
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "the-outer-run")
    assert current_run_id(None) is None


def test_a_run_of_one_process_takes_no_lock_and_leaves_no_file(temp_root: Path) -> None:
    with one_scenario_at_a_time(None):
        assert list(temp_root.iterdir()) == []
    assert list(temp_root.iterdir()) == []


def test_the_lock_is_in_a_private_directory_not_named_by_the_run_id_and_gone_once_released(
    temp_root: Path,
) -> None:
    directory = lock_directory(RUN_ID)
    assert directory.parent == temp_root and RUN_ID not in directory.name
    with one_scenario_at_a_time(RUN_ID):
        status = directory.lstat()
        assert stat.S_ISDIR(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o700
        assert status.st_uid == os.getuid()
        lock = (directory / LOCK_NAME).lstat()
        assert stat.S_ISREG(lock.st_mode) and stat.S_IMODE(lock.st_mode) & 0o077 == 0
    assert list(temp_root.iterdir()) == []


class Holder(threading.Thread):
    """Takes the lock in a thread of its own (flock excludes open files of one process too) until told to let go."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.holding = threading.Event()
        self.let_go = threading.Event()

    def run(self) -> None:
        with one_scenario_at_a_time(RUN_ID):
            self.holding.set()
            self.let_go.wait(10)

    def release(self) -> None:
        self.let_go.set()
        self.join(10)


@pytest.mark.usefixtures("temp_root")
def test_holders_take_turns_even_when_the_one_they_waited_for_removed_the_lock_file() -> None:
    """The first holder removes the file the second one waits on: the second takes a new one, and a third that
    comes meanwhile still waits for the second."""
    first, second, third = Holder(), Holder(), Holder()
    first.start()
    assert first.holding.wait(5)
    second.start()
    assert not second.holding.wait(0.3)  # queued behind the first
    first.release()
    assert second.holding.wait(5)
    third.start()
    assert not third.holding.wait(0.3)  # queued behind the second, on the file it took
    second.release()
    assert third.holding.wait(5)
    third.release()


def test_a_symlink_planted_at_the_lock_directory_is_never_followed(temp_root: Path) -> None:
    elsewhere = temp_root / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    lock_directory(RUN_ID).symlink_to(elsewhere)
    with (
        pytest.raises(EngineError, match=r"lock directory .* is not a private directory of this user"),
        one_scenario_at_a_time(RUN_ID),
    ):
        pass
    assert list(elsewhere.iterdir()) == []


def test_a_lock_directory_others_may_write_in_is_refused(temp_root: Path) -> None:
    directory = lock_directory(RUN_ID)
    directory.mkdir()
    directory.chmod(0o777)
    with (
        pytest.raises(EngineError, match=r"not a private directory of this user \(owner uid \d+, mode 777\)"),
        one_scenario_at_a_time(RUN_ID),
    ):
        pass
    assert list(directory.iterdir()) == []


def test_a_symlink_planted_at_the_lock_file_is_never_followed(temp_root: Path) -> None:
    directory = lock_directory(RUN_ID)
    directory.mkdir(mode=0o700)
    victim = temp_root / "victim"
    (directory / LOCK_NAME).symlink_to(victim)
    with (
        pytest.raises(EngineError, match=r"cannot open the scenario lock .*scenario\.lock: \[Errno \d+\] "),
        one_scenario_at_a_time(RUN_ID),
    ):
        pass
    assert not victim.exists()
