"""Load tests never overlap in time, even spread over pytest-xdist workers: they would skew each other's figures."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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


def current_run_id(workerinput: Mapping[str, Any] | None) -> str:
    """The id shared by every xdist worker of this run (from the worker's ``workerinput``), or this process's own
    when it is not an xdist worker. Not from the environment: a pytest session started by a test that runs in an
    xdist worker inherits PYTEST_XDIST_TESTRUNUID, yet it is a run of its own (its scenarios would otherwise queue
    behind every other such session of the outer run)."""
    if workerinput is not None and workerinput.get("testrunuid"):
        return str(workerinput["testrunuid"])
    return f"pid{os.getpid()}"
