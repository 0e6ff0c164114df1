"""What every signed-in user of the suite shares: synthetic data and getting an access token in ``on_start``.

A user signs in as one of the accounts the seeder created before the scenario (their list reaches the engine
process through ``LOADTESTS_ACCOUNTS_FILE``); without seeded accounts it registers a fresh one and logs in.
"""

from __future__ import annotations

import itertools
import os
import random
from functools import cache
from pathlib import Path

from locust import FastHttpUser

from loadtests.helpers import settings
from loadtests.helpers.data import Credentials, TestDataGenerator
from loadtests.helpers.seeder import SeededAccount, read_accounts

_user_numbers = itertools.count(1)


@cache
def seeded_accounts() -> tuple[SeededAccount, ...]:
    """The accounts seeded for this scenario (read once per engine process); empty when none were seeded."""
    path = os.environ.get(settings.ACCOUNTS_FILE_VAR, "")
    return tuple(read_accounts(Path(path))) if path else ()


def data_generator() -> TestDataGenerator:
    """A generator per simulated user: reproducible per user number when LOAD_SEED is set."""
    base = settings.seed()
    number = next(_user_numbers)
    return TestDataGenerator(None if base is None else base * 100_003 + number)


class ApiUser(FastHttpUser):
    """A signed-in API client; subclasses add the tasks."""

    abstract = True

    def on_start(self) -> None:
        self.data = data_generator()
        self.credentials = self.pick_credentials()
        self.token = self.login(self.credentials)

    def pick_credentials(self) -> Credentials:
        accounts = seeded_accounts()
        if accounts:
            account = random.choice(accounts)
            return Credentials(account.email, account.password)
        credentials = self.data.credentials()
        self.client.post("/auth/register", json=credentials.to_dict(), name="/auth/register")
        return credentials

    def login(self, credentials: Credentials) -> str:
        with self.client.post(
            "/auth/login", json=credentials.to_dict(), name="/auth/login", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"login failed with {response.status_code}")
                return ""
            return str(response.json().get("access_token", ""))

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
