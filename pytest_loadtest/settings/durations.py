"""Durations as users write them: seconds as a number, or a Locust time string such as ``"30s"``, ``"1h30m"``."""

from __future__ import annotations

import math
import re

_TIMESPAN = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)h)?\s*(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?\s*(?:(?P<ms>\d+(?:\.\d+)?)ms)?\s*$"
)
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds; raise ``ValueError`` with a readable reason when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError("expected seconds or a time string such as '30s', '5m', '1h30m'")
    if isinstance(value, (int, float)):
        seconds = as_float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise ValueError(f"expected seconds or a time string, got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("must be a finite, non-negative number of seconds")
    return seconds


def as_float(number: int | float) -> float:
    """``float(number)``, with a ValueError (not OverflowError) for an int beyond the float range."""
    try:
        return float(number)
    except OverflowError:
        raise ValueError("is too large") from None


def _parse_text(text: str) -> float:
    stripped = text.strip()
    try:
        return float(stripped)
    except ValueError:
        pass
    match = _TIMESPAN.match(stripped)
    if not stripped or match is None or not any(match.groupdict().values()):
        raise ValueError("expected seconds or a time string such as '30s', '5m', '1h30m'")
    return sum(float(amount) * _UNIT_SECONDS[unit] for unit, amount in match.groupdict().items() if amount)
