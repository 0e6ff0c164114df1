"""The gates: every reason a load test fails, judged on crafted results in their documented order (no sessions)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_loadtest.guard import REFUSED
from pytest_loadtest.measure.gates import GATES, Gate, judge, lost_workers_message
from pytest_loadtest.measure.result import (
    EntryStats,
    ErrorCount,
    LoadResult,
    ProgressPoint,
    StageFigures,
    UserException,
)
from pytest_loadtest.measure.saturation import GeneratorCpu
from pytest_loadtest.measure.thresholds import parse_thresholds, with_failure_tolerance
from pytest_loadtest.measure.verdicts import Status
from pytest_loadtest.scenario import Scenario

DOCS = Path(__file__).parents[2] / "docs" / "LOAD_TESTING.md"
TEST_ID = "test_x.py::test_a"
SCENARIO = Scenario(
    TEST_ID,
    (),
    users=2,
    spawn_rate=2,
    duration=30.0,
    host="http://127.0.0.1:8000",
    thresholds=parse_thresholds({"p95": "<100ms"}, TEST_ID),
)
FAST = {10.0: 40}
SLOW = {10.0: 10, 500.0: 30}
UNREACHABLE_ERROR = ErrorCount("GET", "/health", "ConnectionRefusedError(111, 'Connection refused')", 3)
REFUSED_ERROR = ErrorCount("GET", "/away", f"ConnectionRefusedError: {REFUSED}: example.com", 2)
SATURATED_CPU = GeneratorCpu("engine", peak=1.0, mean=0.97, mean_wait=0.07, saturated_share=0.85, seconds=2.0)


def entry(times: dict[float, int], failures: int = 0) -> EntryStats:
    requests = sum(times.values())
    total = sum(rt * n for rt, n in times.items())
    return EntryStats(
        "Aggregated", requests, failures, total, min(times, default=0.0), max(times, default=0.0), 2.0, times
    )


def tripping(*gates: str) -> LoadResult:
    """A result that fails exactly the named gates (and no other) with SCENARIO."""
    unknown = set(gates) - {gate.name for gate in GATES}
    assert not unknown, unknown
    errors = [UNREACHABLE_ERROR] if "target unreachable" in gates else []
    errors += [REFUSED_ERROR] if "host guard" in gates else []
    exception = UserException("ZeroDivisionError: division by zero", "Traceback: ...", 2)
    total = entry({}) if "no request completed" in gates else entry(SLOW if "thresholds" in gates else FAST)
    entries = {"GET /health": total} if total.num_requests else {}
    if "too many request names" in gates:
        entries = {f"GET /items/{n}": total for n in range(SCENARIO.max_entries + 1)}
    return LoadResult(
        TEST_ID,
        SCENARIO.host,
        users=2,
        duration=30.0,
        elapsed=2.0,
        total=total,
        entries=entries,
        errors=tuple(errors),
        exceptions=(exception,) if "user exceptions" in gates else (),
        history=(ProgressPoint(2.0, 2, 0, 0, 0.0, 0.0),),
        unreachable="target unreachable" in gates,
        interrupted="interrupted" in gates,
        engine_lost="the engine process exited with code 1" if "engine lost" in gates else None,
        lost_workers=("worker w1 exited with code -9",) if "lost workers" in gates else (),
        generator_cpu=SATURATED_CPU if "generator saturated" in gates else None,
        process_exit_code=3 if "process exit code" in gates else None,
        listener_errors=("Traceback ...\nValueError: boom",) if "listener errors" in gates else (),
        aborted="failures '<=0 abort' failed: measured 3" if "aborted" in gates else None,
    )


@pytest.mark.parametrize("gate", GATES, ids=lambda gate: gate.name)
def test_each_gate_fails_a_result_that_trips_it_alone(gate: Gate) -> None:
    judgement = judge(SCENARIO, tripping(gate.name))
    assert judgement.failed is gate and not judgement.passed
    assert judgement.message is not None and judgement.message.startswith(f"{TEST_ID}: ")
    assert judgement.result.judged and judgement.result.failed_gate == gate.name
    assert judgement.result.passed is False


@pytest.mark.parametrize("first", range(len(GATES)), ids=lambda index: GATES[index].name)
def test_the_first_failing_gate_in_order_wins(first: int) -> None:
    later = [gate.name for gate in GATES[first:]]
    assert judge(SCENARIO, tripping(*later)).failed is GATES[first]


def test_a_result_that_trips_no_gate_passes() -> None:
    judgement = judge(SCENARIO, tripping())
    assert judgement.passed and judgement.failed is None and judgement.message is None
    assert judgement.result.passed and judgement.result.failed_gate is None
    assert [verdict.status for verdict in judgement.result.thresholds] == [Status.PASS]


def test_passed_is_not_an_answer_before_judgement() -> None:
    result = tripping()
    assert not result.judged and result.thresholds == ()
    with pytest.raises(
        ValueError, match=rf"^{re.escape(TEST_ID)}: this LoadResult is not judged yet.*judge\("
    ):
        _ = result.passed


def test_a_result_read_back_from_json_is_judged_again() -> None:
    judged = judge(SCENARIO, tripping("thresholds")).result
    loaded = LoadResult.from_dict(judged.to_dict())
    assert not loaded.judged and loaded.thresholds == judged.thresholds
    assert judge(SCENARIO, loaded).result == judged


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        (
            "interrupted",
            f"{TEST_ID}: the load scenario was interrupted after 2.0s of 30s; the figures so far are reported "
            "as partial",
        ),
        (
            "engine lost",
            f"{TEST_ID}: the load scenario ended 2.0s into its 30s: the engine process exited with code 1.\n"
            "partial figures (its last progress report): 40 requests, 0 failures, 20.0 req/s",
        ),
        (
            "target unreachable",
            f"{TEST_ID}: the target http://127.0.0.1:8000 could not be reached; stopped after 2.0s with 0 failed "
            "requests and no success.\nerror: ConnectionRefusedError(111, 'Connection refused')",
        ),
        (
            "user exceptions",
            f"{TEST_ID}: user code raised 2 exception(s) during the load scenario:\n"
            "2x ZeroDivisionError: division by zero\nTraceback: ...",
        ),
        (
            "listener errors",
            f"{TEST_ID}: Locust caught 1 exception(s) in event listeners or greenlets during the load scenario "
            "(plain locust exits 2 on them):\nTraceback ...\nValueError: boom",
        ),
        (
            "process exit code",
            f"{TEST_ID}: user code set environment.process_exit_code = 3 (plain locust would exit with 3)",
        ),
    ],
)
def test_a_gate_says_why_the_test_failed(gate: str, message: str) -> None:
    assert judge(SCENARIO, tripping(gate)).message == message


def test_the_messages_of_the_guard_the_silence_and_the_saturation_gates() -> None:
    refused = judge(SCENARIO, tripping("host guard")).message
    assert refused is not None and refused.startswith(f"{TEST_ID}: 2 request(s) {REFUSED}")
    silent = judge(SCENARIO, tripping("no request completed")).message
    assert silent == (
        f"{TEST_ID}: no request completed in 2.0s (2 users running at the end): nothing was measured. The target "
        "never answered within the run, or the users sent no request (requests still waiting for an answer when "
        "the scenario stopped are not counted)"
    )
    saturated = judge(SCENARIO, tripping("generator saturated")).message
    assert saturated is not None and saturated.startswith(f"{TEST_ID}: the load generator was CPU-bound")
    assert saturated.endswith(
        "\nthreshold  limit     measured  verdict\n---------  --------  --------  -------\np95        < 100 ms  10 ms     PASS"
    )


def test_a_saturated_generator_that_completed_no_request_says_it_was_saturated_first() -> None:
    message = judge(SCENARIO, tripping("generator saturated", "no request completed")).message
    assert message is not None and message.startswith(f"{TEST_ID}: the load generator was CPU-bound")
    assert "\nNo request completed in 2.0s: the generator was too busy to send or finish one.\n" in message


def test_allowed_saturation_passes_the_saturation_gate() -> None:
    scenario = replace(SCENARIO, allow_saturation=True)
    assert judge(scenario, tripping("generator saturated")).passed


def test_lost_workers_message_shows_the_partial_figures() -> None:
    total = EntryStats("Aggregated", 200, 2, 400.0, 1.0, 9.0, 2.0, {1.0: 150, 5.0: 50})
    result = LoadResult(
        "t::x", None, 4, 30.0, 2.0, total, {}, lost_workers=("worker w1 exited with code -9",)
    )
    assert result.partial
    assert LoadResult.from_dict(result.to_dict()) == result
    assert lost_workers_message("t::x", result) == (
        "t::x: lost 1 Locust worker(s) during the load scenario; stopped after 2.0s of 30s.\n"
        "  - worker w1 exited with code -9\n"
        "partial figures (the lost worker's last report interval never arrived): 200 requests, 2 failures, "
        "100.0 req/s, p50 1 ms, p95 5 ms"
    )
    assert lost_workers_message("t::x", LoadResult("t::x", None, 4, 30.0, 30.0, total, {})) is None


def test_a_threshold_failure_shows_the_verdicts_and_the_breaking_point_of_a_staged_run() -> None:
    stages = (StageFigures(1, 1, 0.0, 1.0, entry(FAST)), StageFigures(2, 2, 1.0, 2.0, entry(SLOW)))
    message = judge(SCENARIO, replace(tripping("thresholds"), stages=stages)).message
    assert message == (
        f"{TEST_ID}: 1 of 1 load thresholds failed\n"
        "threshold  limit     measured  verdict\n"
        "---------  --------  --------  -------\n"
        "p95        < 100 ms  500 ms    FAIL\n"
        "breaking point: 2 users (stage 2, the first whose thresholds failed)\n"
        "  stage 1: 1 users, 0-1s, 40 requests, 0.00% failed, p95 10 ms\n"
        "  stage 2: 2 users, 1-2s, 40 requests, 0.00% failed, p95 500 ms  FAILED: p95"
    )


def failing_requests(**changes: object) -> LoadResult:
    total = entry(FAST, failures=4)
    errors = (ErrorCount("GET", "/health", "HTTPError('500 Server Error')", 4),)
    return replace(tripping(), total=total, entries={"GET /health": total}, errors=errors, **changes)  # type: ignore[arg-type]


def test_failed_requests_fail_a_test_that_states_no_tolerance_with_the_way_out() -> None:
    scenario = replace(SCENARIO, thresholds=with_failure_tolerance(SCENARIO.thresholds, 0.0))
    judgement = judge(scenario, failing_requests())
    assert judgement.failed is not None and judgement.failed.name == "thresholds"
    assert judgement.message is not None
    assert (
        "4 of 40 requests failed (10.00%); top errors:\n  4x GET /health: HTTPError('500 Server Error')"
        in (judgement.message)
    )
    assert 'add a top-level threshold such as {"fail_ratio": "<1%"}' in judgement.message


@pytest.mark.parametrize("changes", [{"exit_code_on_error": 0}, {"process_exit_code": 0}], ids=str)
def test_the_implicit_tolerance_is_lifted_as_locust_does(changes: dict[str, int]) -> None:
    scenario = replace(SCENARIO, thresholds=with_failure_tolerance(SCENARIO.thresholds, 0.0))
    judgement = judge(scenario, failing_requests(**changes))
    assert judgement.passed
    assert [verdict.threshold.metric for verdict in judgement.result.thresholds] == ["p95"]


def test_thresholds_are_judged_on_the_scenarios_evidence_rule() -> None:
    thin = replace(
        SCENARIO, thresholds=parse_thresholds({"p99": "<100ms"}, TEST_ID)
    )  # 40 samples, p99 needs 100
    assert judge(thin, tripping()).result.thresholds[0].status is Status.INCONCLUSIVE
    assert judge(replace(thin, min_samples=0), tripping()).passed
    ramping = replace(
        SCENARIO, users=10, spawn_rate=1, thresholds=parse_thresholds({"rps": ">=100"}, TEST_ID)
    )
    assert (
        judge(ramping, tripping()).result.thresholds[0].status is Status.INCONCLUSIVE
    )  # 2 s of a 10 s ramp-up: more users could still reach 100/s
    assert judge(replace(ramping, warmup=8.0), tripping()).result.thresholds[0].status is Status.FAIL


def test_the_docs_list_every_gate_in_order() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("\n## What fails a load test\n", 1)[1].split("\n## ", 1)[0]
    items = re.findall(r"^(\d+)\. \*\*(.+?)\*\*: (.+(?:\n {3,}.+)*)", section, re.MULTILINE)
    assert [int(number) for number, _, _ in items] == list(range(1, len(items) + 1))
    assert [name for _, name, _ in items] == [gate.name for gate in GATES]
    for (_, name, described), gate in zip(items, GATES, strict=True):
        assert " ".join(described.split()).startswith(gate.description), name


@pytest.mark.parametrize(
    ("gates", "changes", "fails"),
    [
        (
            ("user exceptions", "listener errors"),
            {"exit_code_on_error": 0},
            None,
        ),  # plain: exit code 0 comes first
        (
            ("listener errors",),
            {"exit_code_on_error": 0},
            "listener errors",
        ),  # plain: nothing failed, so exit 2
        (("user exceptions", "listener errors"), {"process_exit_code": 0}, None),  # plain: user code's 0
        (("user exceptions", "listener errors"), {"process_exit_code": 4}, "process exit code"),  # plain: 4
        (("user exceptions", "listener errors"), {}, "user exceptions"),  # plain: --exit-code-on-error 1
    ],
    ids=str,
)
def test_user_exceptions_and_listener_errors_are_left_to_the_exit_code_as_locust_does(
    gates: tuple[str, ...], changes: dict[str, int], fails: str | None
) -> None:
    judgement = judge(SCENARIO, replace(tripping(*gates), **changes))
    assert (judgement.failed.name if judgement.failed else None) == fails
