"""The fork server: one process per session imports Locust; every scenario runs in an engine forked from it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from pytest_loadtest import Scenario, UserClassRef, run_scenario
from pytest_loadtest.engine_processes import ForkServer
from tests.support.target import TargetServer

MODULE = """
import os
from pathlib import Path

from locust import FastHttpUser, constant, task


class WhereUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def where(self):
        self.client.get("/health", name=f"{os.environ['ENGINE_MARK']} {Path.cwd().name} {os.getppid()}")
"""


def scenario(tmp_path: Path, target: TargetServer) -> Scenario:
    module = tmp_path / "where_users.py"
    module.write_text(MODULE)
    ref = UserClassRef("where_users", "WhereUser", str(module))
    return Scenario("forked", (ref,), users=1, spawn_rate=1.0, duration=1.0, host=target.url)


def test_engines_forked_by_one_server_run_in_the_callers_current_environment_and_directory(
    tmp_path: Path, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = []
    with ForkServer() as server:
        for mark in ("first", "second"):
            (tmp_path / mark).mkdir()
            monkeypatch.chdir(tmp_path / mark)
            monkeypatch.setenv("ENGINE_MARK", mark)
            names.extend(run_scenario(scenario(tmp_path, target), forkserver=server).entries)
        assert names == [f"GET first first {server.pid}", f"GET second second {server.pid}"]
        server_process = psutil.Process(server.pid)
        assert server_process.children() == []  # each engine was reaped when its scenario ended
    assert not server_process.is_running()


def test_a_lost_fork_server_is_replaced_at_the_next_scenario(
    tmp_path: Path, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINE_MARK", "mark")
    with ForkServer() as server:
        assert run_scenario(scenario(tmp_path, target), forkserver=server).total.num_requests > 0
        lost = server.pid
        assert lost is not None
        os.kill(lost, signal.SIGKILL)
        psutil.Process(lost).wait(timeout=5)
        result = run_scenario(scenario(tmp_path, target), forkserver=server)
        assert result.total.num_requests > 0 and server.pid not in (None, lost)
