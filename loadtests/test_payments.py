"""Payments API scenario: charges, idempotent replays and listings."""

import pytest

from loadtests.helpers.settings import api_thresholds
from loadtests.users import PaymentUser

PAYMENTS = api_thresholds("payments")

pytestmark = pytest.mark.usefixtures("seeded_accounts", "target_memory")


@pytest.mark.load(PaymentUser, thresholds=PAYMENTS.marker_thresholds())
def test_payments() -> None:
    """Success >= 95%, p95 <= 300 ms, p99 <= 500 ms; a replayed idempotency key never charges twice."""
