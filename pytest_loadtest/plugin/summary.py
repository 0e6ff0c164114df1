"""The end-of-session table of every load test, on the xdist controller too."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_loadtest.reports.junit import figures_from_properties
from pytest_loadtest.reports.terminal import SummaryRow, render_summary


class LoadSummary:
    """Collects the figures of every load test's report (on the xdist controller too) for the summary table."""

    def __init__(self) -> None:
        self.rows: list[SummaryRow] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        figures = figures_from_properties(report.user_properties)
        if figures is not None and report.when == "call":
            self.rows.append(SummaryRow(report.nodeid, figures, report.outcome.upper()))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.rows:
            terminalreporter.write_sep("-", f"load tests: {len(self.rows)}")
            terminalreporter.write_line(render_summary(self.rows))
