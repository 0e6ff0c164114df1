"""Reports through real pytest sessions against a real HTTP server: files, secrets, pytest-html, baselines, xdist, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from conftest import INNER_SESSION_OPTIONS
from tests.support.processes import PytestProcess
from tests.support.target import TargetServer

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl"
TOKEN = "tok-Zq8w3rX9-secret"
SECRETS = ("hunter2", TOKEN, JWT, "eyJhbGci")

USERS = """
import os
import pytest
from locust import FastHttpUser, constant, task

JWT = "JWT_VALUE"


class HealthUser(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def health(self):
        self.client.get("/slow?ms=" + os.environ.get("DELAY_MS", "0"), name="/slow")


class LeakyUser(FastHttpUser):
    \"\"\"Puts a JWT, a password and an env-file token into request names, failures and an exception.\"\"\"

    wait_time = constant(0.05)

    @task
    def calls(self):
        token = os.environ["API_TOKEN"]
        self.client.get("/health", headers={"Authorization": "Bearer " + JWT})
        self.client.get("/status/500?password=hunter2&key=" + token, name="/status/500?password=hunter2&key=" + token)
        with self.client.get("/status/401", catch_response=True) as response:
            response.failure('denied; sent Authorization: Bearer ' + JWT + ' and {"password": "hunter2"}')
        raise RuntimeError("login failed for password=hunter2 with " + token)
""".replace("JWT_VALUE", JWT)


def run(pytester: pytest.Pytester, target: TargetServer, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url, *args)


def session_json(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "loadtest-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


SESSION_TESTS = """
@pytest.mark.load(HealthUser, users=2, duration=2, thresholds={"p95": "<1s", "rps": ">=1"})
def test_health():
    pass


@pytest.mark.load(LeakyUser, users=2, duration=2)
def test_leaky():
    pass
"""
REPORT_FILES = {"locust html", "stats csv", "history csv", "failures csv", "exceptions csv"}


@dataclass(frozen=True)
class ReportsSession:
    """One session of a passing and a failing (secret-leaking) load test, with every report it can write."""

    path: Path
    returncode: int
    stdout: str
    host: str

    @property
    def reports(self) -> Path:
        return self.path / "load_test_reports"

    def record(self, name: str) -> dict[str, Any]:
        tests = {test["nodeid"]: test for test in session_json(self.reports)["tests"]}
        return tests[f"test_reports.py::{name}"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def reports_session(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, target: TargetServer
) -> ReportsSession:
    """Run once per test run for the tests below, each of which proves one behaviour of the same session: under
    xdist the first worker to get here runs it and the others read what it left (pytest-xdist's own recipe)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # this run's directory, common to its workers
    path, outcome = shared / "reports_session", shared / "reports_session.json"
    with FileLock(shared / "reports_session.lock"):
        if not outcome.is_file():
            path.mkdir()
            (path / "test_reports.py").write_text(USERS + SESSION_TESTS, encoding="utf-8")
            (path / ".env.load-testing").write_text(f"API_TOKEN={TOKEN}\n", encoding="utf-8")
            command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--load-host", target.url]
            command += ["--html=html/report.html", "--junitxml=junit.xml", "--load-save=first"]
            environment = {**os.environ, "PYTEST_ADDOPTS": INNER_SESSION_OPTIONS}
            try:
                run = subprocess.run(
                    command, cwd=path, env=environment, capture_output=True, text=True, timeout=120
                )
                record = {"returncode": run.returncode, "stdout": run.stdout + run.stderr, "host": target.url}
            except (
                subprocess.TimeoutExpired
            ) as exc:  # every test of the group then fails with this, not mkdir's
                record = {
                    "returncode": -1,
                    "stdout": f"the shared session timed out: {exc}",
                    "host": target.url,
                }
            outcome.write_text(json.dumps(record), encoding="utf-8")
    return ReportsSession(path, **json.loads(outcome.read_text(encoding="utf-8")))


def test_a_session_reports_its_outcomes_baseline_and_report_paths_in_the_terminal(
    reports_session: ReportsSession,
) -> None:
    assert reports_session.returncode == pytest.ExitCode.TESTS_FAILED, reports_session.stdout
    pytest.LineMatcher(reports_session.stdout.splitlines()).fnmatch_lines(
        [
            "*load tests: 2*",
            "load baseline 'first' saved to */.loadtest/first.json",
            "load test reports: load_test_reports/index.html, load_test_reports/loadtest-report.json "
            "(Locust HTML/CSV per test alongside)",
            "*1 failed, 1 passed*",
        ]
    )


def test_the_session_json_holds_environment_parameters_figures_and_verdicts(
    reports_session: ReportsSession,
) -> None:
    document = session_json(reports_session.reports)
    assert document["schema_version"] == 1 and document["interrupted"] is False
    assert {"python", "platform", "hostname", "packages", "git_revision"} <= set(document["environment"])
    assert document["environment"]["packages"]["locust"]
    health, leaky = reports_session.record("test_health"), reports_session.record("test_leaky")
    assert (health["outcome"], leaky["outcome"]) == ("passed", "failed")
    assert health["result"]["total"]["num_requests"] > 10 and health["result"]["history"]
    assert health["parameters"]["users"] == 2 and health["parameters"]["host"] == reports_session.host
    assert [(v["label"], v["status"]) for v in health["thresholds"]] == [
        ("p95", "pass"),
        ("rps", "pass"),
        ("fail_ratio", "pass"),  # no tolerance stated: no failed request allowed
    ]
    assert health["thresholds"][2]["threshold"]["implicit"] is True and not health["partial"]
    assert "user code raised" in leaky["message"]
    # each test's call phase in wall-clock time with its zone, after the session's start (to the second), in order
    (health_start, health_end), (leaky_start, leaky_end) = (
        [datetime.fromisoformat(record[key]) for key in ("started", "finished")] for record in (health, leaky)
    )
    assert all(
        moment.utcoffset() is not None for moment in (health_start, health_end, leaky_start, leaky_end)
    )
    assert datetime.fromisoformat(document["started"]) <= health_start < health_end <= leaky_start < leaky_end


def test_every_test_gets_locust_html_and_csv_reports_with_its_own_figures(
    reports_session: ReportsSession,
) -> None:
    health, leaky = reports_session.record("test_health"), reports_session.record("test_leaky")
    for record in (health, leaky):
        assert set(record["reports"]) == REPORT_FILES
        for path in record["reports"].values():
            assert (reports_session.reports / path).stat().st_size > 0, path
    health_dir = reports_session.reports / Path(health["reports"]["locust html"]).parent
    assert "/slow" in (health_dir / "locust_stats.csv").read_text()
    assert len((health_dir / "locust_stats_history.csv").read_text().splitlines()) >= 2  # header + a sample
    assert "Locust" in (health_dir / "locust.html").read_text()
    assert "RuntimeError" in (reports_session.reports / leaky["reports"]["exceptions csv"]).read_text()


def test_the_index_links_each_tests_locust_report_and_pytest_html_gets_chart_and_threshold_extras(
    reports_session: ReportsSession,
) -> None:
    health = reports_session.record("test_health")
    index = (reports_session.reports / "index.html").read_text()
    assert f'href="{health["reports"]["locust html"]}"' in index
    pytest_html_page = (reports_session.path / "html" / "report.html").read_text()
    assert "lt-chart" in pytest_html_page and "lt-thresholds" in pytest_html_page


def test_the_saved_baseline_holds_every_test_of_the_session(reports_session: ReportsSession) -> None:
    baseline = json.loads((reports_session.path / ".loadtest" / "first.json").read_text())
    assert set(baseline["tests"]) == {"test_reports.py::test_health", "test_reports.py::test_leaky"}


def test_no_secret_reaches_any_file_of_the_session_and_redacted_ones_say_so(
    reports_session: ReportsSession,
) -> None:
    leaky = reports_session.record("test_leaky")
    assert "[REDACTED]" in leaky["message"]
    assert any("[REDACTED]" in error["error"] for error in leaky["errors"])
    path = reports_session.path
    written = [p for base in ("load_test_reports", ".loadtest", "html") for p in (path / base).rglob("*")]
    written += [path / "junit.xml"]
    leaks = [
        (str(file.relative_to(path)), secret)
        for file in written
        if file.is_file()
        for secret in SECRETS
        if secret in file.read_text(errors="replace")
    ]
    assert len(written) > 15 and not leaks


def test_the_index_page_draws_its_charts_in_a_real_browser(reports_session: ReportsSession) -> None:
    check_in_chromium(reports_session.reports / "index.html", charts=2)


def chromium() -> str:
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if found is None:
        if not sys.platform.startswith("linux"):
            pytest.skip("the report page is checked in headless Chromium on Linux only")
        pytest.fail(
            "chromium is not installed: apt-get install chromium (make test installs it as root)",
            pytrace=False,
        )
    return found


def check_in_chromium(page: Path, charts: int) -> None:
    """The page loads from disk with no console message, its script ran and every chart drew both lines."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    dom = done.stdout
    assert 'data-ready="true"' in dom
    assert dom.count('<svg class="lt-chart"') == charts and dom.count("<polyline") == 2 * charts


def test_a_regression_against_the_saved_baseline_fails_the_test_with_both_figures(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nload_report_dir = ini_reports\n")
    pytester.makepyfile(
        test_base=USERS + "\n@pytest.mark.load(HealthUser, users=2, duration=1)\ndef test_slow():\n    pass\n"
    )
    # 1 ms then 200 ms: a busy machine adds milliseconds to the first, never the +50% that would hide the regression
    monkeypatch.setenv("DELAY_MS", "1")
    # JUnit XML in the report directory (as make load writes it): listed, so the next session may write there too
    run(pytester, target, "--load-save", "fast", "--junitxml=ini_reports/junit.xml").assert_outcomes(passed=1)
    monkeypatch.setenv("DELAY_MS", "200")
    result = run(
        pytester, target, "--load-compare", "--load-compare-fail=p95:50%,rps:-90%", "--junitxml=j.xml"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_base.py::test_slow: regressed against baseline 'fast' (saved *):",
            "  p95: baseline * ms, current * ms, change +*% (allowed +50%)",
            "*load tests against their baseline*",
            "compared with baseline 'fast' (saved *)",
            "test_base.py::test_slow*requests*",
            "*p95*ms*ms*REGRESSED (allowed +50%)",
        ]
    )
    assert "regressed against baseline" in (pytester.path / "j.xml").read_text()
    record = session_json(pytester.path / "ini_reports")["tests"][0]
    assert record["baseline"] == "fast"
    assert [r["metric"] for r in record["regressions"] if r["regressed"]] == ["p95"]


def test_under_xdist_the_controller_writes_one_report_with_every_worker_test(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(
        test_spread=USERS
        + "".join(
            f"\n@pytest.mark.load(HealthUser, users=1, duration=1)\ndef test_{n}():\n    pass\n" for n in "ab"
        )
    )
    (pytester.path / "sub").mkdir()
    result = run(pytester, target, "-n", "2", "--load-report-dir", "sub/out")
    result.assert_outcomes(passed=2)
    out = pytester.path / "sub" / "out"
    records = {test["nodeid"]: test for test in session_json(out)["tests"]}
    assert sorted(records) == ["test_spread.py::test_a", "test_spread.py::test_b"]
    assert len(list(out.glob("*/locust.html"))) == 2
    result.stdout.fnmatch_lines(
        ["*load tests: 2*", "load test reports: sub/out/index.html, sub/out/loadtest-report.json *"]
    )
    # the summary lists each test once, with the requests and the outcome of the record the JSON got
    rows = [line.split() for line in result.stdout.lines if line.startswith("test_spread.py::")]
    assert sorted((row[0], row[2], row[-1]) for row in rows) == [
        (nodeid, str(record["result"]["total"]["num_requests"]), record["outcome"].upper())
        for nodeid, record in sorted(records.items())
    ]


def test_ctrl_c_still_writes_every_report_with_the_partial_figures(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(
        test_stop=USERS
        + "\n@pytest.mark.load(HealthUser, users=2, duration=60)\ndef test_long():\n    pass\n"
    )
    session = PytestProcess(pytester.path, ("--load-host", target.url))
    session.wait_for("[load] test_long")
    session.process.send_signal(signal.SIGINT)
    assert session.finish() == pytest.ExitCode.INTERRUPTED, session.output
    reports = pytester.path / "load_test_reports"
    document = session_json(reports)
    record = document["tests"][0]
    assert document["interrupted"] is True and record["partial"] is True and record["result"]["interrupted"]
    assert record["result"]["total"]["num_requests"] > 0
    assert (reports / record["reports"]["locust html"]).is_file()
    assert "partial" in (reports / "index.html").read_text()


def test_bad_report_options_are_usage_errors(pytester: pytest.Pytester, target: TargetServer) -> None:
    result = run(pytester, target, "--load-compare-fail=p95:10")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --load-compare-fail: cannot parse 'p95:10'; expected METRIC:N% *"])
    result = run(pytester, target, "--load-compare=missing")
    result.stderr.fnmatch_lines(["ERROR: --load-compare: no saved baseline in *.loadtest; save one first *"])
