"""Plain ``locust --headless`` on a locustfile, for the tests that claim the marker behaves the same."""

from __future__ import annotations

import json
import os
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


def run_plain_locust(locustfile: Path, *args: str, timeout: float = 60.0) -> PlainRun:
    """``python -m locust -f locustfile --headless --json ARGS`` in the locustfile's folder; the environment is
    this one's without LOCUST_SKIP_MONKEY_PATCH (the plugin sets it in the pytest process; plain Locust patches)."""
    environment = {name: value for name, value in os.environ.items() if name != "LOCUST_SKIP_MONKEY_PATCH"}
    command = [sys.executable, "-m", "locust", "-f", locustfile.name, "--headless", "--json", *args]
    done = subprocess.run(
        command, cwd=locustfile.parent, env=environment, capture_output=True, text=True, timeout=timeout
    )
    stats = json.loads(done.stdout) if done.stdout.strip().startswith("[") else []
    return PlainRun(done.returncode, stats, done.stderr)
