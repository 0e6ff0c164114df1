"""No target and no user code can make a load test outlive its duration plus the stop timeout (plus start-up)."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.processes import PytestProcess, marked_processes
from tests.support.target import TargetServer

MODULE = """
import ctypes
import pytest
from locust import FastHttpUser, HttpUser, constant, task


class FastHang(FastHttpUser):
    wait_time = constant(0)

    @task
    def hang(self):
        self.client.get("/hang")


class SlowHang(HttpUser):
    wait_time = constant(0)

    @task
    def hang(self):
        self.client.get("/hang")  # requests has no timeout by default: it would wait forever


class LoopBlocker(FastHttpUser):
    @task
    def block(self):
        ctypes.CDLL(None).sleep(60)  # blocks the engine's event loop: no gevent timeout can fire


@pytest.mark.load(FastHang, SlowHang, users=4, duration=1.5)
def test_hang():
    pass


@pytest.mark.load(LoopBlocker, users=1, duration=1)
def test_blocked():
    pass
"""


@pytest.mark.slow
def test_a_target_that_never_answers_and_a_stuck_engine_are_bounded(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_bounded=MODULE)
    session = PytestProcess(pytester.path, ("--load-host", target.url, "--load-stop-timeout", "1"))
    assert session.finish(timeout=60) == 1, session.output
    elapsed = time.monotonic() - session.started
    # start-up (~2 s) + hang: 1.5 s duration and a prompt stop + blocked: 1 s duration + 1 s stop
    # timeout + 2 s grace before the engine is killed. Without the bounds the session would take 60 s or forever.
    assert elapsed < 15, session.output
    assert "2 failed" in session.output
    # every user was still waiting for an answer when the scenario stopped: nothing measured fails the test
    assert re.search(
        r"test_bounded\.py::test_hang: no request completed in 1\.[4-9]s \(4 users running at the end\): nothing "
        r"was measured\.",
        session.output,
    ), session.output
    assert (
        "test_bounded.py::test_blocked: the load scenario could not run: the engine process did not finish in time"
        in (session.output)
    )
    assert not marked_processes(session.mark)
