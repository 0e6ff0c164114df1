"""Load tests never overlap in time, even spread over pytest-xdist workers: they would skew each other's figures.

The workers of one xdist run take turns through an exclusive ``flock`` on a file in a private directory: made by
this user with mode 0700 and named after a hash of the run's id (random per run), opened without following a
symlink (``O_NOFOLLOW``, and the file is created inside the directory's own descriptor), refused when it is not this
user's or others may write in it. The lock file exists only while a scenario holds it: the holder removes it and
the directory as it lets go, so a session leaves nothing behind; a waiter that was granted a file so removed tries
again. A process that is not an xdist worker is a run of its own and needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_loadtest.errors import EngineError

LOCK_NAME = "scenario.lock"
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def lock_directory(run_id: str) -> Path:
    """The private directory of one run's lock (the run's id itself is not shown to other users)."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:32]
    return Path(tempfile.gettempdir()) / f"pytest-loadtest-{digest}"


@contextmanager
def one_scenario_at_a_time(run_id: str | None) -> Iterator[None]:
    """Hold the lock shared by every process of one test run (``run_id``) while a scenario runs; no lock for None."""
    if run_id is None:
        yield
        return
    directory = lock_directory(run_id)
    directory_fd, lock_fd = _acquire(directory)
    try:
        yield
    finally:
        _release(directory, directory_fd, lock_fd)


def _acquire(directory: Path) -> tuple[int, int]:
    """The descriptors of the directory and of the lock file, the lock held on the file that is still in place."""
    while True:
        directory_fd = _open_private_directory(directory)
        if directory_fd is None:
            continue  # its holder removed it as we came: make it again
        try:
            lock_fd = os.open(LOCK_NAME, _LOCK_FLAGS, 0o600, dir_fd=directory_fd)
        except FileNotFoundError:  # the directory was removed after we opened it
            os.close(directory_fd)
            continue
        except OSError as exc:
            os.close(directory_fd)
            raise EngineError(
                f"cannot open the scenario lock {directory / LOCK_NAME}: {_reason(exc)}"
            ) from None
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if _still_in_place(directory_fd, lock_fd):
            return directory_fd, lock_fd
        os.close(lock_fd)  # granted a file its holder has removed: take the one now in place
        os.close(directory_fd)


def _open_private_directory(directory: Path) -> int | None:
    """The directory's descriptor (made 0700 if absent); None when it vanished; EngineError when it is not private."""
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise EngineError(f"cannot make the scenario lock directory {directory}: {_reason(exc)}") from None
    try:
        directory_fd = os.open(directory, _DIRECTORY_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink (ELOOP) or a file (ENOTDIR) planted at its path
        raise EngineError(_not_private(directory, _reason(exc))) from None
    status = os.fstat(directory_fd)
    if status.st_uid != os.getuid() or stat.S_IMODE(status.st_mode) & 0o077:
        os.close(directory_fd)
        raise EngineError(
            _not_private(directory, f"owner uid {status.st_uid}, mode {stat.S_IMODE(status.st_mode):o}")
        )
    return directory_fd


def _still_in_place(directory_fd: int, lock_fd: int) -> bool:
    try:
        in_place = os.stat(LOCK_NAME, dir_fd=directory_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(lock_fd)
    return (in_place.st_dev, in_place.st_ino) == (held.st_dev, held.st_ino)


def _release(directory: Path, directory_fd: int, lock_fd: int) -> None:
    """Remove the lock file and its directory, then let go: a waiter granted the removed file tries again."""
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(LOCK_NAME, dir_fd=directory_fd)
        with contextlib.suppress(OSError):  # gone, or not empty: a newcomer's lock file is in it
            os.rmdir(directory)
    finally:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
        os.close(directory_fd)


def _not_private(directory: Path, why: str) -> str:
    return (
        f"the scenario lock directory {directory} is not a private directory of this user ({why}); "
        "it is never used then: remove it"
    )


def _reason(exc: OSError) -> str:
    return f"[Errno {exc.errno}] {exc.strerror}"


def current_run_id(workerinput: Mapping[str, Any] | None) -> str | None:
    """The id shared by every xdist worker of this run (from the worker's ``workerinput``); None when this process
    is not an xdist worker, a run of its own. Not from the environment: a pytest session started by a test that runs
    in an xdist worker inherits PYTEST_XDIST_TESTRUNUID, yet it is a run of its own (its scenarios would otherwise
    queue behind every other such session of the outer run)."""
    if workerinput is not None and workerinput.get("testrunuid"):
        return str(workerinput["testrunuid"])
    return None
