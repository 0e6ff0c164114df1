"""Auth API scenarios: real sign-in traffic, and bad credentials that must all be refused."""

import pytest

from loadtests.helpers.settings import api_thresholds
from loadtests.users import AuthUser, InvalidTokenUser

AUTH = api_thresholds("auth")

pytestmark = pytest.mark.usefixtures("seeded_accounts", "target_memory")


@pytest.mark.load(AuthUser, thresholds=AUTH.marker_thresholds())
def test_auth() -> None:
    """Login, token check, health and sign-up lifecycles: success >= 99%, p95 <= 200 ms, p99 <= 300 ms."""


@pytest.mark.load(InvalidTokenUser, thresholds=AUTH.marker_thresholds())
def test_auth_rejects_bad_tokens() -> None:
    """Expired, foreign, malformed and unsigned tokens and wrong passwords: each answered 401, as fast as auth."""
