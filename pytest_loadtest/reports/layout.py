"""Where report files go: the report directory, one subdirectory per scenario named after its test.

The engine writes a scenario's Locust files into a private staging folder (it cannot fail a test's figures over a
full or read-only report directory); the pytest side then moves them to the test's folder here.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pytest_loadtest.reports.files import WriteError, discard_stale, move_file
from pytest_loadtest.reports.locust_names import CSV_NAMES, HTML_NAME
from pytest_loadtest.reports.manifest import FOLDER_MARK

DEFAULT_REPORT_DIR = "load_test_reports"


def scenario_dir_name(nodeid: str) -> str:
    """A safe, readable directory name for a test: ``test_api.py-test_login-1a2b3c4d`` (the hash keeps it unique)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid.replace("::", "-").replace("/", "."))
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    return f"{readable[:80].strip('._-') or 'test'}-{digest}"


LOCUST_FILES = {"locust html": HTML_NAME, **{f"{key} csv": name for key, name in CSV_NAMES.items()}}
"""Each Locust report by its label in the JSON report's ``reports``."""


def place_scenario_files(
    staged: Path, report_dir: Path, nodeid: str
) -> tuple[dict[str, str], list[WriteError]]:
    """Move the Locust reports the engine wrote into ``staged`` to the test's folder in ``report_dir``: the labels
    and relative paths of those placed, and the errors of those that could not be (the earlier run's file of that
    name is then removed: it is not this run's)."""
    sub = scenario_dir_name(nodeid)
    placed, errors = {}, []
    if any((staged / name).is_file() for name in LOCUST_FILES.values()):
        try:
            (report_dir / sub).mkdir(parents=True, exist_ok=True)
            (report_dir / sub / FOLDER_MARK).touch()
        except OSError as exc:
            errors.append(WriteError.of(report_dir / sub, exc))
    for label, name in LOCUST_FILES.items():
        if not (staged / name).is_file():
            continue
        destination = report_dir / sub / name
        try:
            move_file(staged / name, destination)
        except OSError as exc:
            errors.append(WriteError.of(destination, exc))
            discard_stale(destination)
        else:
            placed[label] = f"{sub}/{name}"
    return placed, errors
