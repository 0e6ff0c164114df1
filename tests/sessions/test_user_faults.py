"""Broken user code and broken configuration end in a clear failure or usage error, never a crash or a hang."""

from __future__ import annotations

import time

import pytest

from tests.support.target import TargetServer

MODULE = """
import pytest
from locust import FastHttpUser, HttpUser, constant, task


class OnStartUser(HttpUser):
    wait_time = constant(0.05)

    def on_start(self):
        raise RuntimeError("login failed in on_start")

    @task
    def health(self):
        self.client.get("/health")


class TaskUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def boom(self):
        self.client.get("/health")
        raise KeyError("no such field")


@pytest.mark.load(OnStartUser, users=2, duration=1)
def test_on_start():
    pass


@pytest.mark.load(TaskUser, users=2, duration=1)
def test_task():
    pass
"""


@pytest.mark.slow
def test_exceptions_in_on_start_and_in_tasks_fail_the_test_counted_and_shown(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_users=MODULE)
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
    assert time.monotonic() - started < 20
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_users.py::test_on_start: user code raised 2 exception(s) during the load scenario:",
            "2x login failed in on_start",
            "*in on_start*",
            '*raise RuntimeError("login failed in on_start")',
            "*test_users.py::test_task: user code raised * exception(s) during the load scenario:",
            "*x 'no such field'",
            '*raise KeyError("no such field")',
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_malformed_env_file_is_a_usage_error_naming_the_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_users=MODULE)
    (pytester.path / ".env.load-testing").write_text(
        "# settings\nLOAD_USERS=3\nLOAD_HOST http://127.0.0.1:8000\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*.env.load-testing, line 3: cannot parse 'LOAD_HOST http://127.0.0.1:8000'; expected NAME=value*"]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
