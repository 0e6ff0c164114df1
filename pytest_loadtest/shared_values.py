"""Values from the load test's pytest fixtures, for the virtual users: ``load_value(name, kind)`` / ``load_values()``.

In the pytest process the plugin takes the value of every fixture the marker names in ``values=`` (and, for a test
body run as the task, every fixture the function takes), checks that it can travel as JSON and puts it in the
scenario spec. The engine process installs them before any user starts; in a distributed run the master sends them
to every worker (local or remote) before it spawns users (see ``sharing.py``). User code reads them anywhere::

    from pytest_loadtest import load_value

    class ApiUser(FastHttpUser):
        def on_start(self):
            self.token = load_value("api_tokens", list)[0]

A value is JSON data (str, int, float, bool, None, lists and tuples, dicts with str keys) or a dataclass of such
fields, which arrives as a dict unless read with its class: ``load_value("config", Config)`` builds ``Config(**d)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, overload

from pytest_loadtest.errors import LoadTestUsageError, shown

T = TypeVar("T")
_installed: Mapping[str, Any] | None = None


class NotSendable(ValueError):
    """A fixture value that cannot travel to the engine as JSON; the message says where inside it."""


def sendable(value: object, where: str = "the value") -> Any:
    """``value`` as JSON data (tuples become lists, dataclasses dicts); ``NotSendable`` names the part that is not."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotSendable(f"{where} is {value!r}, which JSON cannot carry")
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: sendable(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)
        }
    if isinstance(value, (list, tuple)):
        return [sendable(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Mapping):
        data = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotSendable(
                    f"{where} has the key {key!r} ({type(key).__name__}); JSON keys are strings"
                )
            data[key] = sendable(item, f"{where}[{key!r}]")
        return data
    raise NotSendable(f"{where} is of type {type(value).__name__}")


def collect(test_id: str, names: Iterable[str], fixture_values: Mapping[str, object]) -> dict[str, Any]:
    """The JSON data of the named fixtures' values; a usage error names the fixture that cannot be sent."""
    data = {}
    for name in names:
        try:
            data[name] = sendable(fixture_values[name], name)
        except NotSendable as exc:
            raise LoadTestUsageError(
                f"{test_id}: the value of fixture {name!r} cannot be sent to the load users: {exc}. "
                "Values must be JSON data (str, int, float, bool, None, lists, tuples, dicts with str keys) or "
                "dataclasses of them; send what the users need, e.g. a token string instead of a client object"
            ) from None
    return data


def install(values: Mapping[str, Any]) -> None:
    """Make ``values`` readable by ``load_value``/``load_values`` in this process (the engine and its workers)."""
    global _installed
    _installed = MappingProxyType(dict(values))


def load_values() -> Mapping[str, Any]:
    """Every value the load test's fixtures sent, by fixture name (read-only). Only inside a load scenario."""
    if _installed is None:
        raise LookupError(
            "pytest-loadtest: no load scenario runs in this process; load_values()/load_value() work in User code "
            "and test bodies run by a load scenario"
        )
    return _installed


@overload
def load_value(name: str) -> Any: ...
@overload
def load_value(name: str, kind: type[T]) -> T: ...
def load_value(name: str, kind: type[Any] | None = None) -> Any:
    """The value fixture ``name`` sent (see the load marker's ``values=``), checked to be a ``kind`` when given;
    a dataclass ``kind`` is built from the dict it arrived as."""
    values = load_values()
    if name not in values:
        sent = ", ".join(sorted(values)) or "none"
        raise LookupError(
            f"pytest-loadtest: no value {name!r} was sent to the load users (sent: {sent}); name its fixture in the "
            f"load marker: values=[{name!r}]"
        )
    value = values[name]
    if kind is None:
        return value
    if dataclasses.is_dataclass(kind) and isinstance(value, Mapping):
        return kind(**value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list):
        return tuple(value)
    if not isinstance(value, kind):
        raise TypeError(f"pytest-loadtest: value {name!r} is a {type(value).__name__}, not a {kind.__name__}")
    return value


def value_names(test_id: str, given: object, requested: Collection[str]) -> tuple[str, ...]:
    """The load marker's ``values=``: names of fixtures the test requests (one string or a list of them)."""
    if given is None:
        return ()
    names = [given] if isinstance(given, str) else given
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
        raise LoadTestUsageError(
            f"{test_id}: values={shown(given)} in the load marker: must be fixture names, e.g. values=['api_tokens']"
        )
    for name in names:
        if name not in requested:
            raise LoadTestUsageError(
                f"{test_id}: values= in the load marker names fixture {name!r}, which the test does not request; "
                "add it to the test's parameters"
            )
    return tuple(dict.fromkeys(names))
