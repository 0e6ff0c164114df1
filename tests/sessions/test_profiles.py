"""Load profiles: the file format, the errors, precedence, and a staged run reporting its breaking point."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.settings.profiles import chosen_name, load_profiles, select_profile, with_stages
from pytest_loadtest.settings.resolve import command_line_layer, marker_layer, resolve_scenario
from tests.support.suite import REPO, run_load_suite
from tests.support.target import TargetServer

SUITE_PROFILES = REPO / "loadtests" / "profiles.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(text)
    return path


def test_the_suite_defines_every_profile_of_the_issue() -> None:
    profiles = load_profiles(SUITE_PROFILES)
    assert list(profiles) == ["smoke", "steady", "peak", "stress", "spike", "soak"]
    assert profiles["smoke"].values == {"users": 10, "spawn_rate": 10, "duration": "8s"}
    assert profiles["steady"].values["users"] == 500 and profiles["soak"].values["duration"] == "1h"
    stress = profiles["stress"]
    assert [stage.users for stage in stress.stages] == [1000, 1250, 1500, 1750, 2000]
    assert stress.values["users"] == 2000 and stress.values["duration"] == 600.0
    assert all(profile.description for profile in profiles.values())


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(
        LoadTestUsageError, match=r"unknown load profile 'nope' \(--load-profile\); known .*: smoke, "
    ):
        select_profile("nope", "--load-profile", SUITE_PROFILES)


def test_no_profiles_file_is_a_usage_error() -> None:
    with pytest.raises(LoadTestUsageError, match="there is no profiles file"):
        select_profile("smoke", "LOAD_PROFILE in the environment", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a]\nusers = 1\nhost = 'http://x'\n", r"profile 'a' in .*: unknown setting\(s\) host"),
        ("[a]\nuser = 1\n", r"unknown setting\(s\) user; a profile may set"),
        ("a = 1\n", "'a' must be a table"),
        ("[a\n", "not valid TOML"),
        ("[a]\nstages = [{users = 0, spawn_rate = 1, duration = '1s'}]\n", r"stage 1: users=0: must be"),
        ("[a]\nstages = [{users = 1, spawn_rate = 1}]\n", "stage 1 must be a table with exactly"),
        ("[a]\nstages = [{users = 1, spawn_rate = 1, duration = 'soon'}]\n", "stage 1: duration='soon'"),
        (
            "[a]\nusers = 5\nstages = [{users = 1, spawn_rate = 1, duration = '1s'}]\n",
            "users come from its stages",
        ),
    ],
)
def test_bad_profiles_are_usage_errors_naming_the_profile(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LoadTestUsageError, match=message):
        load_profiles(write(tmp_path, text))


def test_a_bad_value_names_the_profile_when_the_scenario_resolves(tmp_path: Path) -> None:
    from loadtests.users import AuthUser

    profile = load_profiles(write(tmp_path, "[a]\nusers = 'many'\n"))["a"]
    with pytest.raises(LoadTestUsageError, match=r"t: users='many' from profile 'a' in .*: must be a number"):
        resolve_scenario(
            "t", [AuthUser], {}, [profile.layer(), marker_layer("t", {"host": "http://127.0.0.1:1"})]
        )


def test_command_line_beats_profile_beats_marker() -> None:
    from loadtests.users import AuthUser

    smoke = load_profiles(SUITE_PROFILES)["smoke"]
    marker = {"users": 3, "duration": 60, "host": "http://127.0.0.1:1"}
    layers = [command_line_layer({"users": "20"}), smoke.layer(), marker_layer("t", marker)]
    scenario = resolve_scenario("t", [AuthUser], marker, layers)
    assert (scenario.users, scenario.spawn_rate, scenario.duration) == (20, 10.0, 8.0)


def test_stages_reach_the_engine_unless_the_command_line_sets_the_shape() -> None:
    from loadtests.users import AuthUser

    stress = load_profiles(SUITE_PROFILES)["stress"]
    scenario = resolve_scenario(
        "t", [AuthUser], {}, [stress.layer(), marker_layer("t", {"host": "http://127.0.0.1:1"})]
    )
    staged = with_stages(scenario, stress, {"users": None})
    assert staged.to_spec()["stages"][0] == {"users": 1000, "spawn_rate": 50.0, "duration": 120.0}
    assert with_stages(scenario, stress, {"users": "20"}).to_spec()["stages"] == []
    assert with_stages(scenario, None, {}) is scenario


def test_the_name_comes_from_the_first_source_that_sets_one() -> None:
    assert chosen_name([(None, "cli"), ("", "env"), (" soak ", "ini")]) == ("soak", "ini")
    assert chosen_name([("smoke", "cli"), ("soak", "env")]) == ("smoke", "cli")
    assert chosen_name([(None, "cli")]) is None


def test_an_unknown_profile_stops_the_suite_before_anything_runs() -> None:
    session = run_load_suite("--load-profile", "nope")
    assert session.returncode == 4, session.stdout + session.stderr
    assert "unknown load profile 'nope' (--load-profile); known profiles in" in session.stderr
    assert "smoke, steady, peak, stress, spike, soak" in session.stderr


STAGED_MODULE = """
import pytest
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def health(self):
        self.client.get("/health")


@pytest.mark.load(HealthUser, thresholds={"rps": "<35"})
def test_ramp():
    pass
"""


@pytest.mark.slow
def test_a_staged_profile_reports_the_first_stage_that_failed(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    """2 users make about 20 requests/s, 6 users about 60: the rps < 35 limit first breaks at 6 users."""
    pytester.makepyfile(test_staged=STAGED_MODULE)
    (pytester.path / "profiles.toml").write_text(
        "[ramp]\nstages = [{users = 2, spawn_rate = 10, duration = '2s'}, {users = 6, spawn_rate = 10, duration = '2s'}]\n"
    )
    pytester.makeini("[pytest]\nload_profiles_file = profiles.toml\n")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--load-host",
        target.url,
        "--load-profile",
        "ramp",
        "--junitxml",
        "junit.xml",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*breaking point: 6 users (stage 2, the first whose thresholds failed)*",
            "*stage 1: 2 users, 0-2s,*",
            "*stage 2: 6 users, 2-4s,*FAILED: rps*",
        ]
    )
    properties = {
        p.get("name"): p.get("value") for p in ET.parse(pytester.path / "junit.xml").iter("property")
    }
    assert properties["load.breaking_point_users"] == "6"
    assert properties["load.stage1.passed"] == "True" and properties["load.stage2.passed"] == "False"


def test_profile_from_the_environment_beats_the_marker(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_env=STAGED_MODULE.split("@pytest.mark.load")[0]
        + """
@pytest.mark.load(HealthUser, users=1, duration=5)
def test_profile_wins(load_result):
    assert (load_result.users, load_result.duration) == (2, 1.0)
"""
    )
    (pytester.path / "load-profiles.toml").write_text("[tiny]\nusers = 2\nduration = '1s'\n")
    monkeypatch.setenv("LOAD_PROFILE", "tiny")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url)
    result.assert_outcomes(passed=1)
