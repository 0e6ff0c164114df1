"""The end-of-session summary table of all load tests, like pytest-benchmark's.

It is drawn from the session's records (see json_report.py), the same ones ``loadtest-report.json`` and
``index.html`` are written from, so the three agree on every test, its figures and its outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_loadtest.reports.table import Column, compact_number, format_table

_COLUMNS = (
    Column("test"),
    *(
        Column(title, "right")
        for title in ("users", "requests", "fail %", "rps", "p50 ms", "p95 ms", "p99 ms")
    ),
    Column("verdict"),
)


def render_summary(records: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width table, one row per record: test, users, requests, fail %, rps, p50, p95, p99, verdict."""
    return format_table(_COLUMNS, [_row(record) for record in records])


def _row(record: Mapping[str, Any]) -> list[str]:
    result = record.get("result")
    figures = _figures(result) if result else ["-"] * (len(_COLUMNS) - 2)
    return [str(record["nodeid"]), *figures, _verdict(record)]


def _figures(result: Mapping[str, Any]) -> list[str]:
    total = result["total"]
    return [
        str(result["users"]),
        str(total["num_requests"]),
        f"{total['fail_ratio'] * 100:.2f}",
        *(compact_number(total[key]) for key in ("rps", "p50", "p95", "p99")),
    ]


def _verdict(record: Mapping[str, Any]) -> str:
    """The outcome, then what qualifies the figures: partial, saturated, iterations the open model dropped."""
    result = record.get("result") or {}
    verdict = str(record["outcome"]).upper()
    if record["partial"]:
        verdict += " (partial)"
    if result.get("saturated"):
        verdict += " (saturated)"
    dropped = result.get("dropped_iterations")
    if dropped:  # the arrival rate asked for the iterations started plus those dropped
        verdict += f" (dropped {dropped} of {result['iterations'] + dropped} iterations)"
    return verdict
