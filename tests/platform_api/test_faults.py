"""Fault injection: servers started with an error rate or extra latency, as the threshold tests will use them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from loadtests.platform_api.server import PlatformApiServer
from tests.platform_api.support import assert_error

FAULTY_PATHS = [
    ("GET", "/auth/me"),
    ("POST", "/auth/login"),
    ("GET", "/generations"),
    ("GET", "/no-such-route"),
]
EXTRA_LATENCY_MS = 250


@pytest.fixture(scope="module")
def failing_api() -> Iterator[PlatformApiServer]:
    with PlatformApiServer(error_rate=1.0) as server:
        yield server


@pytest.fixture(scope="module")
def flaky_api() -> Iterator[PlatformApiServer]:
    with PlatformApiServer(error_rate=0.5) as server:
        yield server


@pytest.fixture(scope="module")
def slow_api() -> Iterator[PlatformApiServer]:
    with PlatformApiServer(extra_latency_ms=EXTRA_LATENCY_MS) as server:
        yield server


@pytest.mark.parametrize(("method", "path"), FAULTY_PATHS)
def test_error_rate_one_fails_every_request(
    failing_api: PlatformApiServer, http: requests.Session, method: str, path: str
) -> None:
    response = http.request(
        method, f"{failing_api.url}{path}", json={"email": "a@example.com", "password": "x" * 8}
    )
    assert_error(response, 503, "service_unavailable")
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("path", ["/health", "/metrics"])
def test_operational_routes_are_exempt(
    failing_api: PlatformApiServer, http: requests.Session, path: str
) -> None:
    assert http.get(f"{failing_api.url}{path}").status_code == 200


def test_error_rate_is_a_fraction(flaky_api: PlatformApiServer, http: requests.Session) -> None:
    statuses = [http.get(f"{flaky_api.url}/auth/me").status_code for _ in range(400)]
    assert set(statuses) == {401, 503}
    assert 0.38 < statuses.count(503) / len(statuses) < 0.62  # binomial(400, 0.5): outside is a < 1e-5 event


def _elapsed_s(http: requests.Session, url: str) -> float:
    started = time.perf_counter()
    http.get(url)
    return time.perf_counter() - started


def test_extra_latency_is_added(slow_api: PlatformApiServer, http: requests.Session) -> None:
    slowed = [_elapsed_s(http, f"{slow_api.url}/auth/me") for _ in range(3)]
    exempt = [_elapsed_s(http, f"{slow_api.url}/health") for _ in range(3)]
    assert min(slowed) >= EXTRA_LATENCY_MS / 1000
    assert max(exempt) < EXTRA_LATENCY_MS / 1000
