"""Options and ini keys, and the layers a scenario's settings are resolved from."""

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
from pytest_loadtest.measure.evidence import (
    MIN_SAMPLES_HELP,
)
from pytest_loadtest.measure.saturation import ALLOW_SATURATION_HELP, parse_flag
from pytest_loadtest.plugin.reports import add_report_options
from pytest_loadtest.plugin.stash import (
    profile_key,
)
from pytest_loadtest.settings.distribution import DISTRIBUTION_HELP
from pytest_loadtest.settings.envfile import DEFAULT_ENV_FILE
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
)

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
    """Each run setting is an option and an ini key of the same meaning, sharing one help text."""
    for name, text in SETTINGS_HELP.items():
        shape: dict[str, Any] = {"action": "store_true"} if name in FLAG_SETTINGS else {"metavar": "VALUE"}
        option = "--load-" + name.replace("_", "-")
        group.addoption(option, dest="load_" + name, default=None, help=text, **shape)
        parser.addini("load_" + name, text, default=None)


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
        return select_profile(*chosen, path if path.is_file() else None, frozenset(SETTINGS_HELP))
    except LoadTestUsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def command_line(config: pytest.Config) -> dict[str, object]:
    return {name: config.getoption("load_" + name) for name in SETTINGS_HELP}


def layers(item: pytest.Item, marker: pytest.Mark) -> list[Layer]:
    """Precedence, highest first: command line > profile > marker > environment > ini > built-in default."""
    config = item.config
    profile = config.stash[profile_key]
    return [
        command_line_layer(command_line(config)),
        *([profile.layer()] if profile else []),
        marker_layer(item.nodeid, marker.kwargs),
        environment_layer(os.environ),
        ini_layer({name: config.getini("load_" + name) for name in SETTINGS_HELP}),
    ]


def command_line_options(config: pytest.Config) -> dict[str, str | bool]:
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
