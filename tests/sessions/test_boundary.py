"""The process boundary is a folder boundary: after a session of load tests, the pytest processes (the session's own,
and its xdist controller and workers) have imported no ``pytest_loadtest.runtime`` module and gevent has patched
nothing in them; the runtime ran, in the engine and worker processes only."""

from __future__ import annotations

import json

import pytest

from tests.support.target import TargetServer

# Every pytest process of the session (under -n 2: the controller and each worker) writes what it imported.
CONFTEST = """
import json, os, sys


def pytest_unconfigure(config):
    gevent_monkey = sys.modules.get("gevent.monkey")
    record = {
        "runtime_modules": sorted(name for name in sys.modules if name.startswith("pytest_loadtest.runtime")),
        "gevent_patched": bool(gevent_monkey and gevent_monkey.is_anything_patched()),
        "locust_imported": "locust" in sys.modules,
    }
    with open(f"boundary-{os.getpid()}.json", "w") as file:
        json.dump(record, file)
"""

TEST_MODULE = """
import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")


@pytest.mark.load(HealthUser, users=2, duration=1, thresholds={"fail_ratio": "<1%"})
def test_health(load_result):
    assert load_result.total.num_requests > 0
"""


@pytest.mark.parametrize(
    "arguments",
    [(), ("-n", "2"), ("--load-workers", "2")],
    ids=["plain", "xdist -n 2", "--load-workers 2"],
)
def test_the_pytest_process_never_imports_the_runtime_nor_patches_gevent(
    pytester: pytest.Pytester, target: TargetServer, arguments: tuple[str, ...]
) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_boundary=TEST_MODULE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url, *arguments)
    result.assert_outcomes(passed=1)
    records = [json.loads(path.read_text()) for path in pytester.path.glob("boundary-*.json")]
    assert len(records) == (
        3 if "-n" in arguments else 1
    )  # the controller and its two workers, or the session
    assert any(
        record["locust_imported"] for record in records
    )  # the test module's User classes came from Locust
    for record in records:
        assert record["runtime_modules"] == []
        assert record["gevent_patched"] is False
