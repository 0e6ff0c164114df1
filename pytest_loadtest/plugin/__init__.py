"""The pytest-facing layer: the hooks, the ``load`` marker and the ``load_result`` fixture (entry point
``pytest_loadtest.plugin``).

Each hook translates pytest into plain calls: ``options`` (options and ini keys), ``item`` (a test item into its
Scenario), ``run`` (the run of one test), ``summary`` and ``reports`` (what the session writes).
"""

from __future__ import annotations

import os

# The pytest process must never gevent-patch: patching after ssl/requests were imported dies with RecursionError,
# and patching breaks threads and pytest-xdist's execnet. Test modules still import locust to define User classes,
# so tell Locust not to patch here; scenarios run in an engine process that patches first (see engine/run.py). A
# pytest11 plugin module is imported before any conftest or test module, so this is early enough.
os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")

from collections.abc import Generator

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.plugin.item import LoadShapeWarning, prepare, start_fork_server
from pytest_loadtest.plugin.options import (
    MARKER_HELP,
    add_options,
    chosen_profile,
    command_line_options,
    env_file,
    fork_server,
    refuse_bad_settings,
    workers_header,
)
from pytest_loadtest.plugin.outcomes import ThresholdOutcomes
from pytest_loadtest.plugin.reports import register_reports
from pytest_loadtest.plugin.run import LoadThresholdWarning, run_load_test
from pytest_loadtest.plugin.stash import (
    forkserver_key,
    options_key,
    profile_key,
    reports_key,
    result_key,
    scenario_key,
)
from pytest_loadtest.plugin.summary import LoadSummary
from pytest_loadtest.settings.envfile import load_env_file

__all__ = ["LoadShapeWarning", "LoadThresholdWarning"]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    given_env_file = env_file(config)
    if given_env_file is not None:
        try:
            load_env_file(given_env_file)
        except LoadTestUsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    config.stash[profile_key] = chosen_profile(config)
    refuse_bad_settings(config)
    config.stash[options_key] = command_line_options(config)
    config.pluginmanager.register(LoadSummary(), "loadtest-summary")
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ThresholdOutcomes(config), "loadtest-threshold-outcomes")
    config.stash[reports_key] = register_reports(config, scenario_key, result_key)
    config.stash[forkserver_key] = fork_server()  # started once collection has selected a load test


def pytest_report_header(config: pytest.Config) -> str | None:
    return workers_header(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    forkserver = config.stash.get(forkserver_key, None)
    if forkserver is not None:
        forkserver.close()


@pytest.fixture
def load_result(request: pytest.FixtureRequest) -> LoadResult | None:
    """The LoadResult of this test's ``@pytest.mark.load`` scenario (filled in once the scenario has run)."""
    if request.node.get_closest_marker("load") is None:
        pytest.fail(
            f"{request.node.nodeid} uses the load_result fixture but has no @pytest.mark.load", pytrace=False
        )
    return None


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A test body that the load scenario ran as its task is not run again as a plain test."""
    scenario = pyfuncitem.stash.get(scenario_key, None)
    return True if scenario is not None and scenario.user_classes[0].body else None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Load tests selected and about to run: the fork server imports Locust in the background while the session sets
    up. Not when no test runs (``--collect-only``, ``--fixtures``, ``--fixtures-per-test``), nor when the session
    stops after collecting (a collection error without ``--continue-on-collection-errors``, an interruption)."""
    config, option = session.config, session.config.option
    if option.collectonly or option.showfixtures or option.show_fixtures_per_test or session.shouldstop:
        return
    if session.testsfailed and not option.continue_on_collection_errors:
        return
    if any(item.get_closest_marker("load") is not None for item in session.items):
        start_fork_server(config)


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("load")
    if marker is not None:
        prepare(item, marker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    scenario = item.stash.get(scenario_key, None)
    if scenario is not None:
        run_load_test(item, scenario)
    return (yield)
