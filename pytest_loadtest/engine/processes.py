"""The process a scenario runs in: spawned fresh (``SpawnedEngine``) or forked by a ``ForkServer``.

Both speak the engine protocol (``engine/protocol.py``) over one channel (``send`` the spec and commands, read
message lines from ``fileno()``) and both are reaped by ``reap()``: killed with their process group when still running, then waited for.
A spawned engine imports Locust itself (most of a second); a forked one starts with the fork server's imports in a
few milliseconds. The fork server is one process per pytest session, started at its first scenario.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from pytest_loadtest.engine.output import TAIL_LIMIT, Tail
from pytest_loadtest.engine.protocol import FORK_REQUEST
from pytest_loadtest.errors import EngineError

_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
FORK_SERVER_VARIABLE = "LOAD_FORK_SERVER"
"""Set to 0 (false, no, off) to spawn a fresh engine process per scenario instead of forking it."""
REAP_TIMEOUT = 5.0
"""Seconds to wait for a killed engine, or a closed fork server, to be gone."""


class EngineProcess(Protocol):
    pid: int | None
    exited: bool
    """Set when the channel said the engine has exited: it is not to be killed any more."""

    def send(self, data: bytes) -> None: ...

    def fileno(self) -> int: ...

    def lost(self) -> str:
        """How the engine ended when its channel ended before it reported (called at its end of input):
        "the engine process exited with code 1", say."""
        ...

    def output_tail(self) -> str:
        """What the process that started the engine said last, for an error message ("" when nothing)."""
        ...

    def reap(self) -> None: ...


def engine_environment() -> dict[str, str]:
    """The engine must gevent-patch, so it never inherits the pytest process's opt-out of patching."""
    env = dict(os.environ)
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


def exit_description(code: int) -> str:
    """How a process ended, from its exit code as ``subprocess`` gives it (negative: the signal that killed it)."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    cause = " (killed, or ended by the out-of-memory killer)" if -code == signal.SIGKILL else ""
    return f"was killed by {name}{cause}"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


class SpawnedEngine:
    """``python -m pytest_loadtest.runtime.engine_main`` in a session of its own (Ctrl-C reaches pytest only)."""

    def __init__(self, stderr: int | IO[bytes], environment: dict[str, str] | None = None) -> None:
        """``stderr``: where the engine writes its output (a descriptor or a file); ``environment``: its environment
        (``engine_environment()`` by default)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest_loadtest.runtime.engine_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=engine_environment() if environment is None else environment,
            start_new_session=True,
        )
        self.pid: int | None = self.process.pid
        self.exited = False

    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def fileno(self) -> int:
        assert self.process.stdout is not None
        return self.process.stdout.fileno()

    def lost(self) -> str:
        return f"the engine process {exit_description(self.process.wait())}"

    def output_tail(self) -> str:
        return ""  # the engine's own output is the caller's

    def reap(self) -> None:
        if self.process.poll() is None:
            _kill_group(self.process.pid)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class ForkedEngine:
    """An engine forked by the fork server; its channel is a socket, its pid arrives in its first message."""

    def __init__(self, channel: socket.socket, server: ForkServer) -> None:
        self.channel = channel
        self.server = server
        self.pid: int | None = None
        self.exited = False

    def send(self, data: bytes) -> None:
        self.channel.sendall(data)

    def fileno(self) -> int:
        return self.channel.fileno()

    def lost(self) -> str:
        return "the engine process was lost with the fork server"

    def output_tail(self) -> str:
        return self.server.stderr_tail()

    def reap(self) -> None:
        """Kill the engine if it still runs, then wait for the server's word that it is gone (end of input).

        An engine whose pid has not arrived (the server still imports, or has only just forked) is not waited for:
        closing its channel withdraws the request, and the server skips it or kills the engine it forked.
        """
        if self.pid is None:
            self.channel.close()
            return
        if not self.exited:
            _kill_group(self.pid)
        deadline = time.monotonic() + REAP_TIMEOUT
        with self.channel, contextlib.suppress(OSError):
            while (remaining := deadline - time.monotonic()) > 0:
                if select.select([self.channel], [], [], remaining)[0] and not self.channel.recv(65536):
                    return


class ForkServer:
    """One process that has imported everything an engine needs; it forks an engine per scenario (POSIX only).

    Started by ``start()`` or at the first ``fork()``, ended by ``close()`` (or when this process ends: it stops at
    end of input). Usable from several threads.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._stderr: IO[bytes] | None = None
        self._asked = False
        """Whether this server was asked for an engine (if not, it has none to kill at the end)."""
        self._refused: set[tuple[str, ...]] = set()
        """Import paths that shadow a module the server preloaded: their engines are spawned."""

    @staticmethod
    def supported() -> bool:
        return hasattr(os, "fork") and hasattr(socket, "send_fds")

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (it starts at the first ``fork()``)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the server now (it imports Locust in the background), if it is not running."""
        with self._lock:
            self._running()

    def serves(self, sys_path: Sequence[str]) -> bool:
        """Whether an engine forked from this server imports what a process with ``sys_path`` would."""
        return tuple(sys_path) not in self._refused

    def refuse(self, sys_path: Sequence[str]) -> None:
        """``sys_path`` shadows a module this server preloaded (an engine found it): spawn its engines."""
        self._refused.add(tuple(sys_path))

    def fork(self, stderr: int | IO[bytes]) -> ForkedEngine:
        """A new engine writing its stderr to ``stderr`` (a descriptor, or a real file)."""
        stderr_fd = stderr if isinstance(stderr, int) else stderr.fileno()
        with self._lock:
            control = self._running()
            self._asked = True
            ours, theirs = socket.socketpair()
            with theirs:
                try:
                    socket.send_fds(control, [FORK_REQUEST], [theirs.fileno(), stderr_fd])
                except OSError as exc:
                    ours.close()
                    raise EngineError(f"the fork server is gone ({exc}){self.stderr_tail()}") from None
        return ForkedEngine(ours, self)

    def _running(self) -> socket.socket:
        if self._process is not None and self._control is not None and self._process.poll() is None:
            return self._control
        self.close()
        self._asked = False
        ours, theirs = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (kept open for the server's life; close() closes it)
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "pytest_loadtest.runtime.forkserver_main", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                pass_fds=[theirs.fileno()],
                env=engine_environment(),
                start_new_session=True,
            )
        self._control = ours
        return ours

    def stderr_tail(self, limit: int = TAIL_LIMIT) -> str:
        """The server's own last output (its engines write theirs elsewhere), for an error message."""
        with self._lock:
            return "" if self._stderr is None else Tail.of_file(self._stderr).text(limit)

    def close(self) -> None:
        """End the server and wait for it (it kills any engine still running first)."""
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
            if self._process is not None:
                if not self._asked:  # no engine to clean up: do not wait for a server still importing
                    _kill_group(self._process.pid)
                try:
                    self._process.wait(timeout=REAP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    _kill_group(self._process.pid)
                    self._process.wait()
                self._process = None
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
