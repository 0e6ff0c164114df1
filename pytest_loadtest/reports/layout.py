"""Where report files go: the report directory, one subdirectory per scenario named after its test."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pytest_loadtest.reports.locust_names import CSV_NAMES, HTML_NAME

DEFAULT_REPORT_DIR = "load_test_reports"


def scenario_dir_name(nodeid: str) -> str:
    """A safe, readable directory name for a test: ``test_api.py-test_login-1a2b3c4d`` (the hash keeps it unique)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid.replace("::", "-").replace("/", "."))
    digest = hashlib.sha1(nodeid.encode()).hexdigest()[:8]
    return f"{readable[:80].strip('._-') or 'test'}-{digest}"


def scenario_files(report_dir: Path, nodeid: str) -> dict[str, str]:
    """The Locust reports the engine wrote for a test, as paths relative to the report directory."""
    sub = scenario_dir_name(nodeid)
    names = {"locust html": HTML_NAME, **{f"{key} csv": name for key, name in CSV_NAMES.items()}}
    return {label: f"{sub}/{name}" for label, name in names.items() if (report_dir / sub / name).is_file()}
