"""Registration, login, the current user, token checks on every protected route, and account deletion."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests

from loadtests.platform_api.server import PlatformApiServer
from tests.platform_api.support import PASSWORD, Account, assert_error, create_account, unique_email

PROTECTED_ROUTES = [
    ("GET", "/auth/me", None),
    ("DELETE", "/auth/me", None),
    ("POST", "/generations", {"prompt": "a lighthouse at dusk"}),
    ("GET", "/generations", None),
    ("GET", "/generations/0123456789abcdef", None),
    ("POST", "/payments", {"amount": "5.00", "currency": "USD"}),
    ("GET", "/payments", None),
    ("POST", "/subscriptions", {"plan": "pro"}),
    ("GET", "/subscriptions", None),
]


def test_health(api: PlatformApiServer, http: requests.Session) -> None:
    response = http.get(f"{api.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_register_login_me(api: PlatformApiServer, http: requests.Session) -> None:
    email = unique_email()
    registered = http.post(f"{api.url}/auth/register", json={"email": email.upper(), "password": PASSWORD})
    assert registered.status_code == 201
    user = registered.json()
    assert user["email"] == email  # stored lower-cased
    assert set(user) == {"id", "email", "created_at"}

    login = http.post(f"{api.url}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert jwt.decode(body["access_token"], api.config.jwt_secret, algorithms=["HS256"])["sub"] == user["id"]

    me = http.get(f"{api.url}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == user


def test_duplicate_email_is_409(api: PlatformApiServer, http: requests.Session, account: Account) -> None:
    response = http.post(
        f"{api.url}/auth/register", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert_error(response, 409, "email_taken")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "no-at-sign.example.com", "password": PASSWORD},
        {"email": "a@b", "password": PASSWORD},
        {"email": "a b@example.com", "password": PASSWORD},
        {"email": "short@example.com", "password": "1234567"},
        {"email": "x" * 250 + "@example.com", "password": PASSWORD},
        {"email": "long@example.com", "password": "p" * 129},
        {"password": PASSWORD},
        {"email": "missing@example.com"},
        {"email": 42, "password": PASSWORD},
        {"email": "types@example.com", "password": 12345678},
        {"email": "", "password": PASSWORD},
    ],
)
def test_bad_registration_is_422(
    api: PlatformApiServer, http: requests.Session, body: dict[str, Any]
) -> None:
    assert_error(http.post(f"{api.url}/auth/register", json=body), 422, "validation_error")


def test_non_json_registration_is_422(api: PlatformApiServer, http: requests.Session) -> None:
    response = http.post(
        f"{api.url}/auth/register", data=b"email=a@example.com", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "invalid_json")


@pytest.mark.parametrize("case", ["wrong password", "unknown email"])
def test_bad_credentials_are_401(
    api: PlatformApiServer, http: requests.Session, account: Account, case: str
) -> None:
    body = {
        "wrong password": {"email": account.email, "password": PASSWORD + "!"},
        "unknown email": {"email": unique_email(), "password": PASSWORD},
    }[case]
    assert_error(http.post(f"{api.url}/auth/login", json=body), 401, "unauthorized")


def _forged(api: PlatformApiServer, account: Account, variant: str) -> dict[str, str]:
    """Authorization headers that must all be refused."""
    now = int(time.time())
    claims = {"sub": account.id, "iat": now, "exp": now + 600}
    secret = api.config.jwt_secret
    headers = {
        "missing": {},
        "empty bearer": {"Authorization": "Bearer "},
        "wrong scheme": {"Authorization": f"Basic {account.token}"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        "expired": {
            "Authorization": "Bearer " + jwt.encode({**claims, "iat": now - 120, "exp": now - 60}, secret)
        },
        "wrong signature": {"Authorization": "Bearer " + jwt.encode(claims, "another-secret-" + "x" * 32)},
        "tampered subject": {
            "Authorization": "Bearer "
            + _swap_payload(account.token, jwt.encode({**claims, "sub": "someone-else"}, secret))
        },
        "no expiry": {"Authorization": "Bearer " + jwt.encode({"sub": account.id, "iat": now}, secret)},
        "alg none": {"Authorization": "Bearer " + jwt.encode(claims, None, algorithm="none")},
        "unknown user": {"Authorization": "Bearer " + jwt.encode({**claims, "sub": "no-such-user"}, secret)},
    }
    return headers[variant]


def _swap_payload(token: str, donor: str) -> str:
    """``token``'s header and signature around ``donor``'s payload."""
    header, _, signature = token.split(".")
    return ".".join([header, donor.split(".")[1], signature])


@pytest.mark.parametrize(
    "variant",
    [
        "missing",
        "empty bearer",
        "wrong scheme",
        "garbage",
        "expired",
        "wrong signature",
        "tampered subject",
        "no expiry",
        "alg none",
        "unknown user",
    ],
)
@pytest.mark.parametrize(("method", "path", "body"), PROTECTED_ROUTES)
def test_protected_routes_refuse_bad_tokens(
    api: PlatformApiServer,
    http: requests.Session,
    account: Account,
    variant: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    response = http.request(method, f"{api.url}{path}", json=body, headers=_forged(api, account, variant))
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_delete_me_removes_the_user_and_their_data(api: PlatformApiServer, http: requests.Session) -> None:
    account = create_account(http, api.url)
    assert (
        http.post(
            f"{api.url}/payments", json={"amount": 3, "currency": "EUR"}, headers=account.headers
        ).status_code
        == 201
    )

    deleted = http.delete(f"{api.url}/auth/me", headers=account.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""

    assert_error(http.get(f"{api.url}/auth/me", headers=account.headers), 401, "unauthorized")
    login = http.post(f"{api.url}/auth/login", json={"email": account.email, "password": PASSWORD})
    assert_error(login, 401, "unauthorized")
    again = http.post(f"{api.url}/auth/register", json={"email": account.email, "password": PASSWORD})
    assert again.status_code == 201
    assert again.json()["id"] != account.id
    fresh = http.post(f"{api.url}/auth/login", json={"email": account.email, "password": PASSWORD}).json()
    payments = http.get(f"{api.url}/payments", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert payments.json()["total"] == 0
