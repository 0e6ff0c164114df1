"""The small web layer under the app: JSON errors, a request wrapper over the WSGI environ, responses, a router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
_JSON_TYPE = "application/json"


class ApiError(Exception):
    """An error the client gets as ``{"error": {"code": ..., "message": ...}}`` with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return Response(self.status, {"error": {"code": self.code, "message": self.message}}, self.headers)


def validation_error(message: str) -> ApiError:
    return ApiError(422, "validation_error", message)


@dataclass
class Response:
    status: int
    payload: object = None  # JSON-serialisable; None sends no body
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, start_response: StartResponse) -> Iterable[bytes]:
        headers = list(self.headers.items())
        if self.payload is None:
            start_response(_STATUS_LINES[self.status], headers)
            return []
        body = json.dumps(self.payload, separators=(",", ":")).encode()
        headers += [("Content-Type", _JSON_TYPE), ("Content-Length", str(len(body)))]
        start_response(_STATUS_LINES[self.status], headers)
        return [body]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


class Request:
    """One request: method, path, query, headers, and the body read (bounded) and parsed only when asked for."""

    def __init__(self, environ: Mapping[str, Any], max_body_bytes: int) -> None:
        self.environ = environ
        self.method: str = environ["REQUEST_METHOD"]
        self.path: str = environ.get("PATH_INFO") or "/"
        self.path_params: dict[str, str] = {}
        self._max_body_bytes = max_body_bytes

    def header(self, name: str) -> str | None:
        """A request header by its HTTP name, e.g. ``header("Idempotency-Key")``."""
        key = name.upper().replace("-", "_")
        return self.environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key)

    @cached_property
    def _query(self) -> dict[str, list[str]]:
        return parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)

    def query(self, name: str) -> str | None:
        """The last value of a query parameter."""
        values = self._query.get(name)
        return values[-1] if values else None

    def body(self) -> bytes:
        """The raw body, at most ``max_body_bytes`` (413 beyond that, without reading it)."""
        too_large = ApiError(
            413,
            "payload_too_large",
            f"request body exceeds {self._max_body_bytes} bytes",
            {"Connection": "close"},
        )
        declared = self.header("Content-Length")
        stream = self.environ["wsgi.input"]
        if declared is None:  # chunked: read one byte past the limit to notice a body that is too large
            data: bytes = stream.read(self._max_body_bytes + 1)
            if len(data) > self._max_body_bytes:
                raise too_large
            return data
        try:
            length = int(declared)
        except ValueError:
            raise ApiError(400, "bad_request", "Content-Length is not a number") from None
        if length > self._max_body_bytes:
            raise too_large
        return stream.read(length) if length > 0 else b""

    def json_object(self) -> dict[str, Any]:
        """The body parsed as a JSON object: 415 for a declared non-JSON content type, 422 for anything that is
        not a strictly valid JSON object (a missing Content-Type is taken as JSON)."""
        content_type = self.header("Content-Type")
        if content_type and content_type.split(";", 1)[0].strip().lower() != _JSON_TYPE:
            raise ApiError(
                415, "unsupported_media_type", f"expected Content-Type {_JSON_TYPE}, got {content_type!r}"
            )
        raw = self.body()
        if not raw.strip():
            raise ApiError(422, "invalid_json", "request body must be a JSON object, got an empty body")
        try:
            value = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            raise ApiError(422, "invalid_json", f"request body is not valid JSON: {error}") from None
        if not isinstance(value, dict):
            raise ApiError(
                422, "invalid_json", f"request body must be a JSON object, got {type(value).__name__}"
            )
        return value


@dataclass(frozen=True)
class Route:
    """A handler, called as ``handler(request, user)`` if ``protected`` (needs a valid bearer token), else
    ``handler(request)``."""

    handler: Callable[..., Response]
    protected: bool


class Router:
    """Maps method + path to a route; ``{name}`` segments match one path segment into ``request.path_params``."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Route]]] = []

    def add(self, method: str, pattern: str, handler: Callable[..., Response], *, protected: bool) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        for existing, methods in self._routes:
            if existing.pattern == regex.pattern:
                methods[method] = Route(handler, protected)
                return
        self._routes.append((regex, {method: Route(handler, protected)}))

    def resolve(self, request: Request) -> Route:
        """The route for the request (filling ``path_params``); 404 for an unknown path, 405 for a known path
        with another method."""
        for regex, methods in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            route = methods.get(request.method)
            if route is None:
                allowed = ", ".join(sorted(methods))
                raise ApiError(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed on {request.path}",
                    {"Allow": allowed},
                )
            request.path_params = match.groupdict()
            return route
        raise ApiError(404, "not_found", f"no route for {request.path}")
