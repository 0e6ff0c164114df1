"""The end-of-session table of every load test, on the xdist controller too."""

from __future__ import annotations

from typing import Any

from pytest_loadtest.plugin.stash import reports_key
from pytest_loadtest.reports.terminal import render_summary


class LoadSummary:
    """Writes the summary table from the records the session's JSON and index.html are written from (collected by
    ``LoadReports`` from every test report, so from xdist workers too)."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        records = terminalreporter.config.stash[reports_key].records
        if records:
            terminalreporter.write_sep("-", f"load tests: {len(records)}")
            terminalreporter.write_line(render_summary(records))
