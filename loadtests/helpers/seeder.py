"""Creates N users (each with a subscription) through the API before a scenario, and removes them afterwards.

The seeder talks HTTP only, so it seeds the reference API and any Platform API alike. Every request has a timeout
and the number of requests is bounded by the account count; a failed step raises ``SeedError`` with the API's answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from loadtests.helpers.data import TestDataGenerator

TIMEOUT_S = 10.0
ATTEMPTS = 8
"""Tries per request: a 5xx or a connection error is retried (a target under test may shed some requests)."""
RETRY_PAUSE_S = 0.05


class SeedError(RuntimeError):
    """The API refused a seeding step."""


@dataclass(frozen=True)
class SeededAccount:
    id: str
    email: str
    password: str
    token: str
    plan: str


class DataSeeder:
    """Seeds accounts on the API at ``host`` with data from ``data``."""

    def __init__(self, host: str, data: TestDataGenerator | None = None) -> None:
        self.host = host.rstrip("/")
        self.data = data or TestDataGenerator()
        self._http = requests.Session()
        self._http.trust_env = False  # seeding goes straight to the target, never through a proxy

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DataSeeder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def seed(self, count: int) -> list[SeededAccount]:
        """Register ``count`` users, log each in and give each a subscription."""
        if count < 0:
            raise ValueError("count must be >= 0")
        accounts: list[SeededAccount] = []
        try:
            for _ in range(count):
                accounts.append(self._seed_one())
        except BaseException:
            self.cleanup(accounts)  # leave nothing half-seeded behind
            raise
        return accounts

    def _seed_one(self) -> SeededAccount:
        credentials = self.data.credentials()
        registered = self._call("POST", "/auth/register", 201, json=credentials.to_dict())
        token = self.login(credentials.email, credentials.password)
        plan = self.data.plan()
        self._call("POST", "/subscriptions", 201, json={"plan": plan}, token=token)
        return SeededAccount(str(registered["id"]), credentials.email, credentials.password, token, plan)

    def login(self, email: str, password: str) -> str:
        answer = self._call("POST", "/auth/login", 200, json={"email": email, "password": password})
        return str(answer["access_token"])

    def cleanup(self, accounts: Iterable[SeededAccount]) -> int:
        """Delete every account (and, by cascade, its data); returns how many were deleted. Accounts already gone
        are skipped; a token that expired meanwhile is renewed by logging in again."""
        deleted = 0
        for account in accounts:
            response = self._send("DELETE", "/auth/me", token=account.token)
            if response.status_code == 401:
                try:
                    token = self.login(account.email, account.password)
                except SeedError:
                    continue  # the account no longer exists
                response = self._send("DELETE", "/auth/me", token=token)
            if response.status_code == 204:
                deleted += 1
        return deleted

    def _send(
        self, method: str, path: str, *, token: str | None = None, json: dict[str, str] | None = None
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self._http.request(
                    method, self.host + path, headers=headers, json=json, timeout=TIMEOUT_S
                )
            except requests.RequestException as exc:
                if attempt == ATTEMPTS:
                    raise SeedError(f"{method} {self.host}{path} failed {ATTEMPTS} times: {exc}") from None
            else:
                if response.status_code < 500 or attempt == ATTEMPTS:
                    return response
            time.sleep(RETRY_PAUSE_S * attempt)
        raise AssertionError("unreachable")

    def _call(
        self, method: str, path: str, expected: int, *, json: dict[str, str], token: str | None = None
    ) -> dict[str, object]:
        response = self._send(method, path, token=token, json=json)
        if response.status_code != expected:
            raise SeedError(
                f"{method} {self.host}{path} answered {response.status_code} (expected {expected}): "
                f"{response.text[:300]}"
            )
        answer: dict[str, object] = response.json()
        return answer


def write_accounts(accounts: Iterable[SeededAccount], path: Path) -> None:
    path.write_text(json.dumps([asdict(account) for account in accounts], indent=1), encoding="utf-8")


def read_accounts(path: Path) -> list[SeededAccount]:
    return [SeededAccount(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
