"""Runs the Platform API load suite (``pytest -m load loadtests``) in a subprocess from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import INNER_SESSION_OPTIONS

REPO = Path(__file__).resolve().parents[2]


def run_load_suite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The session's outcome; LOAD_* variables of this process are left out, the seeder creates 3 accounts."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LOAD_")}
    environment["LOAD_SEED_USERS"] = "3"  # seeding is setup, not the measured load: keep it short
    environment["PYTEST_ADDOPTS"] = INNER_SESSION_OPTIONS
    command = [sys.executable, "-m", "pytest", "-m", "load", "loadtests", "-p", "no:cacheprovider", *args]
    return subprocess.run(
        command, cwd=REPO, env={**environment, **(env or {})}, capture_output=True, text=True, timeout=240
    )
