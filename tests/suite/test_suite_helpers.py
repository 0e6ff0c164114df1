"""The load suite's helpers against a real reference Platform API: tokens, synthetic data, the seeder and its CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from loadtests.helpers.data import TestDataGenerator
from loadtests.helpers.seeder import DataSeeder, SeedError, read_accounts
from loadtests.helpers.settings import SettingError, api_thresholds
from loadtests.helpers.tokens import NEGATIVE_KINDS, AuthTokenGenerator
from loadtests.platform_api.server import PlatformApiServer
from pytest_loadtest.errors import LoadTestUsageError

REPO = Path(__file__).resolve().parents[2]
SECRET = "s" * 40


@pytest.fixture(scope="module")
def api() -> Iterator[PlatformApiServer]:
    with PlatformApiServer(jwt_secret=SECRET, generation_latency_ms=0) as server:
        yield server


def test_generated_data_is_reproducible_and_accepted_by_the_api(
    api: PlatformApiServer, http: requests.Session
) -> None:
    first, second = TestDataGenerator(seed=7, namespace="a"), TestDataGenerator(seed=7, namespace="a")
    assert [first.email(), first.password(), first.prompt()] == [
        second.email(),
        second.password(),
        second.prompt(),
    ]
    assert first.payment_payload() == second.payment_payload()
    assert (
        TestDataGenerator(seed=8, namespace="a").email() != TestDataGenerator(seed=7, namespace="a").email()
    )
    assert (
        TestDataGenerator(seed=7).email() != TestDataGenerator(seed=7).email()
    )  # never the same account twice
    with DataSeeder(api.url, first) as seeder:
        (account,) = seeder.seed(1)
    auth = {"Authorization": f"Bearer {account.token}"}
    generation = http.post(
        f"{api.url}/generations", json=first.generation_payload(), headers=auth, timeout=10
    )
    payment = http.post(f"{api.url}/payments", json=first.payment_payload(), headers=auth, timeout=10)
    assert (generation.status_code, payment.status_code) == (201, 201), generation.text + payment.text


def test_minted_tokens_are_accepted_and_bad_ones_refused(
    api: PlatformApiServer, http: requests.Session
) -> None:
    with DataSeeder(api.url, TestDataGenerator(seed=1)) as seeder:
        (account,) = seeder.seed(1)
    tokens = AuthTokenGenerator(SECRET)
    me = http.get(
        f"{api.url}/auth/me", headers={"Authorization": f"Bearer {tokens.valid(account.id)}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["email"] == account.email
    for kind in NEGATIVE_KINDS:
        token = tokens.invalid(kind, account.id)
        refused = http.get(f"{api.url}/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert refused.status_code == 401, (kind, refused.text)
        assert refused.json()["error"]["code"] == "unauthorized"
    with pytest.raises(ValueError, match="LOAD_JWT_SECRET"):
        AuthTokenGenerator(None).valid(account.id)
    with pytest.raises(ValueError, match="unknown negative token kind 'odd'"):
        tokens.invalid("odd")


def test_the_seeder_creates_users_with_subscriptions_and_removes_them(
    api: PlatformApiServer, http: requests.Session
) -> None:
    with DataSeeder(api.url, TestDataGenerator(seed=2)) as seeder:
        accounts = seeder.seed(3)
        assert len({account.email for account in accounts}) == 3
        for account in accounts:
            listed = http.get(
                f"{api.url}/subscriptions", headers={"Authorization": f"Bearer {account.token}"}, timeout=10
            ).json()
            assert [item["plan"] for item in listed["items"]] == [account.plan]
        assert seeder.cleanup(accounts) == 3
        assert seeder.cleanup(accounts) == 0  # already gone: skipped
        with pytest.raises(SeedError, match="answered 401"):
            seeder.login(accounts[0].email, accounts[0].password)


def test_the_seed_command_seeds_and_cleans_up(api: PlatformApiServer, tmp_path: Path) -> None:
    listing = tmp_path / "accounts.json"

    def seed(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "loadtests.seed", "--host", api.url, *args]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)

    created = seed("--users", "4", "--seed", "3", "--output", str(listing))
    assert created.returncode == 0, created.stderr
    assert f"seeded 4 account(s) with subscriptions on {api.url}" in created.stdout
    assert len(read_accounts(listing)) == len(json.loads(listing.read_text())) == 4
    removed = seed("--cleanup", str(listing))
    assert removed.returncode == 0 and "deleted 4 account(s)" in removed.stdout, removed.stderr
    refused = seed("--users", "0")
    assert refused.returncode == 2 and "must be within 1..100000, got 0" in refused.stderr


def test_threshold_settings_come_from_the_environment() -> None:
    generation = api_thresholds(
        "generation", {"LOAD_GENERATION_P95_MS": "450", "LOAD_GENERATION_MIN_RPS": "12"}
    )
    assert generation.marker_thresholds() == {
        "fail_ratio": "<=5%",
        "p95": "<=450ms",
        "p99": "<=800ms",
        "POST /generations": {"rps": ">=12"},
    }
    assert api_thresholds("auth", {}).marker_thresholds() == {
        "fail_ratio": "<=1%",
        "p95": "<=200ms",
        "p99": "<=300ms",
    }
    with pytest.raises(
        SettingError, match=r"LOAD_AUTH_P99_MS='fast' in the environment or \.env\.load-testing"
    ):
        api_thresholds("auth", {"LOAD_AUTH_P99_MS": "fast"})


def test_the_local_env_file_overrides_the_committed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_loadtest.settings.envfile import load_env_file

    for name in ("LOAD_AUTH_P95_MS", "LOAD_AUTH_P99_MS", "LOAD_AUTH_MAX_FAIL_RATIO"):
        monkeypatch.setenv(name, "")  # recorded, so that what the files set is undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("LOAD_AUTH_MAX_FAIL_RATIO", "2")  # the real environment beats both files
    committed = tmp_path / ".env.load-testing"
    committed.write_text("LOAD_AUTH_P95_MS=200\nLOAD_AUTH_P99_MS=300\nLOAD_AUTH_MAX_FAIL_RATIO=1\n")
    (tmp_path / ".env.load-testing.local").write_text("LOAD_AUTH_P95_MS=150\n")
    load_env_file(committed)
    assert api_thresholds("auth") == api_thresholds(
        "auth", {"LOAD_AUTH_P95_MS": "150", "LOAD_AUTH_P99_MS": "300", "LOAD_AUTH_MAX_FAIL_RATIO": "2"}
    )
    (tmp_path / ".env.load-testing.local").write_text("not a setting\n")
    with pytest.raises(
        LoadTestUsageError, match=r"\.env\.load-testing\.local, line 1: cannot parse 'not a setting'"
    ):
        load_env_file(committed)
