"""Generation API scenario: submitting and polling generation tasks."""

import pytest

from loadtests.helpers.settings import api_thresholds
from loadtests.users import GenerationUser

GENERATION = api_thresholds("generation")

pytestmark = pytest.mark.usefixtures("seeded_accounts", "target_memory")


@pytest.mark.load(GenerationUser, thresholds=GENERATION.marker_thresholds())
def test_generation() -> None:
    """Success >= 95%, p95 <= 500 ms, p99 <= 800 ms, >= 10 generations created per second."""
