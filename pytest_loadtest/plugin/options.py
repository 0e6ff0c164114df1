"""Options and ini keys (the settings' ones built from settings/table.py), the start-up check of their values,
and the layers a scenario's settings are resolved from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_loadtest.engine.processes import FORK_SERVER_VARIABLE, ForkServer
from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.guard import (
    ALLOWED_HOSTS_INI,
)
from pytest_loadtest.plugin.reports import add_report_options
from pytest_loadtest.plugin.stash import (
    profile_key,
)
from pytest_loadtest.settings.distribution import auto_workers_note, available_cores, is_auto
from pytest_loadtest.settings.envfile import DEFAULT_ENV_FILE
from pytest_loadtest.settings.parsers import parse_flag
from pytest_loadtest.settings.profiles import (
    DEFAULT_PROFILES_FILE,
    PROFILE_HELP,
    PROFILES_FILE_HELP,
    Profile,
    chosen_name,
    select_profile,
)
from pytest_loadtest.settings.resolve import (
    Layer,
    command_line_layer,
    environment_layer,
    ini_layer,
    marker_layer,
    parsed_setting,
)
from pytest_loadtest.settings.table import Where, settable

MARKER_HELP = (
    f"load(*user_classes, {', '.join(setting.name + '=' for setting in settable(Where.MARKER))}): run a Locust "
    "load scenario with these User classes (none: the test function, taking fastsession or session, is the task); "
    "its thresholds pass or fail the test"
)


def add_options(parser: pytest.Parser) -> None:
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
    """The settings' options and ini keys, as the table says; an option and its ini key share one help text."""
    for setting in settable(Where.COMMAND_LINE):
        shape: dict[str, Any] = {"action": "store_true"} if setting.flag else {"metavar": "VALUE"}
        group.addoption(setting.option, default=None, help=setting.help, **shape)
    for setting in settable(Where.INI):
        parser.addini(setting.ini_key, setting.help, default=None)


def fork_server() -> ForkServer | None:
    """The session's fork server, unless the platform has no fork or LOAD_FORK_SERVER turns it off."""
    value = os.environ.get(FORK_SERVER_VARIABLE, "1")
    try:
        wanted = parse_flag(value)
    except ValueError as exc:
        raise pytest.UsageError(f"{FORK_SERVER_VARIABLE}={value!r} in the environment: {exc}") from None
    return ForkServer() if wanted and ForkServer.supported() else None


def env_file(config: pytest.Config) -> Path | None:
    given = config.getoption("load_env_file")
    if given:
        path = Path(given)
        if not path.is_file():
            raise pytest.UsageError(f"--load-env-file: no such file: {given}")
        return path
    default = config.rootpath / DEFAULT_ENV_FILE
    return default if default.is_file() else None


def chosen_profile(config: pytest.Config) -> Profile | None:
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
        return select_profile(*chosen, path if path.is_file() else None)
    except LoadTestUsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def command_line(config: pytest.Config) -> dict[str, object]:
    return {setting.name: config.getoption(setting.option) for setting in settable(Where.COMMAND_LINE)}


def _ini(config: pytest.Config) -> dict[str, object]:
    return {setting.name: config.getini(setting.ini_key) for setting in settable(Where.INI)}


def layers(item: pytest.Item, marker: pytest.Mark) -> list[Layer]:
    """Precedence, highest first: command line > profile > marker > environment > ini > built-in default."""
    config = item.config
    profile = config.stash[profile_key]
    return [
        command_line_layer(command_line(config)),
        *([profile.layer()] if profile else []),
        marker_layer(item.nodeid, marker.kwargs),
        environment_layer(os.environ),
        ini_layer(_ini(config)),
    ]


def _session_layers(config: pytest.Config) -> list[Layer]:
    """The layers that hold for the whole session (no marker, no environment): read at start-up."""
    profile = config.stash[profile_key]
    return [
        command_line_layer(command_line(config)),
        *([profile.layer()] if profile else []),
        ini_layer(_ini(config)),
    ]


def workers_header(config: pytest.Config) -> str | None:
    """What ``--load-workers auto`` picks here and why, when the session's setting is ``auto``: the first of the
    command line, the profile, the environment (as the session starts) and the ini file that sets it (a marker's
    ``workers="auto"`` picks the same)."""
    *command_line_and_profile, ini = _session_layers(config)
    for layer in [*command_line_and_profile, environment_layer(os.environ), ini]:
        given = layer.get("workers")
        if given is not None:
            return auto_workers_note(available_cores()) if is_auto(given) else None
    return None


def refuse_bad_settings(config: pytest.Config) -> None:
    """A bad value on the command line, in the ini file or in the chosen profile is refused once, at start-up,
    naming the setting as spelled there and the value (rather than failing every load test). The environment is
    read when each test starts, as a conftest or fixture may still set it, so its values are checked there."""
    try:
        for layer in _session_layers(config):
            for name in layer.values:
                parsed_setting(name, layer)
    except LoadTestUsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def command_line_options(config: pytest.Config) -> dict[str, str | bool | list[str]]:
    """``--load-option NAME=VALUE`` or ``--load-option NAME`` for a flag (repeatable: a name given more than once
    with values gets them all, in order, as a list goes to Locust's parser), refused once at start-up when
    malformed."""
    options: dict[str, str | bool | list[str]] = {}
    for given in config.getoption("load_options"):
        name, equals, value = given.partition("=")
        name = name.strip()
        if not name:
            raise pytest.UsageError(
                f"--load-option {given!r}: expected NAME=VALUE (or NAME for a flag), e.g. --load-option my-argument=x"
            )
        before = options.get(name)
        if before is None or (before is True and not equals):
            options[name] = value if equals else True
        elif equals and not isinstance(before, bool):
            options[name] = [*(before if isinstance(before, list) else [before]), value]
        else:
            raise pytest.UsageError(
                f"--load-option {name}: given both as a flag and with a value ({given!r})"
            )
    return options
