"""The pure rules behind trustworthy figures: min samples (INCONCLUSIVE), generator saturation, percentile bucketing."""

from __future__ import annotations

import json
import math

import pytest
from locust import FastHttpUser, task

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.evidence import EvidenceRule, ramp_up_seconds, samples_needed
from pytest_loadtest.measure.result import EntryStats, LoadResult
from pytest_loadtest.measure.saturation import GeneratorCpu, assess, saturation_message
from pytest_loadtest.measure.thresholds import (
    Status,
    Verdict,
    evaluate,
    failure_headline,
    parse_thresholds,
    render_table,
)
from pytest_loadtest.settings.parsers import parse_flag
from pytest_loadtest.settings.resolve import ini_layer, marker_layer, resolve_scenario, resolve_setting


def entry(times: dict[float, int], window: float = 2.0) -> EntryStats:
    count = sum(times.values())
    total = sum(rt * n for rt, n in times.items())
    return EntryStats("Aggregated", count, 0, total, min(times), max(times), window, times)


def result(times: dict[float, int], elapsed: float = 2.0, cpu: GeneratorCpu | None = None) -> LoadResult:
    total = entry(times, elapsed)
    return LoadResult("t", None, 1, elapsed, elapsed, total, {"GET /x": total}, generator_cpu=cpu)


@pytest.mark.parametrize(
    ("metric", "min_samples", "needed"),
    [
        ("p99", 1, 100),
        ("p95", 1, 20),
        ("p50", 1, 2),
        ("median", 1, 2),
        ("p99.9", 1, 1000),
        ("p90", 1, 10),
        ("p99", 5, 500),
        ("p99", 0.3, 30),
        ("p100", 1, 1),
        ("max", 2, 2),
        ("avg", 1, 1),
        ("fail_ratio", 1, 0),
        ("requests", 10, 0),
        ("p99", 0, 0),
    ],
)
def test_samples_needed_scale_with_the_tail(metric: str, min_samples: float, needed: int) -> None:
    assert samples_needed(metric, min_samples) == needed


def min_samples(value: object) -> object:
    return resolve_setting("min_samples", [marker_layer("t.py::a", {"min_samples": value})], "t.py::a")


@pytest.mark.parametrize("value", [-1, "-0.5", "many", float("nan"), float("inf"), True, [1]])
def test_min_samples_rejects_what_is_not_a_count(value: object) -> None:
    with pytest.raises(LoadTestUsageError, match=r"t\.py::a: min_samples=.* must be"):
        min_samples(value)


def test_min_samples_accepts_numbers_and_strings() -> None:
    assert min_samples("0") == 0.0 and min_samples(2) == 2.0 and min_samples(" 0.5 ") == 0.5


def test_ramp_up_is_zero_when_every_user_starts_at_once() -> None:
    assert ramp_up_seconds(10, 10) == 0.0 and ramp_up_seconds(10, 50) == 0.0 and ramp_up_seconds(10, 2) == 5.0


def test_a_p99_over_30_samples_is_inconclusive_with_its_count_and_fails() -> None:
    thresholds = parse_thresholds({"p99": "<1s", "p50": "<1s"}, "t")
    verdicts = evaluate(thresholds, result({10.0: 29, 20.0: 1}), EvidenceRule(min_samples=1))
    assert [v.status for v in verdicts] == [Status.INCONCLUSIVE, Status.PASS]
    assert verdicts[0].samples == 30 and verdicts[0].note == "30 of 100 samples"
    assert not verdicts[0].passed
    assert verdicts[0].describe_measured() == "20 ms (30 of 100 samples)"
    assert "INCONCLUSIVE" in render_table(verdicts)
    assert failure_headline(verdicts).startswith("1 of 2 load thresholds inconclusive (too few samples")


def test_enough_samples_or_a_lower_min_samples_judge_the_threshold() -> None:
    thresholds = parse_thresholds({"p99": "<15ms"}, "t")
    thin = result({10.0: 29, 20.0: 1})
    assert evaluate(thresholds, thin, EvidenceRule(min_samples=0.3))[0].status is Status.FAIL
    assert evaluate(thresholds, thin, EvidenceRule(min_samples=0))[0].status is Status.FAIL
    assert evaluate(thresholds, thin)[0].status is Status.FAIL  # no rule: judged as before
    enough = result({10.0: 99, 12.0: 1})
    assert evaluate(thresholds, enough, EvidenceRule(min_samples=1))[0].status is Status.PASS


def test_an_rps_over_a_run_shorter_than_its_ramp_up_is_inconclusive() -> None:
    thresholds = parse_thresholds(
        {"rps": ">=100", "requests": ">=1"}, "t"
    )  # 20/s so far: more users may reach it
    run = result({10.0: 40}, elapsed=2.0)
    verdicts = evaluate(thresholds, run, EvidenceRule(min_samples=1, ramp_up=5.0))
    assert [v.status for v in verdicts] == [Status.INCONCLUSIVE, Status.PASS]
    assert verdicts[0].note == "the run (2.0s) ended before its ramp-up (5.0s)"
    warmed_up = EvidenceRule(min_samples=1, ramp_up=5.0, warmup=3.0)
    assert evaluate(thresholds, run, warmed_up)[0].status is Status.FAIL
    assert evaluate(thresholds, run, EvidenceRule(min_samples=0, ramp_up=5.0))[0].status is Status.FAIL


def test_failed_and_inconclusive_are_both_named() -> None:
    thresholds = parse_thresholds({"p99": "<1s", "p50": "<1ms", "fail_ratio": "<1%"}, "t")
    verdicts = evaluate(thresholds, result({10.0: 30}), EvidenceRule())
    assert failure_headline(verdicts).startswith("1 of 3 load thresholds failed, 1 inconclusive (")
    passing = evaluate(parse_thresholds({"p50": "<1ms"}, "t"), result({10.0: 30}))
    assert failure_headline(passing) == "1 of 1 load thresholds failed"


def test_an_inconclusive_verdict_survives_json() -> None:
    verdict = evaluate(parse_thresholds({"p99": "<1s"}, "t"), result({10.0: 3}), EvidenceRule())[0]
    assert Verdict.from_dict(json.loads(json.dumps(verdict.to_dict()))) == verdict


def samples(*busy: tuple[float, float]) -> list[tuple[float, float, float]]:
    return [(0.25, cpu, wait) for cpu, wait in busy]


def test_a_process_busy_for_a_fifth_of_the_run_is_saturated() -> None:
    # 10 samples: 2 at >= 90% busy (one of them mostly waiting for a CPU), the rest idle
    cpu = assess({"engine": samples((0.95, 0.0), (0.5, 0.45), *[(0.1, 0.0)] * 8)})
    assert cpu is not None and cpu.saturated
    assert cpu.saturated_share == pytest.approx(0.2) and cpu.peak == pytest.approx(0.95)
    assert cpu.mean == pytest.approx((0.95 + 0.95 + 0.8) / 10) and cpu.mean_wait == pytest.approx(0.045)
    assert cpu.seconds == pytest.approx(2.5)


def test_a_process_busy_for_less_than_a_fifth_or_below_90_percent_is_not() -> None:
    once = assess({"engine": samples((1.0, 0.0), *[(0.1, 0.0)] * 9)})
    steady = assess({"engine": samples(*[(0.89, 0.0)] * 10)})
    assert once is not None and not once.saturated and once.saturated_share == pytest.approx(0.1)
    assert steady is not None and not steady.saturated and steady.mean == pytest.approx(0.89)


def test_one_busy_sample_is_not_enough_even_in_a_short_run() -> None:
    start_only = assess({"engine": samples((1.0, 0.0), (0.2, 0.0), (0.1, 0.0), (0.1, 0.0))})
    two = assess({"engine": samples((1.0, 0.0), (0.95, 0.0), (0.1, 0.0), (0.1, 0.0))})
    assert (
        start_only is not None
        and start_only.saturated_share == pytest.approx(0.25)
        and not start_only.saturated
    )
    assert two is not None and two.saturated


def test_the_busiest_process_is_reported() -> None:
    cpu = assess(
        {
            "engine": samples(*[(0.2, 0.0)] * 4),
            "worker 1 (pid 7)": samples(*[(0.97, 0.0)] * 4),
            "worker 2 (pid 8)": samples(*[(0.5, 0.0)] * 4),
        }
    )
    assert cpu is not None and cpu.process == "worker 1 (pid 7)" and cpu.saturated
    assert assess({}) is None and assess({"engine": []}) is None


def test_the_saturation_message_says_what_the_figures_mean_and_what_to_do() -> None:
    cpu = GeneratorCpu("engine", peak=1.0, mean=0.97, mean_wait=0.07, saturated_share=0.85, seconds=2.0)
    message = saturation_message("test_x.py::test_a", cpu, allowed=False)
    assert message is not None
    assert message.startswith("test_x.py::test_a: the load generator was CPU-bound")
    assert "measure the generator, not the target" in message
    assert (
        "engine: busy 97% of the time (CPU 90% + waiting for a CPU 7%), peak 100%, at >= 90% for 85% of 2.0s"
        in message
    )
    assert "--load-workers N" in message and "fewer users" in message and "FastHttpUser" in message
    assert "--load-allow-saturation" in message
    assert saturation_message("t", cpu, allowed=True) is None
    assert saturation_message("t", None, allowed=False) is None


def test_saturation_flows_through_the_result_json() -> None:
    cpu = GeneratorCpu("engine", 1.0, 0.97, 0.07, 0.85, 2.0)
    loaded = LoadResult.from_dict(json.loads(json.dumps(result({10.0: 5}, cpu=cpu).to_dict())))
    assert loaded.generator_cpu == cpu and loaded.saturated
    assert (
        loaded.to_dict()["saturated"] is True and loaded.to_dict()["generator_cpu"]["saturated_share"] == 0.85
    )
    plain = LoadResult.from_dict(result({10.0: 5}).to_dict())
    assert plain.generator_cpu is None and not plain.saturated


@pytest.mark.parametrize(
    ("text", "value"), [("1", True), ("yes", True), (" True ", True), ("off", False), (False, False)]
)
def test_flag_words_read_as_true_or_false(text: object, value: bool) -> None:
    assert parse_flag(text) is value


def test_a_flag_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="true or false"):
        parse_flag("sometimes")


def bucketed(times: list[float]) -> dict[float, int]:
    from pytest_loadtest.runtime.locust_run import three_significant_digits

    histogram: dict[float, int] = {}
    for rt in times:
        key = three_significant_digits(rt)
        histogram[key] = histogram.get(key, 0) + 1
    return histogram


@pytest.mark.parametrize(
    ("response_time", "bucket"),
    [
        (-3.0, 0), (0.0, 0), (0.012345, 0.0123), (0.5, 0.5), (1.0, 1.0), (1.2345, 1.23), (9.996, 10.0),
        (12.34, 12.3), (12.25, 12.3), (99.96, 100.0), (100.0, 100.0), (100.5, 101.0), (123.4, 123.0),
        (999.6, 1000.0), (1000.0, 1000.0), (1234.5, 1230.0), (98765.0, 98800.0),
    ],
)  # fmt: skip
def test_response_times_are_bucketed_to_three_significant_digits(response_time: float, bucket: float) -> None:
    from pytest_loadtest.runtime.locust_run import three_significant_digits

    assert three_significant_digits(response_time) == pytest.approx(bucket, rel=1e-12, abs=0)


def test_every_bucket_is_within_half_a_unit_of_the_third_digit_and_each_decade_has_at_most_900() -> None:
    from pytest_loadtest.runtime.locust_run import three_significant_digits

    buckets: dict[int, set[float]] = {}
    for step in range(1, 200_000):
        response_time = step * 0.00731  # 0.007 ms .. 1.46 s, across five decades
        decade = math.floor(math.log10(response_time))
        bucket = three_significant_digits(response_time)
        assert abs(bucket - response_time) <= 10 ** (decade - 2) / 2 * (1 + 1e-9), response_time
        buckets.setdefault(decade, set()).add(bucket)
    assert all(
        len(kept) <= 901 for kept in buckets.values()
    )  # 100..999 units of the third digit, and the next power
    assert len(buckets[1]) > 800  # 10-100 ms at 0.0073 ms steps: every 0.1 ms bucket is used


@pytest.mark.parametrize(
    ("true_ms", "condition", "status"),
    [(196.0, "<200ms", Status.PASS), (204.0, "<=200ms", Status.FAIL), (207.4, "<=208ms", Status.PASS)],
)
def test_thresholds_near_a_limit_judge_the_true_percentile(
    true_ms: float, condition: str, status: Status
) -> None:
    """Locust's own bucketing reads 196 ms and 204 ms as 200 and 207.4 ms as 210; ours keeps 3 significant digits."""
    times = [true_ms + i / 1000 for i in range(200)]  # true_ms .. true_ms + 0.199
    verdict = evaluate(parse_thresholds({"p95": condition}, "t"), result(bucketed(times)), EvidenceRule())[0]
    assert verdict.status is status
    assert verdict.measured is not None and abs(verdict.measured - true_ms) / true_ms <= 0.005


class _User(FastHttpUser):
    host = "http://127.0.0.1:1"

    @task
    def noop(self) -> None:
        pass


def test_min_samples_and_allow_saturation_resolve_from_their_layers() -> None:
    marker = {"min_samples": 0, "allow_saturation": False}
    layers = [marker_layer("t.py::a", marker), ini_layer({"allow_saturation": "true", "min_samples": "5"})]
    scenario = resolve_scenario("t.py::a", [_User], marker, layers)
    assert scenario.min_samples == 0.0 and scenario.allow_saturation is False
    from_ini = resolve_scenario("t.py::a", [_User], {}, layers[1:])
    assert from_ini.min_samples == 5.0 and from_ini.allow_saturation is True
    default = resolve_scenario("t.py::a", [_User], {}, [])
    assert default.min_samples == 1.0 and default.allow_saturation is False


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("min_samples", "lots", "must be a number"),
        ("allow_saturation", "maybe", "must be true or false"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_test(setting: str, value: str, error: str) -> None:
    marker = {setting: value}
    with pytest.raises(
        LoadTestUsageError, match=f"t.py::a: {setting}='{value}' from the load marker of t.py::a: {error}"
    ):
        resolve_scenario("t.py::a", [_User], marker, [marker_layer("t.py::a", marker)])
