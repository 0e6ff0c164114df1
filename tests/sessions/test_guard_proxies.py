"""The host guard judges a request's proxy as it judges its target: a proxy that is not allowed is never connected to.

The unit tests drive real requests and geventhttpclient objects over a transport that records instead of connecting.
The session's proxy is a host in a network namespace made for the test, counting every connection that reaches it;
each way of giving a client a proxy must fail its load test with the guard's refusal while that count stays 0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import requests.adapters
from geventhttpclient.client import HTTPClient, HTTPClientPool

from pytest_loadtest.guard import REFUSED
from pytest_loadtest.runtime import client_guard
from tests.support.netns import NamespaceHost, NamespaceUnavailable
from tests.support.target import TargetServer

NOT_ALLOWED = "198.18.0.2"  # RFC 2544's test range: the recording transport below never connects anywhere
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def without_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy setting of this machine's environment (lower case wins in requests) where a test sets its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize(
    ("url", "proxies", "proxy"),
    [
        ("http://127.0.0.1:5/x", None, None),
        ("http://127.0.0.1:5/x", {"https": "http://p.example:1"}, None),  # a proxy for the other scheme
        ("http://127.0.0.1:5/x", {"http": f"http://{NOT_ALLOWED}:3128"}, (NOT_ALLOWED, 3128)),
        ("http://127.0.0.1:5/x", {"http": f"{NOT_ALLOWED}:3128"}, (NOT_ALLOWED, 3128)),  # no scheme: http://
        ("http://a.example/x", {"http": "http://Proxy.Example"}, ("proxy.example", 80)),
        ("https://a.example/x", {"all": "socks5h://user:pw@proxy.example"}, ("proxy.example", 1080)),
        ("http://a.example/x", {"http://a.example": "http://[::1]:81", "http": "http://b"}, ("[::1]", 81)),
        # no host as requests reads it (scheme "localhost"): requests refuses it before any connection
        ("http://a.example/x", {"http": "localhost:3128"}, None),
    ],
)
def test_the_proxy_of_a_request_is_the_one_requests_connects_to(
    url: str, proxies: dict[str, str] | None, proxy: tuple[str, int | None] | None
) -> None:
    assert client_guard.requests_proxy(url, proxies) == proxy


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Both clients guarded with loopback only, requests' adapter recording the proxies it would connect through."""
    sent: list[object] = []

    def record(adapter: object, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(kwargs.get("proxies"))
        response = requests.Response()
        response.status_code, response._content, response.request = 204, b"", request
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", record)
    monkeypatch.setattr(HTTPClient, "from_url", HTTPClient.__dict__["from_url"])  # undone after the test
    without_proxy_variables(monkeypatch)
    client_guard.install([])
    return sent


def test_a_proxy_from_the_environment_is_judged_unless_no_proxy_bypasses_it(
    guarded: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://{NOT_ALLOWED}:3128")
    with pytest.raises(client_guard.RequestsHostRefusedError) as refused:
        requests.get("http://127.0.0.1:9/x")
    assert str(refused.value) == (
        f"request to http://127.0.0.1:9/x through proxy {NOT_ALLOWED}:3128 {REFUSED}: "
        f"{NOT_ALLOWED} is neither loopback nor an allowed host"
    )
    monkeypatch.setenv("ALL_PROXY", f"http://{NOT_ALLOWED}:3129")
    with pytest.raises(client_guard.RequestsHostRefusedError, match=f"through proxy {NOT_ALLOWED}:3129 "):
        requests.get("https://127.0.0.1:9/x")
    assert guarded == []  # nothing reached the transport
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    requests.get("http://127.0.0.1:9/x")  # straight to loopback, as requests sends it
    monkeypatch.setenv("HTTP_PROXY", "http://localhost:3128")
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("ALL_PROXY")
    requests.get("http://127.0.0.1:9/x")  # a proxy on loopback is allowed
    assert guarded == [{}, {"http": "http://localhost:3128"}]


def test_a_session_or_request_proxy_is_judged_and_one_on_loopback_allowed(guarded: list[object]) -> None:
    with requests.Session() as session:
        session.proxies = {"http": f"http://{NOT_ALLOWED}:3130"}
        with pytest.raises(client_guard.RequestsHostRefusedError, match=f"through proxy {NOT_ALLOWED}:3130"):
            session.get("http://127.0.0.1:9/x")
        with pytest.raises(client_guard.RequestsHostRefusedError, match=f"through proxy {NOT_ALLOWED}:3131"):
            requests.get("http://127.0.0.1:9/x", proxies={"http": f"http://{NOT_ALLOWED}:3131"})
        session.get("http://127.0.0.1:9/x", proxies={"http": "http://127.0.0.1:3128"})
    assert guarded == [{"http": "http://127.0.0.1:3128"}]


def test_a_fast_http_pool_proxy_is_judged_before_a_client_is_made(guarded: list[object]) -> None:
    refusing = HTTPClientPool(proxy_host=NOT_ALLOWED, proxy_port=3128)
    with pytest.raises(client_guard.HostRefusedError) as refused:
        refusing.get_client("http://127.0.0.1:9/x")
    assert str(refused.value) == (
        f"request to http://127.0.0.1:9/x through proxy {NOT_ALLOWED}:3128 {REFUSED}: "
        f"{NOT_ALLOWED} is neither loopback nor an allowed host"
    )
    assert refusing.clients == {}
    pool = HTTPClientPool(proxy_host="::1", proxy_port=3128)
    assert isinstance(pool.get_client("http://127.0.0.1:9/x"), HTTPClient)  # made, not connected


PROXY_PORTS = {
    "fast_attributes": 3128,  # FastHttpUser's proxy_host / proxy_port
    "fast_on_workers": 3129,  # the same on the workers of a distributed run
    "session_proxies": 3130,  # HttpUser: self.client.proxies set in on_start
    "request_proxies": 3131,  # HttpUser: proxies= on one request
    "environment_proxy": 3132,  # HTTP_PROXY from .env.load-testing, requests.get in a task
}

USERS = """
import pytest
import requests
from locust import FastHttpUser, HttpUser, User, constant, task

PROXY = "http://{address}"
LOOPBACK = "{loopback}"


class FastAttributes(FastHttpUser):
    wait_time = constant(0.05)
    proxy_host = "{address}"
    proxy_port = {fast_attributes}

    @task
    def health(self):
        self.client.get("/health")


class FastOnWorkers(FastAttributes):
    proxy_port = {fast_on_workers}


class SessionProxies(HttpUser):
    wait_time = constant(0.05)

    def on_start(self):
        self.client.proxies = {{"http": PROXY + ":{session_proxies}"}}

    @task
    def health(self):
        self.client.get("/health")


class RequestProxies(HttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/health", proxies={{"http": PROXY + ":{request_proxies}"}})


class EnvironmentProxy(User):
    wait_time = constant(0.05)

    @task
    def health(self):
        requests.get(LOOPBACK + "/health", timeout=1)


@pytest.mark.load(FastAttributes, duration=1)
def test_fast_attributes():
    pass


@pytest.mark.load(FastOnWorkers, users=2, workers=2, duration=1)
def test_fast_on_workers():
    pass


@pytest.mark.load(SessionProxies, duration=1)
def test_session_proxies():
    pass


@pytest.mark.load(RequestProxies, duration=1)
def test_request_proxies():
    pass


@pytest.mark.load(EnvironmentProxy, duration=1)
def test_environment_proxy():
    pass
"""


@pytest.fixture(scope="module")
def proxy_host() -> Iterator[NamespaceHost]:
    try:
        with NamespaceHost(tuple(PROXY_PORTS.values())) as host:
            yield host
    except NamespaceUnavailable as exc:
        pytest.skip(f"the proxy host lives in a network namespace made for the test: {exc}")


@pytest.mark.slow
def test_a_proxy_that_is_not_allowed_fails_the_test_and_is_never_connected_to(
    pytester: pytest.Pytester,
    target: TargetServer,
    proxy_host: NamespaceHost,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_proxy_variables(monkeypatch)  # the session's HTTP_PROXY comes from its env file
    pytester.makepyfile(
        test_proxies=USERS.format(address=proxy_host.address, loopback=target.url, **PROXY_PORTS)
    )
    proxy = f"http://{proxy_host.address}:{PROXY_PORTS['environment_proxy']}"
    (pytester.path / ".env.load-testing").write_text(f"HTTP_PROXY={proxy}\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "--junitxml=j"
    )
    result.assert_outcomes(failed=len(PROXY_PORTS))
    failures = {
        str(case.get("name")): str(failure.get("message")) + str(failure.text)
        for case in ET.parse(pytester.path / "j").getroot().iter("testcase")
        for failure in case.iter("failure")
    }
    for way, port in PROXY_PORTS.items():
        assert f"through proxy {proxy_host.address}:{port} {REFUSED}" in failures[f"test_{way}"], way
        assert proxy_host.hits(port) == 0, way
