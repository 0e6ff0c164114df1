"""What crosses the process boundary: the scenario spec and the messages between the pytest process and the
engine, fork server and worker processes, written and read in this one module.

Plain Python (no gevent, no Locust, no pytest): both sides import it.

The channels (their transport is the processes' business, see ``engine/processes.py``):

- pytest -> engine (stdin; a forked engine's socket): one ``Spec`` line (``encode_spec``), then ``STOP`` at most.
- engine -> pytest (stdout; the same socket): ``EngineStarted``, ``UsersStarted``, ``ProgressPoint`` while the run
  goes, then one ``RunResult`` or ``EngineFailed`` (a forked engine whose import path shadows a preloaded module
  sends ``ModulesShadowed`` instead, and runs nothing; user code that calls ``sys.exit`` gets ``ExitCalled`` sent
  before the engine exits as it asked); the fork server adds ``EngineExited`` (or ``EngineFailed`` when it could not
  fork) once the engine is gone. One JSON object a line (``encode`` / ``decode``).
- pytest -> fork server (its control socket): ``FORK_REQUEST``, with the engine's channel and stderr attached.
- engine -> local worker (stdin): one ``WorkerSpec`` line; worker -> engine (stdout): ``WorkerConnected``, then
  ``WorkerDone``.
- Locust master -> workers, over Locust's own channel: the custom message ``SETUP_MESSAGE`` (``WorkerSetup``);
  workers -> master: ``IterationCounts`` under ``ITERATIONS_KEY`` and new listener errors under
  ``LISTENER_ERRORS_KEY`` in their stats reports.

The spec is JSON-shaped typed dicts (one nested document); the messages are dataclasses (a reader tells them apart
by their class).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypedDict, get_type_hints

from pytest_loadtest.errors import EngineError
from pytest_loadtest.measure.result import ProgressPoint

CLIENT_FIXTURES = ("fastsession", "session")
"""Locust's own fixtures (its pytest plugin ``pytest_locust``): the fast client and the requests client."""
FAST, REQUESTS = "fast", "requests"
"""The client a test body's user gets: Locust's fast client, or requests."""
SHOWN_OF_A_LINE = 200
"""Characters of an unreadable line that its error message quotes."""

# --- the spec ---------------------------------------------------------------------------------------------------


class BodySpec(TypedDict):
    """A test function run as the task (see ``plugin/body.py``)."""

    client: str
    """``FAST`` or ``REQUESTS``: the client of the user class."""
    clients: list[str]
    """The client fixtures the function takes (``CLIENT_FIXTURES``)."""
    values: list[str]
    """The other fixtures it takes: their values come with the spec's ``values``."""


class UserClassSpec(TypedDict):
    """Where a User class (or a test function run as the task, ``body``) lives."""

    module: str
    qualname: str
    path: str | None
    body: BodySpec | None


class ModuleSpec(TypedDict):
    module: str
    path: str | None


class DistributionSpec(TypedDict):
    """``settings.distribution.Distribution``'s fields."""

    local_workers: int
    remote_workers: int
    bind_host: str
    bind_port: int
    timeout: float


class StageSpec(TypedDict):
    """One stage of a profile's staged shape: ``users`` reached at ``spawn_rate``, held for ``duration`` seconds."""

    users: int
    spawn_rate: float
    duration: float


class AbortSpec(TypedDict):
    """When the engine stops a run early: the thresholds whose failure stops it, judged as ``measure/`` judges."""

    thresholds: list[dict[str, Any]]
    """``Threshold.to_dict()`` of each (see ``measure/windows.py``, ``abortable``)."""
    after: float
    """Seconds into the measured window before any is judged (a grace period)."""
    min_samples: float


class ScenarioSpec(TypedDict):
    """What ``Scenario.to_spec()`` says: the scenario, JSON-safe."""

    test_id: str
    user_classes: list[UserClassSpec]
    users: int
    spawn_rate: float
    duration: float
    host: str | None
    warmup: float
    stop_timeout: float
    allowed_hosts: list[str]
    distribution: DistributionSpec | None
    rate: float | None
    test_module: ModuleSpec | None
    tags: list[str]
    exclude_tags: list[str]
    options: dict[str, Any]
    shape: UserClassSpec | None
    values: dict[str, Any]
    report_dir: str | None
    stages: list[StageSpec]
    abort: AbortSpec | None
    """None when no threshold stops the run early."""
    timeline: list[str]
    """What the sustained thresholds judge second by second: ``TOTAL_NAME`` and the scopes (entry keys or request
    names) they name; empty when none has a window, so that no timeline is kept."""


class Spec(ScenarioSpec):
    """What the engine gets: the scenario and where to run it (the pytest process's as it is now)."""

    sys_path: list[str]
    environ: dict[str, str]
    cwd: str


class WorkerSpec(TypedDict):
    """What the engine tells a local worker: where its master listens and which User classes it runs."""

    master_host: str
    master_port: int
    user_classes: list[UserClassSpec]
    test_module: ModuleSpec | None
    sys_path: list[str]
    allowed_hosts: list[str]


def engine_spec(scenario: ScenarioSpec, sys_path: list[str], environ: dict[str, str], cwd: str) -> Spec:
    return Spec(**scenario, sys_path=sys_path, environ=environ, cwd=cwd)


def worker_spec(spec: Spec, master_host: str, master_port: int) -> WorkerSpec:
    return WorkerSpec(
        master_host=master_host,
        master_port=master_port,
        user_classes=spec["user_classes"],
        test_module=spec["test_module"],
        sys_path=spec["sys_path"],
        allowed_hosts=spec["allowed_hosts"],
    )


def encode_spec(spec: Spec | WorkerSpec) -> bytes:
    return json.dumps(spec).encode() + b"\n"


def decode_spec(line: bytes | str) -> Spec:
    """The engine's spec; ``EngineError`` naming what was read when the line is not one."""
    data = _document(line, Spec.__required_keys__, "spec")
    return data  # type: ignore[return-value]  # its keys checked; its values are the pytest process's own


def decode_worker_spec(line: bytes | str) -> WorkerSpec:
    """A local worker's spec; ``EngineError`` naming what was read when the line is not one."""
    data = _document(line, WorkerSpec.__required_keys__, "worker spec")
    return data  # type: ignore[return-value]  # its keys checked; its values are the engine's own


def _document(line: bytes | str, keys: frozenset[str], what: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise EngineError(f"an unreadable {what}: {_shown(line)}")
    missing = sorted(keys - data.keys())
    if missing:
        raise EngineError(f"a {what} without {', '.join(missing)}: {_shown(line)}")
    return data


# --- commands ---------------------------------------------------------------------------------------------------

STOP = b"stop\n"
"""pytest -> engine, after the spec: stop the users now and report the figures so far."""
FORK_REQUEST = b"F"
"""pytest -> fork server: fork an engine (the byte carries the engine's channel and stderr, SCM_RIGHTS)."""

# --- messages ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStarted:
    """The engine process is up (a forked engine's pid is known from this message only)."""

    pid: int


@dataclass(frozen=True)
class UsersStarted:
    """The users start now: the engine's deadline becomes the run's duration and stop timeout."""


@dataclass(frozen=True)
class RunResult:
    """The run's figures, shaped as ``LoadResult.to_dict()``, and the values the engine learned are secret (cookies
    the target set, ``is_secret`` options), for the pytest side's redaction."""

    result: dict[str, Any]
    secrets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EngineFailed:
    """The engine (or the fork server, for an engine it could not fork) could not run the scenario."""

    message: str
    traceback: str = ""


@dataclass(frozen=True)
class EngineExited:
    """From the fork server: the engine exited with ``code`` (its last message, before the channel closes)."""

    code: int


@dataclass(frozen=True)
class ExitCalled:
    """The engine ends through ``sys.exit`` (``SystemExit``) raised in user code, at import, in a listener or a task:
    ``argument`` is what it was given (``"3"``), ``where`` the line that raised it
    (``"test_x.py, line 12, in boom (sys.exit(3))"``)."""

    argument: str
    where: str


@dataclass(frozen=True)
class SecretsLearned:
    """Values the engine knows are secret before its users start (``is_secret`` options): the pytest side redacts
    them in what the engine writes from then on."""

    values: list[str]


@dataclass(frozen=True)
class ModulesShadowed:
    """From a forked engine, instead of running: the scenario's import path gives other copies of modules the fork
    server preloaded (``{name: [the preloaded file, the file the path gives]}``), so it needs a spawned engine."""

    modules: dict[str, Any]


@dataclass(frozen=True)
class WorkerConnected:
    """A local worker is connected to the master as Locust client ``client_id``."""

    client_id: str


@dataclass(frozen=True)
class WorkerDone:
    """A local worker quit; it counted ``sent`` requests itself."""

    client_id: str
    sent: int


Message = (
    EngineStarted
    | UsersStarted
    | ProgressPoint
    | RunResult
    | EngineFailed
    | EngineExited
    | ExitCalled
    | ModulesShadowed
    | SecretsLearned
    | WorkerConnected
    | WorkerDone
)
Emit = Callable[[Message], None]
"""Where a process writes its messages."""
_KINDS: dict[str, type[Message]] = {
    "engine": EngineStarted,
    "started": UsersStarted,
    "progress": ProgressPoint,
    "result": RunResult,
    "error": EngineFailed,
    "exit": EngineExited,
    "sys_exit": ExitCalled,
    "shadowed": ModulesShadowed,
    "secrets": SecretsLearned,
    "connected": WorkerConnected,
    "done": WorkerDone,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}
_JSON_TYPES: dict[object, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    str: (str,),
    dict[str, Any]: (dict,),
    list[str]: (list,),
}
"""What JSON value each field type of a message is read from."""


def encode(message: Message) -> bytes:
    """One line: the message's kind (``type``) and its fields."""
    data = {field.name: getattr(message, field.name) for field in fields(message)}
    return json.dumps({"type": _NAMES[type(message)], **data}).encode() + b"\n"


def decode(line: bytes | str, sender: str = "the engine process") -> Message:
    """The message of one line; ``EngineError`` naming ``sender`` and the line when it is not one."""
    try:
        data = json.loads(line)
        kind = _KINDS[data.pop("type")]
    except (ValueError, KeyError, TypeError, AttributeError):
        kind = None
    if kind is None or not _fits(kind, data):
        raise EngineError(f"{sender} sent an unreadable message: {_shown(line)}")
    return kind(**data)


def _schema(kind: type[Message]) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """A message type's field types, field names and required fields."""
    required = {
        each.name for each in fields(kind) if each.default is MISSING and each.default_factory is MISSING
    }
    return get_type_hints(kind), frozenset(each.name for each in fields(kind)), frozenset(required)


_SCHEMAS = {kind: _schema(kind) for kind in _KINDS.values()}
"""Read once: a reader checks every line against its type's (a progress point comes every second)."""


def _fits(kind: type[Message], data: dict[str, Any]) -> bool:
    """Whether ``data`` has every field ``kind`` requires, no other, each of its type."""
    hints, names, required = _SCHEMAS[kind]
    return required <= data.keys() <= names and all(
        isinstance(data[name], _JSON_TYPES[hints[name]]) and not isinstance(data[name], bool) for name in data
    )


def _shown(line: bytes | str) -> str:
    return repr(line[:SHOWN_OF_A_LINE])


# --- between a Locust master and its workers, over Locust's channel ------------------------------------------------

SETUP_MESSAGE = "pytest_loadtest_setup"
"""The master's custom message to every worker once they are connected, before it spawns users."""
ITERATIONS_KEY = "pytest_loadtest_iterations"
"""The key of a worker's ``IterationCounts`` in its stats reports to the master."""
LISTENER_ERRORS_KEY = "pytest_loadtest_listener_errors"
"""The key of a worker's new listener errors (a list of texts, traceback included) in its stats reports."""


class WorkerSetup(TypedDict):
    """The scenario's fixture values, and the worker's share of the arrival rate (None: the closed model)."""

    values: dict[str, Any]
    rate: float | None


class IterationCounts(TypedDict):
    """Iterations of the open model started and dropped (for want of a free user), since the last report."""

    iterations: int
    dropped_iterations: int
