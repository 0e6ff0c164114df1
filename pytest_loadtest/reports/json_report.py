"""The session's ``loadtest-report.json``: schema-versioned, one record per load test, plain data in and out.

A *record* is the JSON-safe description of one load test (it travels from xdist workers to the controller on the
test report); the *document* is the whole session. ``index.html`` and the baselines are built from the same records.
"""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.scenario import Scenario

SCHEMA_VERSION = 1
JSON_NAME = "loadtest-report.json"
Record = dict[str, Any]


def scenario_parameters(scenario: Scenario) -> dict[str, Any]:
    """How the scenario was configured (after precedence was settled)."""
    return {
        "user_classes": [f"{ref.module}.{ref.qualname}" for ref in scenario.user_classes],
        "users": scenario.users,
        "spawn_rate": scenario.spawn_rate,
        "duration": scenario.duration,
        "warmup": scenario.warmup,
        "stop_timeout": scenario.stop_timeout,
        "host": scenario.host,
        "workers": scenario.distribution.to_dict() if scenario.distribution else None,
        "thresholds": [threshold.to_dict() for threshold in scenario.thresholds],
        "warnings": [warning.to_dict() for warning in scenario.warnings],
        "strict": scenario.strict,
        "threshold_cases": scenario.threshold_cases,
        "tags": list(scenario.tags),
        "exclude_tags": list(scenario.exclude_tags),
        "shape": f"{scenario.shape.module}.{scenario.shape.qualname}" if scenario.shape else None,
    }


def test_record(
    nodeid: str,
    outcome: str,
    scenario: Scenario,
    result: LoadResult | None,
    message: str,
    report_files: Mapping[str, Any],
    *,
    started: float,
    finished: float,
    report_errors: Sequence[Mapping[str, str]] = (),
) -> Record:
    """One load test: when it ran (from and to, ``time.time()`` values), its parameters, figures, verdicts, errors,
    where its Locust reports are and those that could not be written."""
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "started": wall_clock(started),
        "finished": wall_clock(finished),
        "partial": result.partial if result else True,
        "parameters": scenario_parameters(scenario),
        "result": result.to_dict() if result else None,
        "thresholds": [verdict.to_dict() for verdict in result.thresholds] if result else [],
        "errors": [error.to_dict() for error in result.errors] if result else [],
        "message": message,
        "reports": dict(report_files),
        "report_errors": [dict(error) for error in report_errors],
    }


def environment_info(rootdir: Path) -> dict[str, Any]:
    """Where and with what the session ran."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "argv": sys.argv[1:],
        "packages": {
            name: _version(name) for name in ("pytest", "locust", "pytest-loadtest", "pytest-xdist")
        },
        "git_revision": git_revision(rootdir),
    }


def git_revision(directory: Path) -> str | None:
    """``git rev-parse HEAD`` of ``directory``; None outside a repository or without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and revision else None


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def wall_clock(timestamp: float) -> str:
    """A ``time.time()`` value as ISO 8601 in UTC to the millisecond: ``2025-01-31T12:00:00.250+00:00``."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")


def session_document(
    records: Sequence[Record],
    environment: Mapping[str, Any],
    started: str,
    interrupted: bool,
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole session: ``tests[].nodeid``, ``tests[].outcome`` and ``tests[].result.total`` are stable keys."""
    return {
        "schema_version": SCHEMA_VERSION,
        "started": started,
        "finished": utc_now(),
        "interrupted": interrupted,
        "environment": dict(environment),
        "summary": {
            "tests": len(records),
            "passed": sum(record["outcome"] == "passed" for record in records),
            "failed": sum(record["outcome"] == "failed" for record in records),
            "partial": sum(bool(record["partial"]) for record in records),
        },
        "baseline": dict(baseline) if baseline else None,
        "tests": list(records),
    }


def json_text(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
