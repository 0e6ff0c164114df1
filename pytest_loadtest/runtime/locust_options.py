"""``environment.parsed_options`` as plain ``locust`` builds it, inside the engine process.

Locust's own argument parser (``locust.argument_parser.get_parser``) parses a command line made from the scenario:
its defaults, its config files (``locust.conf``, ``pyproject.toml``'s ``[tool.locust]``) and ``LOCUST_*`` variables
apply as they do for ``locust --headless``, the ``init_command_line_parser`` listeners of the test module add their
arguments, and the scenario's own values (users, spawn rate, run time, host, tags, the marker's ``options=`` and
``--load-option``) are given on that command line, so they win.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
from typing import Any

from pytest_loadtest.engine.protocol import Spec
from pytest_loadtest.reports.redaction import secret_arguments

secret: set[str] = set()
"""The arguments this process's parser marks ``is_secret`` (Locust's flag), known once the options are parsed."""


class LocustOptionsError(Exception):
    """Locust's parser refused the command line made from the scenario (an unknown or bad option)."""


def command_line(spec: Spec) -> list[str]:
    """The ``locust --headless`` command line that runs ``spec``."""
    args = ["--headless", "-u", str(spec["users"]), "-r", f"{spec['spawn_rate']:g}"]
    # Locust's run time is whole seconds; the engine keeps its own clock for a fractional duration. The plugin's
    # stop_timeout is how long a scenario may take to stop, not Locust's --stop-timeout (users finishing their task):
    # that stays Locust's default, 0, as before.
    args += ["-t", f"{math.ceil(spec['duration'])}s"]
    locustfile = spec["test_module"]["path"] if spec["test_module"] else None
    if locustfile:
        args += ["-f", locustfile]
    if spec["host"]:
        args += ["--host", spec["host"]]
    if spec["tags"]:
        args += ["--tags", *spec["tags"]]
    if spec["exclude_tags"]:
        args += ["--exclude-tags", *spec["exclude_tags"]]
    for name, value in spec["options"].items():
        args += option_arguments(name, value)
    return args


def option_arguments(name: str, value: object) -> list[str]:
    """One custom argument as a command-line flag: ``my_argument="x"`` -> ``--my-argument=x``; True -> the bare
    flag, False -> nothing; a list repeats the flag."""
    flag = "--" + name.lstrip("-").replace("_", "-")
    if value is True:
        return [flag]
    if value is False or value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [f"{flag}={item}" for item in value]
    return [f"{flag}={value}"]  # one word: a value that starts with "-" is not taken for an option


def parsed_options(spec: Spec) -> Any:
    """Parse the scenario's command line with Locust's own parser (this fires ``init_command_line_parser``)."""
    from locust.argument_parser import get_parser

    parser = get_parser()
    secret.update(secret_arguments(parser))
    refused = io.StringIO()
    try:
        with contextlib.redirect_stderr(refused):
            return parser.parse_args(args=command_line(spec))
    except SystemExit:
        lines = refused.getvalue().strip().splitlines()
        errors = [
            line.split(" error: ", 1)[-1]
            for line in lines
            if " error: " in line or line.startswith("Did you")
        ]
        raise LocustOptionsError(" ".join(errors) or "; ".join(lines)) from None


def worker_options() -> Any:
    """A worker's ``parsed_options``, as ``locust --worker`` parses them (the master sends the scenario's own)."""
    from locust.argument_parser import get_parser

    return get_parser().parse_args(["--worker"])


def apply_after_runner(environment: Any, options: Any) -> None:
    """What ``locust``'s main applies once the runner exists: ``--config-users`` and ``--equal-weights``."""
    if options.config_users:
        try:
            for user_config in itertools.chain(*options.config_users):
                environment.update_user_class(user_config)
        except (
            KeyError,
            TypeError,
            ValueError,
        ) as exc:  # locust logs and exits; here the scenario fails with it
            raise LocustOptionsError(f"--config-users: {type(exc).__name__}: {exc}") from None
    if options.equal_weights:
        environment.events.init.add_listener(lambda environment, **kwargs: environment.assign_equal_weights())
