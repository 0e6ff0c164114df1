"""Synthetic test data on Faker, seeded so that a run can be reproduced: emails, passwords, prompts, payments.

``TestDataGenerator(seed=7)`` yields the same sequence every time; without a seed each generator draws a random one.
Emails are unique: a namespace (random per generator unless given) and a counter go into the local part, so two
generators with the same seed never register the same address (a scenario's users must not collide with accounts
an earlier scenario left behind), and the reserved ``.test`` domain keeps them apart from real addresses.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from faker import Faker

CURRENCIES = ("USD", "EUR", "GBP")
MODELS = ("sdxl", "sd-1.5", "flux-schnell")
PLANS = ("free", "pro", "enterprise")
EMAIL_DOMAIN = "loadtest.example.test"
T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str

    def to_dict(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}


class TestDataGenerator:
    """Realistic request payloads for the Platform API."""

    __test__ = False  # a helper, not a pytest test class

    def __init__(self, seed: int | None = None, namespace: str | None = None) -> None:
        self.seed = secrets.randbits(32) if seed is None else seed
        self.namespace = secrets.token_hex(4) if namespace is None else namespace
        self._faker = Faker()
        self._faker.seed_instance(self.seed)
        self._random = random.Random(self.seed)
        self._count = 0

    def email(self) -> str:
        """A unique address: ``<name>.<namespace>.<n>@loadtest.example.test``."""
        self._count += 1
        name = self._faker.user_name().replace(".", "-")
        return f"{name}.{self.namespace}.{self._count}@{EMAIL_DOMAIN}"

    def password(self) -> str:
        return self._faker.password(
            length=16, special_chars=True, digits=True, upper_case=True, lower_case=True
        )

    def credentials(self) -> Credentials:
        return Credentials(self.email(), self.password())

    def prompt(self) -> str:
        return f"{self._faker.sentence(nb_words=8).rstrip('.')}, {self._faker.color_name().lower()} tones"

    def generation_payload(self) -> dict[str, Any]:
        size = self._random.choice((512, 768, 1024))
        return {
            "prompt": self.prompt(),
            "parameters": {
                "model": self._random.choice(MODELS),
                "steps": self._random.randint(10, 50),
                "width": size,
                "height": size,
                "seed": self._random.randint(0, 2**32 - 1),
            },
        }

    def payment_payload(self) -> dict[str, Any]:
        """An amount as a decimal string (two places), a currency and a fresh idempotency key."""
        cents = self._random.randint(100, 50_000)
        return {
            "amount": str(Decimal(cents) / 100),
            "currency": self._random.choice(CURRENCIES),
            "idempotency_key": str(uuid.UUID(int=self._random.getrandbits(128), version=4)),
        }

    def plan(self) -> str:
        return self.pick(PLANS)

    def pick(self, options: Sequence[T]) -> T:
        """One of ``options``, drawn from this generator's seeded sequence."""
        return options[self._random.randrange(len(options))]
