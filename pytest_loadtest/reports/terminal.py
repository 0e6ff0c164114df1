"""The end-of-session summary table of all load tests, like pytest-benchmark's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SummaryRow:
    test: str
    figures: Mapping[str, str]
    verdict: str


_COLUMNS = (
    ("users", "users"),
    ("requests", "requests"),
    ("fail %", "fail_ratio"),
    ("rps", "rps"),
    ("p50 ms", "p50"),
    ("p95 ms", "p95"),
    ("p99 ms", "p99"),
)


def render_summary(rows: Sequence[SummaryRow]) -> str:
    """A fixed-width table: test, users, requests, fail %, rps, p50, p95, p99, verdict."""
    table = [["test", *(title for title, _ in _COLUMNS), "verdict"]]
    for row in rows:
        cells = [_cell(key, row.figures.get(key, "-")) for _, key in _COLUMNS]
        verdict = row.verdict + "".join(
            f" ({flag})" for flag in ("partial", "saturated") if flag in row.figures
        )
        if row.figures.get("dropped_iterations", "0") != "0":
            verdict += f" (dropped {row.figures['dropped_iterations']} of {_due(row.figures)} iterations)"
        table.append([row.test, *cells, verdict])
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = []
    for index, line in enumerate(table):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:-1], widths[1:-1], strict=True)
        ]
        lines.append("  ".join([*cells, line[-1]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(key: str, value: str) -> str:
    if key == "fail_ratio" and value != "-":
        return f"{float(value) * 100:.2f}"
    return value


def _due(figures: Mapping[str, str]) -> int:
    """Iterations the arrival rate asked for: those started plus those dropped."""
    return int(figures["iterations"]) + int(figures["dropped_iterations"])
