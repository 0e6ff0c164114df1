"""What the plugin keeps on pytest's config and items between hooks."""

from __future__ import annotations

import pytest

from pytest_loadtest.engine.processes import ForkServer
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.plugin.reports import LoadReports
from pytest_loadtest.scenario import Scenario
from pytest_loadtest.settings.profiles import (
    Profile,
)

scenario_key = pytest.StashKey[Scenario]()


result_key = pytest.StashKey[LoadResult]()


reports_key = pytest.StashKey[LoadReports]()


values_key = pytest.StashKey[tuple[str, ...]]()


profile_key = pytest.StashKey[Profile | None]()


forkserver_key = pytest.StashKey[ForkServer | None]()


options_key = pytest.StashKey[dict[str, str | bool | list[str]]]()
