"""A test body as the task: the same function is a functional test without the marker, a load scenario with it."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.plugin.body import describe_body
from tests.support.target import TargetServer

# The same function text, once plain (a functional test with Locust's own fixture and --host), once load-marked.
BODY = """
def test_token(fastsession, token):
    record("fast", type(fastsession).__name__)
    fastsession.get(f"/token/{token}/fast")
"""
HEADER = """
import os

import pytest


@pytest.fixture
def token():
    return "tok-1"


def record(name, what):
    with open(f"{name}.log", "a") as handle:
        handle.write(f"{os.getpid()} {what}\\n")
"""
LOAD_TESTS = """

@pytest.mark.load(users=2, duration=1, rate=20)
def test_requests_client(session, token):
    record("requests", type(session).__name__)
    session.get(f"/token/{token}/requests")


@pytest.mark.load(users=2, duration=1, rate=20)
def test_failing_body(fastsession):
    assert fastsession.get("/status/500").status_code == 200


@pytest.mark.load(users=2, duration=1)
def test_no_client(token):
    pass


@pytest.mark.load(users=2, duration=1)
def test_wants_the_result(fastsession, load_result):
    pass
"""


def pids(path: Any) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for line in path.read_text().splitlines():
        pid, what = line.split(" ", 1)
        found.setdefault(int(pid), set()).add(what)
    return found


@pytest.mark.slow
def test_a_function_is_a_functional_test_without_the_marker_and_the_task_of_every_user_with_it(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makeconftest("import os\nopen('pytest.pid', 'w').write(str(os.getpid()))\n")
    pytester.makepyfile(test_functional=HEADER + BODY)
    before = target.hits.get("/token/tok-1/fast", 0)
    plain = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--host", target.url
    )  # Locust's own option
    plain.assert_outcomes(passed=1)
    assert target.hits.get("/token/tok-1/fast", 0) == before + 1
    (pytester.path / "fast.log").unlink()

    marked = HEADER + "\n@pytest.mark.load(users=2, duration=1, rate=20)" + BODY + LOAD_TESTS
    pytester.makepyfile(test_functional=marked)
    (pytester.path / "load_test_reports").mkdir(exist_ok=True)
    before = target.hits.get("/token/tok-1/fast", 0)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "--junitxml=junit.xml"
    )
    result.assert_outcomes(passed=2, failed=1, errors=2)
    pytest_pid = int((pytester.path / "pytest.pid").read_text())

    # the body ran in the engine only (never as the plain test body), ~20 iterations a second, each one request
    fast = pids(pytester.path / "fast.log")
    assert pytest_pid not in fast and set().union(*fast.values()) == {"FastHttpSession"}
    assert 15 <= target.hits.get("/token/tok-1/fast", 0) - before <= 25
    requests = pids(pytester.path / "requests.log")
    assert pytest_pid not in requests and set().union(*requests.values()) == {"HttpSession"}

    result.stdout.fnmatch_lines(
        [
            "*test_no_client: the load marker names no User class, so the test body is the task of every user "
            "and must take Locust's client: add a 'fastsession' parameter (the fast client; or 'session' for "
            "requests), or name User classes: @pytest.mark.load(MyUser, ...)",
            "*test_wants_the_result: the test body runs as the load task, so it cannot take the load_result "
            "fixture*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_failing_body: user code raised * exception(s) during the load scenario:",
            "*x assert failed in test_failing_body",
        ]
    )


def test_a_body_needs_a_host(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n\n@pytest.mark.load(users=1, duration=1)\ndef test_x(fastsession):\n    pass\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*test_x: no host for the test body run as the load task: pass --load-host*"]
    )


def fast_body(fastsession: Any, token: Any, other: int = 1) -> None:
    """A parameter with a default is not a fixture (as in pytest)."""


def requests_body(session: Any) -> None: ...


def both_clients(session: Any, fastsession: Any) -> None: ...


def test_the_client_is_the_fast_one_unless_only_session_is_taken() -> None:
    def local(fastsession: Any) -> None: ...

    assert describe_body("t", fast_body) == {
        "client": "fast",
        "clients": ["fastsession"],
        "values": ["token"],
    }
    assert describe_body("t", requests_body) == {"client": "requests", "clients": ["session"], "values": []}
    assert describe_body("t", both_clients)["client"] == "fast"
    with pytest.raises(
        LoadTestUsageError, match=r"^t: a test body run as the load task must be a module-level"
    ):
        describe_body("t", local)  # the engine process could not import it
