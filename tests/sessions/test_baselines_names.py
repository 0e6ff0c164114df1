"""Per-entry regressions against an honest baseline, and the request-name guard, through one real pytest session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_loadtest.measure.result import TOTAL_NAME, EntryStats
from pytest_loadtest.reports import baselines
from tests.support.target import TargetServer

TESTS = """
import itertools
import uuid

import pytest
from locust import FastHttpUser, constant, task

numbers = itertools.count()


class IdsUser(FastHttpUser):
    wait_time = constant(0.02)

    @task
    def pages(self):
        for _ in range(3):
            self.client.get(f"/pages/{uuid.uuid4()}")
        for _ in range(2):
            self.client.get(f"/pages/{uuid.uuid4()}/items/{next(numbers)}")
        self.client.get(f"/pages/{next(numbers)}")


class SlowUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def calls(self):
        self.client.get("/slow?ms=20", name="/slow")
        self.client.get("/health")


@pytest.mark.load(IdsUser, users=2, duration=1, max_entries=20)
def test_ids():
    pass


@pytest.mark.load(SlowUser, users=1, duration=1)
def test_slow():
    pass
"""


def fast(key: str) -> dict[str, object]:
    """A saved entry whose every response took 1 ms."""
    return EntryStats(key, 100, 0, 100.0, 1.0, 1.0, 1.0, {1.0: 100}).to_dict()


def save_baseline(directory: Path) -> None:
    """A baseline of this machine in which /slow answered in 1 ms, measured with 5 users (test_slow runs 1)."""
    entries = {"GET /slow": fast("GET /slow"), "GET /health": fast("GET /health")}
    test = {"users": 5, "duration": 1.0, "total": fast(TOTAL_NAME), "entries": entries}
    tests = {"test_load.py::test_slow": test}
    baselines.save_baseline(directory, "base", tests, {}, "then", baselines.measurement_origin(None))


def test_a_regression_measured_otherwise_is_shown_per_entry_not_failed_and_too_many_names_fail(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_load=TESTS)
    save_baseline(pytester.path / baselines.BASELINE_DIR)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--load-host",
        target.url,
        "--load-compare=base",
        "--load-compare-fail=GET /slow:p95:50%,*:fail_ratio:10%",
        "--load-save=after",
    )
    result.assert_outcomes(failed=1, passed=1)
    output = result.stdout.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output

    # the name guard: UUIDs and numbers grouped into shapes, the fix built from the test's own URL
    result.stdout.re_match_lines(
        [
            r"test_load.py::test_ids: too many request names: .* distinct names, more than max_entries=20; .*",
            r" +\d+ names +\d+ requests +GET /pages/\{uuid\}$",
            r" +\d+ names +\d+ requests +GET /pages/\{uuid\}/items/\{n\}$",
            r" +\d+ names +\d+ requests +GET /pages/\{n\}$",
            r'fix: give such requests one name, e.g. self.client.get\("/pages/[0-9a-f-]{36}", name="/pages/\{uuid\}"\)',
        ]
    )

    # per-entry limits compare the entries they name (the wildcard: each of the baseline's); against a baseline
    # measured with other users, the regression is shown and fails nothing (a comparable one fails:
    # test_reports_session.py's regression test saves and compares on one machine)
    result.stdout.re_match_lines(
        [
            r"compared with baseline 'base' \(saved then\)",
            r"regressions against a baseline measured otherwise are shown, not failed \(--load-compare-any fails them\)",
            r"test_load.py::test_slow .*",
            r" +GET /slow p95 +1 ms +[\d.]+ ms +\+[\d.]+% +REGRESSED \(allowed \+50%\), not failed: measured otherwise",
            r" +GET /slow fail_ratio .*",
            r" +GET /health fail_ratio .*",
            r" +- +measured otherwise: users 5 in the baseline, 1 now$",
        ]
    )
    assert "regressed against baseline" not in output

    # the saved baseline says where it was measured and keeps each entry
    saved = json.loads((pytester.path / baselines.BASELINE_DIR / "after.json").read_text(encoding="utf-8"))
    assert saved["origin"] == baselines.measurement_origin(None)
    assert set(saved["tests"]["test_load.py::test_slow"]["entries"]) == {"GET /slow", "GET /health"}
    assert len(saved["tests"]["test_load.py::test_ids"]["entries"]) > 20
