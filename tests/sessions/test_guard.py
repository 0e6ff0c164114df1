"""The host guard: loopback or explicitly allowed hosts only, checked before the run and on every request.

Non-loopback addresses here are in 192.0.2.0/24 (TEST-NET-1, RFC 5737): nothing may ever be sent to them, so the
proof that the guard held is its own error message and requests that fail at once instead of waiting on a connect.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.guard import REFUSED, HostGuard, HostNotAllowed, HostPattern, check_targets, is_loopback
from tests.sessions.test_plugin import USERS_MODULE
from tests.support.target import TargetServer

GUARD = HostGuard.from_entries(
    [
        "staging.example.com:8443",
        "*.int.example.com",
        "10.0.0.5",
        "[2001:db8::1]:8080",
        "https://api.example.org",
    ]
)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.9.8.7",
        "http://[::1]:5000/x",
        "http://localhost:1",
        "https://LocalHost./",
        "http://[::ffff:127.0.0.1]:80",
        "https://staging.example.com:8443/path",
        "http://a.int.example.com",
        "http://deep.a.int.example.com:9",
        "http://10.0.0.5:1234",
        "http://[2001:db8::1]:8080",
        "https://api.example.org:444",
    ],
)
def test_loopback_and_listed_hosts_are_allowed(url: str) -> None:
    GUARD.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://staging.example.com",  # the entry names port 8443 only
        "http://int.example.com",  # *.domain is for names under it, not the domain itself
        "http://evilint.example.com",
        "http://10.0.0.6",
        "http://[2001:db8::1]:8081",
        "http://192.0.2.1",
        "http://127.0.0.1.nip.io",  # resolves to loopback, but the guard never resolves names
        "http://2130706433",  # 127.0.0.1 as one number: not spelled as loopback, so refused
        "http://",
        "not a url",
    ],
)
def test_other_hosts_are_refused_without_resolving_them(url: str) -> None:
    with pytest.raises(HostNotAllowed, match=REFUSED):
        GUARD.check_url(url)


def test_loopback_is_judged_by_spelling() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("localhost.example.com") and not is_loopback("128.0.0.1")


@pytest.mark.parametrize(
    "entry", ["", "a b", "*.", "*", "host:99999", "[::1", "-bad.example", "http://", "a:b:c"]
)
def test_a_malformed_allow_list_entry_is_a_usage_error_naming_it(entry: str) -> None:
    if not entry:
        assert HostGuard.from_entries([entry]).patterns == ()  # blank lines of the ini value are skipped
        return
    with pytest.raises(LoadTestUsageError, match=r"load_allowed_hosts: cannot use allowed host"):
        HostGuard.from_entries([entry])


def test_an_entry_spelled_as_a_url_keeps_its_port_only_when_written() -> None:
    assert HostPattern.parse("https://Api.Example.org/") == HostPattern("api.example.org", None)
    assert HostPattern.parse("http://api.example.org:8080") == HostPattern("api.example.org", 8080)


def test_check_targets_names_the_test_the_host_its_source_and_the_remedy() -> None:
    with pytest.raises(LoadTestUsageError) as caught:
        check_targets("t.py::test_x", [("http://192.0.2.7:80", "the load marker of t.py::test_x")], GUARD)
    message = str(caught.value)
    for part in (
        "t.py::test_x",
        "'http://192.0.2.7:80'",
        "the load marker of t.py::test_x",
        "--load-host",
        "load_allowed_hosts",
    ):
        assert part in message


USERS = (
    USERS_MODULE
    + """

class RemoteUser(FastHttpUser):
    host = "http://192.0.2.2:8080"

    @task
    def health(self):
        self.client.get("/health")


class IdleUser(User):
    \"\"\"Sends nothing over the network: reports a made-up call, as a User of another protocol reports its own.

    It lets a test pass the guard with a non-loopback host without any traffic.
    \"\"\"

    wait_time = constant(0.1)

    @task
    def idle(self):
        self.environment.events.request.fire(
            request_type="NOOP", name="idle", response_time=1, response_length=0, exception=None, context={}
        )
"""
)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_hosts_from_marker_environment_and_ini_are_refused_unless_allowed(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(
        test_hosts=USERS
        + f"""
@pytest.mark.load(HealthUser, host="http://192.0.2.1:8080", duration=1)
def test_marker_host():
    pass

@pytest.mark.load(HealthUser, duration=1)
def test_env_host():
    pass

@pytest.mark.load(IdleUser, host="http://allowed.example:8000", duration=1)
def test_allowed_host():
    pass

@pytest.mark.load(HealthUser, host="{target.url}", duration=1)
def test_loopback_host():
    pass
"""
    )
    pytester.makeini("[pytest]\nload_allowed_hosts =\n    allowed.example:8000\n    *.staging.example.com\n")
    (pytester.path / ".env.load-testing").write_text("LOAD_HOST=http://192.0.2.3\n")
    before = target.hits.get("/health", 0)
    result = run(pytester)
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_marker_host*",
            f"*test_hosts.py::test_marker_host: host 'http://192.0.2.1:8080' from the load marker of "
            f"test_hosts.py::test_marker_host is {REFUSED}*--load-host*load_allowed_hosts*",
            "*ERROR at setup of test_env_host*",
            f"*test_env_host: host 'http://192.0.2.3' from the environment is {REFUSED}*",
        ]
    )
    assert target.hits.get("/health", 0) > before  # the loopback test ran for real


@pytest.mark.slow
def test_a_user_class_host_is_refused_and_the_command_line_host_is_allowed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_attribute=USERS
        + """
@pytest.mark.load(RemoteUser, duration=1)
def test_from_class():
    pass

@pytest.mark.load(IdleUser, duration=1)
def test_idle():
    pass
"""
    )
    result = run(pytester, "-k", "from_class")
    result.assert_outcomes(errors=1, deselected=1)
    result.stdout.fnmatch_lines(
        [f"*host 'http://192.0.2.2:8080' from the host attribute of RemoteUser is {REFUSED}*"]
    )
    # --load-host counts as allowing that host (IdleUser sends nothing over the network, so nothing reaches it)
    run(pytester, "-k", "idle", "--load-host", "http://cli-allowed.example:9").assert_outcomes(
        passed=1, deselected=1
    )


REDIRECTS = """
BLOCKED = "http://192.0.2.1:9/x"


def redirect(user):
    user.client.get("/redirect?to=" + user.to, name="/redirect")


class FastBlocked(FastHttpUser):
    wait_time = constant(0.05)
    tasks = [redirect]
    to = BLOCKED


class SlowBlocked(HttpUser):
    wait_time = constant(0.05)
    tasks = [redirect]
    to = BLOCKED


class FastFollowed(FastBlocked):
    to = LOOPBACK


class SlowFollowed(SlowBlocked):
    to = LOOPBACK
"""


@pytest.mark.slow
def test_redirects_to_loopback_are_followed_and_to_other_hosts_fail_without_a_connection(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    tests = "".join(
        f"\n@pytest.mark.load({user}, users=2, duration=1)\ndef test_{user.lower()}():\n    pass\n"
        for user in ("FastBlocked", "SlowBlocked", "FastFollowed", "SlowFollowed")
    )
    pytester.makepyfile(test_redirects=USERS + f'LOOPBACK = "{target.url}/health"\n' + REDIRECTS + tests)
    before = dict(target.hits)
    result = run(pytester, "--load-host", target.url, "--junitxml=junit.xml")
    result.assert_outcomes(failed=2, passed=2)
    result.stdout.fnmatch_lines(
        [
            f"*test_fastblocked: * request(s) {REFUSED}*",
            f"*GET /redirect: request to http://192.0.2.1:9/x {REFUSED}*",
            f"*test_slowblocked: * request(s) {REFUSED}*",
        ]
    )
    # Every blocked redirect failed at once: a connect to TEST-NET would have hung past the scenario's end instead.
    for case in ET.parse(pytester.path / "junit.xml").getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        failures, requests = int(properties["load.failures"]), int(properties["load.requests"])
        assert requests >= 10 and failures == (requests if "blocked" in str(case.get("name")) else 0)
    assert target.hits["/redirect"] - before.get("/redirect", 0) >= 40
    assert target.hits["/health"] - before.get("/health", 0) >= 20
