"""The fork server: one process per session imports Locust; every scenario runs in an engine forked from it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import psutil
import pytest

from pytest_loadtest import EngineError, ForkServer, ForkServerWarning, Scenario, UserClassRef, run_scenario
from pytest_loadtest.engine.protocol import EngineExited, EngineStarted, decode
from tests.support.target import TargetServer

MODULE = """
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task


class ManyNamesUser(FastHttpUser):
    wait_time = constant(0.002)

    @task
    def many(self):
        self.client.get("/health", name=f"/{random.getrandbits(64):016x}/" + "x" * 2000)


class WhereUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def where(self):
        self.client.get("/health", name=f"{os.environ['ENGINE_MARK']} {Path.cwd().name} {os.getppid()}")
"""


def scenario(tmp_path: Path, target: TargetServer, user: str = "WhereUser") -> Scenario:
    module = tmp_path / "where_users.py"
    module.write_text(MODULE)
    ref = UserClassRef("where_users", user, str(module))
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


def engine_of(server: ForkServer, timeout: float = 30.0) -> psutil.Process:
    """The engine the server forked for a scenario that runs in another thread."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(server.pid).children() if server.pid else []
            if children:
                return children[0]
        time.sleep(0.02)
    raise AssertionError("the fork server forked no engine in time")


def server_pid(server: ForkServer, timeout: float = 30.0) -> int:
    """The pid of a server that a scenario in another thread starts."""
    deadline = time.monotonic() + timeout
    while server.pid is None:
        assert time.monotonic() < deadline, "the fork server did not start in time"
        time.sleep(0.005)
    return server.pid


def test_a_result_larger_than_the_channel_buffer_arrives_whole(tmp_path: Path, target: TargetServer) -> None:
    """The forked engine's channel is one socket for commands and messages: reading commands must not make the
    writing of a result larger than the socket's buffer (about 200 KB) fail half-way."""
    with ForkServer() as server:
        result = run_scenario(scenario(tmp_path, target, "ManyNamesUser"), forkserver=server)
    assert len(json.dumps(result.to_dict())) > 400_000
    assert len(result.entries) == result.total.num_requests > 100


def kill_server(server: ForkServer) -> int:
    """SIGKILL the server and wait until it is gone (its sockets close before it is): the next fork starts anew."""
    pid = server_pid(server)
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(timeout=10)
    return pid


def test_a_lost_fork_server_spares_the_running_scenario_and_is_replaced_at_the_next(
    tmp_path: Path, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINE_MARK", "mark")
    lost_message = "the engine process was lost with the fork server before it reported"
    with ForkServer() as server, ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_scenario, scenario(tmp_path, target), forkserver=server)
        kill_server(server)  # while it imports Locust, before it forks the engine (or even hears of it)
        with pytest.raises(EngineError, match=f"{lost_message}|the fork server is gone"):
            running.result(timeout=30)

        running = pool.submit(run_scenario, scenario(tmp_path, target), forkserver=server)
        engine_of(server)
        lost = kill_server(server)
        assert running.result(timeout=30).total.num_requests > 0  # the engine ran on without its server

        running = pool.submit(run_scenario, scenario(tmp_path, target), forkserver=server)
        engine = engine_of(server)
        assert server_pid(server) != lost
        kill_server(server)  # the server first: nobody is left to report the engine's exit
        engine.kill()
        with pytest.raises(EngineError, match=lost_message):
            running.result(timeout=30)


def test_a_request_withdrawn_before_the_fork_starts_no_engine() -> None:
    with ForkServer() as server, tempfile.TemporaryFile() as withdrawn, tempfile.TemporaryFile() as stderr:
        server.fork(withdrawn).reap()  # Ctrl-C while the server still imports Locust
        engine = server.fork(stderr)
        engine.send(b"not a spec\n")
        with engine.channel.makefile("rb") as lines:
            messages = [decode(line) for line in lines]  # until the server reports the exit and closes
        engine.reap()
        assert [type(message) for message in messages] == [EngineStarted, EngineExited]
        assert messages[-1] == EngineExited(1)
        assert b"EngineError: an unreadable spec: b'not a spec\\n'" in stderr_text(stderr)
        assert stderr_text(withdrawn) == b""  # a forked engine would have failed reading its missing spec


def stderr_text(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()


def test_load_fork_server_0_spawns_each_engine_and_a_bad_value_is_a_usage_error(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        where_users=MODULE,
        test_spawned="""
import os
from pathlib import Path

import pytest
from where_users import WhereUser


@pytest.mark.load(WhereUser, users=1, duration=1)
def test_spawned(load_result):
    # the engine's parent is this pytest process itself, not a fork server
    assert list(load_result.entries) == [f"GET spawned {Path.cwd().name} {os.getpid()}"]
""",
    )
    monkeypatch.setenv("ENGINE_MARK", "spawned")
    monkeypatch.setenv("LOAD_FORK_SERVER", "0")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
    result.assert_outcomes(passed=1)

    monkeypatch.setenv("LOAD_FORK_SERVER", "sometimes")
    result = pytester.runpytest("-p", "no:cacheprovider", "--load-host", target.url)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*LOAD_FORK_SERVER='sometimes' in the environment: must be true or false*"])


CERTIFI_USERS = """
import certifi
from locust import FastHttpUser, constant, task


class CertifiUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def which(self):
        self.client.get("/health", name="vendored" if getattr(certifi, "VENDORED", False) else "site-packages")
"""


def test_a_preloaded_module_the_import_path_shadows_comes_from_the_path_in_a_spawned_engine_said_once(
    tmp_path: Path, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vendored certifi first on sys.path (pytest's ``pythonpath`` ini, a conftest) is what the users import, as in
    this process and in plain locust, though the fork server preloaded the one in site-packages."""
    import certifi

    vendored = tmp_path / "vendor" / "certifi"
    shutil.copytree(Path(certifi.__file__).parent, vendored)
    with (vendored / "__init__.py").open("a") as init:
        init.write("\nVENDORED = True\n")
    (tmp_path / "certifi_users.py").write_text(CERTIFI_USERS)
    monkeypatch.syspath_prepend(str(vendored.parent))
    ref = UserClassRef("certifi_users", "CertifiUser", str(tmp_path / "certifi_users.py"))
    shadowing = Scenario("shadowed", (ref,), users=1, spawn_rate=1.0, duration=1.0, host=target.url)
    with ForkServer() as server:
        with pytest.warns(ForkServerWarning) as said:
            first = run_scenario(shadowing, forkserver=server)
        with warnings.catch_warnings():
            warnings.simplefilter(
                "error"
            )  # said once: the next scenario with this path is spawned without a word
            second = run_scenario(shadowing, forkserver=server)
    assert len(said) == 1
    assert f"certifi from {certifi.__file__}, where the import path gives {vendored / '__init__.py'}" in str(
        said[0].message
    )
    assert set(first.entries) == set(second.entries) == {"GET vendored"}
