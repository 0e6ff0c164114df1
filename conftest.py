"""Root conftest: the project's own tests drive real pytest sessions through pytester."""

from __future__ import annotations

import signal

import pytest

pytest_plugins = ("pytester",)

INNER_SESSION_OPTIONS = "-p no:hypothesispytest -p no:faker"
"""PYTEST_ADDOPTS of the pytest sessions the tests start (the Platform API suite uses Faker itself, not its fixture)."""


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Inner sessions run without Hypothesis's and Faker's pytest plugins, which none of them uses: Hypothesis's
    imports Hypothesis at every session's end (0.3-0.8 s), Faker's imports Faker at start-up (0.3 s)."""
    monkeypatch.setenv("PYTEST_ADDOPTS", INNER_SESSION_OPTIONS)
    return pytester


def pytest_configure(config: pytest.Config) -> None:
    """Tests interrupt the pytest sessions they start with SIGINT, as Ctrl-C would. A shell that started this run in
    the background without job control left SIGINT ignored, and an ignored signal stays ignored in every child
    (Python then installs no KeyboardInterrupt handler): handling it here gives the children the default again."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first (a stable sort, the same in every xdist worker), so that no worker is left with a 20 s
    test at the end while the other idles; make test's worksteal scheduling then shares them between workers."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
