"""Staged load shapes in the engine process: Locust's own ``LoadTestShape`` drives the user count through a profile's
stages, and a recorder snapshots the totals at every stage boundary so that each stage can be judged on its own.

A user's own shape written as Locust's documented stages shape (a ``stages`` list of ``{"duration": end time,
"users": n, ...}``, the ``duration`` counted from the start of the run) is recorded and judged stage by stage too.

Engine-side only (imports Locust, which the engine process has gevent-patched first).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import gevent
from locust import LoadTestShape
from locust.env import Environment
from locust.runners import Runner
from locust.stats import diff_response_time_dicts

from pytest_loadtest.engine.protocol import Spec, StageSpec


class StagesShape(LoadTestShape):
    """Each stage's user count at its spawn rate, for its duration; after the last stage it holds the last count
    (the scenario's duration, the sum of the stages, ends the run)."""

    def __init__(self, stages: Sequence[StageSpec]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.stages = list(stages)
        self.ends = list(itertools.accumulate(stage["duration"] for stage in self.stages))

    def stage_index(self, run_time: float) -> int:
        return next((index for index, end in enumerate(self.ends) if run_time < end), len(self.stages) - 1)

    def tick(self) -> tuple[int, float]:
        run_time: float = self.get_run_time()  # type: ignore[no-untyped-call]
        stage = self.stages[self.stage_index(run_time)]
        return stage["users"], stage["spawn_rate"]


def shape_for(
    stages: Sequence[StageSpec], user_shape: type[LoadTestShape] | None = None
) -> LoadTestShape | None:
    """The shape that drives the run: the user's own ``LoadTestShape`` (the marker's ``shape=``), a profile's
    stages, or None for a flat run."""
    if user_shape is not None:
        return user_shape()
    return StagesShape(stages) if stages else None


class StageRecorder:
    """Snapshots of the total stats at the start and at each stage boundary; ``figures()`` diffs them."""

    def __init__(self, environment: Environment, ends: Sequence[float], users: Sequence[int]) -> None:
        self.environment = environment
        self.users = list(users)
        """Each stage's user count."""
        self.started = time.monotonic()
        self.snapshots = [self._snapshot()]
        self.timers = [gevent.spawn_later(end, self._mark) for end in ends[:-1]]

    def _snapshot(self) -> tuple[float, int, int, float, dict[int, int]]:
        total = self.environment.stats.total
        return (
            time.monotonic() - self.started,
            total.num_requests,
            total.num_failures,
            float(total.total_response_time),
            dict(total.response_times),
        )

    def _mark(self) -> None:
        self.snapshots.append(self._snapshot())

    def figures(self) -> list[dict[str, Any]]:
        """One ``StageFigures.to_dict()``-shaped dict per stage reached, the last one up to now."""
        gevent.killall(self.timers, block=True)
        snapshots = [*self.snapshots, self._snapshot()]
        stages = []
        for number, (before, after) in enumerate(itertools.pairwise(snapshots), start=1):
            histogram = diff_response_time_dicts(after[4], before[4])
            window = after[0] - before[0]
            stages.append(
                {
                    "number": number,
                    "users": self.users[number - 1],
                    "start": before[0],
                    "end": after[0],
                    "total": {
                        "name": "Aggregated",
                        "num_requests": after[1] - before[1],
                        "num_failures": after[2] - before[2],
                        "total_response_time": after[3] - before[3],
                        "min": float(min(histogram, default=0)),
                        "max": float(max(histogram, default=0)),
                        "window": window,
                        "histogram": [[float(rt), count] for rt, count in sorted(histogram.items()) if count],
                    },
                }
            )
        return stages


def start_users(runner: Runner, environment: Environment, spec: Spec) -> StageRecorder | None:
    """Start the users: through the shape when the scenario has one (a staged shape returns its recorder), else all
    at once."""
    shape = environment.shape_class
    if shape is not None:
        runner.start_shape()
        plan = stage_plan(shape)
        return StageRecorder(environment, *plan) if plan else None
    runner.start(spec["users"], spawn_rate=spec["spawn_rate"])
    return None


def stage_plan(shape: LoadTestShape) -> tuple[list[float], list[int]] | None:
    """Each stage's end time and user count: a profile's stages, or a user's shape with Locust's ``stages`` list
    (end times increasing, user counts whole); None for any other shape (it has no stages to judge)."""
    if isinstance(shape, StagesShape):
        return shape.ends, [stage["users"] for stage in shape.stages]
    stages = getattr(shape, "stages", None)
    try:
        ends = [float(stage["duration"]) for stage in stages]  # type: ignore[union-attr]
        users = [int(stage["users"]) for stage in stages]  # type: ignore[union-attr]
    except (TypeError, KeyError, ValueError):
        return None
    increasing = all(first < second for first, second in itertools.pairwise(ends))
    return (ends, users) if ends and ends[0] > 0 and increasing else None
