from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.target import TargetServer


@pytest.fixture(scope="session")
def target() -> Iterator[TargetServer]:
    """A real HTTP server on 127.0.0.1 (see tests/support/target.py for its routes)."""
    with TargetServer() as server:
        yield server
