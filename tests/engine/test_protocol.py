"""The protocol between the processes (engine/protocol.py): every message and the spec survive the line they travel
as, and a line that is none of them is an EngineError that shows it. No session, no Locust run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing

import pytest

from pytest_loadtest.engine import protocol
from pytest_loadtest.engine.protocol import (
    EngineExited,
    EngineFailed,
    EngineStarted,
    ExitCalled,
    ModulesShadowed,
    RunResult,
    SecretsLearned,
    UsersStarted,
    WorkerConnected,
    WorkerDone,
)
from pytest_loadtest.errors import EngineError
from pytest_loadtest.measure.result import ProgressPoint
from pytest_loadtest.measure.thresholds import parse_thresholds
from pytest_loadtest.scenario import ModuleRef, Scenario, UserClassRef
from pytest_loadtest.settings.distribution import Distribution

MESSAGES = [
    EngineStarted(pid=4242),
    UsersStarted(),
    ProgressPoint(elapsed=1.5, users=10, requests=120, failures=3, rps=80.0, p95=12.5),
    RunResult({"test_id": "t::x", "total": {"num_requests": 120}, "history": [{"elapsed": 1.0}]}),
    RunResult({"test_id": "t::x"}, secrets=["a-cookie-the-target-set"]),
    EngineFailed("ImportError: no module named 'users'", "Traceback (most recent call last):\n  ..."),
    EngineExited(code=-9),
    ExitCalled(argument="3", where="test_x.py, line 12, in boom (sys.exit(3))"),
    ModulesShadowed({"certifi": ["/site-packages/certifi/__init__.py", "/vendor/certifi/__init__.py"]}),
    SecretsLearned(["s3cr3t-option-value"]),
    WorkerConnected(client_id="host_0a1b"),
    WorkerDone(client_id="host_0a1b", sent=77),
]
PYTEST_SIDE_FIELDS = {
    "thresholds",
    "min_samples",
    "allow_saturation",
    "warnings",
    "strict",
    "threshold_cases",
    "max_entries",
}
"""Scenario fields judged in the pytest process: the engine does not get them."""
ABORT_FIELDS = {"abort_on_fail", "abort_after"}
"""Scenario fields the spec's ``abort`` carries, with the thresholds that stop the run (``Scenario.abort_spec``)."""


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
def test_every_message_type_round_trips_through_one_line(message: protocol.Message) -> None:
    line = protocol.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert protocol.decode(line) == message
    assert protocol.decode(line.decode()) == message


def test_the_round_trip_covers_every_message_type() -> None:
    assert {type(message) for message in MESSAGES} == set(typing.get_args(protocol.Message))


def test_an_engine_failure_without_a_traceback_reads_back_with_an_empty_one() -> None:
    assert protocol.decode(b'{"type": "error", "message": "no workers"}\n') == EngineFailed("no workers", "")


@pytest.mark.parametrize(
    "line",
    [
        b"Traceback (most recent call last):\n",
        b"[1, 2]\n",
        b'{"pid": 1}\n',
        b'{"type": "telemetry", "pid": 1}\n',
        b'{"type": "exit"}\n',
        b'{"type": "exit", "code": "1"}\n',
        b'{"type": "exit", "code": true}\n',
        b'{"type": "exit", "code": 1, "signal": 9}\n',
    ],
    ids=[
        "not JSON",
        "not an object",
        "no type",
        "unknown type",
        "missing field",
        "wrong type",
        "bool",
        "more",
    ],
)
def test_an_unreadable_line_is_an_engine_error_naming_the_sender_and_the_line(line: bytes) -> None:
    with pytest.raises(EngineError) as raised:
        protocol.decode(line, sender="local Locust worker 2")
    assert str(raised.value) == f"local Locust worker 2 sent an unreadable message: {line!r}"


def test_an_unreadable_line_is_shown_shortened() -> None:
    line = b"x" * 5000
    with pytest.raises(EngineError) as raised:
        protocol.decode(line)
    assert str(raised.value) == f"the engine process sent an unreadable message: {line[:200]!r}"


def a_scenario_with_every_field_set() -> Scenario:
    body = {"client": protocol.REQUESTS, "clients": ["session"], "values": ["account"]}
    return Scenario(
        test_id="tests/test_api.py::test_browse",
        user_classes=(
            UserClassRef("users", "ShopUser", "/suite/users.py"),
            UserClassRef("tests.test_api", "test_browse", "/suite/tests/test_api.py", body),
        ),
        users=20,
        spawn_rate=5.0,
        duration=2.5,
        host="http://127.0.0.1:8080",
        thresholds=parse_thresholds({"p95": "< 200ms"}, "t"),
        warmup=0.5,
        stop_timeout=3.0,
        allowed_hosts=("api.internal",),
        distribution=Distribution(local_workers=2, remote_workers=1, bind_port=5557, timeout=12.0),
        min_samples=3.0,
        allow_saturation=True,
        rate=40.0,
        test_module=ModuleRef("tests.test_api", "/suite/tests/test_api.py"),
        tags=("browse",),
        exclude_tags=("slow",),
        options={"my_argument": "x", "verbose": True},
        shape=UserClassRef("shapes", "DoubleWave", "/suite/shapes.py"),
        values={"account": {"id": 7}},
        report_dir="/tmp/reports/test_browse",
        stages=(protocol.StageSpec(users=10, spawn_rate=5.0, duration=1.0),),
    )


def test_every_field_of_a_scenario_the_engine_needs_is_in_its_spec() -> None:
    engine_fields = {field.name for field in dataclasses.fields(Scenario)} - PYTEST_SIDE_FIELDS - ABORT_FIELDS
    assert set(protocol.ScenarioSpec.__required_keys__) == engine_fields | {"abort", "timeline"}


def test_a_scenarios_spec_round_trips_with_every_field() -> None:
    scenario = a_scenario_with_every_field_set()
    spec = protocol.engine_spec(scenario.to_spec(), ["/suite"], {"LOAD_HOST": "x"}, "/suite")
    read = protocol.decode_spec(protocol.encode_spec(spec))
    assert read == spec
    assert read["user_classes"] == [
        {"module": "users", "qualname": "ShopUser", "path": "/suite/users.py", "body": None},
        {
            "module": "tests.test_api",
            "qualname": "test_browse",
            "path": "/suite/tests/test_api.py",
            "body": {"client": "requests", "clients": ["session"], "values": ["account"]},
        },
    ]
    assert read["distribution"] is not None
    assert Distribution.from_dict(read["distribution"]) == scenario.distribution
    assert read["test_module"] == {"module": "tests.test_api", "path": "/suite/tests/test_api.py"}
    assert read["shape"] == {
        "module": "shapes",
        "qualname": "DoubleWave",
        "path": "/suite/shapes.py",
        "body": None,
    }
    assert read["tags"] == ["browse"] and read["exclude_tags"] == ["slow"]
    assert read["allowed_hosts"] == ["api.internal"] and read["values"] == {"account": {"id": 7}}
    assert read["options"] == {"my_argument": "x", "verbose": True}
    assert read["stages"] == [{"users": 10, "spawn_rate": 5.0, "duration": 1.0}]
    assert (read["test_id"], read["host"], read["report_dir"]) == (
        scenario.test_id,
        scenario.host,
        scenario.report_dir,
    )
    assert (read["users"], read["spawn_rate"], read["duration"], read["rate"]) == (20, 5.0, 2.5, 40.0)
    assert (read["warmup"], read["stop_timeout"]) == (0.5, 3.0)
    assert (read["sys_path"], read["environ"], read["cwd"]) == (["/suite"], {"LOAD_HOST": "x"}, "/suite")


def test_a_worker_spec_round_trips_with_what_the_worker_needs_of_the_engines_spec() -> None:
    spec = protocol.engine_spec(a_scenario_with_every_field_set().to_spec(), ["/suite"], {}, "/suite")
    worker = protocol.worker_spec(spec, "127.0.0.1", 40123)
    assert protocol.decode_worker_spec(protocol.encode_spec(worker)) == worker
    assert (worker["master_host"], worker["master_port"]) == ("127.0.0.1", 40123)
    assert worker["user_classes"] == spec["user_classes"] and worker["test_module"] == spec["test_module"]
    assert (worker["sys_path"], worker["allowed_hosts"]) == (["/suite"], ["api.internal"])


def test_a_spec_line_without_a_key_is_an_engine_error_naming_the_missing_keys() -> None:
    with pytest.raises(EngineError, match=r"^a spec without cwd, environ, sys_path: b'\{\"test_id\""):
        protocol.decode_spec(protocol.encode_spec(a_scenario_with_every_field_set().to_spec()))  # type: ignore[arg-type]


def test_a_line_that_is_no_spec_is_an_engine_error_showing_it() -> None:
    with pytest.raises(EngineError, match=r"^an unreadable worker spec: b'not a spec\\n'$"):
        protocol.decode_worker_spec(b"not a spec\n")


def test_the_protocol_imports_neither_gevent_locust_nor_pytest() -> None:
    """Both sides import it: the pytest process must stay unpatched, the engine needs no pytest to read its spec."""
    code = (
        "import sys, pytest_loadtest.engine.protocol; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'gevent', 'locust', 'pytest', '_pytest'}))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert imported.stdout == "[]\n"


def test_a_timeline_is_kept_only_for_what_sustained_thresholds_judge() -> None:
    """A soak without sustained thresholds keeps no per-second timeline (it would grow with the run's length)."""
    base = Scenario("t::x", (), users=1, spawn_rate=1.0, duration=10.0, host=None)
    flat = dataclasses.replace(
        base, thresholds=parse_thresholds({"p95": "<1s", "GET /a": {"p99": "<2s"}}, "t::x")
    )
    assert flat.to_spec()["timeline"] == []
    sustained = dataclasses.replace(
        base, thresholds=parse_thresholds({"p95": "<1s over 10s", "GET /a": {"rps": ">=5 over 5s"}}, "t::x")
    )
    assert sustained.to_spec()["timeline"] == ["Aggregated", "GET /a"]
