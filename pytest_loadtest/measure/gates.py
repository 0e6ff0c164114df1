"""The gates: every reason a load test that ran fails, in the order they are checked, and ``judge``, which runs them.

``judge(scenario, result)`` evaluates the scenario's thresholds on the result, then runs ``GATES`` in order; the
first gate that fails decides the message. The plugin fails the test with that message, and a script that ran a
scenario with ``run_scenario`` gets the same verdict from the same call. docs/LOAD_TESTING.md lists the gates in
this order ("What fails a load test"); a test checks the list against ``GATES``.

Outside the gates: a usage error fails the test before the run, an engine that could not run the scenario fails
it without a result, and the plugin compares a result that passed its gates with a saved baseline after them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pytest_loadtest.guard import refusal_message
from pytest_loadtest.measure.diagnosis import diagnosis
from pytest_loadtest.measure.evidence import EvidenceRule, nothing_measured_message, ramp_up_seconds
from pytest_loadtest.measure.names import too_many_names_message
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.measure.saturation import saturation_message
from pytest_loadtest.measure.stages import StageVerdict, describe, judge_stages
from pytest_loadtest.measure.thresholds import evaluate, failed_requests_note, failure_headline, render_table
from pytest_loadtest.measure.verdicts import Status, Threshold, Verdict
from pytest_loadtest.measure.windows import stopped_early
from pytest_loadtest.scenario import Scenario


@dataclass(frozen=True)
class Case:
    """What a gate looks at: the scenario, its result with the thresholds' verdicts, and each stage's verdicts."""

    scenario: Scenario
    result: LoadResult
    stages: tuple[StageVerdict, ...]

    @property
    def test_id(self) -> str:
        return self.scenario.test_id

    def stages_text(self) -> str:
        """For a staged run (stress, spike): each stage's figures and the breaking point, on lines of their own."""
        text = describe(list(self.stages))
        return f"\n{text}" if text else ""


@dataclass(frozen=True)
class Gate:
    """One reason a load test fails: ``check`` returns the failure message, or None when the gate passes."""

    name: str
    description: str
    """One line, as docs/LOAD_TESTING.md lists it."""
    check: Callable[[Case], str | None]


@dataclass(frozen=True)
class Judgement:
    """The verdict on one load test's result: the judged result, each stage's verdicts, the gate that failed."""

    result: LoadResult
    """The result with its thresholds' verdicts, ``judged`` and ``failed_gate`` set."""
    stages: tuple[StageVerdict, ...]
    failed: Gate | None
    """The first gate that failed; None when the load test passed."""
    message: str | None
    """The failed gate's message, naming the test."""

    @property
    def passed(self) -> bool:
        return self.failed is None


def errors_left_to_user_code(result: LoadResult) -> bool:
    """Whether failed requests and user exceptions alone fail nothing, as in plain locust: user code set the exit
    code (``environment.process_exit_code``), or ``--exit-code-on-error`` is 0."""
    return result.process_exit_code is not None or result.exit_code_on_error == 0


def judged_thresholds(scenario: Scenario, result: LoadResult) -> tuple[Threshold, ...]:
    """The thresholds the result is judged on: the scenario's, less the implicit failure tolerance when errors are
    left to user code."""
    if errors_left_to_user_code(result):
        return tuple(threshold for threshold in scenario.thresholds if not threshold.implicit)
    return scenario.thresholds


def evidence_rule(scenario: Scenario) -> EvidenceRule:
    """What a threshold's figure needs behind it in this scenario (min_samples, ramp-up, warm-up; evidence.py)."""
    ramp_up = ramp_up_seconds(scenario.users, scenario.spawn_rate)
    return EvidenceRule(scenario.min_samples, ramp_up, scenario.warmup)


def warning_verdicts(scenario: Scenario, result: LoadResult) -> tuple[Verdict, ...]:
    """The marker's ``warn=`` conditions judged: one that does not hold (failed, no data, inconclusive) is WARN,
    which fails nothing; with ``strict`` it keeps its status and fails the test as a threshold does."""
    verdicts = evaluate(scenario.warnings, result, evidence_rule(scenario))
    if scenario.strict:
        return verdicts
    return tuple(verdict if verdict.passed else replace(verdict, status=Status.WARN) for verdict in verdicts)


def judge(scenario: Scenario, result: LoadResult) -> Judgement:
    """Judge a scenario's result as the plugin does: its thresholds evaluated, then every gate in order."""
    verdicts = evaluate(judged_thresholds(scenario, result), result, evidence_rule(scenario))
    verdicts += warning_verdicts(scenario, result)
    stages = tuple(judge_stages(scenario.thresholds, result, scenario.min_samples))
    case = Case(scenario, replace(result, thresholds=verdicts), stages)
    for gate in GATES:
        message = gate.check(case)
        if message:
            judged = replace(case.result, judged=True, failed_gate=gate.name)
            return Judgement(judged, stages, gate, message)
    return Judgement(replace(case.result, judged=True, failed_gate=None), stages, None, None)


def _interrupted(case: Case) -> str | None:
    if not case.result.interrupted:
        return None
    return (
        f"{case.test_id}: the load scenario was interrupted after {case.result.elapsed:.1f}s of "
        f"{case.scenario.duration:g}s; the figures so far are reported as partial"
    )


def _engine_lost(case: Case) -> str | None:
    result = case.result
    if result.engine_lost is None:
        return None
    total = result.total
    return (
        f"{case.test_id}: the load scenario ended {result.elapsed:.1f}s into its {result.duration:g}s: "
        f"{result.engine_lost}.\npartial figures (its last progress report): {total.num_requests} requests, "
        f"{total.num_failures} failures, {total.rps:.1f} req/s"
    )


def _unreachable(case: Case) -> str | None:
    result = case.result
    if not result.unreachable:
        return None
    first_error = result.errors[0].error if result.errors else "no response"
    return (
        f"{case.test_id}: the target {result.host} could not be reached; stopped after "
        f"{result.elapsed:.1f}s with {result.total.num_failures} failed requests and no success.\n"
        f"error: {first_error}"
    )


def lost_workers_message(test_id: str, result: LoadResult) -> str | None:
    """Why a distributed run failed when workers were lost mid-run, with the partial figures; None when none was."""
    if not result.lost_workers:
        return None
    total = result.total
    lost = "\n".join(f"  - {worker}" for worker in result.lost_workers)
    return (
        f"{test_id}: lost {len(result.lost_workers)} Locust worker(s) during the load scenario; stopped after "
        f"{result.elapsed:.1f}s of {result.duration:g}s.\n{lost}\n"
        f"partial figures (the lost worker's last report interval never arrived): {total.num_requests} requests, "
        f"{total.num_failures} failures, {total.rps:.1f} req/s, p50 {total.percentile(0.5):g} ms, "
        f"p95 {total.percentile(0.95):g} ms"
    )


def _user_exceptions(case: Case) -> str | None:
    exceptions = case.result.exceptions
    if not exceptions or errors_left_to_user_code(case.result):
        return None
    shown = "\n".join(f"{exc.count}x {exc.message}\n{exc.traceback}" for exc in exceptions[:3])
    return (
        f"{case.test_id}: user code raised {sum(exc.count for exc in exceptions)} exception(s) "
        f"during the load scenario:\n{shown}"
    )


def _listener_errors(case: Case) -> str | None:
    result = case.result
    errors = result.listener_errors
    # Plain locust exits 2 on them only when no exit code comes first: the one user code set, or
    # --exit-code-on-error's when a request failed or a user raised.
    exit_code_first = result.process_exit_code is not None or bool(
        result.total.num_failures or result.exceptions
    )
    if not errors or (exit_code_first and errors_left_to_user_code(result)):
        return None
    return (
        f"{case.test_id}: Locust caught {len(errors)} exception(s) in event listeners or "
        f"greenlets during the load scenario (plain locust exits 2 on them):\n{errors[0]}"
    )


def _process_exit_code(case: Case) -> str | None:
    code = case.result.process_exit_code
    if not code:
        return None
    return (
        f"{case.test_id}: user code set environment.process_exit_code = {code} (plain "
        f"locust would exit with {code})"
    )


def _saturated(case: Case) -> str | None:
    result = case.result
    saturated = saturation_message(case.test_id, result.generator_cpu, case.scenario.allow_saturation)
    if not saturated:
        return None
    silent = (
        f"\nNo request completed in {result.elapsed:.1f}s: the generator was too busy to send or finish one."
        if nothing_measured_message(case.test_id, result)
        else ""
    )
    table = f"\n{render_table(result.thresholds)}" if result.thresholds else ""
    return saturated + silent + table + case.stages_text()


def _aborted(case: Case) -> str | None:
    result = case.result
    if result.aborted is None:
        return None
    verdicts = result.thresholds
    return (
        f"{case.test_id}: {stopped_early(result.elapsed, case.scenario.duration, result.aborted)}\n"
        f"{failure_headline(verdicts)}\n{render_table(verdicts)}{case.stages_text()}"
    )


def _thresholds(case: Case) -> str | None:
    verdicts = case.result.thresholds
    if all(verdict.passed for verdict in verdicts):
        return None
    note = failed_requests_note(verdicts, case.result)
    diagnosed = "".join(f"{line}\n" for line in diagnosis(verdicts, case.result, errors=note is None))
    message = f"{case.test_id}: {failure_headline(verdicts)}\n{diagnosed}{render_table(verdicts)}{case.stages_text()}"
    return f"{message}\n{note}" if note else message


GATES: tuple[Gate, ...] = (
    Gate("interrupted", "the run was interrupted (Ctrl-C, SIGTERM)", _interrupted),
    Gate(
        "engine lost",
        "the engine process ended mid-run (user code called `os._exit` or `sys.exit`, a kill, out of memory)",
        _engine_lost,
    ),
    Gate(
        "target unreachable",
        "the target could not be reached (only connection errors for 1 s: the run stops early)",
        _unreachable,
    ),
    Gate(
        "lost workers",
        "a Locust worker was lost mid-run (distributed runs)",
        lambda case: lost_workers_message(case.test_id, case.result),
    ),
    Gate(
        "host guard",
        "the host guard refused requests (a redirect, an absolute URL or a proxy to a host that is not allowed)",
        lambda case: refusal_message(case.test_id, case.result.errors),
    ),
    Gate(
        "process exit code",
        "user code set a non-zero `environment.process_exit_code` (plain `locust` exits with it)",
        _process_exit_code,
    ),
    Gate(
        "user exceptions",
        "user code raised exceptions (in `on_start`, a task, ...), unless user code set the exit code or "
        "`--exit-code-on-error` is 0 (plain `locust` then exits with that code)",
        _user_exceptions,
    ),
    Gate(
        "listener errors",
        "Locust caught exceptions in event listeners or greenlets (plain `locust` exits 2 on them), unless user "
        "code set the exit code, or `--exit-code-on-error` is 0 and a request failed or a user raised",
        _listener_errors,
    ),
    Gate(
        "generator saturated",
        "the load generator was CPU-bound (its figures measure itself), unless saturation is allowed",
        _saturated,
    ),
    Gate(
        "no request completed",
        "not one request completed, so nothing was measured",
        lambda case: nothing_measured_message(case.test_id, case.result),
    ),
    Gate(
        "too many request names",
        "more distinct request names than `max_entries` (an id in the URL?): the message shows the most frequent "
        "name shapes and the `name=` that groups them",
        lambda case: too_many_names_message(case.test_id, case.result.entries, case.scenario.max_entries),
    ),
    Gate(
        "aborted",
        "a threshold failed while the run went and stopped it early (`abort` conditions, `abort_on_fail`)",
        _aborted,
    ),
    Gate("thresholds", "a threshold failed, had no data or was inconclusive", _thresholds),
)
"""Every reason a load test that ran fails, in the order they are checked."""
