"""Run a Scenario in an engine process and turn what it reports into a LoadResult.

The engine is a context-free call usable from a script: ``run_scenario(scenario, on_progress=print)``, or, for many
scenarios, ``with ForkServer() as server: run_scenario(scenario, forkserver=server)``. What the engine writes (user
prints, logging, Locust's log lines, its local workers' lines) goes to ``on_output`` line by line while it runs.
Every wait is bounded: the process gets its start-up allowance, the scenario's duration and its stop timeout,
then it is killed; no engine process outlives the call, nor any process user code started in it (leftovers.py).
An engine that dies once its users started (user code calling ``os._exit`` or ``sys.exit``, a kill, the out-of-memory
killer) leaves its last progress report: that becomes the scenario's partial result, with the cause.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from pytest_loadtest.engine import protocol
from pytest_loadtest.engine.leftovers import RUN_VARIABLE, end_leftovers, new_token
from pytest_loadtest.engine.output import EngineOutput, OutputCallback
from pytest_loadtest.engine.processes import (
    EngineProcess,
    ForkServer,
    SpawnedEngine,
    engine_environment,
    exit_description,
)
from pytest_loadtest.errors import EngineError, ForkServerWarning, LeftoverProcessWarning, ScenarioInterrupted
from pytest_loadtest.measure.result import TOTAL_NAME, EntryStats, LoadResult, ProgressPoint
from pytest_loadtest.reports.redaction import Redactor, learn
from pytest_loadtest.scenario import Scenario
from pytest_loadtest.settings.distribution import allowances

STARTUP_ALLOWANCE = 60.0
"""Seconds the engine process may take to import Locust and the test module before it starts the users."""
STOP_GRACE = 2.0
"""Seconds beyond the duration and the stop timeout for the engine to snapshot its figures and report them."""
OUTPUT_DRAIN = 1.0
"""Seconds to read the engine's last output once it is gone (a process it started may keep the pipe open)."""

ProgressCallback = Callable[[ProgressPoint], None]


def run_scenario(
    scenario: Scenario,
    on_progress: ProgressCallback | None = None,
    forkserver: ForkServer | None = None,
    on_output: OutputCallback | None = None,
) -> LoadResult:
    """Run one scenario to its end and return what it measured (thresholds are not judged here).

    The engine is forked by ``forkserver`` when one is given (a few milliseconds), else spawned (most of a second).
    ``on_output`` gets each line the engine (or one of its local workers) writes, as it is written; without it the
    output is only quoted in error messages.
    Raises ``ScenarioInterrupted`` (a KeyboardInterrupt) with the partial result on Ctrl-C or SIGTERM (a second one
    stops waiting for the engine's figures: its last progress report is the result), and ``EngineError`` when the
    engine process fails before its first progress report. Processes user code left running are ended, with a
    ``LeftoverProcessWarning`` naming them.
    """
    environment = {**engine_environment(), RUN_VARIABLE: new_token()}
    spec = protocol.engine_spec(scenario.to_spec(), list(sys.path), environment, os.getcwd())
    if forkserver is not None and not forkserver.serves(spec["sys_path"]):
        forkserver = None
    try:
        return _run_in_engine(scenario, spec, forkserver, on_progress, on_output)
    except _Shadowed as shadowed:
        assert forkserver is not None  # only a forked engine compares its import path with the server's
        forkserver.refuse(spec["sys_path"])
        warnings.warn(ForkServerWarning(shadowed.explanation()), stacklevel=2)
        return _run_in_engine(scenario, spec, None, on_progress, on_output)


def _run_in_engine(
    scenario: Scenario,
    spec: protocol.Spec,
    forkserver: ForkServer | None,
    on_progress: ProgressCallback | None,
    on_output: OutputCallback | None,
) -> LoadResult:
    with EngineOutput(on_output) as output, _sigterm_as_interrupt():
        try:
            engine: EngineProcess = (
                forkserver.fork(output.write_fd)
                if forkserver
                else SpawnedEngine(output.write_fd, spec["environ"])
            )
        except KeyboardInterrupt:  # while the engine was being started: nothing ran, nothing to keep
            raise ScenarioInterrupted(None) from None
        finally:
            output.hand_over()
        interrupted = False
        try:
            reader = _MessageReader(engine, output)
            with contextlib.suppress(OSError):  # an engine gone already: reading its channel says why
                engine.send(protocol.encode_spec(spec))
            startup_extra, run_extra = allowances(scenario.distribution)  # workers connecting, quitting
            run_allowance = scenario.duration + scenario.stop_timeout + STOP_GRACE + run_extra
            startup_allowance = STARTUP_ALLOWANCE + startup_extra
            try:
                return reader.result(
                    time.monotonic() + startup_allowance + run_allowance, on_progress, run_allowance
                )
            except KeyboardInterrupt:
                interrupted = True
                # Before the users started there are no figures to keep: stop at once.
                partial = _collect_partial(scenario, engine, reader) if reader.started else None
                raise ScenarioInterrupted(partial) from None
            except _EngineLost as lost:
                if not reader.progress:  # it died before its first progress report: nothing to keep
                    raise EngineError(str(lost)) from None
                return reader.partial_result(scenario, engine_lost=lost.cause)
        finally:
            with _signals_ignored(interrupted):  # the figures are in: a further Ctrl-C must not lose them
                # before the reap: what user code started in the engine's group is still there to be named
                _end_leftovers(scenario.test_id, spec["environ"][RUN_VARIABLE], engine.pid)
                engine.reap()
                output.drain(OUTPUT_DRAIN)


def _collect_partial(scenario: Scenario, engine: EngineProcess, reader: _MessageReader) -> LoadResult:
    """Ask the engine to stop and wait for its figures. When it cannot give them (a second Ctrl-C gives up waiting;
    it died or did not stop in time), its last progress report is the partial result."""
    try:
        engine.send(protocol.STOP)
        return reader.result(time.monotonic() + scenario.stop_timeout + STOP_GRACE, None)
    except _EngineLost as lost:
        return reader.partial_result(scenario, interrupted=True, engine_lost=lost.cause)
    except (EngineError, OSError, KeyboardInterrupt):
        return reader.partial_result(scenario, interrupted=True)


def _end_leftovers(test_id: str, token: str, group: int | None) -> None:
    """End what user code left running in the scenario's processes, and say what it was."""
    ended = [leftover for leftover in end_leftovers(token, group) if not leftover.own]
    if ended:
        shown = "\n".join(f"  {leftover.describe()}" for leftover in ended)
        message = (
            f"{test_id}: user code left {len(ended)} process(es) running after the load scenario; they were "
            f"ended (SIGKILL):\n{shown}"
        )
        warnings.warn(
            LeftoverProcessWarning(
                Redactor.from_environ(os.environ).text(message)
            ),  # command lines hold secrets
            stacklevel=4,
        )


@contextlib.contextmanager
def _signals_ignored(ignored: bool) -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored in the block when ``ignored`` (and this is the main thread)."""
    if not ignored or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: set outside Python


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a scenario runs, SIGTERM (a CI cancel) stops it the way Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Shadowed(Exception):
    """A forked engine found that the scenario's import path shadows modules the fork server preloaded."""

    def __init__(self, modules: dict[str, Any]) -> None:
        super().__init__(modules)
        self.modules = modules

    def explanation(self) -> str:
        shown = "; ".join(
            f"{name} from {files[0]}, where the import path gives {files[1]}"
            for name, files in sorted(self.modules.items())
        )
        return (
            f"the fork server had preloaded {shown}: scenarios with this import path run in a spawned engine "
            "instead (about a second more each), so that they use the same modules as this process; "
            "LOAD_FORK_SERVER=0 spawns every engine"
        )


class _EngineLost(EngineError):
    """The engine's channel ended (it exited, was killed) before it reported; ``cause`` says how."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class _MessageReader:
    """Reads the engine's JSON lines with a deadline, and its output while it waits."""

    def __init__(self, engine: EngineProcess, output: EngineOutput) -> None:
        self.engine = engine
        self.output = output
        self.buffer = bytearray()
        self.started = False
        """Whether the engine said its users started."""
        self.progress: list[ProgressPoint] = []
        """Its progress reports so far: the partial result of an engine that cannot report."""
        self.exit_call: protocol.ExitCalled | None = None
        """Where user code called ``sys.exit``, when the engine said so before it exited."""

    def partial_result(
        self, scenario: Scenario, interrupted: bool = False, engine_lost: str | None = None
    ) -> LoadResult:
        """The figures of the last progress report (no response times: a report carries none but its interval's)."""
        last = self.progress[-1] if self.progress else ProgressPoint(0.0, 0, 0, 0, 0.0, 0.0)
        return LoadResult(
            test_id=scenario.test_id,
            host=scenario.host,
            users=scenario.users,
            duration=scenario.duration,
            elapsed=last.elapsed,
            total=EntryStats(TOTAL_NAME, last.requests, last.failures, 0.0, 0.0, 0.0, last.elapsed),
            entries={},
            history=tuple(self.progress),
            interrupted=interrupted,
            engine_lost=engine_lost,
        )

    def result(
        self, deadline: float, on_progress: ProgressCallback | None, run_allowance: float | None = None
    ) -> LoadResult:
        """The engine's result; ``run_allowance`` replaces the deadline once the engine says its users started."""
        while True:
            for message in self._messages(deadline):
                if isinstance(message, protocol.EngineStarted):
                    self.engine.pid = message.pid
                elif isinstance(message, protocol.UsersStarted):
                    self.started = True
                    if run_allowance is not None:
                        deadline = time.monotonic() + run_allowance
                elif isinstance(message, ProgressPoint):
                    self.progress.append(message)
                    if on_progress is not None:
                        on_progress(message)
                elif isinstance(message, protocol.ExitCalled):
                    self.exit_call = message
                elif isinstance(message, protocol.RunResult):
                    learn(message.secrets)  # what the engine learned is secret (cookies, is_secret options)
                    return LoadResult.from_dict(message.result)
                elif isinstance(message, protocol.EngineFailed):
                    raise EngineError(f"{message.message}\n{message.traceback}".rstrip())
                elif isinstance(message, protocol.ModulesShadowed):
                    raise _Shadowed(message.modules)
                elif isinstance(message, protocol.EngineExited):
                    self.engine.exited = True
                    raise self._lost(f"the engine process {exit_description(message.code)}")

    def _messages(self, deadline: float) -> Iterator[protocol.Message]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            # killed at its deadline (by the reap): its last progress report is kept as for an engine that died
            raise _EngineLost(
                f"the engine process did not finish in time{self._stderr_tail()}",
                "the engine process did not finish in time and was killed",
            )
        channel, output = self.engine.fileno(), self.output.fileno()
        ready = select.select(
            [channel] if self.output.ended else [channel, output], [], [], min(remaining, 0.5)
        )[0]
        messages = self._read_channel() if channel in ready else []
        for message in messages:  # before the output that came with them is written out redacted
            if isinstance(message, protocol.SecretsLearned):
                learn(message.values)
        if output in ready:
            self.output.read()
        yield from messages

    def _read_channel(self) -> list[protocol.Message]:
        try:
            chunk = os.read(self.engine.fileno(), 65536)
        except ConnectionResetError:  # the fork server died holding the engine's channel, before it forked
            chunk = b""
        if not chunk:
            raise self._lost(self.engine.lost(), self.engine.output_tail())
        self.buffer += chunk
        if b"\n" not in chunk:  # a long result arrives in many chunks: split once its line is whole
            return []
        *lines, rest = bytes(self.buffer).split(b"\n")
        self.buffer = bytearray(rest)
        try:
            return [protocol.decode(line) for line in lines if line.strip()]
        except EngineError as exc:
            raise EngineError(f"{exc}{self._stderr_tail()}") from None

    def _lost(self, ended: str, server_tail: str = "") -> _EngineLost:
        """``ended``: how the engine ended ("the engine process exited with code 3"); user code's ``sys.exit`` added."""
        call = self.exit_call
        called = f": sys.exit({call.argument}) was called at {call.where}" if call else ""
        return _EngineLost(
            f"{ended} before it reported{called}{server_tail}{self._stderr_tail()}", f"{ended}{called}"
        )

    def _stderr_tail(self) -> str:
        return self.output.tail_text()
