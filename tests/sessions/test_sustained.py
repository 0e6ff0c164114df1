"""Sustained thresholds and aborting, through one real pytest session against loopback targets: a 60 s scenario
whose target breaks after 2 s stops within seconds with the reason, the session goes on, and windows are judged on
a local run and on one with a Locust worker."""

from __future__ import annotations

import re
import time

import pytest

from tests.support.target import TargetServer

TESTS = """
import pytest
from locust import FastHttpUser, constant, task


class Degrading(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def degrade(self):
        self.client.get("/degrade?after=2", name="/degrade")


class Gentle(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")


@pytest.mark.load(
    Degrading, users=2, duration="60s", host="{broken}", abort_on_fail=True, abort_after="1s",
    thresholds={"fail_ratio": "<5% over 2s", "p95": "<1s"},
)
def test_breaks_after_two_seconds():
    pass


@pytest.mark.load(
    Gentle, users=2, duration=1.5, thresholds={"p95": "<1s over 1s", "GET /health": {"rps": ">=1 over 1s abort"}}
)
def test_sustained_locally(load_result):
    p95, rps = load_result.thresholds[:2]
    assert p95.status.value == "pass" and p95.note.startswith("worst 1s window ")
    assert rps.status.value == "pass" and rps.measured >= 10
    assert load_result.aborted is None and not load_result.partial
    ticks = load_result.timeline.ticks("GET /health")
    assert sum(tick.requests for tick in ticks) == load_result.total.num_requests


@pytest.mark.load(Gentle, users=2, duration=3.5, workers=1, thresholds={"p95": "<1s over 3s"})
def test_sustained_with_a_worker(load_result):
    [p95] = [verdict for verdict in load_result.thresholds if verdict.threshold.window]
    assert p95.status.value == "pass" and p95.samples > 0, p95
    assert sum(tick.requests for tick in load_result.timeline.ticks("Aggregated")) == load_result.total.num_requests
"""


@pytest.mark.slow
def test_a_run_whose_target_breaks_stops_early_and_windows_judge_local_and_distributed_runs(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    with TargetServer() as broken:  # its own: /degrade counts from the server's first request to it
        pytester.makepyfile(test_load=TESTS.replace("{broken}", broken.url))
        started = time.monotonic()
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
        took = time.monotonic() - started
    result.assert_outcomes(passed=2, failed=1)
    output = result.stdout.str()
    stopped = re.search(
        r"test_breaks_after_two_seconds: stopped early at (?P<at>[\d.]+)s of 60s because fail_ratio "
        r"'<5% over 2s' failed: measured (?P<ratio>[\d.]+)% \(worst 2s window \d+-\d+s\)",
        output,
    )
    assert stopped, output
    assert 2 <= float(stopped["at"]) < 8 and float(stopped["ratio"]) >= 5
    assert took < 45  # the 60 s scenario did not run its course (the whole session, workers included)
    result.stdout.fnmatch_lines(
        ["threshold *limit*measured*verdict", "fail_ratio*< 5.00% over 2s*FAIL", "p95*< 1000 ms*"]
    )
