"""Checks of request bodies and query parameters: each returns clean values or raises a 422 naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from loadtests.platform_api.records import GenerationParameters
from loadtests.platform_api.web import Request, validation_error

EMAIL_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 8, 128
PROMPT_MAX = 2000
IDEMPOTENCY_KEY_MAX = 255
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 20, 100
AMOUNT_MAX = Decimal("1000000")
CENT = Decimal("0.01")
CURRENCIES = frozenset({"USD", "EUR", "GBP"})
PLANS = ("free", "pro", "enterprise")
MODELS = ("sdxl", "sd-1.5", "flux-schnell")
_INT_PARAMETERS = {"steps": (1, 150), "width": (64, 2048), "height": (64, 2048), "seed": (0, 2**32 - 1)}
_DEFAULT_PARAMETERS = GenerationParameters()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _string(body: dict[str, Any], name: str, *, max_length: int) -> str:
    value = body.get(name)
    if value is None:
        raise validation_error(f"{name}: field required")
    if not isinstance(value, str):
        raise validation_error(f"{name}: must be a string, got {type(value).__name__}")
    if not value.strip():
        raise validation_error(f"{name}: must not be empty")
    if len(value) > max_length:
        raise validation_error(f"{name}: must be at most {max_length} characters")
    return value


def _integer(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(f"{name}: must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise validation_error(f"{name}: must be within {low}..{high}")
    return value


def credentials(body: dict[str, Any]) -> tuple[str, str]:
    """Email (lower-cased) and password of a login: present, strings, not empty."""
    return _string(body, "email", max_length=EMAIL_MAX).strip().lower(), _string(
        body, "password", max_length=PASSWORD_MAX
    )


def registration(body: dict[str, Any]) -> tuple[str, str]:
    """Credentials of a new user: also a plausible email address and a password of at least 8 characters."""
    email, password = credentials(body)
    if not _EMAIL.match(email):
        raise validation_error("email: must be a valid email address")
    if len(password) < PASSWORD_MIN:
        raise validation_error(f"password: must be at least {PASSWORD_MIN} characters")
    return email, password


def generation_request(body: dict[str, Any]) -> tuple[str, GenerationParameters]:
    """The prompt and the parameters, defaults filled in; unknown parameters are rejected."""
    prompt = _string(body, "prompt", max_length=PROMPT_MAX)
    given = body.get("parameters", {})
    if not isinstance(given, dict):
        raise validation_error(f"parameters: must be an object, got {type(given).__name__}")
    unknown = sorted(set(given) - {setting.name for setting in fields(GenerationParameters)})
    if unknown:
        raise validation_error(f"parameters: unknown keys {', '.join(unknown)}")
    if given.get("model", _DEFAULT_PARAMETERS.model) not in MODELS:
        raise validation_error(f"parameters.model: must be one of {', '.join(MODELS)}")
    for name, (low, high) in _INT_PARAMETERS.items():
        if name in given:
            _integer(given[name], f"parameters.{name}", low, high)
    return prompt, replace(_DEFAULT_PARAMETERS, **given)


@dataclass(frozen=True)
class PaymentRequest:
    amount: Decimal
    currency: str
    idempotency_key: str | None


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise validation_error(f"amount: must be a number or a decimal string, got {type(value).__name__}")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise validation_error(f"amount: not a decimal number: {value!r}") from None
    if not amount.is_finite() or not Decimal(0) < amount <= AMOUNT_MAX:
        raise validation_error(f"amount: must be greater than 0 and at most {AMOUNT_MAX}")
    if amount != amount.quantize(CENT):
        raise validation_error("amount: at most 2 decimal places")
    return amount.quantize(CENT)


def _idempotency_key(request: Request, body: dict[str, Any]) -> str | None:
    header = request.header("Idempotency-Key")
    in_body = body.get("idempotency_key")
    if in_body is not None and not isinstance(in_body, str):
        raise validation_error(f"idempotency_key: must be a string, got {type(in_body).__name__}")
    if header is not None and in_body is not None and header != in_body:
        raise validation_error("idempotency_key: the body and the Idempotency-Key header disagree")
    key = header if header is not None else in_body
    if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
        raise validation_error(f"idempotency_key: must be 1..{IDEMPOTENCY_KEY_MAX} characters")
    return key


def payment_request(request: Request, body: dict[str, Any]) -> PaymentRequest:
    if "amount" not in body:
        raise validation_error("amount: field required")
    currency = _string(body, "currency", max_length=3).upper()
    if currency not in CURRENCIES:
        raise validation_error(f"currency: must be one of {', '.join(sorted(CURRENCIES))}")
    return PaymentRequest(_amount(body["amount"]), currency, _idempotency_key(request, body))


def plan(body: dict[str, Any]) -> str:
    chosen = _string(body, "plan", max_length=32)
    if chosen not in PLANS:
        raise validation_error(f"plan: must be one of {', '.join(PLANS)}")
    return chosen


def page(request: Request) -> tuple[int, int]:
    """``page`` (from 1) and ``page_size`` (1..100, default 20) from the query."""

    def number(name: str, default: int, high: int) -> int:
        text = request.query(name)
        if text is None:
            return default
        if not (text.isascii() and text.isdigit() and len(text) <= 7):
            raise validation_error(f"{name}: must be a positive integer")
        return _integer(int(text), name, 1, high)

    return number("page", 1, 10**6), number("page_size", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
