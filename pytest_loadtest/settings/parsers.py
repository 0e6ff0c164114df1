"""Value parsers of the settings: numbers within bounds, durations, flags, a base URL, tags (plain data, no pytest).

Each parser takes a value as given (a string from the command line, the environment or the ini file; a Python value
from the marker or a profile) and returns it parsed, or raises ``ValueError`` saying what it must be; the caller
adds which setting and where it came from. Parsing a parsed value returns it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar, overload
from urllib.parse import urlsplit

from pytest_loadtest.settings.durations import as_float, parse_duration

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
Number = TypeVar("Number", int, float)


def read_number(value: object) -> float:
    """A finite number, from a number or its text; the reason when ``value`` is none."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, (int, float)):
        number = as_float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError("must be a number") from None
    else:
        raise ValueError(f"must be a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


@overload
def number(
    kind: type[int],
    *,
    refusal: str,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
    percent: bool = False,
    read: Callable[[object], float] = read_number,
    uniform: bool = False,
) -> Callable[[object], int]: ...
@overload
def number(
    kind: type[float],
    *,
    refusal: str,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
    percent: bool = False,
    read: Callable[[object], float] = read_number,
    uniform: bool = False,
) -> Callable[[object], float]: ...
def number(
    kind: type[Number],
    *,
    refusal: str,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive: bool = False,
    percent: bool = False,
    read: Callable[[object], float] = read_number,
    uniform: bool = False,
) -> Callable[[object], Number]:
    """A parser of ``kind`` numbers (``int``: whole ones) from ``minimum`` to ``maximum`` (``exclusive``: both
    bounds excluded), read by ``read``; ``percent`` also takes ``"1%"`` for 0.01.

    A number out of bounds (or not whole) is refused with ``refusal`` ("must be a whole number >= 1"); one that
    cannot be read with ``read``'s reason, or with ``refusal`` too when ``uniform``."""

    def within(value: float) -> bool:
        below = minimum is not None and (value <= minimum if exclusive else value < minimum)
        above = maximum is not None and (value >= maximum if exclusive else value > maximum)
        return not (below or above) and (kind is float or float(value).is_integer())

    def parse(value: object) -> Number:
        text = value.strip() if isinstance(value, str) else None
        try:
            if percent and text is not None and text.endswith("%"):
                parsed = read(text[:-1]) / 100.0
            else:
                parsed = read(value)
        except ValueError:
            if uniform:
                raise ValueError(refusal) from None
            raise
        if not within(parsed):
            raise ValueError(refusal)
        return kind(parsed)

    return parse


positive_duration = number(
    float, refusal="must be more than 0 seconds", minimum=0, exclusive=True, read=parse_duration
)
"""Seconds or a time string (``"30s"``, ``"1h30m"``), more than 0."""


def parse_flag(value: object) -> bool:
    """True/False, or a string such as 1/0, true/false, yes/no, on/off (ini files and environment variables)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("must be true or false (1/0, yes/no, on/off)")


def parse_host(value: object) -> str:
    """A base URL with http:// or https:// and a host, exactly as given (Locust joins each request's path to it)."""
    if not isinstance(value, str):
        raise ValueError("must be a base URL such as 'http://127.0.0.1:8000'")
    host = value.strip()
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be a base URL with http:// or https:// and a host, such as 'http://127.0.0.1:8000'"
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise ValueError(
            f"has the port {parts.netloc.rpartition(':')[2]!r}, which is out of range or not a number: a port is "
            "a whole number from 1 to 65535"
        )
    if parts.query or parts.fragment or host.endswith(("?", "#")):
        raise ValueError(
            "must be a base URL without a query string or #fragment: Locust puts each request's path after the "
            "host as it is, so they would end up in the middle of every URL"
        )
    return host  # exactly as given, trailing "/" included: Locust joins a request's path to it as it is


def parse_tags(value: object) -> tuple[str, ...]:
    """Tags as a list (``["checkout", "browse"]``) or one string separated by commas or spaces."""
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
    elif isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        parts = [part.strip() for part in value]
    else:
        raise ValueError("must be a list of tag names or one string of them separated by commas")
    if not parts or not all(parts):
        raise ValueError("must name at least one tag (leave the setting out to run every task)")
    return tuple(parts)
