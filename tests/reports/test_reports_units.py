"""Report logic without pytest sessions: redaction, baselines, the JSON document, the chart and the index page."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import EntryStats, ErrorCount, LoadResult, ProgressPoint
from pytest_loadtest.measure.thresholds import evaluate, parse_thresholds
from pytest_loadtest.reports import baselines, json_report
from pytest_loadtest.reports.chart import history_chart
from pytest_loadtest.reports.index_html import render_index
from pytest_loadtest.reports.layout import scenario_dir_name
from pytest_loadtest.reports.redaction import REDACTED, Redactor, secret_values
from pytest_loadtest.scenario import Scenario, UserClassRef

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [REDACTED]"),
        ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "{'Authorization': 'Basic [REDACTED]'}"),
        ('{"authorization": "tok123"}', '{"authorization": "[REDACTED]"}'),
        ("got bearer sk_live_123 back", "got bearer [REDACTED] back"),
        (f"token was {JWT}!", "token was [REDACTED]!"),
        ("/login?user=bob&password=hunter2&x=1", "/login?user=bob&password=[REDACTED]&x=1"),
        ('{"password": "hunter2", "email": "a@b.c"}', '{"password": "[REDACTED]", "email": "a@b.c"}'),
        ('{\\"password\\": \\"hunter2\\"}', '{\\"password\\": \\"[REDACTED]\\"}'),
        ('"{""password"": ""hunter2""}"', '"{""password"": ""[REDACTED]""}"'),
        ("\\u0027password\\u0027: \\u0027hunter2\\u0027", "\\u0027password\\u0027: \\u0027[REDACTED]\\u0027"),
        ("access_token=abc123; api_key: k-99", "access_token=[REDACTED]; api_key: [REDACTED]"),
        ("https://bob:s3cret@db.example/x", "https://bob:[REDACTED]@db.example/x"),
        ("token_type=jwt tokens: 5 GET /health", "token_type=jwt tokens: 5 GET /health"),
    ],
)
def test_secret_shapes_are_redacted_and_plain_text_is_kept(text: str, expected: str) -> None:
    redactor = Redactor()
    assert redactor.text(text) == expected
    assert redactor.text(expected) == expected  # redacting twice changes nothing


def test_secret_values_come_from_secret_named_variables_and_load_secret_keys() -> None:
    environ = {
        "API_TOKEN": "tok-Zq8w3rX9",
        "DB_PASSWORD": "pa55word-long",
        "SIGNING": "listed-value-1",
        "LOAD_SECRET_KEYS": "SIGNING, OTHER",
        "SHORT_KEY": "abc",
        "HOME": "/root",
    }
    assert set(secret_values(environ)) == {"tok-Zq8w3rX9", "pa55word-long", "listed-value-1"}
    redactor = Redactor.from_environ(environ)
    text = "a tok-Zq8w3rX9 b pa55word%2Dlong c listed-value-1 d abc /root"
    assert redactor.text(text.replace("%2D", "-")) == f"a {REDACTED} b {REDACTED} c {REDACTED} d abc /root"
    assert redactor.data({"GET /x?k=tok-Zq8w3rX9": ["tok-Zq8w3rX9", 3]}) == {
        f"GET /x?k={REDACTED}": [REDACTED, 3]
    }


def test_a_url_encoded_secret_value_is_redacted_too() -> None:
    redactor = Redactor(("p@ss word/1",))
    assert redactor.text("q=p%40ss%20word%2F1 r=p%40ss+word%2F1") == f"q={REDACTED} r={REDACTED}"


def _entry(name: str, times: dict[float, int], failures: int = 0, window: float = 2.0) -> EntryStats:
    requests = sum(times.values())
    total = sum(rt * n for rt, n in times.items())
    return EntryStats(name, requests, failures, total, min(times), max(times), window, times)


def _result(p95_ms: float = 20.0, requests: int = 100) -> LoadResult:
    total = _entry("Aggregated", {10.0: requests - 10, p95_ms: 10}, failures=1)
    return LoadResult(
        test_id="t.py::test_a",
        host="http://127.0.0.1:1",
        users=5,
        duration=2.0,
        elapsed=2.0,
        total=total,
        entries={"GET /health": total},
        errors=(ErrorCount("GET", "/health", f"401 Authorization: Bearer {JWT}", 1),),
        history=(ProgressPoint(1.0, 5, 40, 0, 40.0, 12.0), ProgressPoint(2.0, 5, 100, 1, 60.0, 20.0)),
        thresholds=evaluate(
            parse_thresholds({"p95": "<50ms"}, "t"), LoadResult("t", None, 1, 1, 1, total, {})
        ),
    )


def _scenario() -> Scenario:
    return Scenario("t.py::test_a", (UserClassRef("mod", "User", None),), 5, 5.0, 2.0, "http://127.0.0.1:1")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("p95:10", "cannot parse 'p95:10'"),
        ("p95:10%,", "cannot parse ''"),
        ("speed:5%", "unknown metric 'speed'"),
        ("p95=10%", "cannot parse 'p95=10%'"),
        ("p95:ten%", "cannot parse 'p95:ten%'"),
    ],
)
def test_bad_regression_limits_are_usage_errors_naming_the_value(spec: str, problem: str) -> None:
    with pytest.raises(LoadTestUsageError, match=r"^--load-compare-fail: ") as raised:
        baselines.parse_limits(spec)
    assert problem in str(raised.value)


def test_regression_limits_allow_changes_in_their_direction_only() -> None:
    p95, rps = baselines.parse_limits("p95:10%, rps:-5%")
    assert (p95.metric, p95.percent, rps.metric, rps.percent) == ("p95", 10.0, "rps", -5.0)
    assert not p95.exceeded(0.10) and p95.exceeded(0.11) and not p95.exceeded(-0.5)
    assert not rps.exceeded(-0.05) and rps.exceeded(-0.06) and not rps.exceeded(3.0)


def test_comparison_reports_baseline_current_and_change_and_fails_beyond_the_limit() -> None:
    baseline_total, current_total = _result(p95_ms=20.0).total, _result(p95_ms=30.0).total
    comparisons = baselines.compare(
        baseline_total, current_total, baselines.parse_limits("p95:10%,p99.9:100%")
    )
    by_metric = {c.metric: c for c in comparisons}
    assert list(by_metric) == ["requests", "fail_ratio", "rps", "p50", "p95", "p99", "p99.9"]
    assert by_metric["p95"].regressed and by_metric["p95"].describe_change() == "+50.0%"
    assert not by_metric["p99.9"].regressed and not by_metric["rps"].regressed
    baseline = baselines.Baseline("nightly", "2024-01-01T00:00:00+00:00", Path("x"), {})
    message = baselines.regression_message("t.py::test_a", baseline, comparisons)
    assert message == (
        "t.py::test_a: regressed against baseline 'nightly' (saved 2024-01-01T00:00:00+00:00):\n"
        "  p95: baseline 20 ms, current 30 ms, change +50.0% (allowed +10%)"
    )
    assert baselines.Comparison("failures", 0.0, 3.0, baselines.RegressionLimit("failures", 10)).regressed


def test_baselines_are_saved_by_name_and_the_latest_is_the_default(tmp_path: Path) -> None:
    record = json_report.test_record("t.py::test_a", "passed", _scenario(), _result(), "", {})
    partial = {**record, "nodeid": "t.py::test_b", "partial": True}
    path, skipped = baselines.save_baseline(tmp_path, "first", [record, partial], {}, "2024-01-01")
    assert path == tmp_path / "first.json" and skipped == ["t.py::test_b"]
    baselines.save_baseline(tmp_path, "second", [record], {}, "2024-01-02")
    os.utime(tmp_path / "first.json", (1, 1))
    latest = baselines.load_baseline(tmp_path, None)
    assert latest.name == "second" and set(latest.tests) == {"t.py::test_a"}
    assert latest.tests["t.py::test_a"].percentile(0.95) == 20.0
    assert baselines.load_baseline(tmp_path, "first").saved_at == "2024-01-01"
    with pytest.raises(LoadTestUsageError, match=r"no baseline named 'third' in .* \(saved: first, second\)"):
        baselines.load_baseline(tmp_path, "third")
    with pytest.raises(
        LoadTestUsageError, match=r"no saved baseline in .*; save one first with --load-save NAME"
    ):
        baselines.load_baseline(tmp_path / "none", None)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(LoadTestUsageError, match="cannot read the baseline"):
        baselines.load_baseline(tmp_path, "broken")


@pytest.mark.parametrize("name", ["", "a b", "../x", "-x", "x" * 101])
def test_bad_baseline_names_are_refused(name: str) -> None:
    with pytest.raises(LoadTestUsageError, match=r"--load-save: .* is not a valid baseline name"):
        baselines.check_name(name, "--load-save")


def test_the_session_document_keeps_the_keys_ci_reads_and_is_json() -> None:
    record = json_report.test_record(
        "t.py::test_a", "passed", _scenario(), _result(), "", {"locust html": "x/a.html"}
    )
    document = json_report.session_document([record], {"python": "3"}, "start", interrupted=False)
    assert document["schema_version"] == json_report.SCHEMA_VERSION
    test = json.loads(json.dumps(document))["tests"][0]
    assert (test["nodeid"], test["outcome"], test["result"]["total"]["num_requests"]) == (
        "t.py::test_a",
        "passed",
        100,
    )
    assert test["parameters"]["users"] == 5 and test["thresholds"][0]["status"] == "pass"
    assert document["summary"] == {"tests": 1, "passed": 1, "failed": 0, "partial": 0}
    assert json_report.git_revision(Path(__file__).parent) not in ("", "HEAD")


def test_scenario_directories_are_safe_and_distinct() -> None:
    names = {
        scenario_dir_name(node) for node in ("a/t.py::test[x/y]", "a/t.py::test[x_y]", "a/t.py::test[x.y]")
    }
    assert len(names) == 3
    assert all(name.replace("-", "").replace("_", "").replace(".", "").isalnum() for name in names)
    assert scenario_dir_name("tests/test_api.py::test_login").startswith("tests.test_api.py-test_login-")


def test_the_chart_draws_both_series_through_every_sample() -> None:
    svg = history_chart([point.to_dict() for point in _result().history])
    assert svg.startswith('<svg class="lt-chart"') and svg.count("<polyline") == 2
    assert svg.count('class="lt-rps-point"') == 2 and "2.0s: p95 20 ms" in svg
    assert "no samples" in history_chart([])


def test_the_index_page_lists_tests_escaped_with_links_and_no_external_resources() -> None:
    record = json_report.test_record(
        "t.py::test_<b>", "failed", _scenario(), _result(), "boom", {"locust html": "d/locust.html"}
    )
    document = json_report.session_document(
        [record], {"packages": {}, "python": "3"}, "start", interrupted=True
    )
    page = render_index(document)
    assert "t.py::test_&lt;b&gt;" in page and "<b>" not in page
    assert 'href="d/locust.html"' in page and "interrupted" in page and "20 ms" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "src=" not in page
