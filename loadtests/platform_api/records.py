"""The records the API stores and serves."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password_hash: str
    created_at: float


@dataclass(frozen=True)
class GenerationParameters:
    """Model settings of a generation; the field defaults fill in what a request leaves out."""

    model: str = "sdxl"
    steps: int = 30
    width: int = 1024
    height: int = 1024
    seed: int | None = None  # None: the model picks one


@dataclass(frozen=True)
class Generation:
    id: str
    user_id: str
    prompt: str
    parameters: GenerationParameters
    created_at: float
    ready_at: float  # queued until then, completed after


@dataclass(frozen=True)
class Payment:
    id: str
    user_id: str
    amount: Decimal
    currency: str
    idempotency_key: str | None
    status: str
    created_at: float


@dataclass(frozen=True)
class Subscription:
    id: str
    user_id: str
    plan: str
    status: str
    created_at: float
    canceled_at: float | None


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a user's rows, newest first, and how many rows they have in all."""

    items: list[Row]
    total: int
