"""The run of one load test: its scenario in the engine, its figures judged and recorded, its failure said."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from pytest_loadtest.engine.output import CapturedOutput
from pytest_loadtest.engine.run import run_scenario
from pytest_loadtest.engine.serial import current_run_id, one_scenario_at_a_time
from pytest_loadtest.errors import EngineError, ScenarioInterrupted
from pytest_loadtest.guard import (
    refusal_message,
)
from pytest_loadtest.measure import thresholds as threshold_rules
from pytest_loadtest.measure.evidence import (
    EvidenceRule,
    nothing_measured_message,
    ramp_up_seconds,
)
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.measure.saturation import saturation_message
from pytest_loadtest.measure.stages import describe, judge_stages, stage_properties
from pytest_loadtest.plugin.item import with_values
from pytest_loadtest.plugin.stash import (
    forkserver_key,
    reports_key,
    result_key,
)
from pytest_loadtest.reports.junit import load_properties
from pytest_loadtest.reports.progress import ProgressDisplay
from pytest_loadtest.scenario import Scenario
from pytest_loadtest.settings.distribution import lost_workers_message


def run_load_test(item: pytest.Item, scenario: Scenario) -> None:
    """Run the scenario after every fixture of the test is set up; the test body then gets its result."""
    scenario = with_values(item, scenario)
    output = CapturedOutput(sys.stderr)  # this test's captured stderr (the terminal under -s)
    with _ending_with_warnings(output):
        result = _run(item, scenario, output)
        if isinstance(item, pytest.Function) and "load_result" in item.funcargs:
            item.funcargs["load_result"] = result
        _fail_on_verdicts(scenario, result)
        regressed = item.config.stash[reports_key].regression(item.nodeid, result)
        if regressed:
            pytest.fail(regressed, pytrace=False)


@contextlib.contextmanager
def _ending_with_warnings(output: CapturedOutput) -> Iterator[None]:
    """A load test that fails says what Locust warned of during its run (why it spawned no users, say); its message
    is redacted like the engine's output (it quotes the engine's output and the users' exceptions)."""
    try:
        yield
    except pytest.fail.Exception as failed:
        warnings = output.warnings()
        message = output.redactor.text(failed.msg or "") + (f"\n{warnings}" if warnings else "")
        if message == failed.msg:
            raise
        raise pytest.fail.Exception(message, pytrace=failed.pytrace) from None


def _run(item: pytest.Item, scenario: Scenario, output: CapturedOutput) -> LoadResult:
    display = _progress_display(item, scenario)
    try:
        with one_scenario_at_a_time(current_run_id(getattr(item.config, "workerinput", None))):
            result = run_scenario(
                scenario,
                on_progress=display.update if display else None,
                forkserver=item.config.stash[forkserver_key],
                on_output=output.write,
            )
    except ScenarioInterrupted as interrupted:
        if interrupted.result is None:
            raise  # a second Ctrl-C, or no figures to keep: stop at once
        # Keep the partial figures: this test fails with them (so every report gets them), then the session stops
        # with pytest's interrupted exit code.
        result, problem = interrupted.result, ""
        item.session.shouldstop = (
            "load scenario interrupted (Ctrl-C or SIGTERM); its partial figures were kept"
        )
    except EngineError as exc:
        problem = str(exc)
    else:
        problem = ""
    finally:
        output.finish()
        if display:
            write_terminal(item.config, display.finish)
    if problem:
        pytest.fail(f"{item.nodeid}: the load scenario could not run: {problem}", pytrace=False)
    ramp_up = ramp_up_seconds(scenario.users, scenario.spawn_rate)
    evidence = EvidenceRule(scenario.min_samples, ramp_up, scenario.warmup)
    thresholds = scenario.thresholds
    if result.process_exit_code is not None or result.exit_code_on_error == 0:
        # User code set the exit code, or --exit-code-on-error 0: as with plain locust, failed requests alone are
        # no failure, so the tolerance a test gets when it states none does not apply.
        thresholds = tuple(threshold for threshold in thresholds if not threshold.implicit)
    result = replace(result, thresholds=threshold_rules.evaluate(thresholds, result, evidence))
    _record(item, result)
    item.user_properties.extend(
        stage_properties(judge_stages(scenario.thresholds, result, scenario.min_samples))
    )
    if result.interrupted:
        pytest.fail(
            f"{item.nodeid}: the load scenario was interrupted after {result.elapsed:.1f}s of "
            f"{scenario.duration:g}s; the figures so far are reported as partial",
            pytrace=False,
        )
    return result


def _record(item: pytest.Item, result: LoadResult) -> None:
    item.stash[result_key] = result
    item.user_properties.extend(load_properties(result))


def _fail_on_verdicts(scenario: Scenario, result: LoadResult) -> None:
    if result.unreachable:
        first_error = result.errors[0].error if result.errors else "no response"
        pytest.fail(
            f"{scenario.test_id}: the target {result.host} could not be reached; stopped after "
            f"{result.elapsed:.1f}s with {result.total.num_failures} failed requests and no success.\n"
            f"error: {first_error}",
            pytrace=False,
        )
    lost = lost_workers_message(scenario.test_id, result)
    if lost:
        pytest.fail(lost, pytrace=False)
    refused = refusal_message(scenario.test_id, result.errors)
    if refused:
        pytest.fail(refused, pytrace=False)
    if result.exceptions:
        shown = "\n".join(f"{exc.count}x {exc.message}\n{exc.traceback}" for exc in result.exceptions[:3])
        pytest.fail(
            f"{scenario.test_id}: user code raised {sum(exc.count for exc in result.exceptions)} exception(s) "
            f"during the load scenario:\n{shown}",
            pytrace=False,
        )
    if result.listener_errors:
        pytest.fail(
            f"{scenario.test_id}: Locust caught {len(result.listener_errors)} exception(s) in event listeners or "
            f"greenlets during the load scenario (plain locust exits 2 on them):\n{result.listener_errors[0]}",
            pytrace=False,
        )
    if result.process_exit_code:
        pytest.fail(
            f"{scenario.test_id}: user code set environment.process_exit_code = {result.process_exit_code} (plain "
            f"locust would exit with {result.process_exit_code})",
            pytrace=False,
        )
    silent = nothing_measured_message(scenario.test_id, result)
    if silent:
        pytest.fail(silent, pytrace=False)
    saturated = saturation_message(scenario.test_id, result.generator_cpu, scenario.allow_saturation)
    if saturated:
        table = f"\n{threshold_rules.render_table(result.thresholds)}" if result.thresholds else ""
        pytest.fail(saturated + table + _stages_text(scenario, result), pytrace=False)
    if not result.passed:
        note = threshold_rules.failed_requests_note(result.thresholds, result)
        pytest.fail(
            f"{scenario.test_id}: {threshold_rules.failure_headline(result.thresholds)}\n"
            f"{threshold_rules.render_table(result.thresholds)}{_stages_text(scenario, result)}"
            + (f"\n{note}" if note else ""),
            pytrace=False,
        )


def _stages_text(scenario: Scenario, result: LoadResult) -> str:
    """For a staged run (stress, spike): each stage's figures and the breaking point."""
    text = describe(judge_stages(scenario.thresholds, result, scenario.min_samples))
    return f"\n{text}" if text else ""


def _progress_display(item: pytest.Item, scenario: Scenario) -> ProgressDisplay | None:
    config = item.config
    if hasattr(config, "workerinput") or config.get_verbosity() < 0:
        return None  # xdist workers' output is not shown; -q asks for quiet
    writer = config.get_terminal_writer()
    return ProgressDisplay(
        write=lambda text: write_terminal(config, lambda: writer.write(text, flush=True)),
        label=item.name,
        duration=scenario.duration,
        interactive=writer.hasmarkup,
    )


def write_terminal(config: pytest.Config, write: Any) -> None:
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        write()
        return
    with capture.global_and_fixture_disabled():
        write()
