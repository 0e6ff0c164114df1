"""The plugin through real pytest sessions (pytester subprocesses) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from tests.support.target import TargetServer

USERS_MODULE = """
import pytest
from locust import FastHttpUser, HttpUser, User, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health")


class MissingUser(HttpUser):
    wait_time = constant(0.05)

    @task
    def missing(self):
        self.client.get("/status/503", name="/status/[code]")
"""


def write_tests(pytester: pytest.Pytester, body: str, name: str = "test_load") -> None:
    pytester.makepyfile(**{name: USERS_MODULE + body})


def run(pytester: pytest.Pytester, target: TargetServer, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url, *args)


def test_passing_thresholds_pass_and_the_result_reaches_the_test(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    write_tests(
        pytester,
        """
@pytest.mark.load(HealthUser, users=5, spawn_rate=5, duration="1.5s",
                  thresholds={"p95": "<1s", "fail_ratio": "<1%", "rps": ">=5", "GET /health": {"p99": "<2s"}})
def test_health(load_result):
    assert load_result.total.num_requests == load_result.entries["GET /health"].num_requests > 10
    assert load_result.users == 5 and load_result.duration == 1.5
    assert load_result.host.startswith("http://127.0.0.1:")
    assert load_result.errors == ()
    assert [v.status.value for v in load_result.thresholds] == ["pass"] * 4
    assert load_result.total.percentile(0.95) == load_result.total.percentile(95) > 0
    import json
    json.dumps(load_result.to_dict())
""",
    )
    result = run(pytester, target, "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*load tests: 1*",
            "test*users*requests*fail %*rps*p50 ms*p95 ms*p99 ms*verdict*",
            "test_load.py::test_health*5*PASSED*",
        ]
    )
    case = ET.parse(pytester.path / "junit.xml").getroot().find(".//testcase")
    assert case is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    for name in ("users", "duration", "requests", "failures", "fail_ratio", "rps", "p50", "p95", "p99"):
        assert f"load.{name}" in properties
    assert properties["load.users"] == "5" and int(properties["load.requests"]) > 10
    assert properties["load.threshold.p95"].startswith("pass: ")
    assert properties["load.threshold.GET /health p99"].startswith("pass: ")


def test_a_marked_test_runs_its_scenario_without_asking_for_the_result(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    write_tests(
        pytester, "\n@pytest.mark.load(HealthUser, users=2, duration=1)\ndef test_quiet():\n    pass\n"
    )
    before = target.hits.get("/health", 0)
    run(pytester, target).assert_outcomes(passed=1)
    assert target.hits.get("/health", 0) > before


def test_violated_thresholds_fail_with_a_table_and_a_junit_failure(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    write_tests(
        pytester,
        """
@pytest.mark.load(MissingUser, HealthUser, users=4, duration=1,
                  thresholds={"fail_ratio": "<1%", "p95": "<5s", "/status/[code]": {"requests": ">=1000000"}})
def test_errors():
    pass
""",
    )
    result = run(pytester, target, "--junitxml=junit.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_load.py::test_errors: 2 of 3 load thresholds failed*",
            "threshold*limit*measured*verdict*",
            "fail_ratio*< 1.00%*FAIL*",
            "p95*< 5000 ms*PASS*",
            "/status/[[]code] requests*>= 1000000*FAIL*",
        ]
    )
    failure = ET.parse(pytester.path / "junit.xml").getroot().find(".//testcase/failure")
    assert failure is not None and "2 of 3 load thresholds failed" in (failure.get("message") or "")


def test_an_unreachable_target_fails_fast_with_the_error(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester, "\n@pytest.mark.load(HealthUser, users=2, duration=60)\ndef test_down():\n    pass\n"
    )
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", "http://127.0.0.1:9")
    assert time.monotonic() - started < 15
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the target http://127.0.0.1:9 could not be reached*", "*error:*onnection refused*"]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "HealthUser, users=0",
            "*test_load.py::test_bad: users=0 from the load marker of test_load.py::test_bad: must be a whole number >= 1",
        ),
        (
            "HealthUser, duration='soon'",
            "*duration='soon' from the load marker*expected seconds or a time string*",
        ),
        ("'HealthUser', users=1", "*load marker argument 1 ('HealthUser') is not a Locust User class"),
        (
            "HealthUser, thresholds={'p95': '=<1'}",
            "*test_bad: threshold 'p95': cannot parse condition '=<1'*",
        ),
        ("HealthUser, thresholds={'p9x': '<1'}", "*test_bad: unknown threshold metric 'p9x'*"),
    ],
)
def test_invalid_marker_arguments_are_usage_errors_naming_the_test(
    pytester: pytest.Pytester, target: TargetServer, marker: str, message: str
) -> None:
    write_tests(
        pytester, f"\n@pytest.mark.load({marker})\ndef test_bad():\n    pass\n\ndef test_other():\n    pass\n"
    )
    before = dict(target.hits)
    result = run(pytester, target)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_bad*", "pytest-loadtest usage error: *" + message.lstrip("*")]
    )
    assert "Traceback" not in result.stdout.str()
    assert target.hits == before


@pytest.mark.slow
def test_precedence_through_a_session(pytester: pytest.Pytester, target: TargetServer) -> None:
    write_tests(
        pytester,
        """
@pytest.mark.load(HealthUser, duration=1)
def test_from_env(load_result):
    assert load_result.users == 3

@pytest.mark.load(HealthUser, users=2, duration=1)
def test_marker_beats_env(load_result):
    assert load_result.users == 2
""",
    )
    pytester.makeini("[pytest]\nload_users = 7\nload_duration = 30s\n")
    (pytester.path / ".env.load-testing").write_text("# the suite's settings\nLOAD_USERS=3\n")
    run(pytester, target).assert_outcomes(passed=2)
    result = run(pytester, target, "--load-users", "4", "-k", "from_env")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 4 == 3*"])


def test_load_marker_selection_and_strict_markers(pytester: pytest.Pytester, target: TargetServer) -> None:
    write_tests(
        pytester,
        "\n@pytest.mark.load(HealthUser, users=1, duration=1)\ndef test_load():\n    pass\n\ndef test_unit():\n    pass\n",
    )
    run(pytester, target, "--strict-markers", "-m", "not load").assert_outcomes(passed=1, deselected=1)
    result = run(pytester, target, "--strict-markers", "-m", "load", "-q")
    result.assert_outcomes(passed=1, deselected=1)


def test_requests_imported_first_and_threaded_plain_tests(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makeconftest("import ssl, requests, urllib3\n")
    pytester.makepyfile(
        test_mixed="import requests, threading\n"
        + USERS_MODULE
        + f"""
def test_plain_threads_and_requests():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(requests.get("{target.url}/health").status_code)) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert seen == [200] * 4

@pytest.mark.load(HealthUser, users=2, duration=1, thresholds={{"requests": ">=5"}})
def test_load_after_requests():
    pass
"""
    )
    result = run(pytester, target, "-W", "error")
    result.assert_outcomes(passed=2)
    assert "MonkeyPatchWarning" not in result.stdout.str() + result.stderr.str()


@pytest.mark.slow
def test_xdist_runs_several_load_tests_per_worker(pytester: pytest.Pytester, target: TargetServer) -> None:
    pytester.makeconftest("import requests\n")
    tests = "".join(
        f"\n@pytest.mark.load(HealthUser, users=2, duration=1, thresholds={{'requests': '>=3'}})\ndef test_load_{i}():\n    pass\n"
        f"\ndef test_unit_{i}():\n    pass\n"
        for i in range(4)
    )
    write_tests(pytester, tests)
    result = run(pytester, target, "-n", "2")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*load tests: 4*"])
    assert "INTERNALERROR" not in result.stdout.str()
