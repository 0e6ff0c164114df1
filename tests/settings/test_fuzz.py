"""Hostile input: whatever a user writes in a marker, an option, the environment or the ini file, the plugin either
accepts it or raises its own LoadTestUsageError naming the test, never another exception."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from locust import HttpUser, User, task

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.guard import HostGuard, check_targets, scenario_targets
from pytest_loadtest.measure.thresholds import parse_thresholds
from pytest_loadtest.settings.resolve import (
    command_line_layer,
    environment_layer,
    ini_layer,
    marker_layer,
    resolve_scenario,
)
from pytest_loadtest.settings.table import MARKER_KEYWORDS

TEST_ID = "test_fuzz.py::test_target"
FUZZ = settings(max_examples=150, deadline=None)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**5000),
    st.floats(),
    st.text(),
    st.binary(max_size=8),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
)
metrics = st.sampled_from(
    ["avg", "min", "max", "median", "p50", "p99.9", "p100", "p0", "fail_ratio", "rps", "requests"]
)
conditions = st.from_regex(r"\A\s?(<|<=|>|>=|=<|=)?\s?[-+]?[0-9.eE]{0,6}\s?(ms|s|%|/s|m|)\s?\Z")
threshold_specs = st.one_of(
    values,
    st.dictionaries(st.one_of(metrics, st.text()), st.one_of(conditions, values), max_size=4),
    st.dictionaries(
        st.text(), st.dictionaries(st.one_of(metrics, st.text()), conditions, max_size=3), max_size=3
    ),
)


class FuzzUser(HttpUser):
    host = "http://127.0.0.1:9"

    @task
    def nothing(self) -> None:
        pass


class PlainUser(User):
    @task
    def nothing(self) -> None:
        pass


def assert_usage_error_names_the_test(call: Any) -> None:
    try:
        call()
    except LoadTestUsageError as exc:
        assert TEST_ID in str(exc), str(exc)


@FUZZ
@given(threshold_specs)
@example({"p95": 10**5000})  # more digits than int -> str allows
@example({"p95": "<" + "9" * 400})
@example({"p95\n": "<1"})
def test_any_thresholds_either_parse_or_are_a_usage_error(spec: object) -> None:
    assert_usage_error_names_the_test(lambda: parse_thresholds(spec, TEST_ID))


setting_names = ["users", "spawn_rate", "duration", "host", "warmup", "stop_timeout"]
text_settings = st.dictionaries(st.sampled_from(setting_names), st.one_of(st.none(), st.text(), conditions))
marker_kwargs = st.dictionaries(
    st.one_of(st.sampled_from(sorted(MARKER_KEYWORDS)), st.text(string.ascii_lowercase, max_size=8)),
    st.one_of(values, threshold_specs, conditions),
    max_size=6,
)
user_classes = st.lists(
    st.one_of(st.sampled_from([FuzzUser, PlainUser, User, HttpUser]), scalars), max_size=3
)


@FUZZ
@given(user_classes, marker_kwargs, text_settings, text_settings, text_settings)
@example([FuzzUser], {"users": 10**400}, {}, {}, {})
@example([FuzzUser], {"duration": 10**400}, {}, {}, {})
@example([FuzzUser], {"host": "http://[::1"}, {}, {}, {})
@example([FuzzUser], {"host": "http://h:99999"}, {}, {}, {})
def test_any_marker_and_layers_either_resolve_or_are_a_usage_error(
    classes: list[object],
    kwargs: dict[str, object],
    cli: dict[str, object],
    env: dict[str, str | None],
    ini: dict[str, object],
) -> None:
    environ = {"LOAD_" + name.upper(): value for name, value in env.items() if value is not None}
    layers = [
        command_line_layer(cli),
        marker_layer(TEST_ID, kwargs),
        environment_layer(environ),
        ini_layer(ini),
    ]

    def resolve_and_guard() -> None:
        scenario = resolve_scenario(TEST_ID, classes, kwargs, layers)
        check_targets(TEST_ID, scenario_targets(scenario.host, "fuzz", classes), HostGuard())

    assert_usage_error_names_the_test(resolve_and_guard)


@FUZZ
@given(
    st.lists(
        st.one_of(st.text(), st.from_regex(r"\A(\*\.)?[a-z0-9.\[\]:-]{0,20}(:[0-9]{0,6})?\Z")), max_size=4
    )
)
def test_any_allow_list_either_builds_or_is_a_usage_error(entries: list[str]) -> None:
    try:
        guard = HostGuard.from_entries(entries)
    except LoadTestUsageError as exc:
        assert "load_allowed_hosts" in str(exc)
        return
    for pattern in guard.patterns:  # what an entry names is allowed
        if not pattern.host.startswith("*."):
            assert guard.allows(pattern.host, pattern.port)
