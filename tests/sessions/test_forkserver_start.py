"""When the session's fork server starts: at the end of a collection that selected a load test about to run, and
not otherwise."""

from __future__ import annotations

import pytest

from tests.support.target import TargetServer

CONFTEST = """
import psutil
import pytest


@pytest.hookimpl(trylast=True)  # after the plugin's
def pytest_collection_finish(session):
    servers = [
        child for child in psutil.Process().children()
        if "pytest_loadtest.runtime.forkserver_main" in " ".join(child.cmdline())
    ]
    print(f"fork servers at the end of collection: {len(servers)}")
"""

TESTS = """
import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        self.client.get("/health")


def test_plain():
    pass


@pytest.mark.load(HealthUser, users=1, duration=1)
def test_load():
    pass
"""


@pytest.mark.parametrize(
    ("arguments", "servers"),
    [
        ([], 1),
        (["-m", "not load"], 0),  # no load test selected
        (["--collect-only"], 0),
        (["--fixtures"], 0),
        (["test_broken.py", "test_order.py"], 0),  # a collection error stops the session
        (["--continue-on-collection-errors", "test_broken.py", "test_order.py"], 1),
    ],
)
def test_the_fork_server_starts_once_collection_has_selected_a_load_test_that_will_run(
    pytester: pytest.Pytester, target: TargetServer, arguments: list[str], servers: int
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_order=TESTS, test_broken="import no_such_module\n")
    given = arguments if "test_order.py" in arguments else [*arguments, "test_order.py"]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--load-host", target.url, *given)
    result.stdout.fnmatch_lines([f"fork servers at the end of collection: {servers}"])
