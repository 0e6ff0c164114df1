"""Sustained thresholds and abort conditions: the grammar's suffixes and sliding windows, without sessions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.evidence import EvidenceRule
from pytest_loadtest.measure.gates import judge
from pytest_loadtest.measure.result import TOTAL_NAME, EntryStats, LoadResult, Tick, Timeline
from pytest_loadtest.measure.thresholds import Status, evaluate, parse_condition, parse_thresholds
from pytest_loadtest.measure.windows import abort_reason, abortable, sliding_windows
from pytest_loadtest.scenario import Scenario, UserClassRef

FAST, SLOW = {10.0: 20}, {900.0: 20}


def tick(histogram: dict[float, int], failures: int = 0) -> Tick:
    requests = sum(histogram.values())
    return Tick(requests, failures, sum(rt * n for rt, n in histogram.items()), histogram)


def timeline(*ticks: Tick, name: str = TOTAL_NAME) -> Timeline:
    """One tick a second, for the total (or ``name``)."""
    return Timeline(
        tuple(float(second) for second in range(1, len(ticks) + 1)),
        {name: {index: t for index, t in enumerate(ticks) if t.requests}},
    )


def result_on(line: Timeline, elapsed: float = 10.0) -> LoadResult:
    """A result whose whole-run figures are fast and plentiful, with the given timeline."""
    total = EntryStats(TOTAL_NAME, 1000, 0, 10_000.0, 10.0, 900.0, elapsed, {10.0: 1000})
    entries = {"GET /api": replace(total, name="GET /api")}
    return LoadResult("t::x", "http://127.0.0.1", 2, 60.0, elapsed, total, entries, timeline=line)


def test_the_over_and_abort_suffixes_parse_into_the_window_and_the_abort_flag() -> None:
    sustained = parse_condition("p95", "<500ms over 10s abort", "t::x")
    assert (sustained.op, sustained.limit, sustained.window, sustained.abort) == ("<", 500.0, 10.0, True)
    assert parse_condition("rps", ">=3/s over 1m", "t::x").window == 60.0
    assert parse_condition("fail_ratio", "<5% abort", "t::x").window is None
    assert parse_condition("fail_ratio", "<5% abort", "t::x").abort
    plain = parse_condition("p95", "<500ms", "t::x")
    assert (plain.window, plain.abort) == (None, False)
    scoped = parse_thresholds({"GET /api": {"avg": "<100 over 5s"}}, "t::x")[0]
    assert (scoped.scope, scoped.window) == ("GET /api", 5.0)


@pytest.mark.parametrize(
    ("metric", "condition", "message"),
    [
        ("requests", "<100 over 10s", "cannot be sustained over a window"),
        ("failures", "<=0 over 10s", "cannot be sustained over a window"),
        ("p95", "<500ms over 1.5s", "must be a whole number of seconds"),
        ("p95", "<500ms over 0s", "must be a whole number of seconds"),
        ("p95", "<500ms over ten", "must be a whole number of seconds"),
        ("requests", ">=100 abort", "a lower bound on a count is only decided when the run ends"),
        ("p95", "<500ms over", "cannot parse condition"),
    ],
)
def test_a_malformed_suffix_is_a_usage_error_naming_the_test_and_the_condition(
    metric: str, condition: str, message: str
) -> None:
    with pytest.raises(LoadTestUsageError, match=message) as raised:
        parse_condition(metric, condition, "t::x")
    assert str(raised.value).startswith(f"t::x: threshold {metric!r}")


def test_windows_slide_one_tick_at_a_time_and_merge_their_histograms() -> None:
    windows = sliding_windows(timeline(tick(FAST), tick(SLOW), tick(FAST)), TOTAL_NAME, 2)
    assert [(w.start, w.end) for w in windows] == [(0.0, 2.0), (1.0, 3.0)]
    assert windows[0].figures.histogram == {10.0: 20, 900.0: 20}
    assert windows[1].as_entry(TOTAL_NAME).rps == 20.0


def test_a_sustained_latency_threshold_fails_on_its_worst_window_and_says_when_it_was() -> None:
    line = timeline(*[tick(FAST)] * 4, *[tick(SLOW)] * 3, *[tick(FAST)] * 3)
    (sustained, whole_run) = parse_thresholds({"p95": "<500ms over 3s", "avg": "<500"}, "t::x")
    verdicts = evaluate([sustained, whole_run], result_on(line), EvidenceRule())
    assert verdicts[0].status is Status.FAIL and verdicts[0].measured == 900.0
    # the first of the equally bad windows: the one where the breach began (seconds 2-5 hold 20 slow of 60)
    assert verdicts[0].note == "worst 3s window 2-5s" and verdicts[0].samples == 60
    assert verdicts[1].status is Status.PASS  # over the whole run the slow seconds drown in fast ones


def test_a_sustained_threshold_holds_when_every_window_meets_it() -> None:
    line = timeline(*[tick(FAST)] * 4, tick(SLOW), *[tick(FAST)] * 4)
    [verdict] = evaluate(parse_thresholds({"p50": "<500ms over 3s"}, "t::x"), result_on(line), EvidenceRule())
    assert verdict.status is Status.PASS and verdict.measured == 10.0


def test_fail_ratio_and_rps_are_judged_per_window_with_the_worst_in_their_direction() -> None:
    line = timeline(tick(FAST), tick(FAST, failures=10), tick({10.0: 2}), tick(FAST))
    thresholds = parse_thresholds({"fail_ratio": "<10% over 1s", "rps": ">=5 over 2s"}, "t::x")
    ratio, rps = evaluate(thresholds, result_on(line), EvidenceRule())
    assert ratio.status is Status.FAIL and ratio.measured == 0.5 and ratio.note == "worst 1s window 1-2s"
    assert rps.status is Status.PASS and rps.measured == 11.0  # the lowest: 22 requests over seconds 1-3


def test_per_entry_windows_use_that_entrys_timeline() -> None:
    line = timeline(*[tick(SLOW)] * 3, name="GET /api")
    thresholds = parse_thresholds({"/api": {"p95": "<500 over 2s"}}, "t::x")
    [verdict] = evaluate(thresholds, result_on(line), EvidenceRule())
    assert verdict.status is Status.FAIL and verdict.measured == 900.0


def test_windows_with_too_few_samples_do_not_count_and_none_counting_is_inconclusive() -> None:
    thin = tick({900.0: 5})  # p95 needs 20 samples with min_samples 1
    line = timeline(thin, thin, tick(FAST), tick(FAST))
    [verdict] = evaluate(parse_thresholds({"p95": "<500 over 1s"}, "t::x"), result_on(line), EvidenceRule())
    assert verdict.status is Status.PASS and verdict.measured == 10.0
    [none] = evaluate(
        parse_thresholds({"p95": "<500 over 1s"}, "t::x"), result_on(timeline(thin)), EvidenceRule()
    )
    assert none.status is Status.INCONCLUSIVE and none.note == "no 1s window has enough samples"
    [short] = evaluate(
        parse_thresholds({"p95": "<500 over 10s"}, "t::x"), result_on(timeline(tick(FAST))), EvidenceRule()
    )
    assert (
        short.status is Status.INCONCLUSIVE and short.note == "the run (1.0s) is shorter than the 10s window"
    )


def test_rps_windows_during_the_ramp_up_do_not_count() -> None:
    line = timeline(tick({10.0: 1}), tick(FAST), tick(FAST))
    [verdict] = evaluate(
        parse_thresholds({"rps": ">=10 over 1s"}, "t::x"), result_on(line), EvidenceRule(1, 1.0)
    )
    assert verdict.status is Status.PASS and verdict.measured == 20.0


def test_the_timeline_survives_json_and_its_tail_keeps_its_times() -> None:
    line = timeline(tick(FAST), tick({}), tick(SLOW, failures=1))
    assert Timeline.from_dict(line.to_dict()) == line
    assert result_on(line).to_dict()["timeline"] == line.to_dict()
    tail = line.tail(2)
    assert (
        tail.ends == (2.0, 3.0) and tail.begins == 1.0 and tail.ticks(TOTAL_NAME)[1] == tick(SLOW, failures=1)
    )


def test_abortable_thresholds_are_those_marked_and_with_abort_on_fail_those_final_once_failed() -> None:
    thresholds = parse_thresholds(
        {
            "p95": "<500 over 5s",
            "failures": "<=3",
            "requests": ">=10",
            "avg": "<100",
            "fail_ratio": "<5% abort",
        },
        "t::x",
    )
    labels = lambda chosen: [t.condition for t in chosen]  # noqa: E731
    assert labels(abortable(thresholds, abort_on_fail=False)) == ["<5% abort"]
    assert labels(abortable(thresholds, abort_on_fail=True)) == ["<500 over 5s", "<=3", "<5% abort"]


def test_the_abort_reason_names_the_first_failed_threshold_and_what_it_measured() -> None:
    line = timeline(*[tick(SLOW)] * 3)
    verdicts = evaluate(
        parse_thresholds({"p95": "<500ms over 2s abort"}, "t::x"), result_on(line), EvidenceRule()
    )
    assert (
        abort_reason(verdicts) == "p95 '<500ms over 2s abort' failed: measured 900 ms (worst 2s window 0-2s)"
    )
    assert abort_reason(()) is None


def test_an_aborted_result_fails_with_stopped_early_and_the_table() -> None:
    scenario = Scenario(
        "t::x",
        (UserClassRef("m", "U", None),),
        2,
        2.0,
        60.0,
        "http://127.0.0.1",
        thresholds=parse_thresholds({"p95": "<500ms over 2s abort"}, "t::x"),
    )
    result = replace(result_on(timeline(*[tick(SLOW)] * 3), elapsed=3.04), aborted="p95 failed")
    judgement = judge(scenario, result)
    assert judgement.failed is not None and judgement.failed.name == "aborted" and judgement.result.partial
    assert judgement.message is not None
    first, _, table = judgement.message.partition("\n")
    assert first == "t::x: stopped early at 3.0s of 60s because p95 failed"
    assert "worst 2s window 0-2s" in table and "FAIL" in table


def test_the_scenario_spec_carries_the_abort_conditions_as_plain_data() -> None:
    thresholds = parse_thresholds({"p95": "<500ms over 2s", "avg": "<100"}, "t::x")
    ref = (UserClassRef("m", "U", None),)
    scenario = Scenario("t::x", ref, 2, 2.0, 60.0, None, thresholds, abort_on_fail=True, abort_after=4.0)
    spec = scenario.to_spec()["abort"]
    assert spec is not None and spec["after"] == 4.0
    assert [t["condition"] for t in spec["thresholds"]] == ["<500ms over 2s"]
    assert replace(scenario, abort_on_fail=False).to_spec()["abort"] is None
