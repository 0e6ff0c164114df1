"""The suite's own settings, read from the environment (``.env.load-testing`` and ``.env.load-testing.local`` are
loaded into it by the plugin before any test module is imported, and the engine processes inherit it).

Per-API thresholds (the seed table of issue 3) are limits, not conditions, so the env file stays readable:
``LOAD_<API>_MAX_FAIL_RATIO`` (percent; success >= 100 - it), ``LOAD_<API>_P95_MS``, ``LOAD_<API>_P99_MS`` and, for
generation, ``LOAD_GENERATION_MIN_RPS`` (created generations per second). A bad value raises ``SettingError`` naming
the key, which pytest shows as a collection error of the scenario module.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

ACCOUNTS_FILE_VAR = "LOADTESTS_ACCOUNTS_FILE"
"""Set by the seeding fixture for the engine process: a JSON list of seeded accounts the users sign in as."""
JWT_SECRET_VAR = "LOAD_JWT_SECRET"
SEED_VAR = "LOAD_SEED"
SEED_USERS_VAR = "LOAD_SEED_USERS"


class SettingError(ValueError):
    """A suite setting in the environment or the env file has a bad value."""


@dataclass(frozen=True)
class ApiThresholds:
    """The pass/fail limits of one API's scenario."""

    max_fail_ratio_pct: float
    p95_ms: float
    p99_ms: float
    min_rps: float | None = None
    rps_entry: str | None = None
    """The entry whose throughput ``min_rps`` bounds, e.g. "POST /generations"."""

    def marker_thresholds(self) -> dict[str, object]:
        """The ``thresholds=`` of a load marker: totals of the scenario, plus the throughput entry."""
        conditions: dict[str, object] = {
            "fail_ratio": f"<={self.max_fail_ratio_pct:g}%",
            "p95": f"<={self.p95_ms:g}ms",
            "p99": f"<={self.p99_ms:g}ms",
        }
        if self.min_rps is not None and self.rps_entry is not None:
            conditions[self.rps_entry] = {"rps": f">={self.min_rps:g}"}
        return conditions


_DEFAULTS: dict[str, dict[str, float]] = {
    "AUTH": {"MAX_FAIL_RATIO": 1, "P95_MS": 200, "P99_MS": 300},
    "GENERATION": {"MAX_FAIL_RATIO": 5, "P95_MS": 500, "P99_MS": 800, "MIN_RPS": 10},
    "PAYMENTS": {"MAX_FAIL_RATIO": 5, "P95_MS": 300, "P99_MS": 500},
}
_RPS_ENTRIES = {"GENERATION": "POST /generations"}


def number(environ: Mapping[str, str], key: str, default: float, *, minimum: float = 0.0) -> float:
    """A number setting; empty or missing gives ``default``."""
    raw = environ.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw.rstrip("%").removesuffix("ms").strip())
    except ValueError:
        raise SettingError(
            f"{key}={raw!r} in the environment or .env.load-testing: must be a number"
        ) from None
    if not math.isfinite(value) or value < minimum:
        raise SettingError(
            f"{key}={raw!r} in the environment or .env.load-testing: must be a number >= {minimum:g}"
        )
    return value


def api_thresholds(api: str, environ: Mapping[str, str] | None = None) -> ApiThresholds:
    """The thresholds of ``api`` ("auth", "generation", "payments") from ``environ`` (default: os.environ)."""
    env = os.environ if environ is None else environ
    name = api.upper()
    defaults = _DEFAULTS[name]
    values = {key: number(env, f"LOAD_{name}_{key}", default) for key, default in defaults.items()}
    return ApiThresholds(
        max_fail_ratio_pct=values["MAX_FAIL_RATIO"],
        p95_ms=values["P95_MS"],
        p99_ms=values["P99_MS"],
        min_rps=values.get("MIN_RPS"),
        rps_entry=_RPS_ENTRIES.get(name),
    )


def jwt_secret(environ: Mapping[str, str] | None = None) -> str | None:
    """The target's JWT signing key (LOAD_JWT_SECRET; the suite sets it for the reference API it starts)."""
    env = os.environ if environ is None else environ
    return env.get(JWT_SECRET_VAR, "").strip() or None


def seed(environ: Mapping[str, str] | None = None) -> int | None:
    """The Faker seed of the run (LOAD_SEED), or None for a random one."""
    env = os.environ if environ is None else environ
    return None if not env.get(SEED_VAR, "").strip() else int(number(env, SEED_VAR, 0))


def seed_users(environ: Mapping[str, str] | None = None) -> int:
    """How many accounts the seeder creates before each scenario (LOAD_SEED_USERS, default 20)."""
    env = os.environ if environ is None else environ
    return int(number(env, SEED_USERS_VAR, 20, minimum=1))
