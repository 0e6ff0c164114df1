"""The pytest-facing layer: options, ini keys, the ``load`` marker, the ``load_result`` fixture and the hooks.

Everything here translates pytest into plain calls on the core (scenario, engine, thresholds, reports).
"""

from __future__ import annotations

import contextlib
import os
import sys

# The pytest process must never gevent-patch: patching after ssl/requests were imported dies with RecursionError,
# and patching breaks threads and pytest-xdist's execnet. Test modules still import locust to define User classes,
# so tell Locust not to patch here; scenarios run in an engine process that patches first (see engine.py). A pytest11
# plugin module is imported before any conftest or test module, so this is early enough.
os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")

from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_loadtest import thresholds as threshold_rules
from pytest_loadtest.body_task import describe_body, require_host
from pytest_loadtest.engine import run_scenario
from pytest_loadtest.engine_processes import FORK_SERVER_VARIABLE, ForkServer
from pytest_loadtest.envfile import DEFAULT_ENV_FILE, load_env_file
from pytest_loadtest.errors import EngineError, LoadTestUsageError, ScenarioInterrupted
from pytest_loadtest.evidence import MIN_SAMPLES_HELP, EvidenceRule, nothing_measured_message, ramp_up_seconds
from pytest_loadtest.guard import (
    ALLOWED_HOSTS_INI,
    HostGuard,
    check_targets,
    refusal_message,
    scenario_targets,
)
from pytest_loadtest.output import CapturedOutput
from pytest_loadtest.profiles import (
    DEFAULT_PROFILES_FILE,
    PROFILE_HELP,
    PROFILES_FILE_HELP,
    Profile,
    chosen_name,
    select_profile,
    with_stages,
)
from pytest_loadtest.progress import ProgressDisplay
from pytest_loadtest.reports.junit import figures_from_properties, load_properties
from pytest_loadtest.reports.session import LoadReports, add_report_options, register_reports
from pytest_loadtest.reports.terminal import SummaryRow, render_summary
from pytest_loadtest.result import LoadResult
from pytest_loadtest.saturation import ALLOW_SATURATION_HELP, parse_flag, saturation_message
from pytest_loadtest.scenario import (
    Layer,
    ModuleRef,
    Scenario,
    UserClassRef,
    command_line_layer,
    environment_layer,
    ini_layer,
    marker_layer,
    resolve_scenario,
    setting_source,
    unused_shape_message,
)
from pytest_loadtest.serial import current_run_id, one_scenario_at_a_time
from pytest_loadtest.shared_values import collect, value_names
from pytest_loadtest.stages import describe, judge_stages, stage_properties
from pytest_loadtest.workers import DISTRIBUTION_HELP, lost_workers_message

SETTINGS_HELP = {
    "users": "number of simulated users for every load test",
    "spawn_rate": "users started per second (default: all users within one second)",
    "duration": "how long each scenario runs: seconds or a time string such as 30s, 5m, 1h30m",
    "host": "base URL of the target, e.g. http://127.0.0.1:8000",
    "stop_timeout": "seconds a scenario may take to stop after its duration or an interrupt (default 5)",
    "min_samples": MIN_SAMPLES_HELP,
    "allow_saturation": ALLOW_SATURATION_HELP,
    "tags": "run only the tasks tagged with one of these @tag tags, separated by commas (Locust's --tags)",
    "exclude_tags": "leave out the tasks tagged with one of these tags, separated by commas (Locust's --exclude-tags)",
    "max_fail_ratio": "failed requests a load test tolerates when its thresholds state no top-level fail_ratio or "
    "failures limit: a fraction such as 0.01 or a percentage (default 0: any failed request fails it, as locust "
    "--headless exits 1)",
    **DISTRIBUTION_HELP,
}
FLAG_SETTINGS = frozenset({"allow_saturation"})
"""Settings given on the command line as a bare flag (--load-allow-saturation), elsewhere as true/false."""
scenario_key = pytest.StashKey[Scenario]()
result_key = pytest.StashKey[LoadResult]()
reports_key = pytest.StashKey[LoadReports]()
values_key = pytest.StashKey[tuple[str, ...]]()
profile_key = pytest.StashKey[Profile | None]()
forkserver_key = pytest.StashKey[ForkServer | None]()
options_key = pytest.StashKey[dict[str, str | bool]]()


class LoadShapeWarning(pytest.PytestWarning):
    """A load test's module defines a LoadTestShape that its marker does not use."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("loadtest", "load tests (pytest-loadtest)")
    _add_run_options(group, parser)
    add_report_options(group, parser)
    group.addoption(
        "--load-option",
        dest="load_options",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a custom Locust argument (init_command_line_parser) for environment.parsed_options, e.g. "
        "--load-option my-argument=x; repeatable; beats the marker's options=",
    )
    group.addoption("--load-profile", dest="load_profile", metavar="NAME", default=None, help=PROFILE_HELP)
    parser.addini("load_profile", PROFILE_HELP, default=None)
    parser.addini("load_profiles_file", PROFILES_FILE_HELP, default=None)
    group.addoption(
        "--load-env-file",
        metavar="PATH",
        default=None,
        help=f"env file with LOAD_* settings and scenario variables (default: {DEFAULT_ENV_FILE} in rootdir if present)",
    )
    parser.addini(
        ALLOWED_HOSTS_INI,
        "hosts load tests may target besides loopback and --load-host: host, host:port, *.domain or an IP, one a line",
        type="linelist",
        default=[],
    )


def _add_run_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    """Each run setting is an option and an ini key of the same meaning, sharing one help text."""
    for name, text in SETTINGS_HELP.items():
        shape: dict[str, Any] = {"action": "store_true"} if name in FLAG_SETTINGS else {"metavar": "VALUE"}
        option = "--load-" + name.replace("_", "-")
        group.addoption(option, dest="load_" + name, default=None, help=text, **shape)
        parser.addini("load_" + name, text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "load(*user_classes, users=, spawn_rate=, duration=, host=, thresholds=, warmup=, workers=, min_samples=, "
        "allow_saturation=, max_fail_ratio=, tags=, exclude_tags=, options=, shape=, rate=, values=): run a Locust load scenario with these User classes (none: the test "
        "function, taking fastsession or session, is the task); its thresholds pass or fail the test",
    )
    env_file = _env_file(config)
    if env_file is not None:
        try:
            load_env_file(env_file)
        except LoadTestUsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    config.stash[profile_key] = _chosen_profile(config)
    config.stash[options_key] = _command_line_options(config)
    config.pluginmanager.register(LoadSummary(), "loadtest-summary")
    config.stash[reports_key] = register_reports(config, scenario_key, result_key)
    config.stash[forkserver_key] = _fork_server()  # it starts at the first scenario


def _fork_server() -> ForkServer | None:
    """The session's fork server, unless the platform has no fork or LOAD_FORK_SERVER turns it off."""
    value = os.environ.get(FORK_SERVER_VARIABLE, "1")
    try:
        wanted = parse_flag(value)
    except ValueError as exc:
        raise pytest.UsageError(f"{FORK_SERVER_VARIABLE}={value!r} in the environment: {exc}") from None
    return ForkServer() if wanted and ForkServer.supported() else None


def pytest_unconfigure(config: pytest.Config) -> None:
    forkserver = config.stash.get(forkserver_key, None)
    if forkserver is not None:
        forkserver.close()


def _env_file(config: pytest.Config) -> Path | None:
    given = config.getoption("load_env_file")
    if given:
        path = Path(given)
        if not path.is_file():
            raise pytest.UsageError(f"--load-env-file: no such file: {given}")
        return path
    default = config.rootpath / DEFAULT_ENV_FILE
    return default if default.is_file() else None


def _chosen_profile(config: pytest.Config) -> Profile | None:
    """The profile named by --load-profile > LOAD_PROFILE > ini load_profile (see profiles.py), or None."""
    chosen = chosen_name(
        [
            (config.getoption("load_profile"), "--load-profile"),
            (os.environ.get("LOAD_PROFILE"), "LOAD_PROFILE in the environment"),
            (config.getini("load_profile"), "load_profile in the ini file"),
        ]
    )
    if chosen is None:
        return None
    given = config.getini("load_profiles_file")
    path = config.rootpath / (given or DEFAULT_PROFILES_FILE)
    try:
        if given and not path.is_file():
            raise LoadTestUsageError(f"load_profiles_file: no such file: {path}")
        return select_profile(*chosen, path if path.is_file() else None, frozenset(SETTINGS_HELP))
    except LoadTestUsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def _command_line(config: pytest.Config) -> dict[str, object]:
    return {name: config.getoption("load_" + name) for name in SETTINGS_HELP}


def _layers(item: pytest.Item, marker: pytest.Mark) -> list[Layer]:
    """Precedence, highest first: command line > profile > marker > environment > ini > built-in default."""
    config = item.config
    profile = config.stash[profile_key]
    return [
        command_line_layer(_command_line(config)),
        *([profile.layer()] if profile else []),
        marker_layer(item.nodeid, marker.kwargs),
        environment_layer(os.environ),
        ini_layer({name: config.getini("load_" + name) for name in SETTINGS_HELP}),
    ]


@pytest.fixture
def load_result(request: pytest.FixtureRequest) -> LoadResult | None:
    """The LoadResult of this test's ``@pytest.mark.load`` scenario (filled in once the scenario has run)."""
    if request.node.get_closest_marker("load") is None:
        pytest.fail(
            f"{request.node.nodeid} uses the load_result fixture but has no @pytest.mark.load", pytrace=False
        )
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("load")
    if marker is None:
        return
    try:
        layers = _layers(item, marker)
        body = _body(item, marker)
        scenario = resolve_scenario(
            item.nodeid,
            marker.args,
            marker.kwargs,
            layers,
            body=body,
            test_module=_test_module(item),
            command_line_options=item.config.stash[options_key],
        )
        if body is not None:
            require_host(item.nodeid, scenario.host)
        item.stash[values_key] = _value_names(item, marker, body)
        scenario = with_stages(scenario, item.config.stash[profile_key], _command_line(item.config))
        scenario = _guarded(item.config, scenario, marker.args, setting_source("host", layers))
        item.stash[scenario_key] = item.config.stash[reports_key].prepare(scenario)
        _warn_of_an_unused_shape(item, scenario)
    except LoadTestUsageError as exc:
        problem = str(exc)
    else:
        _start_fork_server(item.config)
        return
    pytest.fail(f"pytest-loadtest usage error: {problem}", pytrace=False)


def _warn_of_an_unused_shape(item: pytest.Item, scenario: Scenario) -> None:
    """A LoadTestShape in the test module that the marker does not name (and no profile's stages drive the run)."""
    module = getattr(item, "module", None)
    unused = unused_shape_message(item.nodeid, module, scenario) if module is not None else None
    if unused and not scenario.extra.get("stages"):
        item.warn(LoadShapeWarning(unused))


def _test_module(item: pytest.Item) -> ModuleRef | None:
    """The module the test lives in: the engine imports it as ``locust -f`` would."""
    module = getattr(item, "module", None)
    return ModuleRef(module.__name__, str(item.path)) if module is not None else None


def _command_line_options(config: pytest.Config) -> dict[str, str | bool]:
    """``--load-option NAME=VALUE`` or ``--load-option NAME`` for a flag (repeatable), refused once at start-up
    when malformed."""
    options: dict[str, str | bool] = {}
    for given in config.getoption("load_options"):
        name, equals, value = given.partition("=")
        if not name.strip():
            raise pytest.UsageError(
                f"--load-option {given!r}: expected NAME=VALUE (or NAME for a flag), e.g. --load-option my-argument=x"
            )
        options[name.strip()] = value if equals else True
    return options


def _start_fork_server(config: pytest.Config) -> None:
    """The fork server imports Locust while the test's fixtures are set up (a target to start, users to seed). Not
    in xdist workers: there it starts at the worker's first scenario, in that scenario's turn to run, so that it
    never takes CPU from another worker's scenario."""
    forkserver = config.stash.get(forkserver_key, None)
    if forkserver is not None and not hasattr(config, "workerinput"):
        forkserver.start()


def _body(item: pytest.Item, marker: pytest.Mark) -> UserClassRef | None:
    """A load marker without User classes runs the test function itself as the task (see body_task.py)."""
    if marker.args or not isinstance(item, pytest.Function):
        return None
    return replace(UserClassRef.of(item.obj), body=describe_body(item.nodeid, item.obj))


def _value_names(item: pytest.Item, marker: pytest.Mark, body: UserClassRef | None) -> tuple[str, ...]:
    """Fixtures whose values go to the users: the marker's ``values=`` and the parameters of a body task."""
    named = value_names(item.nodeid, marker.kwargs.get("values"), getattr(item, "fixturenames", ()))
    return tuple(dict.fromkeys([*named, *(body.body["values"] if body and body.body else ())]))


def _with_values(item: pytest.Item, scenario: Scenario) -> Scenario:
    """The scenario with its fixtures' values, taken now that the fixtures are set up (see shared_values.py)."""
    names = item.stash.get(values_key, ())
    if not names:
        return scenario
    try:
        values = collect(item.nodeid, names, getattr(item, "funcargs", {}))
    except LoadTestUsageError as exc:
        problem = str(exc)
    else:
        return replace(scenario, extra={**scenario.extra, "values": values})
    pytest.fail(f"pytest-loadtest usage error: {problem}", pytrace=False)


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A test body that the load scenario ran as its task is not run again as a plain test."""
    scenario = pyfuncitem.stash.get(scenario_key, None)
    return True if scenario is not None and scenario.user_classes[0].body else None


def _guarded(
    config: pytest.Config, scenario: Scenario, user_classes: Sequence[object], host_source: str | None
) -> Scenario:
    """Refuse a target that is neither loopback nor allowed; the engine gets the allow-list for every request."""
    cli_host = config.getoption("load_host")
    guard = HostGuard.from_entries([*config.getini(ALLOWED_HOSTS_INI), *([cli_host] if cli_host else [])])
    check_targets(scenario.test_id, scenario_targets(scenario.host, host_source, user_classes), guard)
    return replace(scenario, allowed_hosts=guard.entries)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Run the scenario after every fixture of the test is set up, then the test body with its result."""
    scenario = item.stash.get(scenario_key, None)
    if scenario is not None:
        scenario = _with_values(item, scenario)
        output = CapturedOutput(sys.stderr)  # this test's captured stderr (the terminal under -s)
        with _ending_with_warnings(output):
            result = _run(item, scenario, output)
            if isinstance(item, pytest.Function) and "load_result" in item.funcargs:
                item.funcargs["load_result"] = result
            _fail_on_verdicts(scenario, result)
            regressed = item.config.stash[reports_key].regression(item.nodeid, result)
            if regressed:
                pytest.fail(regressed, pytrace=False)
    return (yield)


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
            _write_terminal(item.config, display.finish)
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
        write=lambda text: _write_terminal(config, lambda: writer.write(text, flush=True)),
        label=item.name,
        duration=scenario.duration,
        interactive=writer.hasmarkup,
    )


def _write_terminal(config: pytest.Config, write: Any) -> None:
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        write()
        return
    with capture.global_and_fixture_disabled():
        write()


class LoadSummary:
    """Collects the figures of every load test's report (on the xdist controller too) for the summary table."""

    def __init__(self) -> None:
        self.rows: list[SummaryRow] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        figures = figures_from_properties(report.user_properties)
        if figures is not None and report.when == "call":
            self.rows.append(SummaryRow(report.nodeid, figures, report.outcome.upper()))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.rows:
            terminalreporter.write_sep("-", f"load tests: {len(self.rows)}")
            terminalreporter.write_line(render_summary(self.rows))
