"""The open model's setting: ``rate=`` in the load marker, iterations started per second (plain data, no Locust).

With a rate the users are a pool: the schedule starts an iteration (one task of a free user) every ``1/rate``
seconds whatever the response times, the way k6's constant-arrival-rate executor does; when no user is free at an
iteration's start time, that iteration is dropped and counted. The engine side is ``arrival.py``.
"""

from __future__ import annotations

import math

from pytest_loadtest.errors import LoadTestUsageError, shown


def parse_rate(test_id: str, value: object) -> float | None:
    """The marker's ``rate=``: a finite number > 0 of iterations per second, or None (the closed model)."""
    if value is None:
        return None
    if not _positive_number(value):
        raise LoadTestUsageError(
            f"{test_id}: rate={shown(value)} in the load marker: must be a number > 0 "
            "(iterations started per second, e.g. rate=10)"
        )
    return float(value)  # type: ignore[arg-type]


def _positive_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:  # an int too large for a float
        return False


def rate_per_worker(rate: float, workers: int) -> float:
    """Each worker's share of a scenario's rate: the rate is the scenario's, divided equally among its workers."""
    return rate / max(workers, 1)
