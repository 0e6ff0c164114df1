"""The engine used from plain Python, as a script would: no pytest session, a real Locust run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_loadtest import EngineError, ProgressPoint, Scenario, UserClassRef, parse_thresholds, run_scenario
from tests.support.target import TargetServer

MODULE = """
import time

from locust import FastHttpUser, constant, task


class SlowUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def slow(self):
        self.client.get("/slow?ms=20", name="/slow")


class WarmingUser(FastHttpUser):
    # calls /health for its first half second, well inside a 1 s warm-up, then /slow

    wait_time = constant(0.01)

    def on_start(self):
        self.started = time.monotonic()

    @task
    def call(self):
        if time.monotonic() - self.started < 0.5:
            self.client.get("/health")
        else:
            self.client.get("/slow?ms=20", name="/slow")
"""


def scenario(
    tmp_path: Path, target: TargetServer, qualname: str = "SlowUser", **overrides: object
) -> Scenario:
    module = tmp_path / "engine_users.py"
    module.write_text(MODULE)
    settings: dict[str, object] = {
        "test_id": "script",
        "user_classes": (UserClassRef("engine_users", qualname, str(module)),),
        "users": 3,
        "spawn_rate": 3.0,
        "duration": 1.5,
        "host": target.url,
        "thresholds": parse_thresholds({"p50": "<1s"}, "script"),
        **overrides,
    }
    return Scenario(**settings)  # type: ignore[arg-type]


def test_run_scenario_from_a_script(tmp_path: Path, target: TargetServer) -> None:
    points: list[ProgressPoint] = []
    result = run_scenario(scenario(tmp_path, target), on_progress=points.append)
    slow = result.entries["GET /slow"]
    assert slow.num_requests == result.total.num_requests > 20
    # every request waits 20 ms on the server: the figures must say so, to 3 significant digits
    assert 20 <= slow.percentile(0.5) < 60 and slow.min >= 20
    assert 1.4 <= result.elapsed <= 2.5 and not result.partial
    assert points and points[0].users == 3 and len(result.history) == len(points)
    # progress counts what the run counts (the runner's start() replaces the stats objects it clears)
    assert 0 < points[0].requests <= result.total.num_requests and points[0].rps > 0 and points[0].p95 >= 20
    assert points[-1].elapsed >= 1.4  # the last half second has a point of its own: the charts reach the end


def test_requests_of_the_warmup_are_left_out_of_the_figures(tmp_path: Path, target: TargetServer) -> None:
    before = dict(target.hits)
    result = run_scenario(scenario(tmp_path, target, qualname="WarmingUser", duration=2.0, warmup=1.0))
    sent = {path: target.hits.get(path, 0) - before.get(path, 0) for path in ("/health", "/slow")}
    warm = result.entries.get("GET /health")  # Locust keeps the entry at zero when it resets the stats
    assert sent["/health"] > 10 and (
        warm is None or warm.num_requests == 0
    )  # sent in the warm-up, not counted
    counted = result.entries["GET /slow"].num_requests
    assert result.total.num_requests == counted > 0
    assert counted < sent["/slow"]  # the /slow requests of the warm-up's second half are left out too
    assert 0.9 <= result.elapsed <= 1.5  # the figures' window is the second after the warm-up


def test_a_class_the_engine_cannot_import_is_an_engine_error(tmp_path: Path, target: TargetServer) -> None:
    with pytest.raises(EngineError, match="module 'engine_users' has no attribute 'Nope'"):
        run_scenario(scenario(tmp_path, target, qualname="Nope"))
