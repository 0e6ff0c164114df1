"""Report logic without pytest sessions: redaction, baselines, the JSON document, the chart and the index page."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import EntryStats, ErrorCount, LoadResult, ProgressPoint
from pytest_loadtest.measure.thresholds import evaluate, parse_thresholds
from pytest_loadtest.reports import baselines, json_report, redaction
from pytest_loadtest.reports.chart import history_chart
from pytest_loadtest.reports.index_html import render_index
from pytest_loadtest.reports.layout import scenario_dir_name
from pytest_loadtest.reports.redaction import (
    ENV_FILE_NAMES_VARIABLE,
    REDACTED,
    Redactor,
    learn,
    secret_option_values,
    secret_values,
)
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
        ("Set-Cookie: sid=abc123; Path=/, other=zzz9; HttpOnly", "Set-Cookie: [REDACTED]"),
        (
            "{'Set-Cookie': 'sid=abc123; Path=/', 'Server': 'x'}",
            "{'Set-Cookie': '[REDACTED]', 'Server': 'x'}",
        ),
        ("[('Cookie', 'a=1234; b=5678')]", "[('Cookie', '[REDACTED]')]"),
        (
            "<RequestsCookieJar[<Cookie sid=abc123 for h/>]>",
            "<RequestsCookieJar[<Cookie sid=[REDACTED] for h/>]>",
        ),
        (
            "Cookie(version=0, name='sid', value='abc123', port=None)",
            "Cookie(version=0, name='sid', value=[REDACTED], port=None)",
        ),
        (
            "/x?key=k-123&sig=s-456&signature=zz99&q=1",
            "/x?key=[REDACTED]&sig=[REDACTED]&signature=[REDACTED]&q=1",
        ),
        (
            "db_pass=hunter22 session_id=xyzw auth: abcd",
            "db_pass=[REDACTED] session_id=[REDACTED] auth: [REDACTED]",
        ),
        ("[('Authorization', 'Basic dXNlcjpwYXNz')]", "[('Authorization', 'Basic [REDACTED]')]"),
        ("\\u0027Basic dXNlcjpwYXNz\\u0027", "\\u0027Basic [REDACTED]\\u0027"),
        ("bearer%20abcdef", "bearer%20[REDACTED]"),
        ("basic information, no authorization, sorry", "basic information, no authorization, sorry"),
        ("http://ghp_tok3n@github.example/x", "http://[REDACTED]@github.example/x"),
        ("KeyError: 'users' users=10 spawn_rate=2", "KeyError: 'users' users=10 spawn_rate=2"),
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


def test_env_file_names_containing_a_secret_word_are_secret_but_system_ones_and_ordinary_values_are_not() -> (
    None
):
    environ = {
        "DB_PASS": "dbpass-value",  # ends like a secret: secret wherever it was set
        "SESSION_COOKIE": "cookie-value",
        "SESSION_COOKIE_NAME": "named-value",  # contains a secret word: secret when the env file defines it
        "XDG_SESSION_CLASS": "user",  # the system's own: an ordinary word that must stay in every report
        "DESKTOP_SESSION": "ubuntu",
        "LOAD_AUTH_P95_MS": "1500",  # a number: redacting it would garble the figures
        "AUTH_ENABLED": "true",
        "PIN_KEY": "4321",
        ENV_FILE_NAMES_VARIABLE: "SESSION_COOKIE_NAME,LOAD_AUTH_P95_MS,AUTH_ENABLED",
        "LOAD_SECRET_KEYS": "PIN_KEY",  # listed: secret even as a number
    }
    assert set(secret_values(environ)) == {"dbpass-value", "cookie-value", "named-value", "4321"}


def test_learned_values_are_redacted_by_every_redactor_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redaction, "_learned", {})
    before = Redactor()
    learn(["jar cookie/123", "ab"])  # "ab" is too short to redact: kept
    assert before.text("sid jar cookie/123 ab") == f"sid {REDACTED} ab"  # built before it was learned
    assert Redactor().text("q=jar%20cookie%2F123&r=jar+cookie%2F123") == f"q={REDACTED}&r={REDACTED}"


def test_the_values_of_locust_arguments_marked_is_secret_are_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from locust import events

    def arguments(parser: Any, **_: Any) -> None:
        parser.add_argument("--signing-key", is_secret=True)
        parser.add_argument("--region")

    events.init_command_line_parser.add_listener(arguments)
    try:
        found = secret_option_values({"signing_key": "sign-me-123", "region": "eu-west-1", "users": 3})
    finally:
        events.init_command_line_parser.remove_listener(arguments)
    assert found == ("sign-me-123",)
    assert secret_option_values({}) == ()


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


STARTED = 1_700_000_000.25
"""A test's start as ``time.time()`` gives it: 2023-11-14T22:13:20.250 UTC."""


def _record(nodeid: str, outcome: str = "passed", message: str = "", **reports: str) -> json_report.Record:
    return json_report.test_record(
        nodeid, outcome, _scenario(), _result(), message, reports, started=STARTED, finished=STARTED + 2.5
    )


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
    record = _record("t.py::test_a")
    partial = {**record, "nodeid": "t.py::test_b", "partial": True}
    tests, skipped = baselines.baseline_tests([record, partial])
    assert set(tests) == {"t.py::test_a"} and skipped == ["t.py::test_b"]
    path = baselines.save_baseline(tmp_path, "first", tests, {}, "2024-01-01")
    assert path == tmp_path / "first.json" and baselines.previously_saved(path) == "2024-01-01"
    baselines.save_baseline(tmp_path, "second", tests, {}, "2024-01-02")
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


def test_a_session_is_incomplete_for_a_baseline_when_interrupted_or_a_test_lacks_full_figures() -> None:
    assert baselines.incomplete([], 3, interrupted=False) is None
    assert baselines.incomplete(["t.py::test_b"], 1, interrupted=True) == (
        "the session was interrupted; 1 of 2 tests have partial or no figures (t.py::test_b)"
    )
    assert baselines.previously_saved(Path("/nonexistent/x.json")) is None


@pytest.mark.parametrize("name", ["", "a b", "../x", "-x", "x" * 101, "x\n", "x\r"])
def test_bad_baseline_names_are_refused(name: str) -> None:
    with pytest.raises(LoadTestUsageError, match=r"--load-save: .* is not a valid baseline name"):
        baselines.check_name(name, "--load-save")


def test_the_session_document_keeps_the_keys_ci_reads_and_is_json() -> None:
    record = _record("t.py::test_a", **{"locust html": "x/a.html"})
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
    assert (test["started"], test["finished"]) == (
        "2023-11-14T22:13:20.250+00:00",
        "2023-11-14T22:13:22.750+00:00",
    )
    assert datetime.fromisoformat(test["finished"]).timestamp() == STARTED + 2.5  # wall clock, with its zone
    assert test["report_errors"] == []
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
    record = _record("t.py::test_<b>", "failed", "boom", **{"locust html": "d/locust.html"})
    document = json_report.session_document(
        [record], {"packages": {}, "python": "3"}, "start", interrupted=True
    )
    page = render_index(document)
    assert "t.py::test_&lt;b&gt;" in page and "<b>" not in page
    assert 'href="d/locust.html"' in page and "interrupted" in page and "20 ms" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "src=" not in page


def test_a_test_named_like_a_secret_key_keeps_its_message() -> None:
    """``test_auth: 1 of 3 ...`` is a node id and a count, not a key and its value (found by the load suite's run)."""
    message = "loadtests/test_auth.py::test_auth: 1 of 3 load thresholds failed"
    assert Redactor(()).text(message) == message
    assert Redactor(()).text("auth: s3cr3t") == "auth: [REDACTED]"


def test_a_password_with_an_at_sign_and_a_digest_authorization_are_redacted_whole() -> None:
    redactor = Redactor(())
    assert (
        redactor.text("http://u:p@ss@h/x") == "http://u:[REDACTED]@h/x"
    )  # split at the last @, as urlsplit does
    digest = 'Authorization: Digest username="bob", response="6629fae49393a05397450978507c4ef1"'
    assert redactor.text(digest) == "Authorization: Digest [REDACTED]"
