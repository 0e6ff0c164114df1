"""The Platform API as a WSGI application: routes, handlers, authentication, fault injection, metrics.

Every response is JSON; every error is ``{"error": {"code": ..., "message": ...}}``. ``/health`` and ``/metrics`` are
operational routes: public and exempt from fault injection.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import psutil

from loadtests.platform_api import validation
from loadtests.platform_api.config import ApiConfig
from loadtests.platform_api.records import Generation, Page, Payment, Subscription, User
from loadtests.platform_api.security import PasswordHasher, TokenCodec, TokenError
from loadtests.platform_api.store import Store
from loadtests.platform_api.web import ApiError, Request, Response, Router, StartResponse

logger = logging.getLogger("loadtests.platform_api")

OPERATIONAL_PATHS = frozenset({"/health", "/metrics"})
T = TypeVar("T")


def _iso(timestamp: float | None) -> str | None:
    """UTC with milliseconds, e.g. ``2026-01-31T12:00:00.123Z`` (cheaper than going through ``datetime``)."""
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


def _user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "created_at": _iso(user.created_at)}


def _generation_view(generation: Generation) -> dict[str, Any]:
    """Status is derived from the clock: queued until the processing time has passed, then completed."""
    done = time.time() >= generation.ready_at
    return {
        "id": generation.id,
        "status": "completed" if done else "queued",
        "prompt": generation.prompt,
        "parameters": dict(vars(generation.parameters)),  # a flat record: much cheaper than asdict()
        "created_at": _iso(generation.created_at),
        "completed_at": _iso(generation.ready_at) if done else None,
    }


def _payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "status": payment.status,
        "idempotency_key": payment.idempotency_key,
        "created_at": _iso(payment.created_at),
    }


def _subscription_view(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "plan": subscription.plan,
        "status": subscription.status,
        "created_at": _iso(subscription.created_at),
        "canceled_at": _iso(subscription.canceled_at),
    }


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


class PlatformApi:
    """The WSGI callable; one instance per server process."""

    def __init__(self, config: ApiConfig, store: Store) -> None:
        self._config = config
        self._store = store
        self._hasher = PasswordHasher(config.password_iterations)
        self._tokens = TokenCodec(config.jwt_secret, config.token_ttl_s)
        self._process = psutil.Process()
        self._started = time.monotonic()
        self._requests = 0
        self._statuses: Counter[int] = Counter()
        self._router = Router()
        for method, pattern, handler, protected in (
            ("GET", "/health", self.health, False),
            ("GET", "/metrics", self.metrics, False),
            ("POST", "/auth/register", self.register, False),
            ("POST", "/auth/login", self.login, False),
            ("GET", "/auth/me", self.me, True),
            ("DELETE", "/auth/me", self.delete_me, True),
            ("POST", "/generations", self.create_generation, True),
            ("GET", "/generations", self.list_generations, True),
            ("GET", "/generations/{id}", self.get_generation, True),
            ("POST", "/payments", self.create_payment, True),
            ("GET", "/payments", self.list_payments, True),
            ("POST", "/subscriptions", self.create_subscription, True),
            ("GET", "/subscriptions", self.list_subscriptions, True),
        ):
            self._router.add(method, pattern, handler, protected=protected)

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self._requests += 1
        request = Request(environ, self._config.max_body_bytes)
        try:
            response = self._dispatch(request)
        except ApiError as error:
            response = error.response()
        except Exception:
            logger.exception("unhandled error in %s %s", request.method, request.path)
            response = ApiError(500, "internal_error", "unexpected server error").response()
        self._statuses[response.status] += 1
        return response.send(start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path not in OPERATIONAL_PATHS:
            self._inject_faults()
        route = self._router.resolve(request)
        if route.protected:
            return route.handler(request, self._authenticate(request))
        return route.handler(request)

    def _inject_faults(self) -> None:
        if self._config.extra_latency_ms:
            time.sleep(self._config.extra_latency_ms / 1000.0)
        if self._config.error_rate and random.random() < self._config.error_rate:
            raise ApiError(503, "service_unavailable", "injected fault (error rate)", {"Retry-After": "1"})

    def _authenticate(self, request: Request) -> User:
        header = request.header("Authorization")
        if header is None:
            raise _unauthorized("missing bearer token")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("Authorization header must be 'Bearer <token>'")
        try:
            user_id = self._tokens.subject(token.strip())
        except TokenError as error:
            raise _unauthorized(f"invalid token: {error}") from None
        user = self._store.user_by_id(user_id)
        if user is None:
            raise _unauthorized("the token's user no longer exists")
        return user

    def _listing(
        self, request: Request, fetch: Callable[[int, int], Page[T]], view: Callable[[T], dict[str, Any]]
    ) -> Response:
        page, size = validation.page(request)
        found = fetch(size, (page - 1) * size)
        return Response(
            200,
            {
                "items": [view(item) for item in found.items],
                "total": found.total,
                "page": page,
                "page_size": size,
            },
        )

    # operational

    def health(self, request: Request) -> Response:
        return Response(200, {"status": "ok"})

    def metrics(self, request: Request) -> Response:
        return Response(
            200,
            {
                "pid": self._process.pid,
                "rss_bytes": self._process.memory_info().rss,
                "uptime_s": round(time.monotonic() - self._started, 3),
                "requests_total": self._requests,
                "responses_by_status": {
                    str(status): count for status, count in sorted(self._statuses.items())
                },
            },
        )

    # auth

    def register(self, request: Request) -> Response:
        email, password = validation.registration(request.json_object())
        user = self._store.create_user(email, self._hasher.hash(password))
        if user is None:
            raise ApiError(409, "email_taken", f"a user with email {email} already exists")
        return Response(201, _user_view(user))

    def login(self, request: Request) -> Response:
        email, password = validation.credentials(request.json_object())
        user = self._store.user_by_email(email)
        if not self._hasher.verify(password, user.password_hash if user else None) or user is None:
            raise _unauthorized("invalid email or password")
        token = self._tokens.issue(user.id)
        return Response(
            200, {"access_token": token, "token_type": "bearer", "expires_in": self._tokens.ttl_s}
        )

    def me(self, request: Request, user: User) -> Response:
        return Response(200, _user_view(user))

    def delete_me(self, request: Request, user: User) -> Response:
        self._store.delete_user(user.id)
        return Response(204)

    # generations

    def create_generation(self, request: Request, user: User) -> Response:
        prompt, parameters = validation.generation_request(request.json_object())
        time.sleep(self._config.generation_latency_ms / 1000.0)
        generation = self._store.create_generation(
            user.id, prompt, parameters, self._config.generation_delay_ms / 1000.0
        )
        return Response(201, _generation_view(generation))

    def list_generations(self, request: Request, user: User) -> Response:
        return self._listing(
            request, lambda limit, offset: self._store.generations(user.id, limit, offset), _generation_view
        )

    def get_generation(self, request: Request, user: User) -> Response:
        generation = self._store.generation(user.id, request.path_params["id"])
        if generation is None:
            raise ApiError(404, "not_found", "no such generation")
        return Response(200, _generation_view(generation))

    # payments

    def create_payment(self, request: Request, user: User) -> Response:
        """201 for a new payment; with an idempotency key seen before, 200 and the original payment if the request
        is the same, 409 if it differs."""
        wanted = validation.payment_request(request, request.json_object())
        if wanted.idempotency_key is not None:
            original = self._store.payment_by_key(user.id, wanted.idempotency_key)
            if original is not None:
                if (original.amount, original.currency) != (wanted.amount, wanted.currency):
                    raise ApiError(
                        409,
                        "idempotency_conflict",
                        "this idempotency key was used for a different payment request",
                    )
                return Response(200, _payment_view(original), {"Idempotent-Replayed": "true"})
        payment = self._store.create_payment(user.id, wanted.amount, wanted.currency, wanted.idempotency_key)
        return Response(201, _payment_view(payment))

    def list_payments(self, request: Request, user: User) -> Response:
        return self._listing(
            request, lambda limit, offset: self._store.payments(user.id, limit, offset), _payment_view
        )

    # subscriptions

    def create_subscription(self, request: Request, user: User) -> Response:
        """A new active subscription; the previous active one, if any, is canceled."""
        subscription = self._store.create_subscription(user.id, validation.plan(request.json_object()))
        return Response(201, _subscription_view(subscription))

    def list_subscriptions(self, request: Request, user: User) -> Response:
        return self._listing(
            request,
            lambda limit, offset: self._store.subscriptions(user.id, limit, offset),
            _subscription_view,
        )
