"""Plain ``locust --headless`` on a locustfile, for the tests that claim the marker behaves the same."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PlainRun:
    """How a plain Locust run ended: its exit status, its final stats (``--json``) and what it logged."""

    returncode: int
    stats: list[dict[str, Any]]
    log: str

    def requests(self, name: str) -> int:
        return sum(int(entry["num_requests"]) for entry in self.stats if entry["name"] == name)

    def failures(self, name: str) -> int:
        return sum(int(entry["num_failures"]) for entry in self.stats if entry["name"] == name)


def run_plain_locust(locustfile: Path, *args: str, timeout: float = 60.0, workers: int = 0) -> PlainRun:
    """``python -m locust -f locustfile --headless --json ARGS`` in the locustfile's folder; the environment is
    this one's without LOCUST_SKIP_MONKEY_PATCH (the plugin sets it in the pytest process; plain Locust patches).

    With ``workers``, that command is a ``--master`` expecting them, and each is ``locust -f locustfile --worker``
    (on a free port of 127.0.0.1); the result is the master's.
    """
    environment = {name: value for name, value in os.environ.items() if name != "LOCUST_SKIP_MONKEY_PATCH"}
    command = [sys.executable, "-m", "locust", "-f", locustfile.name, "--headless", "--json", *args]
    worker_command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        locustfile.name,
        "--worker",
        "--master-host",
        "127.0.0.1",
    ]
    started = []
    if workers:
        port = _free_port()
        command += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
        command += ["--expect-workers", str(workers)]
        started = [
            subprocess.Popen(
                [*worker_command, "--master-port", str(port)],
                cwd=locustfile.parent,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
    try:
        done = subprocess.run(
            command, cwd=locustfile.parent, env=environment, capture_output=True, text=True, timeout=timeout
        )
    finally:
        for worker in started:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    stats = json.loads(done.stdout) if done.stdout.strip().startswith("[") else []
    return PlainRun(done.returncode, stats, done.stderr)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
