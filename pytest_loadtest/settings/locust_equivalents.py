"""Every ``locust`` command-line option and what it is under the load marker (docs/LOAD_TESTING.md, "Coming from
Locust", shows this table; a test checks it against Locust's own parser, option by option).

An option the plugin gives Locust itself (``-u``, ``-t``, ``--host``, ...) or that cannot apply inside pytest (the
web UI) is refused in the marker's ``options=`` and in ``--load-option``, naming what to use instead; every other
option goes to Locust's parser as given, and Locust applies it as ``locust --headless`` does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocustOption:
    """One ``locust`` option: its flags as ``locust --help`` shows them, its ``parsed_options`` name, and the way
    to get it here (``instead``: refused in ``options=``, use that; else ``applied``: given to Locust as it is)."""

    flags: str
    dest: str
    here: str
    refused: bool = False


def _refused(flags: str, dest: str, instead: str) -> LocustOption:
    return LocustOption(flags, dest, instead, refused=True)


def _applied(flags: str, dest: str, how: str) -> LocustOption:
    return LocustOption(flags, dest, how)


WEB_UI = "not applicable: a load test runs headless inside pytest, without Locust's web UI"
REPORTS = "written for every load test (see [reports](#reports))"
LOCUST_OPTIONS: tuple[LocustOption, ...] = (
    _refused("-f, --locustfile", "locustfile", "the test module: the engine imports it as `locust -f` would"),
    _applied(
        "--config",
        "config",
        '`options={"config": "my.conf"}`; `locust.conf` and `[tool.locust]` are read as by `locust`',
    ),
    _refused(
        "-H, --host",
        "host",
        "`host=`, `--load-host`, `LOAD_HOST`, ini `load_host`; given to Locust exactly as written",
    ),
    _refused("-u, --users", "num_users", "`users=`, `--load-users`"),
    _refused("-r, --spawn-rate", "spawn_rate", "`spawn_rate=`, `--load-spawn-rate`"),
    _refused("-t, --run-time", "run_time", "`duration=`, `--load-duration`"),
    _refused(
        "-l, --list", "list_commands", "not applicable: `pytest --collect-only -m load` lists the load tests"
    ),
    _applied(
        "--config-users",
        "config_users",
        '`options={"config_users": [\'{"user_class_name": ...}\']}`: applied as `locust` applies it',
    ),
    _refused("--web-host", "web_host", WEB_UI),
    _refused("--web-port, -P", "web_port", WEB_UI),
    _refused("--headless", "headless", "always: a load test runs headless"),
    _refused("--autostart", "autostart", WEB_UI),
    _refused("--autoquit", "autoquit", WEB_UI),
    _refused("--web-login", "web_login", WEB_UI),
    _refused("--tls-cert", "tls_cert", WEB_UI),
    _refused("--tls-key", "tls_key", WEB_UI),
    _refused("--class-picker", "class_picker", WEB_UI),
    _refused(
        "--master",
        "master",
        "`--load-workers N` (local workers) or `--load-expect-workers N` (workers elsewhere)",
    ),
    _refused("--master-bind-host", "master_bind_host", "`--load-master-bind-host`"),
    _refused("--master-bind-port", "master_bind_port", "`--load-master-bind-port`"),
    _refused("--expect-workers", "expect_workers", "`--load-expect-workers`"),
    _refused("--expect-workers-max-wait", "expect_workers_max_wait", "`--load-worker-timeout`"),
    _applied("--enable-rebalancing", "enable_rebalancing", '`options={"enable_rebalancing": True}`'),
    _refused(
        "--worker",
        "worker",
        "`--load-workers N` starts them; elsewhere `python -m pytest_loadtest.runtime.worker_main`",
    ),
    _refused("--processes", "processes", "`--load-workers N`"),
    _refused("--master-host", "master_host", "`python -m pytest_loadtest.runtime.worker_main --master-host`"),
    _refused("--master-port", "master_port", "`python -m pytest_loadtest.runtime.worker_main --master-port`"),
    _refused("--web-base-path", "web_base_path", WEB_UI),
    _refused("-T, --tags", "tags", "`tags=`, `--load-tags`"),
    _refused("-E, --exclude-tags", "exclude_tags", "`exclude_tags=`, `--load-exclude-tags`"),
    _refused("--csv", "csv_prefix", REPORTS),
    _refused("--csv-full-history", "stats_history_enabled", REPORTS),
    _refused("--print-stats", "print_stats", "the live progress line (`[load] ...`), and the summary table"),
    _refused("--only-summary", "only_summary", "the summary table at the end of the session"),
    _applied(
        "--reset-stats",
        "reset_stats",
        '`options={"reset_stats": True}`; or `warmup=`, whose requests are left out',
    ),
    _refused("--html", "html_file", REPORTS),
    _refused("--json", "json", REPORTS + " (`loadtest-report.json`)"),
    _refused("--json-file", "json_file", REPORTS + " (`loadtest-report.json`)"),
    _refused(
        "--skip-log-setup",
        "skip_log_setup",
        "not applicable: the engine's log lines are the test's captured output",
    ),
    _refused("--loglevel, -L", "loglevel", "`LOCUST_LOGLEVEL` in the environment (Locust's own variable)"),
    _refused("--logfile", "logfile", "not applicable: the engine's log lines are the test's captured output"),
    _refused(
        "--show-task-ratio",
        "show_task_ratio",
        "not applicable: it prints and exits; run `locust --show-task-ratio -f FILE`",
    ),
    _refused("--show-task-ratio-json", "show_task_ratio_json", "not applicable: it prints and exits"),
    _refused("--version, -V", "version", "not applicable: `pytest --version` lists the plugin and Locust"),
    _applied(
        "--exit-code-on-error",
        "exit_code_on_error",
        '`options={"exit_code_on_error": 0}`: failed requests and user exceptions alone then fail nothing',
    ),
    _applied(
        "-s, --stop-timeout",
        "stop_timeout",
        '`options={"stop_timeout": 5}`: how long users may finish their task; keep `--load-stop-timeout` (the plugin\'s allowance to stop) above it',
    ),
    _applied(
        "--equal-weights",
        "equal_weights",
        '`options={"equal_weights": True}`: applied as `locust` applies it',
    ),
    _applied("--profile", "profile", '`options={"profile": "name"}`'),
    _refused(
        "--otel",
        "otel",
        "not supported: the engine does not set up OpenTelemetry (`locust` does it in its `main`)",
    ),
    _refused("(User classes)", "user_classes", "the marker's positional classes"),
)
"""In the order of ``locust --help``."""
BY_NAME = {
    name: option
    for option in LOCUST_OPTIONS
    for name in {option.dest, *(flag.lstrip("-").replace("-", "_") for flag in option.flags.split(", "))}
}
"""Each option by every name ``options=`` may give it: its ``parsed_options`` name and its flags (``users``)."""


def refusal(name: str) -> str | None:
    """Why ``options=`` / ``--load-option`` cannot give Locust's own option ``name`` (``my_argument`` form), and
    what to use instead; None for an option Locust applies as given, or a custom argument."""
    option = BY_NAME.get(name)
    if option is None or not option.refused:
        return None
    return f"{option.flags} is Locust's own option; here: {option.here}"
