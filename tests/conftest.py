from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from dotenv import dotenv_values

from tests.support.target import TargetServer


@pytest.fixture(scope="session", autouse=True)
def _without_the_suite_env_file(pytestconfig: pytest.Config) -> Iterator[None]:
    """The plugin loads the load suite's .env.load-testing(.local) at the repository root into this process; the
    sessions these tests start must not inherit its LOAD_* settings (they would override what each test sets)."""
    names = set()
    for name in (".env.load-testing", ".env.load-testing.local"):
        path = pytestconfig.rootpath / name
        if path.is_file():
            names |= set(dotenv_values(path))
    with pytest.MonkeyPatch.context() as patch:
        for name in names:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def target() -> Iterator[TargetServer]:
    """A real HTTP server on 127.0.0.1 (see tests/support/target.py for its routes)."""
    with TargetServer() as server:
        yield server


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    """A keep-alive session that ignores proxy settings from the environment (all traffic is to 127.0.0.1)."""
    with requests.Session() as session:
        session.trust_env = False
        yield session
