"""A test item and its load marker turned into the Scenario to run (set-up), and its fixtures' values (call)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import NoReturn

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.guard import (
    ALLOWED_HOSTS_INI,
    HostGuard,
    check_targets,
    scenario_targets,
)
from pytest_loadtest.plugin.body import describe_body, require_host
from pytest_loadtest.plugin.options import command_line, layers
from pytest_loadtest.plugin.stash import (
    forkserver_key,
    options_key,
    profile_key,
    reports_key,
    scenario_key,
    values_key,
)
from pytest_loadtest.reports.redaction import Redactor
from pytest_loadtest.scenario import ModuleRef, Scenario, UserClassRef
from pytest_loadtest.settings.profiles import (
    with_stages,
)
from pytest_loadtest.settings.resolve import (
    check_ramp_up,
    resolve_scenario,
    setting_source,
    unused_shape_message,
)
from pytest_loadtest.shared_values import collect, value_names


class LoadShapeWarning(pytest.PytestWarning):
    """A load test's module defines a LoadTestShape that its marker does not use."""


def prepare(item: pytest.Item, marker: pytest.Mark) -> None:
    """Resolve, check and stash the test's Scenario; a usage error fails the test in its set-up."""
    try:
        given = layers(item, marker)
        body = _body(item, marker)
        scenario = resolve_scenario(
            item.nodeid,
            marker.args,
            marker.kwargs,
            given,
            body=body,
            test_module=_test_module(item),
            command_line_options=item.config.stash[options_key],
        )
        if body is not None:
            require_host(item.nodeid, scenario.host)
        item.stash[values_key] = _value_names(item, marker, body)
        scenario = with_stages(scenario, item.config.stash[profile_key], command_line(item.config))
        check_ramp_up(scenario)  # a profile's stages have none: checked once they are in
        scenario = _guarded(item.config, scenario, marker.args, setting_source("host", given))
        item.stash[scenario_key] = item.config.stash[reports_key].prepare(scenario)
        _warn_of_an_unused_shape(item, scenario)
    except LoadTestUsageError as exc:
        problem = str(exc)
    else:
        start_fork_server(item.config)
        return
    usage_error(problem)


def usage_error(problem: str) -> NoReturn:
    """Fail the test with a usage error, redacted: it may quote a host's userinfo or a secret value (a set-up
    failure reaches the terminal, JUnit and pytest-html as a call's does)."""
    redacted = Redactor.from_environ(os.environ).text(problem)
    pytest.fail(f"pytest-loadtest usage error: {redacted}", pytrace=False)


def _warn_of_an_unused_shape(item: pytest.Item, scenario: Scenario) -> None:
    """A LoadTestShape in the test module that the marker does not name (and no profile's stages drive the run)."""
    module = getattr(item, "module", None)
    unused = unused_shape_message(item.nodeid, module, scenario) if module is not None else None
    if unused and not scenario.stages:
        item.warn(LoadShapeWarning(unused))


def _test_module(item: pytest.Item) -> ModuleRef | None:
    """The module the test lives in: the engine imports it as ``locust -f`` would."""
    module = getattr(item, "module", None)
    return ModuleRef(module.__name__, str(item.path)) if module is not None else None


def start_fork_server(config: pytest.Config) -> None:
    """Start the fork server if it is not running: at the end of a collection that selected a load test, so that it
    imports Locust while the session and the first test's fixtures are set up, and again at each load test's set-up
    (a no-op unless the server died). Not in xdist workers: there it starts at the worker's first scenario, in that
    scenario's turn to run, so that it never takes CPU from another worker's scenario."""
    forkserver = config.stash.get(forkserver_key, None)
    if forkserver is not None and not hasattr(config, "workerinput"):
        forkserver.start()


def _body(item: pytest.Item, marker: pytest.Mark) -> UserClassRef | None:
    """A load marker without User classes runs the test function itself as the task (see plugin/body.py)."""
    if marker.args or not isinstance(item, pytest.Function):
        return None
    return replace(UserClassRef.of(item.obj), body=describe_body(item.nodeid, item.obj))


def _value_names(item: pytest.Item, marker: pytest.Mark, body: UserClassRef | None) -> tuple[str, ...]:
    """Fixtures whose values go to the users: the marker's ``values=`` and the parameters of a body task."""
    named = value_names(item.nodeid, marker.kwargs.get("values"), getattr(item, "fixturenames", ()))
    return tuple(dict.fromkeys([*named, *(body.body["values"] if body and body.body else ())]))


def with_values(item: pytest.Item, scenario: Scenario) -> Scenario:
    """The scenario with its fixtures' values, taken now that the fixtures are set up (see shared_values.py)."""
    names = item.stash.get(values_key, ())
    if not names:
        return scenario
    try:
        values = collect(item.nodeid, names, getattr(item, "funcargs", {}))
    except LoadTestUsageError as exc:
        problem = str(exc)
    else:
        return replace(scenario, values=values)
    usage_error(problem)


def _guarded(
    config: pytest.Config, scenario: Scenario, user_classes: Sequence[object], host_source: str | None
) -> Scenario:
    """Refuse a target that is neither loopback nor allowed; the engine gets the allow-list for every request."""
    cli_host = config.getoption("load_host")
    guard = HostGuard.from_entries([*config.getini(ALLOWED_HOSTS_INI), *([cli_host] if cli_host else [])])
    check_targets(scenario.test_id, scenario_targets(scenario.host, host_source, user_classes), guard)
    return replace(scenario, allowed_hosts=guard.entries)
