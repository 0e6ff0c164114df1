"""A Scenario resolved from its layers: command line > profile > marker > environment > ini > built-in default.

Each value is parsed where it is given, so that an error names the test, the setting and where the value came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pytest_loadtest.errors import LoadTestUsageError, shown
from pytest_loadtest.measure.evidence import DEFAULT_MIN_SAMPLES, ramp_up_seconds
from pytest_loadtest.measure.names import DEFAULT_MAX_ENTRIES
from pytest_loadtest.measure.thresholds import parse_thresholds, with_failure_tolerance
from pytest_loadtest.measure.verdicts import Threshold
from pytest_loadtest.scenario import DEFAULT_STOP_TIMEOUT, ModuleRef, Scenario, UserClassRef
from pytest_loadtest.settings.distribution import resolve_distribution
from pytest_loadtest.settings.locust_equivalents import refusal
from pytest_loadtest.settings.rate import parse_rate
from pytest_loadtest.settings.table import MARKER_KEYWORDS, SETTINGS_BY_NAME, Where, settable

DEFAULT_USERS = 1
DEFAULT_DURATION = 10.0
DEFAULT_MAX_DURATION = 24 * 3600.0


@dataclass(frozen=True)
class Layer:
    """One source of settings, e.g. the command line; ``spell`` gives a setting's name as written there."""

    source: str
    values: Mapping[str, object]
    spell: Callable[[str], str]

    def get(self, name: str) -> object:
        value = self.values.get(name)
        return None if value is None or value == "" else value


def command_line_layer(values: Mapping[str, object]) -> Layer:
    return Layer("the command line", values, lambda name: SETTINGS_BY_NAME[name].option)


def marker_layer(test_id: str, kwargs: Mapping[str, object]) -> Layer:
    return Layer(f"the load marker of {test_id}", kwargs, lambda name: name)


def environment_layer(environ: Mapping[str, str]) -> Layer:
    return Layer(
        "the environment",
        {setting.name: environ.get(setting.variable) for setting in settable(Where.ENVIRONMENT)},
        lambda name: SETTINGS_BY_NAME[name].variable,
    )


def ini_layer(values: Mapping[str, object]) -> Layer:
    return Layer("the ini file", values, lambda name: SETTINGS_BY_NAME[name].ini_key)


def parse_locust_options(test_id: str, source: str, options: object) -> dict[str, Any]:
    """Custom Locust arguments: a mapping of argument name (``my_argument`` or ``my-argument``) to a string, number,
    boolean (a flag) or list of them."""
    if not isinstance(options, Mapping):
        raise LoadTestUsageError(
            f"{test_id}: options={shown(options)} from {source}: must be a dict of Locust argument names to values, "
            'e.g. options={"my_argument": "x"}'
        )
    allowed = (str, int, float, bool)
    for name, value in options.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if (
            not isinstance(name, str)
            or not name.strip("-")
            or not all(isinstance(v, allowed) for v in values)
        ):
            raise LoadTestUsageError(
                f"{test_id}: option {shown(name)}={shown(value)} from {source}: names are strings and values "
                "strings, numbers, booleans (a flag) or lists of them"
            )
    parsed = {name.lstrip("-").replace("-", "_"): value for name, value in options.items()}
    for name in parsed:
        refused = refusal(name)
        if refused:
            raise LoadTestUsageError(f"{test_id}: option {name} from {source}: {refused}")
    return parsed


def setting_source(name: str, layers: Sequence[Layer]) -> str | None:
    """Where a setting's value comes from: the source of the first layer that sets it."""
    return next((layer.source for layer in layers if layer.get(name) is not None), None)


def parsed_setting(name: str, layer: Layer) -> Any:
    """The value ``layer`` gives a setting, parsed; None when it gives none. A bad value is a usage error naming the
    setting as spelled there, the value and the layer."""
    raw = layer.get(name)
    if raw is None:
        return None
    try:
        return SETTINGS_BY_NAME[name].parse(raw)
    except ValueError as exc:
        raise LoadTestUsageError(f"{layer.spell(name)}={shown(raw)} from {layer.source}: {exc}") from None


def resolve_setting(name: str, layers: Sequence[Layer], test_id: str) -> Any:
    """The value of one setting from the first layer that sets it, parsed; None when no layer does."""
    for layer in layers:
        try:
            value = parsed_setting(name, layer)
        except LoadTestUsageError as exc:
            raise LoadTestUsageError(f"{test_id}: {exc}") from None
        if value is not None:
            return value
    return None


def check_user_classes(test_id: str, classes: Sequence[object]) -> tuple[UserClassRef, ...]:
    """Validate the marker's positional arguments: Locust User classes defined at module level."""
    from locust import User

    if not classes:
        raise LoadTestUsageError(
            f"{test_id}: the load marker needs at least one Locust User class, e.g. @pytest.mark.load(MyUser, users=10)"
        )
    refs = []
    for position, candidate in enumerate(classes, start=1):
        if not (isinstance(candidate, type) and issubclass(candidate, User)):
            raise LoadTestUsageError(
                f"{test_id}: load marker argument {position} ({shown(candidate)}) is not a Locust User class"
            )
        if candidate.__dict__.get("abstract", False):
            raise LoadTestUsageError(
                f"{test_id}: load marker argument {position} ({candidate.__qualname__}) is abstract; "
                "subclass it and give it tasks"
            )
        if "<locals>" in candidate.__qualname__:
            raise LoadTestUsageError(
                f"{test_id}: User class {candidate.__qualname__} is defined inside a function; the engine process "
                "imports User classes by module path, so define it at module level"
            )
        refs.append(UserClassRef.of(candidate))
    return tuple(refs)


def split_shape(
    test_id: str, classes: Sequence[object], shape: object
) -> tuple[Sequence[object], UserClassRef | None]:
    """The marker's User classes, and its load shape: ``shape=`` or a ``LoadTestShape`` among the positional
    classes (at most one, defined at module level, as Locust finds it in a locustfile)."""
    from locust import LoadTestShape

    def is_shape(candidate: object) -> bool:
        return isinstance(candidate, type) and issubclass(candidate, LoadTestShape)

    shapes = [candidate for candidate in classes if is_shape(candidate)] + (
        [shape] if shape is not None else []
    )
    if len(shapes) > 1:
        raise LoadTestUsageError(f"{test_id}: the load marker names {len(shapes)} load shapes; a run has one")
    if shapes and not is_shape(shapes[0]):
        raise LoadTestUsageError(f"{test_id}: shape={shown(shapes[0])} is not a Locust LoadTestShape class")
    if shapes and "<locals>" in shapes[0].__qualname__:  # type: ignore[attr-defined]
        raise LoadTestUsageError(
            f"{test_id}: load shape {shapes[0].__qualname__} is defined inside a function; define it at module level"  # type: ignore[attr-defined]
        )
    users = [candidate for candidate in classes if not is_shape(candidate)]
    return users, UserClassRef.of(shapes[0]) if shapes else None  # type: ignore[arg-type]


def unused_shape_message(test_id: str, module: object, scenario: Scenario) -> str | None:
    """What to say when the test module defines a ``LoadTestShape`` that plain ``locust -f`` would use but the
    marker names none (the run then holds ``users`` for ``duration``); None when that is not the case."""
    from locust import LoadTestShape

    if scenario.shape is not None:
        return None
    names = sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, LoadTestShape)
        and value is not LoadTestShape
        and not value.__dict__.get("abstract", False)
        and value.__module__ == getattr(module, "__name__", None)
    )
    if not names:
        return None
    return (
        f"{test_id}: the test module defines the load shape {', '.join(names)}, which `locust -f` would use, but the "
        f"load marker names none, so this run holds {scenario.users} users for {scenario.duration:g}s; name it to "
        f"use it: @pytest.mark.load(..., shape={names[0]})"
    )


def _check_classes_have_host(test_id: str, user_classes: Sequence[object]) -> None:
    from locust import FastHttpUser, HttpUser

    for user_class in user_classes:
        if issubclass(user_class, (HttpUser, FastHttpUser)) and not getattr(user_class, "host", None):  # type: ignore[arg-type]
            raise LoadTestUsageError(
                f"{test_id}: no host for {user_class.__qualname__}: pass --load-host, host= in the load marker, "  # type: ignore[attr-defined]
                "LOAD_HOST in the environment or .env.load-testing, load_host in the ini file, or a host attribute"
            )


def check_marker_keywords(test_id: str, kwargs: Mapping[str, object]) -> None:
    unknown = sorted(set(kwargs) - MARKER_KEYWORDS)
    if unknown:
        raise LoadTestUsageError(
            f"{test_id}: unknown load marker argument(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(MARKER_KEYWORDS))}"
        )


def check_marker_values(test_id: str, kwargs: Mapping[str, object]) -> None:
    """An explicit empty value (None, "") in the marker is refused: leaving the keyword out is what means "the
    default", and an empty value (often a variable that was never set) would silently mean it too."""
    for name, value in kwargs.items():
        setting = SETTINGS_BY_NAME[name]
        if setting.parser is not None and (value is None or (isinstance(value, str) and not value)):
            raise LoadTestUsageError(
                f"{test_id}: {name}={shown(value)} in the load marker is empty; give a value, or leave {name} out "
                f"to get the default (or what {setting.option}, {setting.variable} or {setting.ini_key} set)"
            )


def _check_ceiling(test_id: str, duration: float, layers: Sequence[Layer]) -> None:
    """A duration above the ceiling (``--load-max-duration``, default 24 h) is refused: ``duration="1e9"`` is a
    mistake, not a 31-year soak."""
    ceiling = resolve_setting("max_duration", layers, test_id) or DEFAULT_MAX_DURATION
    if duration > ceiling:
        source = setting_source("duration", layers) or "the default"
        raise LoadTestUsageError(
            f"{test_id}: duration {duration:g}s from {source} is longer than the longest a load test may run, "
            f"{ceiling:g}s; raise the ceiling with {SETTINGS_BY_NAME['max_duration'].option} (or "
            f"{SETTINGS_BY_NAME['max_duration'].variable}, {SETTINGS_BY_NAME['max_duration'].ini_key}) if you meant it"
        )


def resolve_scenario(
    test_id: str,
    user_classes: Sequence[object],
    marker_kwargs: Mapping[str, object],
    layers: Sequence[Layer],
    body: UserClassRef | None = None,
    test_module: ModuleRef | None = None,
    command_line_options: Mapping[str, str | bool | list[str]] | None = None,
) -> Scenario:
    """Build a validated Scenario; ``layers`` are in precedence order and include the marker's own layer;
    ``body`` is the test function run as the task when the marker names no User class (see plugin/body.py);
    ``command_line_options`` (``--load-option``) win over the marker's ``options=``."""
    check_marker_keywords(test_id, marker_kwargs)
    user_classes, shape = split_shape(test_id, user_classes, marker_kwargs.get("shape"))
    refs = (body,) if body else check_user_classes(test_id, user_classes)
    check_marker_values(test_id, marker_kwargs)
    users = resolve_setting("users", layers, test_id) or DEFAULT_USERS
    duration = resolve_setting("duration", layers, test_id) or DEFAULT_DURATION
    _check_ceiling(test_id, duration, layers)
    warmup = resolve_setting("warmup", layers, test_id) or 0.0
    if warmup >= duration:
        raise LoadTestUsageError(
            f"{test_id}: warmup ({warmup:g}s) must be shorter than the duration ({duration:g}s): "
            "the warm-up is the first part of the run"
        )
    thresholds = with_failure_tolerance(
        parse_thresholds(marker_kwargs.get("thresholds"), test_id),
        _resolved_or(resolve_setting("max_fail_ratio", layers, test_id), 0.0),
    )
    rate = parse_rate(test_id, marker_kwargs.get("rate"))
    if rate is None and any(threshold.metric == "dropped_iterations" for threshold in thresholds):
        raise LoadTestUsageError(
            f"{test_id}: threshold dropped_iterations needs the open model: give rate= (iterations started per "
            "second) in the load marker"
        )
    stop_timeout = resolve_setting("stop_timeout", layers, test_id)
    distribution = resolve_distribution(lambda name: resolve_setting(name, layers, test_id))
    if body is not None and distribution is not None and distribution.remote_workers:
        raise LoadTestUsageError(
            f"{test_id}: the load marker names no User class, so the test body is the task, and workers started "
            f"by hand (--load-expect-workers {distribution.remote_workers}) cannot run it: such a worker runs the "
            "User classes it finds in its test file, as locust -f does, and has no test function to call. Name "
            "User classes in the marker (@pytest.mark.load(MyUser, ...)), or start the workers here with "
            "--load-workers N"
        )
    host = resolve_setting("host", layers, test_id)
    if host is None:
        _check_classes_have_host(test_id, user_classes)
    return Scenario(
        test_id=test_id,
        user_classes=refs,
        users=users,
        spawn_rate=resolve_setting("spawn_rate", layers, test_id) or float(users),
        duration=duration,
        host=host,
        thresholds=thresholds,
        warnings=tuple(
            replace(warning, warning=True) for warning in _warnings(marker_kwargs.get("warn"), test_id)
        ),
        strict=_resolved_or(resolve_setting("strict", layers, test_id), False),
        threshold_cases=_resolved_or(resolve_setting("threshold_cases", layers, test_id), False),
        warmup=warmup,
        stop_timeout=DEFAULT_STOP_TIMEOUT if stop_timeout is None else stop_timeout,
        distribution=distribution,
        min_samples=_resolved_or(resolve_setting("min_samples", layers, test_id), DEFAULT_MIN_SAMPLES),
        allow_saturation=_resolved_or(resolve_setting("allow_saturation", layers, test_id), False),
        abort_on_fail=_resolved_or(resolve_setting("abort_on_fail", layers, test_id), False),
        abort_after=_resolved_or(resolve_setting("abort_after", layers, test_id), 0.0),
        max_entries=_resolved_or(resolve_setting("max_entries", layers, test_id), DEFAULT_MAX_ENTRIES),
        rate=rate,
        test_module=test_module,
        tags=resolve_setting("tags", layers, test_id) or (),
        exclude_tags=resolve_setting("exclude_tags", layers, test_id) or (),
        shape=shape,
        options={
            **parse_locust_options(test_id, "the load marker", marker_kwargs.get("options") or {}),
            **parse_locust_options(test_id, "--load-option", command_line_options or {}),
        },
    )


def _warnings(given: object, test_id: str) -> tuple[Threshold, ...]:
    """The marker's ``warn=``: the thresholds grammar, but a warning never stops the run (no ``abort``)."""
    warnings = parse_thresholds(given, test_id)
    stopping = [warning.label for warning in warnings if warning.abort]
    if stopping:
        raise LoadTestUsageError(
            f"{test_id}: warn= {', '.join(stopping)}: a warning cannot stop the run ('abort'); make it a threshold"
        )
    return warnings


def check_ramp_up(scenario: Scenario) -> None:
    """A flat run whose ramp-up (``users / spawn_rate``, see evidence.py) does not fit in its duration is refused
    before any request: its figures would be those of fewer users than it names (a warm-up may cover the ramp-up:
    the users start at once, the figures after it). A shape (``shape=``), a profile's stages and the open model
    (``rate=``) have no such ramp-up, and ``min_samples=0`` judges whatever ran."""
    if (
        scenario.shape is not None
        or scenario.stages
        or scenario.rate is not None
        or scenario.min_samples <= 0
    ):
        return
    ramp_up = ramp_up_seconds(scenario.users, scenario.spawn_rate)
    if ramp_up <= scenario.duration:
        return
    raise LoadTestUsageError(
        f"{scenario.test_id}: {scenario.users} users at a spawn rate of {scenario.spawn_rate:g}/s take "
        f"{ramp_up:g}s to start, longer than its {scenario.duration:g}s duration: the figures would be those of "
        f"fewer users. Raise the spawn rate to {math.ceil(round(scenario.users / scenario.duration, 6))}/s or more "
        f"(--load-spawn-rate, spawn_rate=), or the duration to {ramp_up:g}s or more (--load-duration, duration=), "
        "or run fewer users"
    )


def _resolved_or(value: Any, default: Any) -> Any:
    """A resolved setting, or its default when no layer set it (0 and False are settings, not gaps)."""
    return default if value is None else value
