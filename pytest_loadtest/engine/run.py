"""Run a Scenario in an engine process and turn what it reports into a LoadResult.

The engine is a context-free call usable from a script: ``run_scenario(scenario, on_progress=print)``, or, for many
scenarios, ``with ForkServer() as server: run_scenario(scenario, forkserver=server)``. What the engine writes (user
prints, logging, Locust's log lines, its local workers' lines) goes to ``on_output`` line by line while it runs.
Every wait is bounded: the process gets its start-up allowance, the scenario's duration and its stop timeout,
then it is killed; no engine process outlives the call.
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
from pytest_loadtest.engine.output import EngineOutput, OutputCallback
from pytest_loadtest.engine.processes import EngineProcess, ForkServer, SpawnedEngine, engine_environment
from pytest_loadtest.errors import EngineError, ForkServerWarning, ScenarioInterrupted
from pytest_loadtest.measure.result import LoadResult, ProgressPoint
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
    Raises ``ScenarioInterrupted`` (a KeyboardInterrupt) with the partial result on Ctrl-C or SIGTERM, and
    ``EngineError`` when the engine process fails.
    """
    spec = protocol.engine_spec(scenario.to_spec(), list(sys.path), engine_environment(), os.getcwd())
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
                forkserver.fork(output.write_fd) if forkserver else SpawnedEngine(output.write_fd)
            )
        except KeyboardInterrupt:  # while the engine was being started: nothing ran, nothing to keep
            raise ScenarioInterrupted(None) from None
        finally:
            output.hand_over()
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
                # Before the users started there are no figures to keep: stop at once.
                partial = _collect_partial(engine, reader, scenario.stop_timeout) if reader.started else None
                raise ScenarioInterrupted(partial) from None
        finally:
            engine.reap()
            output.drain(OUTPUT_DRAIN)


def _collect_partial(engine: EngineProcess, reader: _MessageReader, stop_timeout: float) -> LoadResult | None:
    """Ask the engine to stop and wait for its partial figures; a second Ctrl-C propagates and gives up at once."""
    try:
        engine.send(protocol.STOP)
        return reader.result(time.monotonic() + stop_timeout + STOP_GRACE, None)
    except (EngineError, OSError):
        return None


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


class _MessageReader:
    """Reads the engine's JSON lines with a deadline, and its output while it waits."""

    def __init__(self, engine: EngineProcess, output: EngineOutput) -> None:
        self.engine = engine
        self.output = output
        self.buffer = b""
        self.started = False
        """Whether the engine said its users started."""

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
                elif isinstance(message, ProgressPoint) and on_progress is not None:
                    on_progress(message)
                elif isinstance(message, protocol.RunResult):
                    return LoadResult.from_dict(message.result)
                elif isinstance(message, protocol.EngineFailed):
                    raise EngineError(f"{message.message}\n{message.traceback}".rstrip())
                elif isinstance(message, protocol.ModulesShadowed):
                    raise _Shadowed(message.modules)
                elif isinstance(message, protocol.EngineExited):
                    self.engine.exited = True
                    raise EngineError(
                        f"the engine process exited with code {message.code} before it reported{self._stderr_tail()}"
                    )

    def _messages(self, deadline: float) -> Iterator[protocol.Message]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineError(f"the engine process did not finish in time{self._stderr_tail()}")
        channel, output = self.engine.fileno(), self.output.fileno()
        ready = select.select(
            [channel] if self.output.ended else [channel, output], [], [], min(remaining, 0.5)
        )[0]
        if output in ready:
            self.output.read()
        if channel not in ready:
            return
        try:
            chunk = os.read(self.engine.fileno(), 65536)
        except ConnectionResetError:  # the fork server died holding the engine's channel, before it forked
            chunk = b""
        if not chunk:
            raise EngineError(f"{self.engine.lost()}{self._stderr_tail()}")
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if line.strip():
                try:
                    message = protocol.decode(line)
                except EngineError as exc:
                    raise EngineError(f"{exc}{self._stderr_tail()}") from None
                yield message

    def _stderr_tail(self) -> str:
        return self.output.tail_text()
