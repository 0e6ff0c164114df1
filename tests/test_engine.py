"""The engine used from plain Python, as a script would: no pytest session, a real Locust run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_loadtest import EngineError, ProgressPoint, Scenario, UserClassRef, parse_thresholds, run_scenario
from tests.support.target import TargetServer

MODULE = """
from locust import FastHttpUser, constant, task


class SlowUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def slow(self):
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


def test_stats_are_reset_after_the_warmup(tmp_path: Path, target: TargetServer) -> None:
    result = run_scenario(scenario(tmp_path, target, duration=2.0, warmup=1.0))
    assert 0.9 <= result.elapsed <= 1.5
    assert result.total.rps == pytest.approx(result.total.num_requests / result.elapsed)


def test_a_class_the_engine_cannot_import_is_an_engine_error(tmp_path: Path, target: TargetServer) -> None:
    with pytest.raises(EngineError, match="module 'engine_users' has no attribute 'Nope'"):
        run_scenario(scenario(tmp_path, target, qualname="Nope"))
