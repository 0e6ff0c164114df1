"""The pytest side of the reports: options, one record per load test, the session files and baseline compare/save.

``LoadReports`` is registered by plugin.py. Records are built where the test runs (an xdist worker too) and travel
on the test report as the JSON-safe ``report.loadtest`` attribute. The terminal summary (summary.py), the session
files and pytest-html's extras are all drawn from these records; only the controller writes the session files.

Nothing of the user's is lost: the report directory is refused at start-up when it holds files the plugin did not
write (reports/manifest.py); the engine writes Locust's files into a private staging folder, moved into the report
directory after the test; every file is replaced atomically (reports/files.py), and a file that cannot be written
is one error line in the terminal, the test's verdict and figures unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.reports import baselines, json_report
from pytest_loadtest.reports.files import WriteError, discard_stale, grouped, replace_file
from pytest_loadtest.reports.index_html import INDEX_NAME, render_index
from pytest_loadtest.reports.layout import DEFAULT_REPORT_DIR, place_scenario_files, scenario_dir_name
from pytest_loadtest.reports.manifest import MANIFEST_NAME, manifest_text, refuse_foreign_files
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
        help=f"save this session's load figures as baseline NAME in {baselines.BASELINE_DIR}/ (replaces NAME "
        "only when every load test of the session was measured in full)",
    )
    group.addoption(
        "--load-save-force",
        action="store_true",
        default=False,
        help="with --load-save: replace baseline NAME even when a load test has partial or no figures or the "
        "session was interrupted",
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
        "(+N%%: increase allowed up to N%%, -N%%: decrease allowed up to N%%), per entry 'GET /health:p95:10%%' or "
        "for each entry '*:p95:10%%'; compares with the latest baseline unless --load-compare names one",
    )
    group.addoption(
        "--load-compare-any",
        action="store_true",
        default=False,
        help="with --load-compare-fail: fail on regressions against a baseline measured on another machine, with "
        "other versions, profile, users or duration, or of unknown origin (by default they are shown, not failed)",
    )


def report_dir(config: pytest.Config) -> tuple[Path, str]:
    """CLI > LOAD_REPORT_DIR > ini > default, as an absolute path, and where it was given."""
    for given, source in (
        (config.getoption("load_report_dir"), "--load-report-dir"),
        (os.environ.get("LOAD_REPORT_DIR"), "LOAD_REPORT_DIR"),
    ):
        if given:
            return (config.invocation_params.dir / given).resolve(), source
    ini = config.getini("load_report_dir")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return (base / str(ini)).resolve(), "load_report_dir in the ini file"
    return (config.rootpath / DEFAULT_REPORT_DIR).resolve(), "the default"


def pytest_outputs(config: pytest.Config, directory: Path) -> list[str]:
    """The files this session's pytest writes in ``directory`` by its own options (``--junitxml``, pytest-html's
    ``--html`` and its ``assets/``), relative to it: the manifest lists them, so that they are not in the way."""
    outputs = []
    for option in ("xmlpath", "htmlpath"):
        given = getattr(config.option, option, None)
        if not given:
            continue
        path = (config.invocation_params.dir / Path(os.path.expandvars(given)).expanduser()).resolve()
        if path.is_relative_to(directory):
            relative = path.relative_to(directory)
            outputs.append(relative.as_posix())
            if option == "htmlpath":
                outputs.append((relative.parent / "assets").as_posix() + "/")
    return outputs


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
        self.directory, source = report_dir(config)
        self.pytest_outputs = pytest_outputs(config, self.directory)
        # before any load test; not in xdist workers, which may see the files of those that started first
        if not hasattr(config, "workerinput"):
            refuse_foreign_files(self.directory, source, self.pytest_outputs)
        self.staging: Path | None = None
        """This process's private folder the engines write Locust's files into (made at the first load test)."""
        self.baseline_dir = config.rootpath / baselines.BASELINE_DIR
        self.redactor = Redactor.from_environ(os.environ)  # after the env file was loaded
        self.started = json_report.utc_now()
        self.records: list[dict[str, Any]] = []
        self.written: list[Path] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.write_errors: list[WriteError] = []
        save = config.getoption("load_save")
        self.save_name = baselines.check_name(save, "--load-save") if save else None
        self.save_force = bool(config.getoption("load_save_force"))
        limits = config.getoption("load_compare_fail")
        self.limits = baselines.parse_limits(limits) if limits else ()
        self.compare_any = bool(config.getoption("load_compare_any"))
        self._origin: dict[str, Any] | None = None
        compare = config.getoption("load_compare")
        self.baseline: baselines.Baseline | None = None
        if compare or self.limits:
            name = None if compare in (None, LATEST) else baselines.check_name(compare, "--load-compare")
            self.baseline = baselines.load_baseline(self.baseline_dir, name)

    # --- called from plugin.py ------------------------------------------------------------------------------------

    def prepare(self, scenario: Scenario) -> Scenario:
        """The scenario with its staging folder, for the engine to write Locust's HTML and CSV into."""
        return replace(scenario, report_dir=str(self._staged(scenario.test_id)))

    def _staged(self, test_id: str) -> Path:
        if self.staging is None:
            self.staging = Path(tempfile.mkdtemp(prefix="pytest-loadtest-reports-"))
        return self.staging / scenario_dir_name(test_id)

    def regression(self, test_id: str, result: LoadResult) -> str | None:
        """The failure message when ``result`` regressed beyond the limits against the baseline, else None; None
        too when the baseline was measured elsewhere or otherwise, unless --load-compare-any."""
        comparisons = self._compare(test_id, result)
        if self.baseline is None or not comparisons:
            return None
        message = baselines.regression_message(test_id, self.baseline, comparisons)
        differences = self._differences(test_id, result)
        if message is None or (differences and not self.compare_any):
            return None  # the terminal's comparison says why it did not fail
        if differences:
            message += f"\n  compared anyway (--load-compare-any): {'; '.join(differences)}"
        return self.redactor.text(message)

    def origin(self) -> dict[str, Any]:
        """Where this session measures (baselines.measurement_origin), with the chosen profile."""
        if self._origin is None:
            from pytest_loadtest.plugin.stash import profile_key  # stash.py imports this module

            profile = self.config.stash.get(profile_key, None)
            self._origin = baselines.measurement_origin(profile.name if profile else None)
        return self._origin

    def _differences(self, test_id: str, result: LoadResult) -> list[str]:
        """How the baseline of ``test_id`` was measured otherwise: the session's origin, the test's settings."""
        assert self.baseline is not None
        return [
            *baselines.origin_differences(self.baseline.origin, self.origin()),
            *baselines.settings_differences(self.baseline.settings.get(test_id, {}), result),
        ]

    def _compare(self, test_id: str, result: LoadResult | None) -> list[baselines.Comparison]:
        if self.baseline is None or result is None or result.partial or test_id not in self.baseline.tests:
            return []
        return [
            *baselines.compare(self.baseline.tests[test_id], result.total, self.limits),
            *baselines.compare_entries(self.baseline.entries.get(test_id, {}), result.entries, self.limits),
        ]

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
        placed, errors = place_scenario_files(self._staged(item.nodeid), self.directory, item.nodeid)
        record = json_report.test_record(
            item.nodeid,
            report.outcome,
            scenario,
            result,
            report.longreprtext if report.failed else "",
            placed,
            started=call.start,
            finished=call.stop,
            report_errors=[error.to_dict() for error in errors],
        )
        if self.baseline is not None:
            comparisons = self._compare(item.nodeid, result)
            record["baseline"] = self.baseline.name
            record["regressions"] = (
                [comparison.to_dict() for comparison in comparisons] if comparisons else None
            )
            record["baseline_differences"] = (
                baselines.settings_differences(self.baseline.settings.get(item.nodeid, {}), result)
                if comparisons and result is not None
                else None
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
        self.written = self._write_session_files(document)
        if self.save_name:
            self._save(document)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _write_session_files(self, document: dict[str, Any]) -> list[Path]:
        """Write the manifest, then index.html and the JSON report; the paths of those written."""
        files = {
            self.directory / INDEX_NAME: render_index(document),
            self.directory / json_report.JSON_NAME: json_report.json_text(document),
        }
        ours = [path.name for path in files]
        ours += [path for record in self.records for path in record["reports"].values()]
        try:
            manifest = manifest_text(self.directory, [*ours, *self.pytest_outputs])
            replace_file(self.directory / MANIFEST_NAME, manifest.encode())
        except OSError as exc:  # nothing is written where it could not be listed as the plugin's
            self.write_errors.append(WriteError.of(self.directory, exc))
            return []
        written = []
        for path, text in files.items():
            try:
                replace_file(path, text.encode())
            except OSError as exc:
                self.write_errors.append(WriteError.of(path, exc))
                discard_stale(path)
            else:
                written.append(path)
        return written

    def _save(self, document: dict[str, Any]) -> None:
        """Save the baseline, unless this session's figures are incomplete and would replace a saved one (or make an
        empty one); a baseline that cannot be written is left as it was."""
        assert self.save_name is not None
        name = repr(self.save_name)
        tests, skipped = baselines.baseline_tests(document["tests"])
        path = baselines.baseline_path(self.baseline_dir, self.save_name)
        previous = baselines.previously_saved(path)
        kept = f"the one saved {previous} is kept" if previous else "there is none of that name"
        incomplete = baselines.incomplete(skipped, len(tests), document["interrupted"])
        if incomplete and (previous is not None or not tests) and not self.save_force:
            self.warnings.append(
                f"load baseline {name} not saved: {incomplete}; {kept} (--load-save-force saves it anyway)"
            )
            return
        try:
            baselines.save_baseline(
                self.baseline_dir,
                self.save_name,
                tests,
                document["environment"],
                document["finished"],
                self.origin(),
            )
        except OSError as exc:
            error = WriteError.of(path, exc)
            self.warnings.append(
                f"load baseline {name} not saved: cannot write {path}: {error.reason}; {kept}"
            )
            return
        replaced = f", replacing the one saved {previous}" if previous else ""
        self.notes.append(f"load baseline {name} saved to {path}{replaced}")
        if skipped:
            self.notes.append(f"not in the baseline (partial or no figures): {', '.join(skipped)}")

    def _write_errors(self) -> Iterator[WriteError]:
        """The files that could not be written: the session's, then each test's Locust files."""
        yield from self.write_errors
        for record in self.records:
            yield from map(WriteError.from_dict, record["report_errors"])

    @pytest.hookimpl(trylast=True)  # the report paths are the last line, after the load tests' summary table
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.baseline is not None and self.records:
            rows = [
                (record["nodeid"], record.get("regressions"), record.get("baseline_differences") or [])
                for record in self.records
            ]
            origin = baselines.origin_differences(self.baseline.origin, self.origin())
            terminalreporter.write_sep("-", "load tests against their baseline")
            terminalreporter.write_line(
                baselines.render_comparisons(self.baseline, rows, origin, compare_any=self.compare_any)
            )
        for note in self.notes:
            terminalreporter.write_line(note)
        for warning in self.warnings:
            terminalreporter.write_line(warning, yellow=True)
        for error in grouped(self._write_errors()):
            terminalreporter.write_line(
                f"ERROR: load test reports: cannot write {error.path}: {error.reason}", red=True, bold=True
            )
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
