"""A verdict never claims a load that was not reached: the ramp-up refusal, and figures that decide a threshold in
one direction even on missing evidence (evidence.py, settings/resolve.py's check_ramp_up)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.evidence import EvidenceRule
from pytest_loadtest.measure.result import EntryStats, LoadResult, ProgressPoint, users_shown
from pytest_loadtest.measure.thresholds import Status, evaluate, parse_thresholds
from pytest_loadtest.reports.junit import load_properties
from pytest_loadtest.reports.terminal import render_summary
from pytest_loadtest.scenario import Scenario, UserClassRef
from pytest_loadtest.settings.resolve import check_ramp_up

RAMPING = EvidenceRule(min_samples=1, ramp_up=50.0)
"""500 users at 10/s: a 20 s run ends 30 s before its ramp-up."""
THIN = EvidenceRule(min_samples=50)


def run(
    times: dict[float, int], elapsed: float = 20.0, history: tuple[ProgressPoint, ...] = ()
) -> LoadResult:
    requests = sum(times.values())
    total = EntryStats(
        "Aggregated",
        requests,
        0,
        sum(t * n for t, n in times.items()),
        min(times),
        max(times),
        elapsed,
        times,
    )
    return LoadResult("t", None, 500, elapsed, elapsed, total, {"GET /x": total}, history=history)


def statuses(spec: dict[str, str], result: LoadResult, rule: EvidenceRule) -> list[Status]:
    return [verdict.status for verdict in evaluate(parse_thresholds(spec, "t"), result, rule)]


def test_an_rps_lower_bound_met_before_the_ramp_up_ended_passes() -> None:
    measured = run({10.0: 3980})  # 199/s
    assert statuses({"rps": ">=10/s"}, measured, RAMPING) == [Status.PASS]


def test_an_rps_upper_bound_breached_before_the_ramp_up_ended_fails() -> None:
    assert statuses({"rps": "<100/s"}, run({10.0: 3980}), RAMPING) == [Status.FAIL]


def test_an_rps_the_missing_users_could_still_change_stays_inconclusive() -> None:
    measured = run({10.0: 3980})
    assert statuses({"rps": ">=500/s"}, measured, RAMPING) == [Status.INCONCLUSIVE]
    assert statuses({"rps": "<500/s"}, measured, RAMPING) == [Status.INCONCLUSIVE]


def test_a_latency_limit_breached_by_fewer_users_than_planned_fails() -> None:
    assert statuses({"p95": "<100ms"}, run({500.0: 3980}), RAMPING) == [Status.FAIL]


def test_a_max_or_min_decided_on_thin_samples_is_judged() -> None:
    thin = run({10.0: 5, 900.0: 5})  # 10 samples of the 50 each needs
    assert statuses({"max": "<500ms", "p100": ">=800ms", "min": "<50ms"}, thin, THIN) == [
        Status.FAIL,  # more samples can only raise the maximum
        Status.PASS,
        Status.PASS,  # ... and only lower the minimum
    ]
    assert statuses({"min": ">=20ms"}, thin, THIN) == [Status.FAIL]


def test_a_max_or_min_more_samples_could_change_stays_inconclusive() -> None:
    thin = run({10.0: 5, 900.0: 5})
    assert statuses({"max": "<1s", "min": ">=5ms"}, thin, THIN) == [Status.INCONCLUSIVE, Status.INCONCLUSIVE]


def test_a_thin_percentile_stays_inconclusive_whichever_way_it_points() -> None:
    thin = run({10.0: 5, 900.0: 5})
    assert statuses({"p99": "<500ms", "avg": ">=1s"}, thin, THIN) == [
        Status.INCONCLUSIVE,
        Status.INCONCLUSIVE,
    ]


def scenario(**changes: object) -> Scenario:
    flat = Scenario("t.py::test_a", (), users=500, spawn_rate=10.0, duration=20.0, host="http://127.0.0.1:1")
    return replace(flat, **changes)  # type: ignore[arg-type]


def test_a_run_too_short_for_its_ramp_up_is_refused_naming_users_spawn_rate_duration_and_the_fix() -> None:
    with pytest.raises(LoadTestUsageError) as refused:
        check_ramp_up(scenario())
    assert str(refused.value) == (
        "t.py::test_a: 500 users at a spawn rate of 10/s take 50s to start, longer than its 20s duration: the "
        "figures would be those of fewer users. Raise the spawn rate to 25/s or more (--load-spawn-rate, "
        "spawn_rate=), or the duration to 50s or more (--load-duration, duration=), or run fewer users"
    )


def test_a_warm_up_may_cover_the_ramp_up() -> None:
    """The users start at once and the figures after the warm-up: the recommended way to leave a ramp-up out."""
    check_ramp_up(scenario(users=100, spawn_rate=10.0, duration=20.0, warmup=15.0))  # all running at 10 s
    with pytest.raises(LoadTestUsageError, match=r"take 25s to start, longer than its 20s duration"):
        check_ramp_up(scenario(users=250, spawn_rate=10.0, duration=20.0, warmup=15.0))


@pytest.mark.parametrize(
    "exempt",
    [
        {"shape": UserClassRef("m", "Shape", None)},
        {"rate": 5.0},
        {"min_samples": 0.0},
        {"spawn_rate": 500.0},
    ],
    ids=["shape", "open model", "min_samples=0", "all users at once"],
)
def test_shapes_the_open_model_and_min_samples_0_have_no_ramp_up_to_refuse(exempt: dict[str, object]) -> None:
    check_ramp_up(scenario(**exempt))


def test_reports_show_the_users_reached_next_to_the_target_when_the_run_peaked_below_it() -> None:
    history = tuple(ProgressPoint(float(s), users, 10 * s, 0, 10.0, 5.0) for s, users in ((1, 10), (2, 170)))
    peaked = run({10.0: 20}, history=history)
    assert users_shown(500, peaked.users_reached) == "170/500"
    assert users_shown(170, 170) == "170" and users_shown(500, None) == "500"
    assert ("load.users", "170/500") in load_properties(peaked)
    record = {"nodeid": "t.py::test_a", "outcome": "passed", "partial": False, "result": peaked.to_dict()}
    assert " 170/500 " in render_summary([record]).splitlines()[-1]
