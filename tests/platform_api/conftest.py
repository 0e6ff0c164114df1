from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from loadtests.platform_api.server import PlatformApiServer
from tests.platform_api.support import Account, create_account

GENERATION_DELAY_MS = 300


@pytest.fixture(scope="session")
def api() -> Iterator[PlatformApiServer]:
    """One Platform API process for the session, with a short generation processing time."""
    with PlatformApiServer(generation_delay_ms=GENERATION_DELAY_MS, generation_latency_ms=5) as server:
        yield server


@pytest.fixture
def account(api: PlatformApiServer, http: requests.Session) -> Account:
    """A fresh, logged-in user."""
    return create_account(http, api.url)
