"""Root conftest: the project's own tests drive real pytest sessions through pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ("pytester",)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """Inner sessions run without Hypothesis's pytest plugin: it imports Hypothesis at every session's end
    (0.6-0.8 s each, a minute or two over the suite) and none of those sessions uses it."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    return pytester
