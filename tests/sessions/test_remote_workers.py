"""Workers started by hand on another host (``--load-expect-workers``), across a real network boundary.

The pytest session and its master run here; the worker runs, with the documented command, inside a network namespace
made for the test (a host of its own, joined to this one by a veth pair); the target is a third address, the
namespace's second one, served by a server that counts every connection it accepts. The users record the values
they got and the network namespace they ran in. A test body as the task cannot run on such workers: that is refused
at set-up, before any worker is waited for or any request is sent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from pytest_loadtest.guard import REFUSED
from tests.support.netns import NamespaceHost, NamespaceUnavailable
from tests.support.processes import MARK, PytestProcess, marked_processes
from tests.support.target import TargetServer

TARGET_PORT, FORBIDDEN_PORT = 8080, 8081
TOKEN = "token-from-the-fixture"
RATE, DURATION = 20, 2

USERS = """
import os

from locust import FastHttpUser, constant, task

from pytest_loadtest.shared_values import load_value


class TargetUser(FastHttpUser):
    wait_time = constant(30)  # ignored under rate=: the schedule starts each iteration

    def on_start(self):
        with open(f"seen-{{os.getpid()}}.txt", "a") as seen:
            seen.write(f"{{load_value('token')}} {{os.readlink('/proc/self/ns/net')}}\\n")

    @task
    def health(self):
        self.client.get("/health")


class ForbiddenUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def elsewhere(self):
        self.client.get("http://{forbidden}:{forbidden_port}/x")  # an absolute URL to a host not allowed
"""

TESTS = f"""
import json

import pytest

from remote_users import ForbiddenUser, TargetUser


@pytest.fixture
def token():
    return "{TOKEN}"


@pytest.mark.load(
    TargetUser, users=4, duration={DURATION}, rate={RATE}, values=["token"], thresholds={{"dropped_iterations": "0"}}
)
def test_target(load_result, token):
    with open("target.json", "w") as out:
        json.dump(load_result.to_dict(), out)


@pytest.mark.load(ForbiddenUser, users=1, duration=1, min_samples=0)
def test_forbidden():
    pass
"""


@pytest.fixture
def namespace_host() -> Iterator[NamespaceHost]:
    try:
        with NamespaceHost((TARGET_PORT, FORBIDDEN_PORT)) as host:
            yield host
    except NamespaceUnavailable as exc:
        pytest.skip(f"the remote worker runs in a network namespace made for the test: {exc}")


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_worker_on_another_host_runs_the_scenario_with_its_values_rate_and_host_guard(
    pytester: pytest.Pytester, namespace_host: NamespaceHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = f"remote-{time.monotonic_ns()}"
    monkeypatch.setenv(MARK, mark)
    host, target = namespace_host, f"http://{namespace_host.second_address}:{TARGET_PORT}"
    pytester.makepyfile(
        remote_users=USERS.format(forbidden=host.address, forbidden_port=FORBIDDEN_PORT), test_remote=TESTS
    )
    port = free_port(host.local_address)
    worker = subprocess.Popen(
        host.command(
            sys.executable, "-m", "pytest_loadtest.runtime.worker_main", "--master-host", host.local_address,
            "--master-port", str(port), "--allowed-host", host.second_address, "--loop", "test_remote.py",
        ),
        cwd=pytester.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        session = PytestProcess(
            pytester.path,
            ("--load-host", target, "--load-expect-workers", "1", "--load-master-bind-host", host.local_address,
             "--load-master-bind-port", str(port), "--load-worker-timeout", "30", "--junitxml=j"),
            mark,
        )  # fmt: skip
        assert session.finish(timeout=120) == 1, session.output  # test_forbidden fails, as it must
        assert worker.poll() is None  # a looping worker serves the next session too
        worker_namespace = os.readlink(f"/proc/{worker.pid}/ns/net")  # ip netns exec became the worker
        worker.terminate()
        assert worker.wait(timeout=15) == 0
    finally:
        worker.kill()
        worker.wait()
    outcomes = {
        str(case.get("name")): [
            str(f.get("message")) + str(f.text) for f in case if f.tag in ("failure", "error", "skipped")
        ]
        for case in ET.parse(pytester.path / "j").getroot().iter("testcase")
    }
    assert outcomes["test_target"] == [], session.output

    # The requests came from the worker on the other host and reached the target: one connection per request
    # (the target closes each), plus at most one in flight per user when the users were stopped.
    figures = json.loads((pytester.path / "target.json").read_text())
    [share] = figures["workers"]
    total = figures["total"]["num_requests"]
    assert share["pid"] is None and share["received"] == total and figures["total"]["num_failures"] == 0
    deadline = time.monotonic() + 5  # the host's counts are read from its output by a thread
    while host.hits(TARGET_PORT) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    assert total <= host.hits(TARGET_PORT) <= total + 4

    # rate=: the one worker paced the whole rate (iterations started per second), each iteration one request, but
    # for the one an iteration the users' stop may have cut off (at most one per user: 4)
    assert figures["dropped_iterations"] == 0
    assert RATE * DURATION * 0.7 <= figures["iterations"] <= RATE * DURATION * 1.1, figures["iterations"]
    assert figures["iterations"] - 4 <= total <= figures["iterations"]

    # values=: every user that started got the fixture's value, in the worker's network namespace, not this one.
    seen = [
        line.split() for path in pytester.path.glob("seen-*.txt") for line in path.read_text().splitlines()
    ]
    assert len(seen) == 4 and {value for value, _ in seen} == {TOKEN}
    assert {namespace for _, namespace in seen} == {worker_namespace} != {os.readlink("/proc/self/ns/net")}

    # The worker's host guard (loopback plus --allowed-host) refused the host it was not given: nothing reached it.
    [refusal] = outcomes["test_forbidden"]
    assert f"{host.address}:{FORBIDDEN_PORT}" in refusal and REFUSED in refusal, refusal
    assert host.hits(FORBIDDEN_PORT) == 0
    assert marked_processes(mark) == []


def test_a_test_body_as_the_task_is_refused_with_workers_started_by_hand(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    """Such a worker runs the User classes of its test file and has no test function to call: refused at set-up,
    before the master waits for any worker (the default wait is 60 s) and before any request."""
    pytester.makepyfile(
        test_body="""
import pytest

@pytest.mark.load(users=2, duration=1)
def test_body(fastsession):
    fastsession.get("/health")
"""
    )
    hits_before = target.hits.get("/health", 0)
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "--load-expect-workers", "1",
        "--load-master-bind-port", "0",
    )  # fmt: skip
    assert time.monotonic() - started < 30
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-loadtest usage error: test_body.py::test_body: the load marker names no User class, so the "
            "test body is the task, and workers started by hand (--load-expect-workers 1) cannot run it: such a "
            "worker runs the User classes it finds in its test file, as locust -f does, and has no test function "
            "to call. Name User classes in the marker (@pytest.mark.load(MyUser, ...)), or start the workers here "
            "with --load-workers N*"
        ]
    )
    assert target.hits.get("/health", 0) == hits_before
