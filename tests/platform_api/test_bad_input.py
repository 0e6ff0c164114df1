"""Bad input of every kind on every route gets a 4xx with a JSON error body, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from loadtests.platform_api.server import PlatformApiServer
from tests.platform_api.support import Account, assert_client_error, assert_error

BODY_ROUTES = ["/auth/register", "/auth/login", "/generations", "/payments", "/subscriptions"]
LIST_ROUTES = ["/generations", "/payments", "/subscriptions"]
JSON = {"Content-Type": "application/json"}

# (raw body, extra headers, expected status, expected code)
MALFORMED_BODIES: dict[str, tuple[bytes, dict[str, str], int, str]] = {
    "truncated json": (b'{"email": ', JSON, 422, "invalid_json"),
    "empty body": (b"", JSON, 422, "invalid_json"),
    "json array": (b"[1, 2]", JSON, 422, "invalid_json"),
    "json string": (b'"hello"', JSON, 422, "invalid_json"),
    "json null": (b"null", JSON, 422, "invalid_json"),
    "NaN literal": (b'{"amount": NaN}', JSON, 422, "invalid_json"),
    "invalid utf-8": (b'{"prompt": "\xff\xfe"}', JSON, 422, "invalid_json"),
    "deeply nested": (b"[" * 20000 + b"]" * 20000, JSON, 422, "invalid_json"),
    "huge integer": (b'{"amount": ' + b"9" * 5000 + b"}", JSON, 422, "invalid_json"),
    "text/plain": (b'{"plan": "pro"}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    "form encoded": (
        b"plan=pro",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "unsupported_media_type",
    ),
    "empty object": (b"{}", JSON, 422, "validation_error"),
    "oversized": (b'{"prompt": "' + b"x" * 70_000 + b'"}', JSON, 413, "payload_too_large"),
}

WRONG_FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("/auth/login", {"email": "a@example.com"}),
    ("/auth/login", {"email": ["a@example.com"], "password": "password1"}),
    ("/auth/login", {"email": "a@example.com", "password": None}),
    ("/generations", {"prompt": ""}),
    ("/generations", {"prompt": "   "}),
    ("/generations", {"prompt": 5}),
    ("/generations", {"prompt": "x" * 2001}),
    ("/generations", {"prompt": "ok", "parameters": []}),
    ("/generations", {"prompt": "ok", "parameters": {"sampler": "euler"}}),
    ("/generations", {"prompt": "ok", "parameters": {"steps": "20"}}),
    ("/generations", {"prompt": "ok", "parameters": {"steps": 0}}),
    ("/generations", {"prompt": "ok", "parameters": {"steps": True}}),
    ("/generations", {"prompt": "ok", "parameters": {"width": 10**9}}),
    ("/generations", {"prompt": "ok", "parameters": {"model": "dall-e"}}),
    ("/payments", {"currency": "USD"}),
    ("/payments", {"amount": 10}),
    ("/payments", {"amount": 0, "currency": "USD"}),
    ("/payments", {"amount": -5, "currency": "USD"}),
    ("/payments", {"amount": "abc", "currency": "USD"}),
    ("/payments", {"amount": "NaN", "currency": "USD"}),
    ("/payments", {"amount": "Infinity", "currency": "USD"}),
    ("/payments", {"amount": "1e400000", "currency": "USD"}),
    ("/payments", {"amount": True, "currency": "USD"}),
    ("/payments", {"amount": None, "currency": "USD"}),
    ("/payments", {"amount": {"value": 1}, "currency": "USD"}),
    ("/payments", {"amount": "1.001", "currency": "USD"}),
    ("/payments", {"amount": 10_000_001, "currency": "USD"}),
    ("/payments", {"amount": 5, "currency": "JPY"}),
    ("/payments", {"amount": 5, "currency": 840}),
    ("/payments", {"amount": 5, "currency": "USD", "idempotency_key": 7}),
    ("/payments", {"amount": 5, "currency": "USD", "idempotency_key": ""}),
    ("/payments", {"amount": 5, "currency": "USD", "idempotency_key": "k" * 256}),
    ("/subscriptions", {"plan": "gold"}),
    ("/subscriptions", {"plan": 1}),
    ("/subscriptions", {"plan": None}),
]


@pytest.mark.parametrize("case", sorted(MALFORMED_BODIES))
@pytest.mark.parametrize("path", BODY_ROUTES)
def test_malformed_bodies(
    api: PlatformApiServer, http: requests.Session, account: Account, path: str, case: str
) -> None:
    raw, headers, status, code = MALFORMED_BODIES[case]
    response = http.post(f"{api.url}{path}", data=raw, headers={**account.headers, **headers})
    assert_error(response, status, code)


@pytest.mark.parametrize(("path", "body"), WRONG_FIELDS)
def test_missing_and_wrong_fields_are_422(
    api: PlatformApiServer, http: requests.Session, account: Account, path: str, body: dict[str, Any]
) -> None:
    response = http.post(f"{api.url}{path}", json=body, headers=account.headers)
    assert_error(response, 422, "validation_error")


def test_idempotency_key_in_header_and_body_must_agree(
    api: PlatformApiServer, http: requests.Session, account: Account
) -> None:
    body: dict[str, Any] = {"amount": 5, "currency": "USD", "idempotency_key": "a"}
    response = http.post(
        f"{api.url}/payments", json=body, headers={**account.headers, "Idempotency-Key": "b"}
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=",
        "page=1.5",
        "page=%C2%B2",
        "page_size=0",
        "page_size=101",
        "page=99999999",
    ],
)
@pytest.mark.parametrize("path", LIST_ROUTES)
def test_bad_pagination_is_422(
    api: PlatformApiServer, http: requests.Session, account: Account, path: str, query: str
) -> None:
    assert_error(http.get(f"{api.url}{path}?{query}", headers=account.headers), 422, "validation_error")


def test_chunked_body_is_read_and_bounded(
    api: PlatformApiServer, http: requests.Session, account: Account
) -> None:
    def chunks(total: int) -> Any:
        yield b'{"prompt": "'
        yield b"x" * total
        yield b'"}'

    small = http.post(f"{api.url}/generations", data=chunks(10), headers={**account.headers, **JSON})
    assert small.status_code == 201, small.text
    large = http.post(f"{api.url}/generations", data=chunks(100_000), headers={**account.headers, **JSON})
    assert_error(large, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/nope"),
        ("POST", "/auth"),
        ("GET", "/generations/"),
        ("GET", "/generations/a/b"),
        ("GET", "/HEALTH"),
    ],
)
def test_unknown_routes_are_404(
    api: PlatformApiServer, http: requests.Session, method: str, path: str
) -> None:
    assert_error(http.request(method, f"{api.url}{path}"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/health", "GET"),
        ("DELETE", "/metrics", "GET"),
        ("GET", "/auth/register", "POST"),
        ("GET", "/auth/login", "POST"),
        ("PUT", "/auth/me", "DELETE, GET"),
        ("PATCH", "/generations", "GET, POST"),
        ("DELETE", "/generations/abc", "GET"),
        ("PUT", "/payments", "GET, POST"),
        ("DELETE", "/subscriptions", "GET, POST"),
    ],
)
def test_wrong_method_is_405(
    api: PlatformApiServer, http: requests.Session, method: str, path: str, allowed: str
) -> None:
    response = http.request(method, f"{api.url}{path}")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize(
    "path", BODY_ROUTES + LIST_ROUTES + ["/auth/me", "/generations/x", "/health", "/metrics"]
)
@pytest.mark.parametrize("junk", [b"\x00\x01", b"{" * 3, b'{"a": 1}'])
def test_junk_on_any_route_is_never_a_500(
    api: PlatformApiServer, http: requests.Session, account: Account, path: str, junk: bytes
) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        response = http.request(method, f"{api.url}{path}", data=junk, headers={**account.headers, **JSON})
        assert response.status_code < 500, f"{method} {path}: {response.status_code} {response.text}"
        if response.status_code >= 400:
            assert_client_error(response)
