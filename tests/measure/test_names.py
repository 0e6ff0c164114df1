"""Request names: their shapes, the name-cardinality gate's message, and Locust's stats bounded in the runtime."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from pytest_loadtest.measure import names
from pytest_loadtest.measure.gates import judge
from pytest_loadtest.measure.result import EntryStats, LoadResult
from pytest_loadtest.scenario import Scenario

TEST_ID = "test_x.py::test_a"


def entry(key: str, requests: int = 1) -> EntryStats:
    return EntryStats(key, requests, 0, 10.0 * requests, 10.0, 10.0, 1.0, {10.0: requests})


def entries(*keys: str) -> dict[str, EntryStats]:
    return {key: entry(key) for key in keys}


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("GET /items/42", "GET /items/{n}"),
        ("GET /items/42/reviews/7?page=3", "GET /items/{n}/reviews/{n}?page={n}"),
        ("GET /orders/3FA85F64-5717-4562-B3FC-2C963F66AFA6/lines", "GET /orders/{uuid}/lines"),
        ("GET /commits/9fceb02d0ae598e95dc970b74767f19372d61af8", "GET /commits/{hex}"),
        ("GET /blobs/deadbeef1", "GET /blobs/{hex}"),
        ("GET /v2/health", "GET /v{n}/health"),
        ("GET /accessibility", "GET /accessibility"),  # letters only: a word, not an id
        ("GET /facade", "GET /facade"),
    ],
)
def test_ids_in_a_name_are_replaced_by_their_kind(name: str, shape: str) -> None:
    assert names.name_shape(name) == shape


def test_the_ten_most_frequent_shapes_come_first_with_counts_and_an_example() -> None:
    keys = [f"GET /orders/{uuid.UUID(int=n)}" for n in range(30)]
    keys += [f"GET /items/{n}" for n in range(20)]
    keys += [
        f"GET /{letter * 3}/x" for letter in "abcdefghijkl"
    ]  # 12 shapes of one name each, after those two
    measured = entries(*keys)
    measured["GET /items/3"] = entry("GET /items/3", requests=50)
    shapes = names.frequent_shapes(measured)
    assert len(shapes) == names.SHAPES_SHOWN
    assert [(shape.shape, shape.names) for shape in shapes[:2]] == [
        ("GET /orders/{uuid}", 30),
        ("GET /items/{n}", 20),
    ]
    assert shapes[1].requests == 19 + 50 and shapes[1].example == "GET /items/0"
    assert shapes[0].example == "GET /orders/00000000-0000-0000-0000-000000000000"


def test_the_fix_is_a_name_built_from_the_users_own_request() -> None:
    assert names.fix_suggestion("GET /items/42?x=1", "GET /items/{n}?x={n}") == (
        'self.client.get("/items/42?x=1", name="/items/{n}?x={n}")'
    )
    assert (
        names.fix_suggestion("grpc Get/42", "grpc Get/{n}") == 'self.client.request("Get/42", name="Get/{n}")'
    )


def test_names_within_max_entries_pass_and_one_more_fails_with_shapes_and_fix() -> None:
    within = entries(*(f"GET /items/{n}" for n in range(5)))
    assert names.too_many_names_message(TEST_ID, within, max_entries=5) is None
    beyond = {**within, "POST /orders/7": entry("POST /orders/7")}
    message = names.too_many_names_message(TEST_ID, beyond, max_entries=5)
    assert message is not None
    lines = message.splitlines()
    assert lines[0] == (
        f"{TEST_ID}: too many request names: 6 distinct names, more than max_entries=5; each gets its own stats "
        "entry (an id in the URL?). Most frequent name shapes:"
    )
    assert lines[1].split() == ["5", "names", "5", "requests", "GET", "/items/{n}"]
    assert lines[2].split() == ["1", "names", "1", "requests", "POST", "/orders/{n}"]
    assert lines[3] == 'fix: give such requests one name, e.g. self.client.get("/items/0", name="/items/{n}")'
    assert lines[4] == "or raise max_entries= / --load-max-entries if the names are meant to be distinct"


def test_folded_names_fail_the_gate_and_say_how_many_requests_were_folded() -> None:
    measured = entries("GET /a", f"GET {names.OVERFLOW_NAME}")
    measured[f"GET {names.OVERFLOW_NAME}"] = entry(f"GET {names.OVERFLOW_NAME}", requests=40)
    assert names.name_count(measured) == 1 and names.folded(measured) == 40
    message = names.too_many_names_message(TEST_ID, measured, max_entries=names.STATS_NAME_CAP)
    assert message is not None
    assert (
        "more than 1 (40 requests with later names were folded into '(other names)') distinct names"
        in message
    )


def test_the_gate_judges_on_the_scenarios_max_entries() -> None:
    measured = entries(*(f"GET /items/{n}" for n in range(21)))
    total = entry("Aggregated", requests=21)
    result = LoadResult(TEST_ID, "http://127.0.0.1:1", 1, 1.0, 1.0, total, measured)
    scenario = Scenario(TEST_ID, (), users=1, spawn_rate=1, duration=1.0, host="http://127.0.0.1:1")
    assert judge(scenario, result).passed  # 21 of the default 200
    judgement = judge(replace(scenario, max_entries=20), result)
    assert judgement.failed is not None and judgement.failed.name == "too many request names"


def test_the_runtime_folds_names_and_errors_beyond_the_cap_into_one_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import locust.stats

    from pytest_loadtest.runtime import locust_run

    # restored after the test: the install patches Locust's module for the engine process
    monkeypatch.setattr(locust.stats, "EntriesDict", locust.stats.EntriesDict)
    monkeypatch.setattr(locust.stats.RequestStats, "log_error", locust.stats.RequestStats.log_error)
    monkeypatch.setattr(names, "STATS_NAME_CAP", 50)
    locust_run.install_name_cap()
    locust_run.install_name_cap()  # twice is once
    stats = locust.stats.RequestStats()
    for n in range(80):
        stats.log_request("GET", f"/items/{n}", 10, 0)
        stats.log_error("GET", f"/items/{n}", "boom")
    stats.log_request("GET", "/items/3", 10, 0)  # a name kept keeps its own entry
    assert len(stats.entries) == 51 and ("/items/79", "GET") not in stats.entries
    assert stats.entries[("/items/3", "GET")].num_requests == 2
    assert stats.entries[(names.OVERFLOW_NAME, "GET")].num_requests == 30
    assert len(stats.errors) == 51
    stats.clear_all()  # the warm-up's reset makes a new entries dict: capped too
    for n in range(60):
        stats.log_request("GET", f"/other/{n}", 10, 0)
    assert len(stats.entries) == 51
