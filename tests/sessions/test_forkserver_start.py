"""When the session's fork server starts: at the end of a collection that selected a load test, and not otherwise."""

from __future__ import annotations

import pytest

from tests.support.target import TargetServer

TESTS = """
import psutil
import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        self.client.get("/health")


def fork_servers():
    return [
        child for child in psutil.Process().children()
        if "pytest_loadtest.runtime.forkserver_main" in " ".join(child.cmdline())
    ]


def test_before_any_load_test():
    print(f"fork servers before the first load test: {len(fork_servers())}")


@pytest.mark.load(HealthUser, users=1, duration=1)
def test_load():
    pass
"""


@pytest.mark.parametrize(
    ("selection", "outcomes", "servers"),
    [([], {"passed": 2}, 1), (["-m", "not load"], {"passed": 1, "deselected": 1}, 0)],
)
def test_the_fork_server_starts_once_collection_has_selected_a_load_test(
    pytester: pytest.Pytester,
    target: TargetServer,
    selection: list[str],
    outcomes: dict[str, int],
    servers: int,
) -> None:
    """The plain test runs first, before any load test's set-up: a server running then was started at collection."""
    pytester.makepyfile(test_order=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-s", "--load-host", target.url, *selection
    )
    result.assert_outcomes(**outcomes)
    result.stdout.fnmatch_lines([f"*fork servers before the first load test: {servers}*"])
