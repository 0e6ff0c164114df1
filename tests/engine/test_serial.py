"""Which scenarios queue behind each other: those of one test run (its xdist workers), never those of another."""

from __future__ import annotations

import os

import pytest

from pytest_loadtest.engine.serial import current_run_id


def test_an_xdist_worker_takes_its_runs_id_from_its_workerinput() -> None:
    assert current_run_id({"testrunuid": "abc123", "workerid": "gw1"}) == "abc123"


def test_a_session_that_is_no_xdist_worker_is_a_run_of_its_own_whatever_its_environment_inherited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pytest session started by a test in an xdist worker inherits the worker's PYTEST_XDIST_TESTRUNUID."""
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "the-outer-run")
    assert current_run_id(None) == f"pid{os.getpid()}"
