"""The Platform API load suite run for real: smoke against the reference API it starts, and broken targets that make
the matching scenarios fail with their threshold tables."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from loadtests.platform_api.server import PlatformApiServer
from tests.support.suite import run_load_suite

pytestmark = pytest.mark.slow

# Short runs: 20 users for 2-3 s give each scenario 80+ samples; a p99 is judged on 50 (--load-min-samples 0.5).
SHORT = ("--load-profile", "smoke", "--load-users", "20", "--load-min-samples", "0.5")


def run_suite(
    tmp_path: Path, *args: str, duration: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    reports = ("--junitxml", str(tmp_path / "junit.xml"), "--load-report-dir", str(tmp_path / "reports"))
    return run_load_suite(*SHORT, "--load-duration", duration, *args, *reports, env=env)


def junit_outcomes(tmp_path: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(tmp_path / "junit.xml").iter("testcase"):
        failed, errored = case.find("failure") is not None, case.find("error") is not None
        outcomes[case.get("name", "")] = "failed" if failed else "error" if errored else "passed"
    return outcomes


def test_the_smoke_suite_passes_against_the_reference_api_it_starts(tmp_path: Path) -> None:
    session = run_suite(tmp_path, duration="2")
    assert session.returncode == 0, session.stdout[-4000:] + session.stderr[-2000:]
    assert junit_outcomes(tmp_path) == {
        "test_auth": "passed",
        "test_auth_rejects_bad_tokens": "passed",
        "test_generation": "passed",
        "test_mixed_workload": "passed",
        "test_payments": "passed",
    }
    users = {
        p.get("value")
        for p in ET.parse(tmp_path / "junit.xml").iter("property")
        if p.get("name") == "load.users"
    }
    assert users == {"20"}  # --load-users beats the smoke profile's 10
    assert "target memory (GET /metrics rss_bytes)" in session.stdout  # the reference API the suite started


def test_extra_latency_fails_payments_on_p95_while_generation_holds(tmp_path: Path) -> None:
    """320 ms on every request: over the payments p95 limit (300 ms), within generation's (500 ms)."""
    with PlatformApiServer(extra_latency_ms=320, jwt_secret="k" * 40) as api:
        session = run_suite(
            tmp_path,
            "-k",
            "test_payments or test_generation",
            "--load-host",
            api.url,
            duration="3",  # generation's rps limit needs the whole of its ramp-up and then some
            env={"LOAD_JWT_SECRET": "k" * 40, "LOAD_SEED_USERS": "1"},
        )
    assert junit_outcomes(tmp_path) == {"test_generation": "passed", "test_payments": "failed"}, (
        session.stdout[-4000:]
    )
    assert re.search(
        r"test_payments\.py::test_payments: [123] of 3 load thresholds failed", session.stdout
    ), session.stdout[-3000:]
    assert re.search(r"\np95 +<= 300 ms +\d+(\.\d+)? ms +FAIL\n", session.stdout), session.stdout[-3000:]
    assert re.search(r"\nfail_ratio +<= 5\.00% +0\.00% +PASS\n", session.stdout)


def test_an_error_rate_fails_the_auth_scenarios(tmp_path: Path) -> None:
    """20% of requests answered 503: over the auth limit of 1% failures; bad tokens get 503 instead of 401."""
    with PlatformApiServer(error_rate=0.2) as api:
        session = run_suite(
            tmp_path,
            "-k",
            "test_auth",
            "--load-host",
            api.url,
            duration="2",
            env={"LOAD_SEED_USERS": "1"},
        )
    assert junit_outcomes(tmp_path) == {"test_auth": "failed", "test_auth_rejects_bad_tokens": "failed"}
    for test in ("test_auth", "test_auth_rejects_bad_tokens"):
        assert f"test_auth.py::{test}: 1 of 3 load thresholds failed" in session.stdout
    failures = session.stdout.partition("short test summary info")[
        0
    ]  # with CI set, pytest repeats messages whole
    assert len(re.findall(r"\nfail_ratio +<= 1\.00% +\d+\.\d+% +FAIL\n", failures)) == 2
