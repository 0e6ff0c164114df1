"""The pytest side of the reports: options, one record per load test, the session files and baseline compare/save.

``LoadReports`` is registered by plugin.py. Records are built where the test runs (an xdist worker too) and travel
on the test report as the JSON-safe ``report.loadtest`` attribute. The terminal summary (summary.py), the session
files and pytest-html's extras are all drawn from these records; only the controller writes the session files.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.reports import baselines, json_report
from pytest_loadtest.reports.index_html import INDEX_NAME, render_index
from pytest_loadtest.reports.layout import DEFAULT_REPORT_DIR, scenario_dir_name, scenario_files
from pytest_loadtest.reports.redaction import Redactor
from pytest_loadtest.scenario import Scenario

REPORT_DIR_HELP = (
    f"directory for load test reports (default: {DEFAULT_REPORT_DIR}/ in rootdir; a command-line or LOAD_REPORT_DIR "
    "path is relative to the current directory, an ini path to the ini file's directory)"
)
LATEST = "latest"
RECORD_ATTRIBUTE = "loadtest"
"""The test report attribute that carries a load test's record to the controller, the summary and pytest-html."""


def add_report_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption(
        "--load-report-dir", dest="load_report_dir", metavar="DIR", default=None, help=REPORT_DIR_HELP
    )
    parser.addini("load_report_dir", REPORT_DIR_HELP, default=None)
    group.addoption(
        "--load-save",
        metavar="NAME",
        default=None,
        help=f"save this session's load figures as baseline NAME in {baselines.BASELINE_DIR}/ (replaces NAME)",
    )
    group.addoption(
        "--load-compare",
        metavar="NAME",
        nargs="?",
        const=LATEST,
        default=None,
        help="compare each load test with saved baseline NAME (default: the latest saved; write --load-compare=NAME)",
    )
    group.addoption(
        "--load-compare-fail",
        metavar="LIMITS",
        default=None,
        help="fail load tests that regressed against the baseline beyond these relative limits, e.g. p95:10%%,rps:-5%% "
        "(+N%%: increase allowed up to N%%, -N%%: decrease allowed up to N%%); compares with the latest baseline "
        "unless --load-compare names one",
    )


def report_dir(config: pytest.Config) -> Path:
    """CLI > LOAD_REPORT_DIR > ini > default, as an absolute path."""
    given = config.getoption("load_report_dir") or os.environ.get("LOAD_REPORT_DIR")
    if given:
        return (config.invocation_params.dir / given).resolve()
    ini = config.getini("load_report_dir")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return (base / str(ini)).resolve()
    return (config.rootpath / DEFAULT_REPORT_DIR).resolve()


class LoadReports:
    """Collects every load test's record and writes the session's JSON and index.html; compares and saves baselines."""

    def __init__(
        self,
        config: pytest.Config,
        scenario_key: pytest.StashKey[Scenario],
        result_key: pytest.StashKey[LoadResult],
    ) -> None:
        self.config = config
        self.scenario_key = scenario_key
        self.result_key = result_key
        self.directory = report_dir(config)
        self.baseline_dir = config.rootpath / baselines.BASELINE_DIR
        self.redactor = Redactor.from_environ(os.environ)  # after the env file was loaded
        self.started = json_report.utc_now()
        self.records: list[dict[str, Any]] = []
        self.written: list[Path] = []
        self.notes: list[str] = []
        save = config.getoption("load_save")
        self.save_name = baselines.check_name(save, "--load-save") if save else None
        limits = config.getoption("load_compare_fail")
        self.limits = baselines.parse_limits(limits) if limits else ()
        compare = config.getoption("load_compare")
        self.baseline: baselines.Baseline | None = None
        if compare or self.limits:
            name = None if compare in (None, LATEST) else baselines.check_name(compare, "--load-compare")
            self.baseline = baselines.load_baseline(self.baseline_dir, name)

    # --- called from plugin.py ------------------------------------------------------------------------------------

    def prepare(self, scenario: Scenario) -> Scenario:
        """The scenario with its report directory, for the engine to write Locust's HTML and CSV into."""
        directory = self.directory / scenario_dir_name(scenario.test_id)
        return replace(scenario, report_dir=str(directory))

    def regression(self, test_id: str, result: LoadResult) -> str | None:
        """The failure message when ``result`` regressed beyond the limits against the baseline, else None."""
        comparisons = self._compare(test_id, result)
        if self.baseline is None or not comparisons:
            return None
        return (
            self.redactor.text(baselines.regression_message(test_id, self.baseline, comparisons) or "")
            or None
        )

    def _compare(self, test_id: str, result: LoadResult | None) -> list[baselines.Comparison]:
        if self.baseline is None or result is None or result.partial or test_id not in self.baseline.tests:
            return []
        return baselines.compare(self.baseline.tests[test_id], result.total, self.limits)

    # --- hooks ----------------------------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        report = yield
        scenario = item.stash.get(self.scenario_key, None)
        if scenario is None or report.when != "call":
            return report
        if report.failed:
            text = report.longreprtext
            redacted = self.redactor.text(text)
            if redacted != text:  # failure messages end up in JUnit XML, pytest-html and CI logs
                report.longrepr = redacted
        result = item.stash.get(self.result_key, None)
        record = json_report.test_record(
            item.nodeid,
            report.outcome,
            scenario,
            result,
            report.longreprtext if report.failed else "",
            scenario_files(self.directory, item.nodeid),
        )
        if self.baseline is not None:
            comparisons = self._compare(item.nodeid, result)
            record["baseline"] = self.baseline.name
            record["regressions"] = (
                [comparison.to_dict() for comparison in comparisons] if comparisons else None
            )
        setattr(report, RECORD_ATTRIBUTE, self.redactor.data(record))  # JSON-safe: crosses from xdist workers
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = load_record(report)
        if record is not None:
            self.records.append(record)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the session files (also after Ctrl-C, with what ran so far); never in an xdist worker."""
        if hasattr(self.config, "workerinput") or not self.records:
            return
        environment = json_report.environment_info(self.config.rootpath)
        baseline = (
            {"compared_with": self.baseline.name, "saved_at": self.baseline.saved_at}
            if self.baseline
            else None
        )
        document = self.redactor.data(
            json_report.session_document(
                self.records, environment, self.started, exitstatus == pytest.ExitCode.INTERRUPTED, baseline
            )
        )
        assert isinstance(document, dict)
        json_path = self.directory / json_report.JSON_NAME
        json_report.write_json(json_path, document)
        index_path = self.directory / INDEX_NAME
        index_path.write_text(render_index(document), encoding="utf-8")
        self.written = [index_path, json_path]
        if self.save_name:
            self._save(document)

    def _save(self, document: dict[str, Any]) -> None:
        assert self.save_name is not None
        path, skipped = baselines.save_baseline(
            self.baseline_dir,
            self.save_name,
            document["tests"],
            document["environment"],
            document["finished"],
        )
        self.notes.append(f"load baseline {self.save_name!r} saved to {path}")
        if skipped:
            self.notes.append(f"not in the baseline (partial or no figures): {', '.join(skipped)}")

    @pytest.hookimpl(trylast=True)  # the report paths are the last line, after the load tests' summary table
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.baseline is not None and self.records:
            rows = [(record["nodeid"], record.get("regressions")) for record in self.records]
            terminalreporter.write_sep("-", "load tests against their baseline")
            terminalreporter.write_line(baselines.render_comparisons(self.baseline, rows))
        for note in self.notes:
            terminalreporter.write_line(note)
        if self.written:
            shown = ", ".join(_shown_path(path, self.config.invocation_params.dir) for path in self.written)
            terminalreporter.write_line(f"load test reports: {shown} (Locust HTML/CSV per test alongside)")


def load_record(report: pytest.TestReport) -> json_report.Record | None:
    """The record a load test's call report carries (from an xdist worker too); None on any other report."""
    record = getattr(report, RECORD_ATTRIBUTE, None)
    return record if isinstance(record, dict) and report.when == "call" else None


def _shown_path(path: Path, start: Path) -> str:
    try:
        return str(path.relative_to(start))
    except ValueError:
        return str(path)


def register_reports(
    config: pytest.Config, scenario_key: pytest.StashKey[Scenario], result_key: pytest.StashKey[LoadResult]
) -> LoadReports:
    """Register the reports collector, and the pytest-html extras when pytest-html is active."""
    try:
        reports = LoadReports(config, scenario_key, result_key)
    except LoadTestUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(reports, "loadtest-reports")
    if config.pluginmanager.hasplugin("html"):
        from pytest_loadtest.plugin.html import LoadHtmlExtras

        # registered after LoadReports, so its makereport wrapper runs outside (after) the one that builds the record
        config.pluginmanager.register(LoadHtmlExtras(), "loadtest-html")
    return reports
