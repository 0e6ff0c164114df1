"""The settings table: the environment, the marker and profiles take the settings it says and no other, warmup and
stop_timeout are settable in their new places, and the number parser refuses what the table says it must."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.settings.parsers import number
from pytest_loadtest.settings.profiles import load_profiles
from pytest_loadtest.settings.resolve import check_marker_keywords, environment_layer
from pytest_loadtest.settings.table import (
    MARKER_KEYWORDS,
    PROFILE_KEYS,
    SETTINGS,
    SETTINGS_BY_NAME,
    Setting,
    Where,
)
from tests.settings.test_scenario import resolve

LAYERED = [setting for setting in SETTINGS if setting.parser is not None]


def test_each_setting_is_spelled_from_its_name_in_every_place() -> None:
    spawn_rate = SETTINGS_BY_NAME["spawn_rate"]
    assert (spawn_rate.option, spawn_rate.ini_key, spawn_rate.variable) == (
        "--load-spawn-rate",
        "load_spawn_rate",
        "LOAD_SPAWN_RATE",
    )


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_the_environment_is_read_for_exactly_the_settings_the_table_gives_a_variable(
    setting: Setting,
) -> None:
    layer = environment_layer({setting.variable: "given"})
    assert (layer.get(setting.name) == "given") is (Where.ENVIRONMENT in setting.where)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_the_marker_takes_exactly_the_keywords_the_table_lets_it_set(setting: Setting) -> None:
    if Where.MARKER in setting.where:
        check_marker_keywords("t::x", {setting.name: None})
    else:
        with pytest.raises(LoadTestUsageError, match=f"unknown load marker argument\\(s\\) {setting.name};"):
            check_marker_keywords("t::x", {setting.name: None})


def test_warmup_and_stop_timeout_are_marker_keywords_and_the_cluster_is_set_outside_tests() -> None:
    assert {"stop_timeout", "warmup", "thresholds", "rate"} <= MARKER_KEYWORDS
    assert "expect_workers" not in MARKER_KEYWORDS and "host" not in PROFILE_KEYS


def test_only_the_markers_own_arguments_have_no_parser() -> None:
    unparsed = {setting.name for setting in SETTINGS if setting.parser is None}
    assert unparsed == {setting.name for setting in SETTINGS if setting.where == {Where.MARKER}}


@pytest.mark.parametrize("setting", LAYERED, ids=lambda setting: setting.name)
def test_a_profile_may_set_exactly_the_settings_the_table_lets_it(setting: Setting, tmp_path: Path) -> None:
    valid = {"host": "'http://127.0.0.1:1'", "allow_saturation": "true", "tags": "'a'", "exclude_tags": "'a'"}
    path = tmp_path / "profiles.toml"
    path.write_text(f"[p]\n{setting.name} = {valid.get(setting.name, '1')}\n", encoding="utf-8")
    if Where.PROFILE in setting.where:
        assert setting.name in load_profiles(path)["p"].values
    else:
        with pytest.raises(LoadTestUsageError, match=f"unknown setting\\(s\\) {setting.name};"):
            load_profiles(path)


def test_warmup_precedence_command_line_marker_environment_ini() -> None:
    marker = {"duration": 10, "warmup": 3}
    env = {"LOAD_WARMUP": "2s"}
    ini = {"warmup": "1s"}
    assert resolve(marker, cli={"warmup": "4s"}, env=env, ini=ini).warmup == 4.0
    assert resolve(marker, env=env, ini=ini).warmup == 3.0
    assert resolve({"duration": 10}, env=env, ini=ini).warmup == 2.0
    assert resolve({"duration": 10}, ini=ini).warmup == 1.0
    assert resolve({"duration": 10}).warmup == 0.0


def test_a_warmup_from_the_command_line_is_refused_naming_the_option() -> None:
    with pytest.raises(
        LoadTestUsageError, match=r"t::x: --load-warmup='soon' from the command line: expected"
    ):
        resolve({}, cli={"warmup": "soon"})


def test_stop_timeout_is_read_from_the_marker_below_the_command_line() -> None:
    assert resolve({"stop_timeout": "2s"}).stop_timeout == 2.0
    assert resolve({"stop_timeout": "2s"}, cli={"stop_timeout": "7"}).stop_timeout == 7.0
    assert resolve({"stop_timeout": 2}, env={"LOAD_STOP_TIMEOUT": "9"}).stop_timeout == 2.0


def test_a_number_within_bounds_is_returned_as_its_kind() -> None:
    whole = number(int, refusal="must be a whole number from 1 to 3", minimum=1, maximum=3)
    assert [whole(1), whole("2"), whole(3.0), whole(" 3 ")] == [1, 2, 3, 3]
    assert all(type(whole(value)) is int for value in (1, "2", 3.0))
    fraction = number(float, refusal="must be a fraction", minimum=0, maximum=1, percent=True)
    assert [fraction("50%"), fraction(" 1 %"), fraction(0.25), fraction("1")] == [0.5, 0.01, 0.25, 1.0]


@pytest.mark.parametrize("value", [0, 4, 1.5, "0.5", "-1"])
def test_a_number_out_of_bounds_or_not_whole_gets_the_refusal(value: object) -> None:
    whole = number(int, refusal="must be a whole number from 1 to 3", minimum=1, maximum=3)
    with pytest.raises(ValueError, match=r"^must be a whole number from 1 to 3$"):
        whole(value)


@pytest.mark.parametrize("value", [0, -2])
def test_an_exclusive_bound_is_left_out(value: object) -> None:
    positive = number(float, refusal="must be more than 0", minimum=0, exclusive=True)
    assert positive(0.001) == 0.001
    with pytest.raises(ValueError, match=r"^must be more than 0$"):
        positive(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("many", "must be a number"),
        (True, "must be a number"),
        ([1], "must be a number, got list"),
        (float("nan"), "must be a finite number"),
        (10**400, "is too large"),
    ],
)
def test_what_is_no_number_says_why_unless_the_refusal_is_uniform(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^{reason}$"):
        number(float, refusal="must be a count")(value)
    with pytest.raises(ValueError, match=r"^must be a count$"):
        number(float, refusal="must be a count", uniform=True)(value)
