"""The run of one load test: its scenario in the engine, its figures judged (measure/gates.py) and recorded, its
failure said."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_loadtest.engine.output import CapturedOutput
from pytest_loadtest.engine.run import run_scenario
from pytest_loadtest.engine.serial import current_run_id, one_scenario_at_a_time
from pytest_loadtest.errors import EngineError, ScenarioInterrupted
from pytest_loadtest.measure.gates import Judgement, judge
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.measure.stages import stage_properties
from pytest_loadtest.measure.verdicts import Status
from pytest_loadtest.plugin.item import with_values
from pytest_loadtest.plugin.stash import (
    forkserver_key,
    reports_key,
    result_key,
)
from pytest_loadtest.reports.junit import load_properties
from pytest_loadtest.reports.progress import ProgressDisplay
from pytest_loadtest.scenario import Scenario


class LoadThresholdWarning(pytest.PytestWarning):
    """A warning of a load test's marker (``warn=``) did not hold; ``-W error::pytest_loadtest.plugin.
    LoadThresholdWarning`` (or ``--load-strict``) fails the test on it."""


def run_load_test(item: pytest.Item, scenario: Scenario) -> None:
    """Run the scenario after every fixture of the test is set up; the test body then gets its result."""
    scenario = with_values(item, scenario)
    output = CapturedOutput(sys.stderr)  # this test's captured stderr (the terminal under -s)
    with _ending_with_warnings(output):
        judgement = judge(scenario, _run(item, scenario, output))
        _record(item, scenario, judgement)
        result = judgement.result
        if isinstance(item, pytest.Function) and "load_result" in item.funcargs:
            item.funcargs["load_result"] = result
        try:
            _warn_of_breached_warnings(item, result)
        except LoadThresholdWarning as warning:  # a warnings filter made it an error (-W error::...)
            raised: LoadThresholdWarning | None = warning
        else:
            raised = None
        if judgement.message:
            pytest.fail(judgement.message, pytrace=False)
        if raised is not None:
            pytest.fail(f"{raised} (a warnings filter makes LoadThresholdWarning an error)", pytrace=False)
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
        _ignore_interrupts_while_ending(item.config)
        if interrupted.result is None:
            raise  # before the users started: no figures to keep, stop at once
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
    return result


ENDING_NOTE = (
    "pytest-loadtest: interrupted already; the session is ending (reports being written), so this interrupt is "
    "ignored"
)


def _ignore_interrupts_while_ending(config: pytest.Config) -> None:
    """After an interrupt stopped a scenario the session ends by itself: the test fails with its partial figures,
    fixtures are torn down, the reports are written and pytest exits 2. A further Ctrl-C or SIGTERM is ignored until
    then (with a note, once), so that none cuts the reports short or ends pytest with a traceback from a hook."""
    if threading.current_thread() is not threading.main_thread():
        return
    noted = False

    def ignore(signum: int, frame: object) -> None:
        nonlocal noted
        if not noted:
            noted = True
            with contextlib.suppress(OSError):  # not sys.stderr: the code interrupted may be writing to it
                os.write(2, f"\n{ENDING_NOTE}\n".encode())

    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, ignore) for signum in signals}

    def restore() -> None:
        if threading.current_thread() is threading.main_thread():
            for signum, handler in previous.items():  # None: a handler set outside Python
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    def ignore_to_the_end() -> None:
        """At exit: Python resets its own handlers as it finalizes (a Ctrl-C then would end pytest with -2), not
        SIG_IGN."""
        if all(signal.getsignal(signum) is ignore for signum in signals):
            for signum in signals:
                signal.signal(signum, signal.SIG_IGN)

    # Not a config cleanup: pytest's own cleanups after it (a garbage collection) would run interruptible. An
    # in-process run gets its handlers back once its config is dropped; a pytest process ignores them to its exit.
    weakref.finalize(config, restore).atexit = False
    atexit.register(ignore_to_the_end)


def _warn_of_breached_warnings(item: pytest.Item, result: LoadResult) -> None:
    """A pytest warning for each warning of the marker that did not hold (a WARN verdict)."""
    for verdict in result.thresholds:
        if verdict.status is Status.WARN:
            item.warn(
                LoadThresholdWarning(
                    f"{item.nodeid}: load warning {verdict.threshold.label} {verdict.threshold.condition!r} did "
                    f"not hold: measured {verdict.describe_measured()}"
                )
            )


def _record(item: pytest.Item, scenario: Scenario, judgement: Judgement) -> None:
    item.stash[result_key] = judgement.result
    distribution = scenario.distribution
    item.user_properties.extend(
        load_properties(judgement.result, distribution.expected if distribution else 0)
    )
    item.user_properties.extend(stage_properties(judgement.stages))


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
