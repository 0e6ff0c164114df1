"""Parity with plain Locust: the same file run by ``locust --headless -f FILE`` and through the load marker, against
the same loopback target, ends the same way."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support.plain_locust import run_plain_locust
from tests.support.target import TargetServer

LOCUSTFILE = """
import pytest
from locust import FastHttpUser, constant, task


class ErrorUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def broken(self):
        self.client.get("/status/500")


class PageUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def page(self):
        self.client.get("page1.html")  # relative: Locust puts it after the host as it is
"""

FAILING = """

@pytest.mark.load(ErrorUser, users=2, duration=1)
def test_no_thresholds():
    pass


@pytest.mark.load(ErrorUser, users=2, duration=1, thresholds={"p95": "<1s"})
def test_latency_only():
    pass


@pytest.mark.load(ErrorUser, users=2, duration=1, thresholds={"fail_ratio": "<=100%"})
def test_states_its_tolerance():
    pass


@pytest.mark.load(ErrorUser, users=2, duration=1, options={"exit_code_on_error": 0})
def test_tolerates_as_locust_does():
    pass
"""


def run(pytester: pytest.Pytester, target: TargetServer, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url, *args)


def test_failed_requests_fail_a_test_that_states_no_tolerance_as_they_fail_plain_locust(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    locustfile = pytester.makepyfile(test_parity=LOCUSTFILE + FAILING)
    plain = ("ErrorUser", "-u", "2", "-r", "2", "-t", "1s", "--host", target.url)
    failing, tolerated = (
        run_plain_locust(locustfile, *plain),
        run_plain_locust(locustfile, *plain, "--exit-code-on-error", "0"),
    )
    assert failing.failures("/status/500") > 0 and failing.returncode == 1, failing.log[-2000:]
    assert tolerated.returncode == 0, tolerated.log[-2000:]

    result = run(pytester, target)
    result.assert_outcomes(failed=2, passed=2)
    for test in ("test_no_thresholds", "test_latency_only"):
        result.stdout.fnmatch_lines(
            [
                f"*test_parity.py::{test}: 1 of * load thresholds failed",
                "fail_ratio*<= 0.00%*100.00%*FAIL",
                "* of * requests failed (100.00%); top errors:",
                "  *x GET /status/500: *500*",
                "A load test fails on any failed request unless it states a tolerance, as `locust --headless` "
                'exits 1 when a request failed: add a top-level threshold such as {"fail_ratio": "<1%"}*',
            ]
        )


def test_a_session_wide_tolerance_lets_failed_requests_pass_and_a_bad_one_is_refused(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_parity=LOCUSTFILE + FAILING)
    run(pytester, target, "--load-max-fail-ratio", "100%", "-k", "no_thresholds").assert_outcomes(passed=1)
    refused = run(pytester, target, "--load-max-fail-ratio", "150%", "-k", "no_thresholds")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR  # refused once, at start-up, before any load
    refused.stderr.fnmatch_lines(
        ["*--load-max-fail-ratio='150%' from the command line: must be a ratio from 0% to 100%*"]
    )


def test_a_host_with_a_path_is_given_to_locust_as_it_is_so_relative_paths_join_as_in_plain_locust(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    host = f"{target.url}/pages/"
    locustfile = pytester.makepyfile(
        test_parity=LOCUSTFILE
        + f"""

@pytest.mark.load(PageUser, users=2, duration=1, host="{host}")
def test_pages(load_result):
    assert set(load_result.entries) == {{"GET page1.html"}}
"""
    )
    before = target.hits.get("/pages/page1.html", 0)
    plain = run_plain_locust(locustfile, "PageUser", "-u", "2", "-r", "2", "-t", "2s", "--host", host)
    assert plain.returncode == 0 and plain.requests("page1.html") > 0, plain.log[-2000:]
    after_plain = target.hits.get("/pages/page1.html", 0)
    assert after_plain - before >= plain.requests("page1.html")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert target.hits.get("/pages/page1.html", 0) > after_plain
    assert not any(path.startswith("/pagespage") for path in target.hits)


@pytest.mark.parametrize("suffix", ["?lang=en", "#top", "/docs?"])
def test_a_host_with_a_query_or_fragment_is_a_usage_error_naming_the_test(
    pytester: pytest.Pytester, target: TargetServer, suffix: str
) -> None:
    pytester.makepyfile(
        test_parity=LOCUSTFILE
        + f'\n\n@pytest.mark.load(PageUser, host="{target.url}{suffix}")\ndef test_bad_host():\n    pass\n'
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_bad_host: host=* from the load marker*: must be a base URL without a query string or #fragment*"
        ]
    )


EVENTS_LOCUSTFILE = """
import os

from locust import FastHttpUser, constant, task


class ApiUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        self.client.get("/health")
"""

EVENTS_TEST_MODULE = """
import os

import pytest
from locust import events

from locustfile import ApiUser


def log(what):
    with open("events.log", "a") as out:
        out.write(f"{os.getpid()} {what}\\n")


log("test module imported")


@events.init_command_line_parser.add_listener
def arguments(parser, **kwargs):
    log("init_command_line_parser")
    parser.add_argument("--my-argument", default="its default", help="a custom argument")


@events.init.add_listener
def on_init(environment, **kwargs):
    log(f"init {type(environment.runner).__name__} my_argument={environment.parsed_options.my_argument}")


@events.test_start.add_listener
def on_test_start(environment, **kwargs):
    log(f"test_start users={environment.parsed_options.num_users}")


@events.quitting.add_listener
def first_quitting(environment, **kwargs):
    log("quitting, registered first")


@events.quitting.add_listener
def second_quitting(environment, **kwargs):
    log("quitting, registered second")


@events.quit.add_listener
def on_quit(exit_code, **kwargs):
    log(f"quit exit_code={exit_code}")


@pytest.mark.load(ApiUser, users=2, spawn_rate=2, duration=1, options=OPTIONS)
def test_api():
    pass
"""


PYTEST_PIDS = "import os\nwith open('pytest.pids', 'a') as out:\n    out.write(f'{os.getpid()}\\n')\n"
"""A conftest noting the pid of every pytest process of a session (under -n 2: the controller and its workers)."""


def engine_events(path: Path) -> list[str]:
    """The events a run logged, in order, leaving out the pytest processes' own lines (they import the module too)."""
    lines = (path / "events.log").read_text().splitlines()
    (path / "events.log").unlink()
    pids = (path / "pytest.pids").read_text().split() if (path / "pytest.pids").exists() else []
    return [line.split(" ", 1)[1] for line in lines if line.split(" ", 1)[0] not in pids]


def plain_events(pytester: pytest.Pytester, target: TargetServer, options: str) -> list[str]:
    """The events plain ``locust --headless -f test_api.py`` fires, checked against Locust's documented order."""
    pytester.makepyfile(locustfile=EVENTS_LOCUSTFILE)
    test_module = pytester.makepyfile(test_api=EVENTS_TEST_MODULE.replace("OPTIONS", options))
    pytester.makeconftest(PYTEST_PIDS)
    argument = [] if options == "{}" else ["--my-argument", "from the marker"]
    plain = run_plain_locust(test_module, "-u", "2", "-r", "2", "-t", "1s", "--host", target.url, *argument)
    assert plain.returncode == 0, plain.log[-3000:]
    expected = engine_events(pytester.path)
    value = "its default" if options == "{}" else "from the marker"
    assert expected[:3] == [
        "test module imported",
        "init_command_line_parser",
        f"init LocalRunner my_argument={value}",
    ]
    assert expected[-3:] == ["quitting, registered second", "quitting, registered first", "quit exit_code=0"]
    return expected


@pytest.mark.parametrize("options", ["{}", '{"my_argument": "from the marker"}'])
def test_the_engine_imports_the_test_module_and_fires_every_event_in_plain_locusts_order_with_its_parsed_options(
    pytester: pytest.Pytester, target: TargetServer, options: str
) -> None:
    expected = plain_events(pytester, target, options)
    run(pytester, target).assert_outcomes(passed=1)
    assert engine_events(pytester.path) == expected


def test_the_events_are_the_same_under_xdist_and_in_a_spawned_engine(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = plain_events(pytester, target, "{}")
    run(pytester, target, "-n", "2").assert_outcomes(passed=1)
    assert engine_events(pytester.path) == expected
    monkeypatch.setenv("LOAD_FORK_SERVER", "0")
    run(pytester, target).assert_outcomes(passed=1)
    assert engine_events(pytester.path) == expected


def events_by_process(path: Path) -> list[list[str]]:
    """Each engine-side process's events in its order (the master's, each worker's), sorted by their first lines."""
    by_pid: dict[str, list[str]] = {}
    pids = (path / "pytest.pids").read_text().split() if (path / "pytest.pids").exists() else []
    for line in (path / "events.log").read_text().splitlines():
        pid, event = line.split(" ", 1)
        if pid not in pids:
            by_pid.setdefault(pid, []).append(event)
    (path / "events.log").unlink()
    return sorted(by_pid.values())


def test_the_master_and_every_worker_fire_the_events_plain_locusts_master_and_workers_fire(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(locustfile=EVENTS_LOCUSTFILE)
    test_module = pytester.makepyfile(test_api=EVENTS_TEST_MODULE.replace("OPTIONS", "{}"))
    pytester.makeconftest(PYTEST_PIDS)
    plain = run_plain_locust(test_module, "-u", "2", "-r", "2", "-t", "1s", "--host", target.url, workers=2)
    assert plain.returncode == 0, plain.log[-3000:]
    expected = events_by_process(pytester.path)
    roles = sorted(events[2].split(" ")[1] for events in expected)
    assert roles == ["MasterRunner", "WorkerRunner", "WorkerRunner"], expected
    run(pytester, target, "--load-workers", "2").assert_outcomes(passed=1)
    assert events_by_process(pytester.path) == expected


def test_a_command_line_option_beats_the_markers_and_a_bad_one_is_refused_naming_it(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(locustfile=EVENTS_LOCUSTFILE)
    pytester.makepyfile(test_api=EVENTS_TEST_MODULE.replace("OPTIONS", '{"my_argument": "from the marker"}'))
    pytester.makeconftest(PYTEST_PIDS)
    run(pytester, target, "--load-option", "my-argument=from the command line").assert_outcomes(passed=1)
    assert "init LocalRunner my_argument=from the command line" in engine_events(pytester.path)
    unknown = run(pytester, target, "--load-option", "no-such-argument=1")
    unknown.assert_outcomes(failed=1)
    unknown.stdout.fnmatch_lines(["*Locust refused the options: unrecognized arguments: --no-such-argument*"])
    malformed = run(pytester, target, "--load-option", "=a value without a name")
    assert malformed.ret == pytest.ExitCode.USAGE_ERROR
    malformed.stderr.fnmatch_lines(["ERROR: --load-option '=a value without a name': expected NAME=VALUE*"])


TAGGED = """
import pytest
from locust import FastHttpUser, constant, tag, task


class TaggedUser(FastHttpUser):
    wait_time = constant(0.05)

    @tag("checkout")
    @task
    def checkout(self):
        self.client.get("/pages/checkout")

    @tag("browse")
    @task
    def browse(self):
        self.client.get("/pages/browse")

    @task
    def untagged(self):
        self.client.get("/pages/untagged")


@pytest.mark.load(TaggedUser, users=2, duration=1, tags=["checkout"])
def test_checkout_only(load_result):
    assert set(load_result.entries) == {"GET /pages/checkout"}


@pytest.mark.load(TaggedUser, users=2, duration=1, exclude_tags=["checkout"])
def test_all_but_checkout(load_result):
    assert set(load_result.entries) == {"GET /pages/browse", "GET /pages/untagged"}


@pytest.mark.load(TaggedUser, users=2, duration=1)
def test_by_the_environment(load_result):
    assert set(load_result.entries) == {"GET /pages/browse"}
"""


def test_tags_select_tasks_as_locusts_tags_and_exclude_tags_do(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    locustfile = pytester.makepyfile(test_tags=TAGGED)
    plain = ("-u", "2", "-r", "2", "-t", "1s", "--host", target.url)
    included = run_plain_locust(locustfile, *plain, "--tags", "checkout")
    excluded = run_plain_locust(locustfile, *plain, "--exclude-tags", "checkout")
    assert {entry["name"] for entry in included.stats} == {"/pages/checkout"}, included.log[-2000:]
    assert {entry["name"] for entry in excluded.stats} == {"/pages/browse", "/pages/untagged"}
    run(pytester, target, "-k", "not environment").assert_outcomes(passed=2)
    monkeypatch.setenv("LOAD_TAGS", "browse")
    run(pytester, target, "-k", "environment").assert_outcomes(passed=1)


RUN_CONTROL = """
import gevent
import pytest
from locust import FastHttpUser, constant, events, task


class QuittingUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")
        if self.environment.parsed_options.raise_in_task:
            raise ZeroDivisionError("a task went wrong")


@events.init.add_listener
def stop_after_a_second(environment, **kwargs):
    if environment.parsed_options.quit_after:  # Locust's stop-on-threshold pattern: a greenlet quits the runner
        gevent.spawn_later(1.0, environment.runner.quit)


@events.init_command_line_parser.add_listener
def arguments(parser, **kwargs):
    parser.add_argument("--quit-after", action="store_true", default=False)
    parser.add_argument("--fail-with", type=int, default=0)
    parser.add_argument("--broken-listener", action="store_true", default=False)
    parser.add_argument("--raise-in-task", action="store_true", default=False)
    parser.add_argument("--exit-zero", action="store_true", default=False)


@events.test_start.add_listener
def broken(environment, **kwargs):
    if environment.parsed_options.broken_listener:
        raise RuntimeError("a listener went wrong")


@events.quitting.add_listener
def exit_code(environment, **kwargs):
    if environment.parsed_options.fail_with:  # the pattern of Locust's docs, "Controlling the exit code"
        environment.process_exit_code = environment.parsed_options.fail_with
    elif environment.parsed_options.exit_zero:
        environment.process_exit_code = 0


@pytest.mark.load(QuittingUser, users=2, duration=5, options={"quit_after": True})
def test_quit(load_result):
    assert load_result.stopped_by_user_code and 0.5 <= load_result.elapsed < 2.5  # quit 1 s after init


@pytest.mark.load(QuittingUser, users=2, duration=1, options={"fail_with": 3})
def test_exit_code():
    pass


@pytest.mark.load(QuittingUser, users=2, duration=1, options={"broken_listener": True})
def test_broken_listener():
    pass


@pytest.mark.load(QuittingUser, users=2, duration=1, options={"raise_in_task": True, "exit_zero": True})
def test_exceptions_with_exit_code_zero(load_result):
    assert load_result.exceptions  # they were counted; user code's exit code 0 decides, as in plain locust
"""


def test_user_code_that_quits_sets_an_exit_code_or_breaks_a_listener_ends_the_test_as_it_ends_plain_locust(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    locustfile = pytester.makepyfile(test_control=RUN_CONTROL)
    plain = ("-u", "2", "-r", "2", "--host", target.url)
    started = time.monotonic()
    quitting = run_plain_locust(locustfile, *plain, "-t", "5s", "--quit-after")
    assert quitting.returncode == 0 and time.monotonic() - started < 4.5, quitting.log[-2000:]
    assert run_plain_locust(locustfile, *plain, "-t", "1s", "--fail-with", "3").returncode == 3
    assert run_plain_locust(locustfile, *plain, "-t", "1s", "--broken-listener").returncode == 2
    assert run_plain_locust(locustfile, *plain, "-t", "1s", "--raise-in-task", "--exit-zero").returncode == 0

    result = run(pytester, target, "--junitxml=junit.xml")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        ["*test_exit_code: user code set environment.process_exit_code = 3 (plain locust would exit with 3)"]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_broken_listener: Locust caught 1 exception(s) in event listeners or greenlets during the load "
            "scenario (plain locust exits 2 on them):",
            "Uncaught exception in event handler: *",
            "*RuntimeError: a listener went wrong",
        ]
    )
    stopped = re.search(
        r'name="load.stopped" value="by user code at (\d\.\d)s of 5s"',
        (pytester.path / "junit.xml").read_text(),
    )
    assert stopped and 0.5 <= float(stopped[1]) < 2.5


CUSTOM_MESSAGES = """
import os

import pytest
from locust import FastHttpUser, constant, events, task
from locust.runners import MasterRunner, WorkerRunner


class ApiUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        self.client.get("/health")


def greeted(environment, msg, **kwargs):
    with open(f"greeted-{os.getpid()}.txt", "w") as out:
        out.write(msg.data)


@events.init.add_listener
def register(environment, **kwargs):  # Locust's custom-messages pattern: every worker registers in init
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message("greeting", greeted)


@events.test_start.add_listener
def greet(environment, **kwargs):
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message("greeting", "hello from the master")


@events.init_command_line_parser.add_listener
def arguments(parser, **kwargs):
    parser.add_argument("--break-on-workers", action="store_true", default=False)


@events.test_start.add_listener
def break_on_workers(environment, **kwargs):
    if isinstance(environment.runner, WorkerRunner) and environment.parsed_options.break_on_workers:
        raise RuntimeError("a worker's listener went wrong")


@pytest.mark.load(ApiUser, users=2, duration=1, workers=2)
def test_greeted():
    pass


@pytest.mark.load(ApiUser, users=2, duration=1, workers=2, options={"break_on_workers": True})
def test_broken_on_workers():
    pass
"""


def test_init_fires_on_every_worker_so_custom_messages_arrive_and_a_workers_listener_error_fails_the_test(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_messages=CUSTOM_MESSAGES)
    result = run(pytester, target, "-k", "greeted")
    result.assert_outcomes(passed=1)
    greetings = sorted(pytester.path.glob("greeted-*.txt"))
    assert len(greetings) == 2 and {path.read_text() for path in greetings} == {"hello from the master"}
    broken = run(pytester, target, "-k", "broken_on_workers")
    broken.assert_outcomes(failed=1)
    broken.stdout.fnmatch_lines(
        [
            "*test_broken_on_workers: Locust caught 2 exception(s) in event listeners or greenlets*",
            "on worker *: Uncaught exception in event handler: *",
            "*RuntimeError: a worker's listener went wrong",
        ]
    )


SHAPED = """
import pytest
from locust import FastHttpUser, LoadTestShape, constant, task


class ApiUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        self.client.get("/health")


class TwoSteps(LoadTestShape):
    # Locust's stages pattern: 2 users until 0.7 s, then 4 until 1.4 s, then the end
    stages = [{"duration": 0.7, "users": 2, "spawn_rate": 10}, {"duration": 1.4, "users": 4, "spawn_rate": 10}]

    def tick(self):
        run_time = self.get_run_time()
        for stage in self.stages:
            if run_time < stage["duration"]:
                return stage["users"], stage["spawn_rate"]
        return None


@pytest.mark.load(ApiUser, TwoSteps, duration=10, thresholds={"p95": "<5s"})
def test_positional(load_result):
    assert load_result.stopped_by_user_code and load_result.elapsed < 4
    assert max(point.users for point in load_result.history) == 4
    assert [stage.users for stage in load_result.stages] == [2, 4]  # judged stage by stage, like a profile's
    assert all(stage.total.num_requests > 0 for stage in load_result.stages)


@pytest.mark.load(ApiUser, TwoSteps, duration=10, workers=2)
def test_on_workers(load_result):
    assert load_result.stopped_by_user_code and load_result.elapsed < 5
    assert max(point.users for point in load_result.history) == 4


@pytest.mark.load(ApiUser, shape=TwoSteps, duration=10)
def test_keyword(load_result):
    assert load_result.stopped_by_user_code and load_result.elapsed < 4


@pytest.mark.load(ApiUser, users=1, duration=1)
def test_unshaped(load_result):
    assert not load_result.stopped_by_user_code
"""


def test_a_load_shape_drives_the_users_and_ends_the_run_as_in_plain_locust_and_an_unnamed_one_is_said(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    locustfile = pytester.makepyfile(test_shaped=SHAPED)
    started = time.monotonic()
    plain = run_plain_locust(locustfile, "--host", target.url, "-t", "10s")
    assert plain.returncode == 0 and time.monotonic() - started < 8, plain.log[-2000:]
    assert plain.requests("/health") > 0
    result = run(pytester, target, "--junitxml=junit.xml")
    result.assert_outcomes(passed=4, warnings=1)
    assert 'name="load.stage2.users" value="4"' in (pytester.path / "junit.xml").read_text()
    result.stdout.fnmatch_lines(
        [
            "*LoadShapeWarning: test_shaped.py::test_unshaped: the test module defines the load shape TwoSteps, "
            "which `locust -f` would use, but the load marker names none*shape=TwoSteps)"
        ]
    )


WEIGHTED = """
import pytest
from locust import FastHttpUser, constant, task


class WeightedUser(FastHttpUser):
    wait_time = constant(0.02)

    @task(1)
    def rare(self):
        self.client.get("/health", name="rare")

    @task(1000)
    def common(self):
        self.client.get("/health", name="common")


@pytest.mark.load(WeightedUser, users=2, duration=1, options={"equal_weights": True})
def test_equal_weights(load_result):
    assert load_result.entries["GET rare"].num_requests > 5  # 1 in 1001 without them: about 0.04 in 40 iterations


@pytest.mark.load(
    WeightedUser, users=2, duration=1,
    options={"config_users": ['{"user_class_name": "WeightedUser", "tasks": ["rare"]}']},
)
def test_config_users(load_result):
    assert set(load_result.entries) == {"GET rare"}
"""


def test_equal_weights_and_config_users_are_applied_as_plain_locust_applies_them(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    locustfile = pytester.makepyfile(test_weighted=WEIGHTED)
    plain = ("-u", "2", "-r", "2", "-t", "1s", "--host", target.url)
    weighted = run_plain_locust(locustfile, *plain, "--equal-weights")
    assert weighted.returncode == 0 and weighted.requests("rare") > 5, weighted.log[-2000:]
    configured = run_plain_locust(
        locustfile, *plain, "--config-users", '{"user_class_name": "WeightedUser", "tasks": ["rare"]}'
    )
    assert configured.returncode == 0 and {entry["name"] for entry in configured.stats} == {"rare"}
    run(pytester, target).assert_outcomes(passed=2)
