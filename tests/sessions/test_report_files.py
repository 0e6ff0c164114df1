"""Nothing of the user's lost or overwritten, through real pytest sessions: a report directory holding the user's
files is refused before any load; a report directory that is a file, read-only or on a full disk is one error line
naming the path and the OS error, while the verdicts, the JUnit figures and the other reports are kept; a baseline
is never replaced by a run without complete figures (unless forced), and on a full disk the saved one is kept whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest

from pytest_loadtest.reports import baselines
from tests.support.target import TargetServer

UNREACHABLE = "http://127.0.0.1:9"
OLD_BASELINE = "2024-01-01T00:00:00+00:00"


def load_test(path: str = "/health", duration: int = 1) -> str:
    """A module with one load test of ``duration`` seconds; an unreachable target ends it after about 1 s."""
    return f"""
import pytest
from locust import FastHttpUser, constant, task


class PathUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def get(self):
        self.client.get({path!r})


@pytest.mark.load(PathUser, users=1, duration={duration})
def test_load():
    pass
"""


def run(pytester: pytest.Pytester, host: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--load-host", host, "--junitxml=junit.xml", *args
    )  # fmt: skip


def save_old_baseline(directory: Path) -> bytes:
    """A baseline saved earlier by the plugin's own writer, with one test's figures; returns its bytes."""
    tests = {"test_old.py::test_old": {"users": 1, "duration": 1.0, "total": {"name": "Aggregated"}}}
    return baselines.save_baseline(directory, "nightly", tests, {}, OLD_BASELINE).read_bytes()


def junit_properties(pytester: pytest.Pytester) -> dict[str, str]:
    root = ET.parse(pytester.path / "junit.xml").getroot()
    return {prop.get("name", ""): prop.get("value", "") for prop in root.iter("property")}


def assert_summary_and_load_table_printed(result: pytest.RunResult, outcome: str) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    result.stdout.fnmatch_lines(["*load tests: 1*", f"test_load.py::test_load *{outcome.upper()}*"])
    result.stdout.fnmatch_lines([f"*1 {outcome}*"])


@pytest.fixture
def mount() -> Iterator[Callable[..., Path]]:
    """Mount a small tmpfs (as root; the test is skipped elsewhere), unmounted after the test."""
    with ExitStack() as mounted:

        def tmpfs(path: Path, size: str, *options: str) -> Path:
            if os.geteuid() != 0:
                pytest.skip("mounting a small tmpfs needs root")
            path.mkdir(exist_ok=True)
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}", *options)), "tmpfs", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode:
                pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
            mounted.callback(subprocess.run, ["umount", "-l", str(path)], check=False)
            return path

        yield tmpfs


def test_a_report_directory_holding_the_users_files_is_refused_before_any_load_and_left_as_it_was(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    """``--load-report-dir .``, where the user keeps an index.html and a loadtest-report.json of their own."""
    path = "/pages/report-dir-refused"
    pytester.makepyfile(test_load=load_test(path))
    own = {"index.html": "<p>my page</p>", "loadtest-report.json": '{"mine": true}'}
    for name, text in own.items():
        (pytester.path / name).write_text(text, encoding="utf-8")
    result = run(pytester, target.url, "--load-report-dir", ".")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: the report directory {pytester.path} (--load-report-dir) holds files pytest-loadtest did not "
            "write: index.html, loadtest-report.json, *; it writes only into a new or empty directory *"
        ]
    )
    assert target.hits.get(path, 0) == 0  # no load ran
    assert {name: (pytester.path / name).read_text(encoding="utf-8") for name in own} == own
    assert not (pytester.path / ".pytest-loadtest-manifest.json").exists()


def test_a_report_directory_that_is_a_file_is_one_error_and_a_forced_save_replaces_the_baseline_saying_so(
    pytester: pytest.Pytester,
) -> None:
    """The target is unreachable: the test fails for that (its verdict and partial figures kept), the reports say
    why they could not be written, and --load-save-force replaces the saved baseline all the same."""
    pytester.makepyfile(test_load=load_test(duration=10))
    (pytester.path / "reports").write_text("the user's file", encoding="utf-8")
    save_old_baseline(pytester.path / ".loadtest")
    result = run(
        pytester, UNREACHABLE, "--load-report-dir", "reports", "--load-save", "nightly", "--load-save-force"
    )
    assert_summary_and_load_table_printed(result, "failed")
    result.stdout.fnmatch_lines(
        [
            "*the target http://127.0.0.1:9 could not be reached*",
            f"load baseline 'nightly' saved to {pytester.path}/.loadtest/nightly.json, replacing the one saved "
            f"{OLD_BASELINE}",
            f"ERROR: load test reports: cannot write {pytester.path}/reports*: [[]Errno 20] Not a directory",
        ]
    )
    assert result.stdout.str().count("ERROR: load test reports") == 1
    assert (pytester.path / "reports").read_text(encoding="utf-8") == "the user's file"
    assert junit_properties(pytester)["load.partial"] == "target unreachable"
    saved = json.loads((pytester.path / ".loadtest" / "nightly.json").read_text(encoding="utf-8"))
    assert saved["tests"] == {} and saved["saved_at"] != OLD_BASELINE


def test_a_read_only_report_directory_is_one_error_and_a_run_without_figures_keeps_the_saved_baseline(
    pytester: pytest.Pytester, mount: Callable[..., Path]
) -> None:
    pytester.makepyfile(test_load=load_test(duration=10))
    reports = pytester.path / "reports"
    if os.geteuid() == 0:  # root writes through file modes: a read-only file system it is
        mount(reports, "200k", "ro")
    else:
        reports.mkdir(mode=0o555)
    old = save_old_baseline(pytester.path / ".loadtest")
    result = run(pytester, UNREACHABLE, "--load-report-dir", "reports", "--load-save", "nightly")
    assert_summary_and_load_table_printed(result, "failed")
    result.stdout.fnmatch_lines(
        [
            "load baseline 'nightly' not saved: 1 of 1 tests have partial or no figures (test_load.py::test_load); "
            f"the one saved {OLD_BASELINE} is kept (--load-save-force saves it anyway)",
            f"ERROR: load test reports: cannot write {reports}*: [[]Errno *] *",
        ]
    )
    assert "Read-only file system" in result.stdout.str() or "Permission denied" in result.stdout.str()
    assert result.stdout.str().count("ERROR: load test reports") == 1
    assert (pytester.path / ".loadtest" / "nightly.json").read_bytes() == old
    assert junit_properties(pytester)["load.partial"] == "target unreachable"


def test_a_full_disk_keeps_the_verdict_the_figures_the_reports_that_fit_and_the_saved_baseline_whole(
    pytester: pytest.Pytester, target: TargetServer, mount: Callable[..., Path]
) -> None:
    """The report directory on a 200 KB tmpfs (Locust's HTML report, about 1 MB, cannot fit), the baselines on a
    full one; each test's start and end are in the JSON report as wall-clock times with their zone."""
    pytester.makepyfile(test_load=load_test())
    reports = mount(pytester.path / "reports", "200k")
    baseline_dir = mount(pytester.path / ".loadtest", "8k")
    old = save_old_baseline(baseline_dir)
    with (
        open(baseline_dir / "filler.bin", "wb", buffering=0) as filler,
        pytest.raises(OSError, match="No space"),
    ):
        while True:
            filler.write(b"x" * 1024)
    result = run(pytester, target.url, "--load-report-dir", "reports", "--load-save", "nightly")
    assert_summary_and_load_table_printed(result, "passed")
    result.stdout.fnmatch_lines(
        [
            f"load baseline 'nightly' not saved: cannot write {baseline_dir}/nightly.json: [[]Errno 28] No space "
            f"left on device; the one saved {OLD_BASELINE} is kept",
            f"ERROR: load test reports: cannot write {reports}/*/locust.html: [[]Errno 28] No space left on device",
        ]
    )
    assert (baseline_dir / "nightly.json").read_bytes() == old
    assert sorted(p.name for p in baseline_dir.iterdir()) == [
        "filler.bin",
        "nightly.json",
    ]  # no temporary left
    assert int(junit_properties(pytester)["load.requests"]) > 0
    record = json.loads((reports / "loadtest-report.json").read_text(encoding="utf-8"))["tests"][0]
    assert record["outcome"] == "passed" and record["result"]["total"]["num_requests"] > 0
    assert set(record["reports"]) == {"stats csv", "history csv", "failures csv", "exceptions csv"}
    assert [error["error"] for error in record["report_errors"]] == ["[Errno 28] No space left on device"]
    started, finished = (datetime.fromisoformat(record[key]) for key in ("started", "finished"))
    assert started.tzinfo is not None and 1 <= (finished - started).total_seconds() < 30
    assert "test_load.py::test_load" in (reports / "index.html").read_text(encoding="utf-8")
