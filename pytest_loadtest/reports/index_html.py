"""The session's ``index.html``: one self-contained page (inline CSS, script and SVG; opens from disk, no network).

It is rendered from the same (already redacted) document as ``loadtest-report.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

from pytest_loadtest.measure.thresholds import Verdict
from pytest_loadtest.reports.chart import history_chart

INDEX_NAME = "index.html"
_ASSETS = files("pytest_loadtest.reports") / "assets"
FIGURES = (
    ("users", "users", "{:g}"),
    ("requests", "num_requests", "{:g}"),
    ("fail %", "fail_ratio", "{:.2%}"),
    ("rps", "rps", "{:.1f}"),
    ("p50 ms", "p50", "{:.4g}"),
    ("p95 ms", "p95", "{:.4g}"),
    ("p99 ms", "p99", "{:.4g}"),
)


def render_index(document: Mapping[str, Any]) -> str:
    """The whole page for a session document."""
    tests = document["tests"]
    css = (_ASSETS / "report.css").read_text(encoding="utf-8")
    script = (_ASSETS / "report.js").read_text(encoding="utf-8")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Load test report</title><style>{css}</style></head><body class="lt-scope">'
        f"<h1>Load test report</h1>{_session_header(document)}"
        '<label class="lt-filter"><input type="checkbox" id="lt-failed-only"> show failed tests only</label>'
        f"{_overview(tests)}"
        + "".join(scenario_section(record, anchor=f"test-{index}") for index, record in enumerate(tests))
        + f"<script>{script}</script></body></html>\n"
    )


def _session_header(document: Mapping[str, Any]) -> str:
    env = document["environment"]
    summary = document["summary"]
    revision = f"git {env['git_revision']}" if env.get("git_revision") else "no git revision"
    status = " · <strong>interrupted</strong>" if document.get("interrupted") else ""
    return (
        '<p class="lt-session">'
        f"{summary['tests']} load tests: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['partial']} partial{status}<br>"
        f"{escape(document['started'])} → {escape(document['finished'])} on {escape(str(env.get('hostname')))} · "
        f"{escape(revision)} · Python {escape(str(env.get('python')))} · "
        f"Locust {escape(str(env['packages'].get('locust')))} · pytest {escape(str(env['packages'].get('pytest')))}"
        "</p>"
    )


def _overview(tests: Iterable[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title, _, _ in FIGURES)
    rows = []
    for index, record in enumerate(tests):
        cells = "".join(f'<td class="num">{escape(cell)}</td>' for cell in _figures(record))
        rows.append(
            f'<tr class="lt-row" data-outcome="{escape(record["outcome"])}">'
            f'<td><a href="#test-{index}">{escape(record["nodeid"])}</a></td>{cells}'
            f"<td>{_verdict(record)}</td><td>{_links(record)}</td></tr>"
        )
    return (
        f'<table class="lt-overview"><thead><tr><th>test</th>{head}<th>verdict</th><th>Locust reports</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def scenario_section(record: Mapping[str, Any], anchor: str = "") -> str:
    """One load test: verdict, figures, thresholds, chart, errors and links (also the pytest-html extra)."""
    result = record.get("result") or {}
    history = result.get("history", [])
    parts = [
        f'<section class="lt-test" id="{escape(anchor)}" data-outcome="{escape(record["outcome"])}">',
        f"<h2>{escape(record['nodeid'])} {_verdict(record)}</h2>",
        _figure_table(record),
        threshold_table(record["thresholds"]),
        history_chart(history, title=f"{record['nodeid']}: requests/s and p95 over time"),
        _errors(record),
    ]
    if record.get("message"):
        parts.append(
            f"<details><summary>failure message</summary><pre>{escape(record['message'])}</pre></details>"
        )
    if record.get("regressions"):
        parts.append(_regressions(record["regressions"]))
    links = _links(record)
    if links:
        parts.append(f"<p>Locust reports: {links}</p>")
    parts.append("</section>")
    return "".join(parts)


def _figures(record: Mapping[str, Any]) -> list[str]:
    result = record.get("result")
    if not result:
        return ["-"] * len(FIGURES)
    values = {**result["total"], "users": result["users"]}
    return [template.format(values[key]) for _, key, template in FIGURES]


def _figure_table(record: Mapping[str, Any]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for title, _, _ in FIGURES)
    cells = "".join(f'<td class="num">{escape(cell)}</td>' for cell in _figures(record))
    return f'<table class="lt-figures"><tr>{head}</tr><tr>{cells}</tr></table>'


def threshold_table(verdicts: Iterable[Mapping[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="lt-{escape(v["status"].replace(" ", "-"))}"><td>{escape(v["label"])}</td>'
        f"<td>{escape(v['limit'])}</td><td>{escape(_measured(v))}</td><td>{escape(v['status'].upper())}</td></tr>"
        for v in verdicts
    )
    if not rows:
        return '<p class="lt-none">no thresholds</p>'
    return (
        '<table class="lt-thresholds"><tr><th>threshold</th><th>limit</th><th>measured</th><th>verdict</th></tr>'
        f"{rows}</table>"
    )


def _measured(verdict: Mapping[str, Any]) -> str:
    return Verdict.from_dict(verdict).describe_measured()


def _errors(record: Mapping[str, Any]) -> str:
    errors = record.get("errors") or []
    if not errors:
        return ""
    rows = "".join(
        f"<tr><td>{escape(e['method'])} {escape(e['name'])}</td><td>{escape(e['error'])}</td>"
        f'<td class="num">{e["occurrences"]}</td></tr>'
        for e in errors
    )
    return f'<table class="lt-errors"><tr><th>request</th><th>error</th><th>count</th></tr>{rows}</table>'


def _regressions(regressions: Iterable[Mapping[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="{"lt-fail" if r["regressed"] else ""}"><td>{escape(r["metric"])}</td>'
        f"<td>{escape(r['baseline_text'])}</td><td>{escape(r['current_text'])}</td>"
        f"<td>{escape(r['change_text'])}</td><td>{escape(r.get('limit_text') or '')}</td></tr>"
        for r in regressions
    )
    return (
        '<table class="lt-baseline"><tr><th>metric</th><th>baseline</th><th>current</th><th>change</th>'
        f"<th>limit</th></tr>{rows}</table>"
    )


def _verdict(record: Mapping[str, Any]) -> str:
    outcome = str(record["outcome"])
    partial = ' <span class="lt-partial">partial</span>' if record.get("partial") else ""
    return f'<span class="lt-verdict lt-{escape(outcome)}">{escape(outcome.upper())}</span>{partial}'


def _links(record: Mapping[str, Any]) -> str:
    reports = record.get("reports") or {}
    return " ".join(
        f'<a href="{escape(Path(path).as_posix())}">{escape(name)}</a>' for name, path in reports.items()
    )
