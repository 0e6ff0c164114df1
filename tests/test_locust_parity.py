"""Parity with plain Locust: the same file run by ``locust --headless -f FILE`` and through the load marker, against
the same loopback target, ends the same way."""

from __future__ import annotations

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
    result.assert_outcomes(failed=2, passed=1)
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
    refused.assert_outcomes(errors=1)
    refused.stdout.fnmatch_lines(
        [
            "*test_no_thresholds: --load-max-fail-ratio='150%' from the command line: must be a ratio from 0% to 100%*"
        ]
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
    plain = run_plain_locust(locustfile, "PageUser", "-u", "2", "-r", "2", "-t", "1s", "--host", host)
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
