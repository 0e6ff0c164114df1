"""No secret in any artefact: benchmarks/secrets_search.py's session (every artefact kind, secrets planted where
real suites put them) is searched for every planted value, and none is found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "secrets_search.py"


def test_no_planted_secret_reaches_any_artefact_kind_of_the_session() -> None:
    """Terminal, JUnit, pytest-html, index.html, JSON, Locust HTML and CSV, baseline: see the script's docstring."""
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--json"], capture_output=True, text=True, timeout=240, check=False
    )
    outcome = json.loads(run.stdout)
    # every kind was written, so every kind was searched
    assert outcome["missing"] == [], outcome["artefacts"]
    assert outcome["found"] == [] and outcome["leaks"] == 0
    assert outcome["redacted"] > 10  # the secrets were there, and were replaced
    assert run.returncode == 0, run.stderr
