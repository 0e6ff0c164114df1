"""Load tests never overlap in time, even spread over pytest-xdist workers: they would skew each other's figures."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(run_id: str) -> Path:
    return Path(tempfile.gettempdir()) / f"pytest-loadtest-{run_id}.lock"


@contextmanager
def one_scenario_at_a_time(run_id: str) -> Iterator[None]:
    """Hold an exclusive file lock shared by every process of one test run (``run_id``) while a scenario runs."""
    with open(lock_path(run_id), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def current_run_id() -> str:
    """The id shared by every xdist worker of this run, or this process's own when xdist is not in use."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
