"""Run a Scenario in an engine process and turn what it reports into a LoadResult.

The engine is a context-free call usable from a script: ``run_scenario(scenario, on_progress=print)``.
Every wait is bounded: the process gets its start-up allowance, the scenario's duration and its stop timeout,
then it is killed; no engine process outlives the call.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from pytest_loadtest.errors import EngineError, ScenarioInterrupted
from pytest_loadtest.result import LoadResult, ProgressPoint
from pytest_loadtest.scenario import Scenario
from pytest_loadtest.workers import allowances

STARTUP_ALLOWANCE = 60.0
"""Seconds the engine process may take to import Locust and the test module before it starts the users."""
STOP_GRACE = 2.0
"""Seconds beyond the duration and the stop timeout for the engine to snapshot its figures and report them."""

ProgressCallback = Callable[[ProgressPoint], None]
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


def run_scenario(scenario: Scenario, on_progress: ProgressCallback | None = None) -> LoadResult:
    """Run one scenario to its end and return what it measured (thresholds are not judged here).

    Raises ``ScenarioInterrupted`` (a KeyboardInterrupt) with the partial result on Ctrl-C or SIGTERM, and
    ``EngineError`` when the engine process fails.
    """
    spec = {**scenario.to_spec(), "sys_path": list(sys.path)}
    with tempfile.TemporaryFile() as stderr, _sigterm_as_interrupt():
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest_loadtest.engine_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=_engine_environment(),
            start_new_session=True,  # Ctrl-C reaches pytest only; pytest tells the engine to stop
        )
        try:
            reader = _MessageReader(process, stderr)
            assert process.stdin is not None
            process.stdin.write(json.dumps(spec).encode() + b"\n")
            process.stdin.flush()
            startup_extra, run_extra = allowances(scenario.distribution)  # workers connecting, quitting
            run_allowance = scenario.duration + scenario.stop_timeout + STOP_GRACE + run_extra
            startup_allowance = STARTUP_ALLOWANCE + startup_extra
            try:
                return reader.result(
                    time.monotonic() + startup_allowance + run_allowance, on_progress, run_allowance
                )
            except KeyboardInterrupt:
                raise ScenarioInterrupted(_collect_partial(process, reader, scenario.stop_timeout)) from None
        finally:
            _reap(process)


def _collect_partial(
    process: subprocess.Popen[bytes], reader: _MessageReader, stop_timeout: float
) -> LoadResult | None:
    """Ask the engine to stop and wait for its partial figures; a second Ctrl-C propagates and gives up at once."""
    try:
        assert process.stdin is not None
        process.stdin.write(b"stop\n")
        process.stdin.flush()
        return reader.result(time.monotonic() + stop_timeout + STOP_GRACE, None)
    except (EngineError, OSError):
        return None


def _reap(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _engine_environment() -> dict[str, str]:
    """The engine must gevent-patch, so it never inherits the pytest process's opt-out of patching."""
    env = dict(os.environ)
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


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


class _MessageReader:
    """Reads the engine's JSON lines with a deadline."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        assert process.stdout is not None
        self.process = process
        self.stdout = process.stdout
        self.stderr = stderr
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.stdout, selectors.EVENT_READ)

    def result(
        self, deadline: float, on_progress: ProgressCallback | None, run_allowance: float | None = None
    ) -> LoadResult:
        """The engine's result; ``run_allowance`` replaces the deadline once the engine says its users started."""
        while True:
            for message in self._messages(deadline):
                kind = message.get("type")
                if kind == "started" and run_allowance is not None:
                    deadline = time.monotonic() + run_allowance
                elif kind == "progress" and on_progress is not None:
                    on_progress(ProgressPoint.from_dict(message))
                elif kind == "result":
                    return LoadResult.from_dict(message["result"])
                elif kind == "error":
                    raise EngineError(f"{message['message']}\n{message.get('traceback', '')}".rstrip())

    def _messages(self, deadline: float) -> Iterator[dict[str, Any]]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineError(f"the engine process did not finish in time{self._stderr_tail()}")
        if not self.selector.select(timeout=min(remaining, 0.5)):
            return
        chunk = os.read(self.stdout.fileno(), 65536)
        if not chunk:
            self.process.wait()
            raise EngineError(
                f"the engine process exited with code {self.process.returncode} before it reported{self._stderr_tail()}"
            )
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)

    def _stderr_tail(self, limit: int = 4000) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode(errors="replace").strip()
        return f":\n{text[-limit:]}" if text else ""
