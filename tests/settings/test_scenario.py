"""Scenario resolution: precedence, defaults and errors that name where a bad value came from."""

from __future__ import annotations

import pytest
from locust import HttpUser, User, constant, task

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.settings.durations import parse_duration
from pytest_loadtest.settings.resolve import (
    command_line_layer,
    environment_layer,
    ini_layer,
    marker_layer,
    resolve_scenario,
)


class ApiUser(HttpUser):
    host = "http://127.0.0.1:9"
    wait_time = constant(1)

    @task
    def health(self) -> None:
        self.client.get("/health")


class HostlessUser(HttpUser):
    @task
    def health(self) -> None:
        self.client.get("/health")


def resolve(
    marker: dict[str, object],
    cli: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    ini: dict[str, object] | None = None,
    classes: tuple[object, ...] = (ApiUser,),
):
    layers = [
        command_line_layer(cli or {}),
        marker_layer("t::x", marker),
        environment_layer(env or {}),
        ini_layer(ini or {}),
    ]
    return resolve_scenario("t::x", classes, marker, layers)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (5, 5.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("1.5", 1.5),
        ("500ms", 0.5),
        ("2m10s", 130.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_duration_up_to_the_ceiling_runs_and_the_ceiling_can_be_raised() -> None:
    assert resolve({"duration": "24h"}).duration == 86400.0
    assert resolve({"duration": "30h"}, cli={"max_duration": "48h"}).duration == 108000.0


def test_defaults_start_every_user_within_one_second() -> None:
    scenario = resolve({"users": 40})
    assert (scenario.users, scenario.spawn_rate, scenario.duration, scenario.host) == (40, 40.0, 10.0, None)


def test_precedence_command_line_then_marker_then_environment_then_ini() -> None:
    ini = {"users": "2", "duration": "7s", "spawn_rate": "100", "host": "http://127.0.0.1:4"}
    env = {"LOAD_USERS": "3", "LOAD_DURATION": "8s", "LOAD_HOST": "http://127.0.0.1:3"}
    marker = {"users": 4, "host": "http://127.0.0.1:2"}
    cli = {"users": "500"}
    scenario = resolve(marker, cli=cli, env=env, ini=ini)
    assert (scenario.users, scenario.duration, scenario.spawn_rate, scenario.host) == (
        500,
        8.0,
        100.0,
        "http://127.0.0.1:2",
    )
    assert resolve({}, ini=ini).users == 2
    assert resolve({}, env=env, ini=ini).users == 3
    assert resolve(marker, env=env, ini=ini).users == 4


@pytest.mark.parametrize(
    ("marker", "cli", "env", "message"),
    [
        ({"users": 0}, {}, {}, "t::x: users=0 from the load marker of t::x: must be a whole number >= 1"),
        ({"duration": "soon"}, {}, {}, "duration='soon' from the load marker of t::x"),
        ({"spawn_rate": -1}, {}, {}, "spawn_rate=-1 from the load marker of t::x: must be a number > 0"),
        ({}, {"users": "many"}, {}, "--load-users='many' from the command line: must be a number"),
        ({}, {}, {"LOAD_DURATION": "x"}, "LOAD_DURATION='x' from the environment"),
        (
            {"host": "127.0.0.1:80"},
            {},
            {},
            "host='127.0.0.1:80' from the load marker of t::x: must be a base URL",
        ),
        ({"usrs": 3}, {}, {}, "unknown load marker argument(s) usrs"),
        (
            {"users": None},
            {},
            {},
            "t::x: users=None in the load marker is empty; give a value, or leave users out",
        ),
        ({"users": ""}, {}, {}, "t::x: users='' in the load marker is empty"),
        ({"duration": None}, {}, {}, "t::x: duration=None in the load marker is empty"),
        ({"duration": ""}, {"duration": "5"}, {}, "t::x: duration='' in the load marker is empty"),
        ({"duration": "1e9"}, {}, {}, "duration 1e+09s from the load marker of t::x is longer than"),
        (
            {},
            {"duration": "25h"},
            {},
            "duration 90000s from the command line is longer than the longest a load test",
        ),
        (
            {"duration": "2h"},
            {},
            {"LOAD_MAX_DURATION": "1h"},
            "3600s; raise the ceiling with --load-max-duration",
        ),
        (
            {"host": "http://127.0.0.1:99999"},
            {},
            {},
            "host='http://127.0.0.1:99999' from the load marker of t::x: has the port '99999', which is out of "
            "range or not a number",
        ),
        (
            {"host": "http://127.0.0.1:http/"},
            {},
            {},
            "has the port 'http', which is out of range or not a number",
        ),
        ({"duration": 2, "warmup": 3}, {}, {}, "warmup (3s) must be shorter than the duration (2s)"),
    ],
)
def test_bad_values_name_their_source(
    marker: dict[str, object], cli: dict[str, object], env: dict[str, str], message: str
) -> None:
    with pytest.raises(LoadTestUsageError, match=None) as raised:
        resolve(marker, cli=cli, env=env)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ((), "needs at least one Locust User class"),
        (("ApiUser",), "load marker argument 1 ('ApiUser') is not a Locust User class"),
        ((ApiUser, object), "load marker argument 2"),
        ((HttpUser,), "is abstract"),
        ((HostlessUser,), "no host for HostlessUser"),
    ],
)
def test_bad_user_classes(classes: tuple[object, ...], message: str) -> None:
    with pytest.raises(LoadTestUsageError) as raised:
        resolve({}, classes=classes)
    assert message in str(raised.value)


def test_user_classes_defined_in_a_function_are_refused() -> None:
    class Local(User):
        @task
        def nothing(self) -> None:
            pass

    with pytest.raises(LoadTestUsageError, match="defined inside a function"):
        resolve({}, classes=(Local,))


def test_a_warning_cannot_stop_the_run() -> None:
    with pytest.raises(
        LoadTestUsageError, match=r"t::x: warn= p99: a warning cannot stop the run \('abort'\)"
    ):
        resolve({"warn": {"p99": "<300ms abort"}})
