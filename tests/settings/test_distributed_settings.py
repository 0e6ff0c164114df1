"""Distribution settings: parsers and layered precedence (plain Python, no sessions)."""

from __future__ import annotations

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.scenario import Scenario
from pytest_loadtest.settings.distribution import (
    LOCUST_MASTER_PORT,
    Distribution,
    allowances,
    auto_workers,
    auto_workers_note,
    available_cores,
    parse_port,
    parse_workers,
)
from tests.settings.test_scenario import resolve


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto", auto_workers(available_cores())),
        (" AUTO ", auto_workers(available_cores())),
        ("3", 3),
        (0, 0),
        (2.0, 2),
    ],
)
def test_workers_parse_counts_and_auto(value: object, expected: int) -> None:
    assert parse_workers(value) == expected


@pytest.mark.parametrize(("cores", "workers"), [(1, 0), (2, 0), (3, 2), (4, 3), (8, 7), (64, 63)])
def test_auto_leaves_a_core_for_the_master_and_a_local_target_and_never_starts_a_lone_worker(
    cores: int, workers: int
) -> None:
    assert auto_workers(cores) == workers


def test_the_auto_note_says_what_auto_picks_and_why() -> None:
    assert auto_workers_note(2) == (
        "--load-workers auto: none, one process on 2 available cores (one per available core but one, which is left "
        "for the master and a target on this machine; fewer than two workers send no more than one process)"
    )
    assert auto_workers_note(4) == (
        "--load-workers auto: 3 on 4 available cores (one per available core but one, which is left for the master "
        "and a target on this machine)"
    )


@pytest.mark.parametrize("value", ["-1", "many", 1.5, True, None, "2 workers"])
def test_bad_worker_counts_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="whole number >= 0 or 'auto'"):
        parse_workers(value)


@pytest.mark.parametrize("value", [65536, "-5", "http"])
def test_bad_ports_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="port number 0-65535"):
        parse_port(value)


def test_no_workers_means_one_process() -> None:
    assert resolve({}).distribution is None
    assert resolve({"workers": 0}).distribution is None


def test_local_workers_listen_on_loopback_on_a_free_port() -> None:
    assert resolve({"workers": 2}).distribution == Distribution(
        local_workers=2, bind_host="127.0.0.1", bind_port=0
    )


def test_remote_workers_default_to_locusts_port_and_stay_on_loopback_unless_told() -> None:
    distribution = resolve({}, cli={"expect_workers": "2"}).distribution
    assert distribution == Distribution(
        local_workers=0, remote_workers=2, bind_host="127.0.0.1", bind_port=LOCUST_MASTER_PORT
    )
    chosen = resolve(
        {}, cli={"expect_workers": "2", "master_bind_host": "0.0.0.0", "master_bind_port": "6000"}
    ).distribution
    assert chosen == Distribution(local_workers=0, remote_workers=2, bind_host="0.0.0.0", bind_port=6000)


def test_precedence_command_line_marker_environment_ini() -> None:
    assert (
        resolve({"workers": 1}, cli={"workers": "3"}, env={"LOAD_WORKERS": "4"}).distribution.local_workers
        == 3
    )
    assert resolve({"workers": 1}, env={"LOAD_WORKERS": "4"}).distribution.local_workers == 1
    assert resolve({}, env={"LOAD_WORKERS": "4"}, ini={"workers": "5"}).distribution.local_workers == 4
    assert resolve({}, ini={"workers": "3", "worker_timeout": "2m"}).distribution == Distribution(
        local_workers=3, timeout=120.0
    )
    auto = resolve({}, ini={"workers": "auto"}).distribution
    assert (auto.local_workers if auto else 0) == auto_workers(available_cores())


@pytest.mark.parametrize(
    ("marker", "cli", "message"),
    [
        (
            {"workers": "lots"},
            {},
            "t::x: workers='lots' from the load marker of t::x: must be a whole number",
        ),
        (
            {},
            {"worker_timeout": "0"},
            "t::x: --load-worker-timeout='0' from the command line: must be more than 0",
        ),
        ({"expect_workers": 2}, {}, "t::x: unknown load marker argument(s) expect_workers"),
    ],
)
def test_bad_values_name_their_source(
    marker: dict[str, object], cli: dict[str, object], message: str
) -> None:
    with pytest.raises(LoadTestUsageError) as error:
        resolve(marker, cli=cli)
    assert str(error.value).startswith(message)


def test_the_engine_gets_the_distribution_and_more_time() -> None:
    scenario: Scenario = resolve({"workers": 2}, cli={"worker_timeout": "30"})
    assert Distribution.from_dict(scenario.to_spec()["distribution"]) == scenario.distribution
    assert resolve({}).to_spec()["distribution"] is None
    assert allowances(None) == (0.0, 0.0)
    startup, run = allowances(scenario.distribution)
    assert startup == 30.0 and run > 0
