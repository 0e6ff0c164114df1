"""Generations, payments and subscriptions: behaviour, pagination, idempotency, and isolation between users."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from loadtests.platform_api.server import PlatformApiServer
from tests.platform_api.conftest import GENERATION_DELAY_MS
from tests.platform_api.support import Account, assert_error, create_account


def _create(http: requests.Session, url: str, account: Account, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(url, json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_generation_moves_from_queued_to_completed(
    api: PlatformApiServer, http: requests.Session, account: Account
) -> None:
    created = _create(
        http, f"{api.url}/generations", account, {"prompt": "a red fox", "parameters": {"steps": 12}}
    )
    assert created["status"] == "queued"
    assert created["completed_at"] is None
    assert created["parameters"] == {
        "model": "sdxl",
        "steps": 12,
        "width": 1024,
        "height": 1024,
        "seed": None,
    }

    url = f"{api.url}/generations/{created['id']}"
    assert http.get(url, headers=account.headers).json()["status"] == "queued"
    time.sleep(GENERATION_DELAY_MS / 1000 + 0.05)
    done = http.get(url, headers=account.headers).json()
    assert done["status"] == "completed"
    assert done["completed_at"] > done["created_at"]


def test_missing_generation_is_404(api: PlatformApiServer, http: requests.Session, account: Account) -> None:
    assert_error(http.get(f"{api.url}/generations/does-not-exist", headers=account.headers), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/generations", {"prompt": "page me"}),
        ("/payments", {"amount": 1, "currency": "GBP"}),
        ("/subscriptions", {"plan": "free"}),
    ],
)
def test_pagination(
    api: PlatformApiServer, http: requests.Session, account: Account, path: str, body: dict[str, Any]
) -> None:
    created = [_create(http, f"{api.url}{path}", account, body)["id"] for _ in range(5)]

    def page(number: int, size: int) -> dict[str, Any]:
        response = http.get(
            f"{api.url}{path}", params={"page": number, "page_size": size}, headers=account.headers
        )
        assert response.status_code == 200, response.text
        listing: dict[str, Any] = response.json()
        return listing

    pages = [page(number, 2) for number in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert {p["total"] for p in pages} == {5}
    assert [(p["page"], p["page_size"]) for p in pages] == [(1, 2), (2, 2), (3, 2), (4, 2)]
    listed = [item["id"] for p in pages for item in p["items"]]
    assert listed == created[::-1]  # newest first, each exactly once
    default = page(1, 20)
    assert default["page_size"] == 20 and len(default["items"]) == 5


def test_payment_idempotency(api: PlatformApiServer, http: requests.Session, account: Account) -> None:
    url = f"{api.url}/payments"
    headers = {**account.headers, "Idempotency-Key": "order-1"}
    first = http.post(url, json={"amount": "19.99", "currency": "usd"}, headers=headers)
    again = http.post(url, json={"amount": 19.99, "currency": "USD"}, headers=headers)
    in_body = http.post(
        url,
        json={"amount": "19.99", "currency": "USD", "idempotency_key": "order-1"},
        headers=account.headers,
    )

    assert first.status_code == 201
    assert first.json()["amount"] == "19.99" and first.json()["currency"] == "USD"
    for replay in (again, in_body):
        assert replay.status_code == 200
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
    assert http.get(url, headers=account.headers).json()["total"] == 1

    assert_error(
        http.post(url, json={"amount": "20.00", "currency": "USD"}, headers=headers),
        409,
        "idempotency_conflict",
    )
    assert_error(
        http.post(url, json={"amount": "19.99", "currency": "EUR"}, headers=headers),
        409,
        "idempotency_conflict",
    )
    assert http.get(url, headers=account.headers).json()["total"] == 1


def test_payments_without_a_key_are_separate(
    api: PlatformApiServer, http: requests.Session, account: Account
) -> None:
    url = f"{api.url}/payments"
    ids = {_create(http, url, account, {"amount": 7, "currency": "EUR"})["id"] for _ in range(2)}
    assert len(ids) == 2


def test_new_subscription_cancels_the_previous_one(
    api: PlatformApiServer, http: requests.Session, account: Account
) -> None:
    pro = _create(http, f"{api.url}/subscriptions", account, {"plan": "pro"})
    enterprise = _create(http, f"{api.url}/subscriptions", account, {"plan": "enterprise"})
    items = http.get(f"{api.url}/subscriptions", headers=account.headers).json()["items"]
    assert [(item["id"], item["status"]) for item in items] == [
        (enterprise["id"], "active"),
        (pro["id"], "canceled"),
    ]
    assert items[1]["canceled_at"] is not None


def test_users_never_see_each_other(api: PlatformApiServer, http: requests.Session, account: Account) -> None:
    other = create_account(http, api.url)
    generation = _create(http, f"{api.url}/generations", account, {"prompt": "private"})
    payment = http.post(
        f"{api.url}/payments",
        json={"amount": 5, "currency": "USD"},
        headers={**account.headers, "Idempotency-Key": "shared"},
    ).json()
    _create(http, f"{api.url}/subscriptions", account, {"plan": "pro"})

    for path in ("/generations", "/payments", "/subscriptions"):
        listing = http.get(f"{api.url}{path}", headers=other.headers).json()
        assert listing["total"] == 0 and listing["items"] == [], path
    assert_error(
        http.get(f"{api.url}/generations/{generation['id']}", headers=other.headers), 404, "not_found"
    )
    assert http.get(f"{api.url}/auth/me", headers=other.headers).json()["email"] == other.email

    # the same idempotency key is per user: the other user gets a payment of their own
    theirs = http.post(
        f"{api.url}/payments",
        json={"amount": 9, "currency": "USD"},
        headers={**other.headers, "Idempotency-Key": "shared"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != payment["id"]
