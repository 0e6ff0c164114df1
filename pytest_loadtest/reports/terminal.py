"""The end-of-session summary table of all load tests, like pytest-benchmark's.

It is drawn from the session's records (see json_report.py), the same ones ``loadtest-report.json`` and
``index.html`` are written from, so the three agree on every test, its figures and its outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_loadtest.measure.result import users_shown
from pytest_loadtest.measure.verdicts import Status, Verdict
from pytest_loadtest.reports.table import Column, compact_number, format_table

_COLUMNS = (
    Column("test"),
    *(
        Column(title, "right")
        for title in ("users", "requests", "fail %", "rps", "p50 ms", "p95 ms", "p99 ms")
    ),
    Column("verdict"),
)


_THRESHOLD_COLUMNS = (
    Column("test"),
    Column("threshold"),
    Column("limit"),
    Column("measured"),
    Column("verdict"),
)


def render_summary(records: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width table, one row per record: test, users, requests, fail %, rps, p50, p95, p99, verdict; then,
    for the tests run with ``--load-threshold-cases``, a table of every threshold's outcome, one row each."""
    summary = format_table(_COLUMNS, [_row(record) for record in records])
    thresholds = [
        [
            str(record["nodeid"]),
            verdict["label"],
            verdict["limit"],
            _measured(verdict),
            verdict["status"].upper(),
        ]
        for record in records
        if (record.get("parameters") or {}).get("threshold_cases")
        for verdict in record.get("thresholds") or ()
    ]
    return f"{summary}\n\n{format_table(_THRESHOLD_COLUMNS, thresholds)}" if thresholds else summary


def _measured(verdict: Mapping[str, Any]) -> str:
    return Verdict.from_dict(verdict).describe_measured()


def _row(record: Mapping[str, Any]) -> list[str]:
    result = record.get("result")
    figures = _figures(result) if result else ["-"] * (len(_COLUMNS) - 2)
    return [str(record["nodeid"]), *figures, _verdict(record)]


def _figures(result: Mapping[str, Any]) -> list[str]:
    total = result["total"]
    return [
        users_shown(result["users"], max((point["users"] for point in result["history"]), default=None)),
        str(total["num_requests"]),
        f"{total['fail_ratio'] * 100:.2f}",
        *(compact_number(total[key]) for key in ("rps", "p50", "p95", "p99")),
    ]


def _verdict(record: Mapping[str, Any]) -> str:
    """The outcome, then what qualifies it: breached warnings, partial, saturated, iterations the open model
    dropped."""
    result = record.get("result") or {}
    verdict = str(record["outcome"]).upper()
    warned = sum(verdict["status"] == Status.WARN.value for verdict in record.get("thresholds") or ())
    if warned:
        verdict += f" ({warned} warning{'s' if warned > 1 else ''})"
    if record["partial"]:
        verdict += " (partial)"
    if result.get("saturated"):
        verdict += " (saturated)"
    dropped = result.get("dropped_iterations")
    if dropped:  # the arrival rate asked for the iterations started plus those dropped
        verdict += f" (dropped {dropped} of {result['iterations'] + dropped} iterations)"
    return verdict
