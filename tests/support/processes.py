"""Drive a real pytest subprocess (for signals and wall-clock bounds) and find the engine processes it started."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MARK = "LOADTEST_SESSION_MARK"


@dataclass
class PytestProcess:
    """``python -m pytest`` in ``path``, its output collected as it comes; ``mark`` tags it and its children."""

    path: Path
    args: tuple[str, ...]
    mark: str = field(default_factory=lambda: uuid.uuid4().hex)
    output: str = ""

    def __post_init__(self) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *self.args],
            cwd=self.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, MARK: self.mark},
        )

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Read output until ``text`` appears (lines may be unfinished: progress lines end late)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while text not in self.output:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{text!r} did not appear in time:\n{self.output}"
                if selector.select(remaining):
                    chunk = os.read(self.process.stdout.fileno(), 65536)
                    assert chunk, f"pytest ended before {text!r} appeared:\n{self.output}"
                    self.output += chunk.decode(errors="replace")

    def wait_for_engine(self, timeout: float = 30.0) -> None:
        """Wait until this session has started an engine process (its scenario is past collection and setup)."""
        deadline = time.monotonic() + timeout
        while not any(is_engine(process, self.process.pid) for process in marked_processes(self.mark)):
            assert time.monotonic() < deadline, f"no engine process started in time:\n{self.output}"
            assert self.process.poll() is None, f"pytest ended before its engine started:\n{self.output}"
            time.sleep(0.05)

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the exit code and collect the rest of the output."""
        assert self.process.stdout is not None
        rest, _ = self.process.communicate(timeout=timeout)
        self.output += rest.decode(errors="replace")
        return self.process.returncode


def is_engine(process: psutil.Process, session_pid: int) -> bool:
    """An engine of the session: spawned by it, or forked by its fork server (not the session, not the server, nor
    another child such as the ``uname -p`` that pytest-metadata runs at start-up)."""
    try:
        command = process.cmdline()
        if "pytest_loadtest.runtime.engine_main" in command:
            return True
        return "pytest_loadtest.runtime.forkserver_main" in command and process.ppid() != session_pid
    except psutil.Error:
        return False


def marked_processes(mark: str) -> list[psutil.Process]:
    """Live processes whose environment carries ``mark`` (the session and any engine process it started)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(MARK) == mark and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found
