"""Helpers for the Platform API tests: accounts and error-body checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def create_account(http: requests.Session, url: str) -> Account:
    """Registers a fresh user and logs in."""
    email = unique_email()
    registered = http.post(f"{url}/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = http.post(f"{url}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return Account(registered.json()["id"], email, login.json()["access_token"])


def assert_error(response: requests.Response, status: int, code: str | None = None) -> None:
    """The response is ``status`` with a JSON error body (of ``code``, if given)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error


def assert_client_error(response: requests.Response) -> None:
    """Any 4xx with a JSON error body: bad input must never be a 500."""
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text}"
    assert_error(response, response.status_code)
