"""Fixture values reach the virtual users: ``values=`` in the marker, ``load_value``/``load_values`` in User code."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from pytest_loadtest import shared_values
from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.shared_values import collect, load_value, load_values, sendable, value_names
from tests.support.target import TargetServer


@dataclasses.dataclass
class Config:
    path: str
    retries: int


@pytest.fixture
def installed() -> Iterator[None]:
    shared_values.install({"tokens": ["a", "b"], "seed": 7, "config": {"path": "/x", "retries": 2}})
    yield
    shared_values._installed = None


def test_values_travel_as_json_data_and_dataclasses_become_dicts() -> None:
    value = {"tokens": ("a", "b"), "config": Config("/x", 2), "n": None, "ratio": 0.5, "ok": True}
    assert sendable(value) == {
        "tokens": ["a", "b"],
        "config": {"path": "/x", "retries": 2},
        "n": None,
        "ratio": 0.5,
        "ok": True,
    }
    assert json.loads(json.dumps(sendable(value))) == sendable(value)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (object(), "client is of type object"),
        ({"users": [{"id": 1, "key": b"k"}]}, "client['users'][0]['key'] is of type bytes"),
        ({1: "a"}, "client has the key 1 (int); JSON keys are strings"),
        ([float("nan")], "client[0] is nan, which JSON cannot carry"),
    ],
)
def test_a_value_that_cannot_be_sent_is_a_usage_error_naming_the_test_the_fixture_and_the_part(
    value: object, where: str
) -> None:
    with pytest.raises(LoadTestUsageError) as raised:
        collect("t.py::test_x", ["client"], {"client": value})
    assert str(raised.value).startswith(
        f"t.py::test_x: the value of fixture 'client' cannot be sent to the load users: {where}. Values must be"
    )


def test_values_names_fixtures_the_test_requests() -> None:
    assert value_names("t", None, ["a"]) == ()
    assert value_names("t", "a", ["a", "b"]) == ("a",)
    assert value_names("t", ["a", "b", "a"], ["a", "b"]) == ("a", "b")
    with pytest.raises(
        LoadTestUsageError, match=r"^t: values= in the load marker names fixture 'c', which the test"
    ):
        value_names("t", ["c"], ["a"])
    with pytest.raises(
        LoadTestUsageError, match=r"^t: values=\{'a': 1\} in the load marker: must be fixture names"
    ):
        value_names("t", {"a": 1}, ["a"])


def test_the_accessor_is_typed_and_says_what_is_missing(installed: None) -> None:
    assert load_value("tokens", list) == ["a", "b"]
    assert load_value("seed", float) == 7.0 and load_value("seed") == 7
    assert load_value("config", Config) == Config("/x", 2)
    assert dict(load_values()) == {"tokens": ["a", "b"], "seed": 7, "config": {"path": "/x", "retries": 2}}
    with pytest.raises(TypeError, match="value 'tokens' is a list, not a str"):
        load_value("tokens", str)
    with pytest.raises(
        LookupError, match=r"no value 'nope' was sent to the load users \(sent: config, seed, tokens\)"
    ):
        load_value("nope")


def test_outside_a_scenario_the_accessor_says_so() -> None:
    with pytest.raises(LookupError, match="no load scenario runs in this process"):
        load_values()


TESTS = """
import dataclasses

import pytest
from locust import FastHttpUser, task

from pytest_loadtest import load_value


@dataclasses.dataclass
class Config:
    prefix: str


@pytest.fixture
def api_tokens():
    return ["tok-a", "tok-b"]  # e.g. what a seeder fixture created


@pytest.fixture
def config():
    return Config(prefix="/token")


@pytest.fixture
def client():
    return object()


class TokenUser(FastHttpUser):
    @task
    def use_token(self):
        prefix = load_value("config", Config).prefix
        for token in load_value("api_tokens", list):
            self.client.get(f"{prefix}/{token}", name=f"{prefix}/[token]")


@pytest.mark.load(TokenUser, users=2, duration=1, rate=10, values=["api_tokens", "config"])
def test_tokens(api_tokens, config):
    pass


@pytest.mark.load(TokenUser, users=2, duration=1, values="client")
def test_unsendable(client):
    pass
"""


@pytest.mark.parametrize("workers", [0, 2], ids=["one-process", "workers=2"])
def test_fixture_values_reach_every_user(
    pytester: pytest.Pytester, target: TargetServer, workers: int
) -> None:
    pytester.makepyfile(test_values=TESTS)
    before = {token: target.hits.get(f"/token/{token}", 0) for token in ("tok-a", "tok-b")}
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", target.url, "--load-workers", str(workers)
    )
    result.assert_outcomes(passed=1, failed=1)
    for token in ("tok-a", "tok-b"):  # every iteration (~10 a second) sent both tokens the fixture made
        assert 5 <= target.hits.get(f"/token/{token}", 0) - before[token] <= 15
    result.stdout.fnmatch_lines(
        [
            "*pytest-loadtest usage error: test_values.py::test_unsendable: the value of fixture 'client' cannot be "
            "sent to the load users: client is of type object. Values must be JSON data*",
        ]
    )
