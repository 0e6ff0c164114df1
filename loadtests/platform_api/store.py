"""SQLite persistence: one connection per process (the server is a single gevent process, and sqlite3 calls never
yield to another greenlet, so each method runs as one uninterrupted unit), WAL journal, foreign keys with cascading
deletes so removing a user removes everything they own.

Every read of user data takes the owner's id: there is no query that can return another user's rows.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from loadtests.platform_api.records import Generation, GenerationParameters, Page, Payment, Subscription, User

Row = TypeVar("Row")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS generations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    prompt TEXT NOT NULL,
    model TEXT NOT NULL,
    steps INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    seed INTEGER,
    created_at REAL NOT NULL,
    ready_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS generations_by_user ON generations(user_id);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    idempotency_key TEXT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    canceled_at REAL
);
CREATE INDEX IF NOT EXISTS subscriptions_by_user ON subscriptions(user_id);
"""


def _generation(row: sqlite3.Row) -> Generation:
    parameters = GenerationParameters(row["model"], row["steps"], row["width"], row["height"], row["seed"])
    return Generation(
        row["id"], row["user_id"], row["prompt"], parameters, row["created_at"], row["ready_at"]
    )


def _payment(row: sqlite3.Row) -> Payment:
    return Payment(
        row["id"],
        row["user_id"],
        Decimal(row["amount"]),
        row["currency"],
        row["idempotency_key"],
        row["status"],
        row["created_at"],
    )


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        row["id"], row["user_id"], row["plan"], row["status"], row["created_at"], row["canceled_at"]
    )


def _new_id() -> str:
    return uuid.uuid4().hex


class Store:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # users

    def create_user(self, email: str, password_hash: str) -> User | None:
        """The new user, or ``None`` if the email is taken."""
        user = User(_new_id(), email, password_hash, time.time())
        try:
            self._db.execute(
                "INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (user.id, user.email, user.password_hash, user.created_at),
            )
        except sqlite3.IntegrityError:
            return None
        return user

    def user_by_email(self, email: str) -> User | None:
        return self._user("email", email)

    def user_by_id(self, user_id: str) -> User | None:
        return self._user("id", user_id)

    def _user(self, column: str, value: str) -> User | None:
        row = self._db.execute(f"SELECT * FROM users WHERE {column} = ?", (value,)).fetchone()
        return None if row is None else User(row["id"], row["email"], row["password_hash"], row["created_at"])

    def delete_user(self, user_id: str) -> None:
        """Deletes the user and, by cascade, their generations, payments and subscriptions."""
        self._db.execute("DELETE FROM users WHERE id = ?", (user_id,))

    # generations

    def create_generation(
        self, user_id: str, prompt: str, parameters: GenerationParameters, processing_s: float
    ) -> Generation:
        now = time.time()
        generation = Generation(_new_id(), user_id, prompt, parameters, now, now + processing_s)
        self._db.execute(
            "INSERT INTO generations (id, user_id, prompt, model, steps, width, height, seed, created_at, ready_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                generation.id,
                user_id,
                prompt,
                parameters.model,
                parameters.steps,
                parameters.width,
                parameters.height,
                parameters.seed,
                generation.created_at,
                generation.ready_at,
            ),
        )
        return generation

    def generation(self, user_id: str, generation_id: str) -> Generation | None:
        row = self._db.execute(
            "SELECT * FROM generations WHERE id = ? AND user_id = ?", (generation_id, user_id)
        ).fetchone()
        return None if row is None else _generation(row)

    def generations(self, user_id: str, limit: int, offset: int) -> Page[Generation]:
        return self._page("generations", user_id, limit, offset, _generation)

    # payments

    def payment_by_key(self, user_id: str, idempotency_key: str) -> Payment | None:
        row = self._db.execute(
            "SELECT * FROM payments WHERE user_id = ? AND idempotency_key = ?", (user_id, idempotency_key)
        ).fetchone()
        return None if row is None else _payment(row)

    def create_payment(
        self, user_id: str, amount: Decimal, currency: str, idempotency_key: str | None
    ) -> Payment:
        payment = Payment(_new_id(), user_id, amount, currency, idempotency_key, "succeeded", time.time())
        self._db.execute(
            "INSERT INTO payments (id, user_id, amount, currency, idempotency_key, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (payment.id, user_id, str(amount), currency, idempotency_key, payment.status, payment.created_at),
        )
        return payment

    def payments(self, user_id: str, limit: int, offset: int) -> Page[Payment]:
        return self._page("payments", user_id, limit, offset, _payment)

    # subscriptions

    def create_subscription(self, user_id: str, plan: str) -> Subscription:
        """A new active subscription; the user's previous active one, if any, is canceled in the same transaction."""
        subscription = Subscription(_new_id(), user_id, plan, "active", time.time(), None)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "UPDATE subscriptions SET status = 'canceled', canceled_at = ? WHERE user_id = ? AND status = 'active'",
                (subscription.created_at, user_id),
            )
            self._db.execute(
                "INSERT INTO subscriptions (id, user_id, plan, status, created_at) VALUES (?, ?, ?, ?, ?)",
                (subscription.id, user_id, plan, subscription.status, subscription.created_at),
            )
        return subscription

    def subscriptions(self, user_id: str, limit: int, offset: int) -> Page[Subscription]:
        return self._page("subscriptions", user_id, limit, offset, _subscription)

    def _page(
        self, table: str, user_id: str, limit: int, offset: int, build: Callable[[sqlite3.Row], Row]
    ) -> Page[Row]:
        # ``table`` is always one of our literal table names, never user input
        total = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,)).fetchone()[0]
        rows = self._db.execute(
            f"SELECT * FROM {table} WHERE user_id = ? ORDER BY rowid DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        ).fetchall()
        return Page([build(row) for row in rows], total)
