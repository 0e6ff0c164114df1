"""Many scenarios in one session leave the pytest process flat (benchmarks/leaks.py runs 100; this runs 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "leaks.py"


def test_four_scenarios_leave_no_threads_greenlets_descriptors_sockets_or_children_and_one_fork_server() -> (
    None
):
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--scenarios", "4", "--duration", "0.3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout)
    assert figures["problems"] == []
    assert figures["last"]["children"] == 0 and figures["growth"]["fds"] <= 0
    assert figures["last"]["forkservers"] == 1 and figures["growth"]["forkserver_fds"] <= 0
    assert figures["rss_growth_mb"] < 10 and figures["forkserver_rss_growth_mb"] < 10
