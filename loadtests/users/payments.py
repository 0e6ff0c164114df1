"""Payments traffic: charge, replay a charge with its idempotency key (must not charge twice), list."""

from __future__ import annotations

from typing import Any

from locust import between, task

from loadtests.users.base import ApiUser


class PaymentUser(ApiUser):
    """Creates payments (3), lists its payments (2), retries its last payment with the same key (1)."""

    weight = 1
    wait_time = between(0.2, 0.8)

    def on_start(self) -> None:
        super().on_start()
        self.last: tuple[dict[str, Any], str] | None = None

    def _pay(
        self, payload: dict[str, Any], name: str, expected: int, original: str | None = None
    ) -> str | None:
        """POST the payment; a replay (``original`` given) must answer with the original payment's id."""
        headers = {**self.auth, "Idempotency-Key": payload["idempotency_key"]}
        with self.client.post(
            "/payments", json=payload, headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code != expected:
                response.failure(f"expected {expected}, got {response.status_code}")
                return None
            payment_id = str(response.json()["id"])
            if original is not None and payment_id != original:
                response.failure(f"the replay charged again: payment {payment_id}, original {original}")
            return payment_id

    @task(3)
    def create(self) -> None:
        payload = self.data.payment_payload()
        payment_id = self._pay(payload, "/payments", 201)
        if payment_id is not None:
            self.last = (payload, payment_id)

    @task(2)
    def list_own(self) -> None:
        self.client.get("/payments?page=1&page_size=20", headers=self.auth, name="/payments?page=[n]")

    @task(1)
    def replay(self) -> None:
        """The same request with the same idempotency key answers 200 with the original payment."""
        if self.last is None:
            self.create()
            return
        payload, original = self.last
        self._pay(payload, "/payments [replay]", 200, original)
