"""Load profiles: named sets of run settings (and optionally a staged load shape) kept in a TOML file, so one
suite serves from a pull request (``smoke``) to a soak.

    [smoke]
    description = "a handful of users for a few seconds"
    users = 10
    spawn_rate = 10
    duration = "8s"

    [stress]
    description = "ramp 1000 -> 2000 users to find the breaking point"
    stages = [{ users = 1000, spawn_rate = 50, duration = "60s" }, { users = 1500, spawn_rate = 50, duration = "60s" }]

A profile is chosen with ``--load-profile NAME``, else ``LOAD_PROFILE`` in the environment, else the ini key
``load_profile``; the file is the ini key ``load_profiles_file`` (relative to the rootdir), else
``load-profiles.toml`` in the rootdir. The chosen profile is one settings layer: below the command line (an explicit
``--load-users 20`` wins), above the marker, the environment and the ini file. Staged profiles set ``users`` to the
largest stage, ``duration`` to the sum of the stages and ``spawn_rate`` to the first stage's; when the command line
sets any of users, spawn rate or duration, the run is flat and the stages are dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_loadtest.engine.protocol import StageSpec
from pytest_loadtest.errors import LoadTestUsageError, shown
from pytest_loadtest.scenario import Scenario
from pytest_loadtest.settings.resolve import Layer
from pytest_loadtest.settings.table import PROFILE_KEYS, SETTINGS_BY_NAME
from pytest_loadtest.settings.textfile import read_settings_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]  # a dependency on 3.10

DEFAULT_PROFILES_FILE = "load-profiles.toml"
PROFILE_HELP = (
    "load profile to run: a named set of users/spawn rate/duration (and stages) from the profiles file"
)
PROFILES_FILE_HELP = f"TOML file defining the load profiles (default: {DEFAULT_PROFILES_FILE} in the rootdir)"
SHAPE_SETTINGS = ("users", "spawn_rate", "duration")
"""Settings a staged profile derives from its stages; setting one on the command line runs the profile flat."""


@dataclass(frozen=True)
class Stage:
    """One step of a staged shape: ``users`` reached at ``spawn_rate`` and held for ``duration`` seconds."""

    users: int
    spawn_rate: float
    duration: float

    def to_dict(self) -> StageSpec:
        return StageSpec(users=self.users, spawn_rate=self.spawn_rate, duration=self.duration)


@dataclass(frozen=True)
class Profile:
    name: str
    source: str
    """Where it is defined, for error messages: "profile 'smoke' in loadtests/profiles.toml"."""
    values: Mapping[str, object]
    stages: tuple[Stage, ...] = ()
    description: str = ""

    def layer(self) -> Layer:
        return Layer(self.source, self.values, lambda name: name)


def chosen_name(candidates: list[tuple[object, str]]) -> tuple[str, str] | None:
    """The first profile name set in ``candidates`` ((value, where it comes from), highest precedence first)."""
    for value, where in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip(), where
    return None


def load_profiles(path: Path) -> dict[str, Profile]:
    """Every profile of the file, validated: keys are the settings a profile may set (``PROFILE_KEYS``),
    ``description`` and ``stages``."""
    text = read_settings_file(path, "the load profiles file")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LoadTestUsageError(f"the load profiles file {path} is not valid TOML: {exc}") from None
    profiles = {}
    for name, table in document.items():
        source = f"profile {name!r} in {path}"
        if not isinstance(table, dict):
            raise LoadTestUsageError(f"{path}: {name!r} must be a table ([{name}]) of settings")
        profiles[name] = _profile(name, source, table)
    return profiles


def _profile(name: str, source: str, table: Mapping[str, Any]) -> Profile:
    values = {key: value for key, value in table.items() if key not in ("description", "stages")}
    unknown = sorted(set(values) - PROFILE_KEYS)
    if unknown:
        raise LoadTestUsageError(
            f"{source}: unknown setting(s) {', '.join(unknown)}; a profile may set "
            f"{', '.join(sorted(PROFILE_KEYS))}, description and stages"
        )
    stages = _stages(source, table.get("stages", []))
    if stages:
        derived = set(SHAPE_SETTINGS) & set(values)
        if derived:
            raise LoadTestUsageError(
                f"{source}: {', '.join(sorted(derived))} come from its stages; set them in each stage instead"
            )
        values["users"] = max(stage.users for stage in stages)
        values["spawn_rate"] = stages[0].spawn_rate
        values["duration"] = sum(stage.duration for stage in stages)
    return Profile(name, source, values, stages, str(table.get("description", "")))


def _stages(source: str, raw: object) -> tuple[Stage, ...]:
    if not isinstance(raw, list):
        raise LoadTestUsageError(f"{source}: stages must be a list of {{users, spawn_rate, duration}} tables")
    stages = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or set(entry) != set(SHAPE_SETTINGS):
            raise LoadTestUsageError(
                f"{source}: stage {number} must be a table with exactly users, spawn_rate and duration, "
                f"got {shown(entry)}"
            )
        stages.append(Stage(*(_stage_value(source, number, name, entry[name]) for name in SHAPE_SETTINGS)))
    return tuple(stages)


def _stage_value(source: str, number: int, name: str, value: object) -> Any:
    """One of a stage's settings, parsed as the setting itself is."""
    try:
        return SETTINGS_BY_NAME[name].parse(value)
    except ValueError as exc:
        raise LoadTestUsageError(f"{source}: stage {number}: {name}={shown(value)}: {exc}") from None


def select_profile(name: str, where: str, path: Path | None) -> Profile:
    """The profile ``name`` (chosen in ``where``) from ``path``; a usage error lists the known ones."""
    if path is None:
        raise LoadTestUsageError(
            f"load profile {name!r} was asked for ({where}) but there is no profiles file: create "
            f"{DEFAULT_PROFILES_FILE} in the rootdir or set the ini key load_profiles_file"
        )
    profiles = load_profiles(path)
    if name not in profiles:
        known = ", ".join(profiles) or "none"
        raise LoadTestUsageError(
            f"unknown load profile {name!r} ({where}); known profiles in {path}: {known}"
        )
    return profiles[name]


def with_stages(scenario: Scenario, profile: Profile | None, command_line: Mapping[str, object]) -> Scenario:
    """The scenario with the profile's stages for the engine, unless the command line set its shape explicitly."""
    if profile is None or not profile.stages:
        return scenario
    if any(command_line.get(name) not in (None, "") for name in SHAPE_SETTINGS):
        return scenario
    return replace(scenario, stages=tuple(stage.to_dict() for stage in profile.stages))
