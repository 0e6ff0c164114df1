"""The one table of settings: each setting's name, parser, help text and where it may be set.

Everything else is read from it: the ``--load-*`` options and ``load_*`` ini keys the plugin registers, the
``LOAD_*`` environment variables read, the load marker's keywords, the keys a load profile may set, and the parser
of each value. A setting is spelled the same way everywhere from its name: ``spawn_rate`` is ``--load-spawn-rate``,
``load_spawn_rate``, ``LOAD_SPAWN_RATE``, ``spawn_rate=`` and ``spawn_rate`` in a profile. Where a setting is given
in more than one place, command line > profile > marker > environment > ini file > default (see ``resolve.py``).

To add a setting: add its row here, read it in ``resolve_scenario``, and add it to the settings table of
docs/LOAD_TESTING.md (a test checks that table against this one).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_loadtest.measure.names import DEFAULT_MAX_ENTRIES, STATS_NAME_CAP
from pytest_loadtest.settings.distribution import (
    DEFAULT_WORKER_TIMEOUT,
    LOCUST_MASTER_PORT,
    parse_bind_host,
    parse_port,
    parse_worker_count,
    parse_workers,
)
from pytest_loadtest.settings.durations import parse_duration
from pytest_loadtest.settings.parsers import number, parse_flag, parse_host, parse_tags, positive_duration


class Where(enum.Enum):
    """A place a setting may be given."""

    COMMAND_LINE = "command line"
    INI = "ini file"
    ENVIRONMENT = "environment"
    MARKER = "marker"
    PROFILE = "profile"


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    where: frozenset[Where]
    parser: Callable[[object], Any] | None
    """None for the marker's own arguments (thresholds, rate, ...), which the modules named in their help read."""
    flag: bool = False
    """A bare flag on the command line (``--load-allow-saturation``), true/false elsewhere."""

    @property
    def option(self) -> str:
        return "--load-" + self.name.replace("_", "-")

    @property
    def ini_key(self) -> str:
        return "load_" + self.name

    @property
    def variable(self) -> str:
        return "LOAD_" + self.name.upper()

    def parse(self, value: object) -> Any:
        """The value parsed; ValueError saying what it must be."""
        if self.parser is None:
            raise TypeError(f"{self.name} is not a layered setting; its own module reads it")
        return self.parser(value)


_EVERYWHERE = frozenset(Where)
_NOT_IN_A_PROFILE = _EVERYWHERE - {Where.PROFILE}
"""A profile says how hard to push, not where, what passes or what is measured."""
_NOT_IN_THE_MARKER = _EVERYWHERE - {Where.MARKER}
"""How the session's Locust master meets its workers, which no single test decides."""
_MARKER_ONLY = frozenset({Where.MARKER})

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "users",
        "number of simulated users for every load test",
        _EVERYWHERE,
        number(int, refusal="must be a whole number >= 1", minimum=1),
    ),
    Setting(
        "spawn_rate",
        "users started per second (default: all users within one second)",
        _EVERYWHERE,
        number(float, refusal="must be a number > 0 (users started per second)", minimum=0, exclusive=True),
    ),
    Setting(
        "duration",
        "how long each scenario runs: seconds or a time string such as 30s, 5m, 1h30m",
        _EVERYWHERE,
        positive_duration,
    ),
    Setting(
        "max_duration",
        "the longest duration a load test may ask for; longer ones are refused (default 24h)",
        _NOT_IN_A_PROFILE - {Where.MARKER},
        positive_duration,
    ),
    Setting("host", "base URL of the target, e.g. http://127.0.0.1:8000", _NOT_IN_A_PROFILE, parse_host),
    Setting(
        "warmup",
        "the first part of each scenario, not measured: its figures are reset when it ends; seconds or a time "
        "string, shorter than the duration (default 0)",
        _NOT_IN_A_PROFILE,
        parse_duration,
    ),
    Setting(
        "stop_timeout",
        "seconds a scenario may take to stop after its duration or an interrupt (default 5)",
        _EVERYWHERE,
        parse_duration,
    ),
    Setting(
        "min_samples",
        "samples a threshold needs beyond its percentile before it is judged (default 1: p95 needs 20 response "
        "times, p99 100); fewer make the verdict INCONCLUSIVE, which fails the test; 0 judges any figure",
        _EVERYWHERE,
        number(
            float,
            refusal="must be a number >= 0 (0 judges every threshold on whatever samples it has)",
            minimum=0,
        ),
    ),
    Setting(
        "allow_saturation",
        "accept figures from a CPU-bound load generator instead of failing the test (they measure the generator, "
        "not the target)",
        _EVERYWHERE,
        parse_flag,
        flag=True,
    ),
    Setting(
        "strict",
        "breached warnings (the marker's warn=) fail the test as thresholds do",
        _NOT_IN_A_PROFILE - {Where.MARKER},
        parse_flag,
        flag=True,
    ),
    Setting(
        "threshold_cases",
        "report each threshold as an outcome of its own besides the test's: a JUnit <testcase> each, counted on "
        "pytest's last line",
        _NOT_IN_A_PROFILE - {Where.MARKER},
        parse_flag,
        flag=True,
    ),
    Setting(
        "abort_on_fail",
        "stop a run as soon as a threshold can no longer pass (a sustained window failed, a requests or failures "
        "limit crossed); the test fails with the figures so far",
        _NOT_IN_A_PROFILE,
        parse_flag,
        flag=True,
    ),
    Setting(
        "abort_after",
        "seconds or a time string into the measured window before a failing threshold may stop the run "
        "(default 0)",
        _NOT_IN_A_PROFILE,
        parse_duration,
    ),
    Setting(
        "tags",
        "run only the tasks tagged with one of these @tag tags, separated by commas (Locust's --tags)",
        _EVERYWHERE,
        parse_tags,
    ),
    Setting(
        "exclude_tags",
        "leave out the tasks tagged with one of these tags, separated by commas (Locust's --exclude-tags)",
        _EVERYWHERE,
        parse_tags,
    ),
    Setting(
        "max_fail_ratio",
        "failed requests a load test tolerates when its thresholds state no top-level fail_ratio or failures "
        "limit: a fraction such as 0.01 or a percentage (default 0: any failed request fails it, as locust "
        "--headless exits 1)",
        _EVERYWHERE,
        number(
            float,
            refusal="must be a ratio from 0% to 100%, such as 1% or 0.01",
            minimum=0,
            maximum=1,
            percent=True,
        ),
    ),
    Setting(
        "max_entries",
        "distinct request names a load test may produce (one Locust stats entry each); more fail the test with "
        f"the most frequent name shapes and the fix (default {DEFAULT_MAX_ENTRIES}, at most {STATS_NAME_CAP})",
        _NOT_IN_A_PROFILE,
        number(
            int,
            refusal=f"must be a whole number from 1 to {STATS_NAME_CAP} (distinct request names)",
            minimum=1,
            maximum=STATS_NAME_CAP,
        ),
    ),
    Setting(
        "workers",
        "run each scenario on a Locust master with N local worker processes ('auto': one per available core but "
        "one, none if that leaves fewer than two; 0: no workers, one process)",
        _EVERYWHERE,
        parse_workers,
    ),
    Setting(
        "expect_workers",
        "also wait for N Locust workers started elsewhere (see 'Distributed runs' in docs/LOAD_TESTING.md)",
        _NOT_IN_THE_MARKER,
        parse_worker_count,
    ),
    Setting(
        "master_bind_host",
        "address the Locust master listens on for workers (default 127.0.0.1; a non-loopback address lets other "
        "machines connect)",
        _NOT_IN_THE_MARKER,
        parse_bind_host,
    ),
    Setting(
        "master_bind_port",
        f"port the Locust master listens on (default: a free port, or {LOCUST_MASTER_PORT} when remote workers are "
        "expected)",
        _NOT_IN_THE_MARKER,
        parse_port,
    ),
    Setting(
        "worker_timeout",
        f"seconds to wait for every worker to connect (default {DEFAULT_WORKER_TIMEOUT:g})",
        _NOT_IN_THE_MARKER,
        positive_duration,
    ),
    Setting(
        "thresholds",
        "a dict of conditions that pass or fail the test (measure/thresholds.py)",
        _MARKER_ONLY,
        None,
    ),
    Setting(
        "warn",
        "a dict of conditions, as in thresholds, that warn (LoadThresholdWarning, a WARN row) instead of failing",
        _MARKER_ONLY,
        None,
    ),
    Setting(
        "rate",
        "open model: iterations started per second whatever the response times (settings/rate.py)",
        _MARKER_ONLY,
        None,
    ),
    Setting(
        "values",
        "fixture names whose values the users read (shared_values.py)",
        _MARKER_ONLY,
        None,
    ),
    Setting(
        "options",
        "custom Locust arguments for environment.parsed_options; --load-option NAME=VALUE beats them "
        "(resolve.py)",
        _MARKER_ONLY,
        None,
    ),
    Setting(
        "shape",
        "a Locust LoadTestShape class that drives the run (resolve.py)",
        _MARKER_ONLY,
        None,
    ),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def settable(where: Where) -> tuple[Setting, ...]:
    """The settings that may be given in ``where``, in the table's order."""
    return tuple(setting for setting in SETTINGS if where in setting.where)


MARKER_KEYWORDS = frozenset(setting.name for setting in settable(Where.MARKER))
PROFILE_KEYS = frozenset(setting.name for setting in settable(Where.PROFILE))
