"""pytest-html integration: each load test's row carries its figures, threshold table and chart as an HTML extra.

Registered by plugin.py only when the pytest-html plugin is active. Its wrapper runs outside ``LoadReports``'s (it is
registered after it), so the test report already carries its redacted ``loadtest`` record here.
"""

from __future__ import annotations

from collections.abc import Generator
from importlib.resources import files
from typing import Any

import pytest
from pytest_html import extras  # type: ignore[import-untyped]

from pytest_loadtest.plugin.reports import load_record
from pytest_loadtest.reports.index_html import scenario_section

_CSS = (files("pytest_loadtest.reports") / "assets" / "report.css").read_text(encoding="utf-8")


class LoadHtmlExtras:
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        report = yield
        record = load_record(report)
        if record is not None:
            content = f'<div class="lt-scope"><style>{_CSS}</style>{scenario_section(record)}</div>'
            report.extras = [*getattr(report, "extras", []), extras.html(content)]
        return report
