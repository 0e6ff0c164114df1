"""Runs the Platform API as a child process for fixtures and scripts.

    with PlatformApiServer(error_rate=0.3) as api:
        requests.get(f"{api.url}/health")

The server gets a free 127.0.0.1 port and a SQLite database in a private temp directory; on exit the process is
terminated (killed if it does not stop), reaped, and the directory removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from loadtests.platform_api.config import ENV_PREFIX, ApiConfig, secret_environ, to_argv

REPO_ROOT = Path(__file__).resolve().parents[2]
_POLL_S = 0.05
_STOP_GRACE_S = 5.0
_MANAGED = frozenset({"db", "port_file"})
# never route loopback traffic through a proxy from the environment
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PlatformApiStartupError(RuntimeError):
    """The server did not answer ``GET /health`` in time or exited early; the message carries its output."""


class PlatformApiServer:
    """A Platform API child process. ``options`` are ``ApiConfig`` fields (``host``, ``port``, ``jwt_secret``,
    ``error_rate``, ``extra_latency_ms``, ``generation_delay_ms``, ...); ``db`` and ``port_file`` are managed here.
    Invalid options raise at construction, before any process starts."""

    def __init__(self, *, startup_timeout_s: float = 15.0, **options: Any) -> None:
        reserved = _MANAGED & options.keys()
        if reserved:
            raise TypeError(f"PlatformApiServer manages {', '.join(sorted(reserved))} itself")
        self.config = ApiConfig(**options)
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._workdir: Path | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the Platform API is not running")
        return f"http://{self.config.url_host}:{self.port}"

    @property
    def db_path(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the Platform API is not running")
        return self._workdir / "platform_api.sqlite3"

    def start(self) -> PlatformApiServer:
        """Starts the process and returns once ``GET /health`` answers 200."""
        if self._workdir is not None:
            raise RuntimeError("the Platform API is already started")
        self._workdir = Path(tempfile.mkdtemp(prefix="platform-api-"))
        port_file = self._workdir / "port"
        config = replace(self.config, db=str(self.db_path), port_file=str(port_file))
        # the child takes its settings from argv and the secret alone: PLATFORM_API_* vars of ours must not leak in
        env = {name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)}
        env.update(secret_environ(config))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._log = (self._workdir / "server.log").open("w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loadtests.platform_api", *to_argv(config)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_healthy(port_file)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_healthy(self, port_file: Path) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PlatformApiStartupError(
                    f"the Platform API exited with status {self.process.returncode} during startup:\n{self._output()}"
                )
            if self.port is None and port_file.exists():
                self.port = int(port_file.read_text())
            if self.port is not None and self._healthy():
                return
            time.sleep(_POLL_S)
        raise PlatformApiStartupError(
            f"the Platform API did not answer GET /health within {self.startup_timeout_s:g} s:\n{self._output()}"
        )

    def _healthy(self) -> bool:
        try:
            with _NO_PROXY.open(f"{self.url}/health", timeout=1.0) as response:
                return bool(response.status == 200)
        except OSError:  # refused, reset, timed out, or an HTTP error status
            return False

    def _output(self) -> str:
        assert self._log is not None
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace").strip() or "(no output)"

    def stop(self) -> None:
        """Stops and reaps the process (SIGTERM, then SIGKILL after a grace period) and removes the temp directory.
        Safe to call more than once."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir)
            self._workdir = None
        self.port = None

    def __enter__(self) -> PlatformApiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
