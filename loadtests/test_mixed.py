"""The mixed workload: 60% generation, 30% auth, 10% payments users (the User classes' weights 6/3/1)."""

import pytest

from loadtests.helpers.settings import api_thresholds
from loadtests.users import AuthUser, GenerationUser, PaymentUser

GENERATION = api_thresholds("generation")
AUTH = api_thresholds("auth")

pytestmark = pytest.mark.usefixtures("seeded_accounts", "target_memory")


@pytest.mark.load(
    GenerationUser,
    AuthUser,
    PaymentUser,
    thresholds={
        "fail_ratio": f"<={GENERATION.max_fail_ratio_pct:g}%",
        "p95": f"<={GENERATION.p95_ms:g}ms",
        "p99": f"<={GENERATION.p99_ms:g}ms",
        "POST /auth/login": {"fail_ratio": f"<={AUTH.max_fail_ratio_pct:g}%"},
    },
)
def test_mixed_workload() -> None:
    """Totals within the generation API's limits (the loosest, and 60% of the traffic); logins within auth's."""
