"""Fixtures of the Platform API load suite.

Without ``--load-host`` / ``LOAD_HOST`` / ``load_host`` the suite starts the reference Platform API once, when the
first load test is set up, and sets ``LOAD_HOST`` to it. The plugin resolves each scenario's host in its own
``pytest_runtest_setup`` before any fixture runs, so the start happens in this conftest's ``pytest_runtest_setup``,
which runs first (``tryfirst``). The API is stopped and reaped when the session ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from loadtests.helpers import settings
from loadtests.helpers.data import TestDataGenerator
from loadtests.helpers.seeder import DataSeeder, SeededAccount, write_accounts
from loadtests.helpers.target import Target, rss_bytes, start_reference_api
from loadtests.platform_api.server import PlatformApiStartupError

target_key = pytest.StashKey[Target]()


def _configured_host(config: pytest.Config) -> str | None:
    given = config.getoption("load_host") or os.environ.get("LOAD_HOST") or config.getini("load_host")
    return str(given).strip() or None if given else None


def suite_target(config: pytest.Config) -> Target:
    """The session's target, starting the reference API on first use when no host is configured."""
    if target_key in config.stash:
        return config.stash[target_key]
    host = _configured_host(config)
    if host is not None:
        target = Target(host.rstrip("/"), settings.jwt_secret())
    else:
        try:
            target = start_reference_api()
        except PlatformApiStartupError as exc:
            pytest.exit(
                f"the reference Platform API did not come up: {exc}", returncode=pytest.ExitCode.USAGE_ERROR
            )
        assert target.server is not None
        config.add_cleanup(target.server.stop)
        config.add_cleanup(_restore_environment(settings.JWT_SECRET_VAR, "LOAD_HOST"))
        os.environ["LOAD_HOST"] = target.url  # the plugin's environment layer picks it up
        os.environ[settings.JWT_SECRET_VAR] = target.jwt_secret or ""  # the users' token generator reads it
    config.stash[target_key] = target
    return target


def _restore_environment(*names: str) -> Callable[[], None]:
    saved = {name: os.environ.get(name) for name in names}

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore


@pytest.hookimpl(tryfirst=True)  # before the plugin's hook resolves the scenario's host
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("load") is not None:
        suite_target(item.config)


@pytest.fixture(scope="session")
def platform_api(pytestconfig: pytest.Config) -> Target:
    """The target of the load suite (the reference API unless a host was configured)."""
    return suite_target(pytestconfig)


@pytest.fixture
def seeded_accounts(
    platform_api: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[SeededAccount]]:
    """LOAD_SEED_USERS accounts with subscriptions, created through the API before the scenario and deleted after;
    the scenario's users sign in as them (their list reaches the engine through LOADTESTS_ACCOUNTS_FILE)."""
    with DataSeeder(platform_api.url, TestDataGenerator(settings.seed())) as seeder:
        accounts = seeder.seed(settings.seed_users())
        path = tmp_path / "accounts.json"
        write_accounts(accounts, path)
        monkeypatch.setenv(settings.ACCOUNTS_FILE_VAR, str(path))
        try:
            yield accounts
        finally:
            seeder.cleanup(accounts)


@pytest.fixture
def target_memory(platform_api: Target, request: pytest.FixtureRequest) -> Iterator[None]:
    """The target's RSS before and after the scenario (from /metrics), as the JUnit property target.rss_growth_bytes
    and a line in the terminal summary: what the soak profile is for. (user_properties, not record_property, which
    warns under JUnit's xunit2 family.)"""
    before = rss_bytes(platform_api.url)
    yield
    after = rss_bytes(platform_api.url)
    if before is not None and after is not None:
        request.node.user_properties.append(("target.rss_before_bytes", before))
        request.node.user_properties.append(("target.rss_growth_bytes", after - before))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per load test with the target's memory growth (recorded by the target_memory fixture)."""
    lines = []
    for report in terminalreporter.getreports(""):
        if report.when != "teardown":
            continue
        figures = dict(report.user_properties)
        if "target.rss_growth_bytes" in figures:
            growth = int(figures["target.rss_growth_bytes"]) / 2**20
            before = int(figures["target.rss_before_bytes"]) / 2**20
            lines.append(f"{report.nodeid}: {before:.1f} MB before, {growth:+.1f} MB after the scenario")
    if lines:
        terminalreporter.write_sep("-", "target memory (GET /metrics rss_bytes)")
        for line in lines:
            terminalreporter.write_line(line)
