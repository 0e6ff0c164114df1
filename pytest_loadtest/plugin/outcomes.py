"""With ``--load-threshold-cases``, each threshold of a load test as an outcome of its own (an option: it changes the
number of test cases a CI dashboard counts): a report per verdict, which pytest's JUnit XML writes as
a ``<testcase>`` of its own and pytest's terminal counts on its last line ("3 thresholds passed, 1 thresholds
failed"); the terminal summary then lists each on a line of its own (reports/terminal.py).

The thresholds are judged once, in the test's run (measure/gates.py); only their reporting multiplies: the reports
are made from the verdicts the test's call report carries in its record, where the session's reports are written
(the xdist controller, which does not accept reports for node ids its workers did not run). The test keeps its one
verdict: the threshold reports have categories of their own (never "passed" or "failed"), so pytest's counts of
tests, its FAILURES section and its short summary are the test's alone.

Why not pytest 9's ``subtests``: its reports share the test's node id, so pytest's JUnit XML folds them into the
test's one ``<testcase>`` (a passed one vanishes, a failed one adds a second ``<failure>``, pytest issue #13876),
and CI consumers such as EnricoMi/publish-unit-test-result-action and Jenkins count ``<testcase>`` elements, not
failures inside one nor properties; pytest 8 has no subtests at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pytest_loadtest.measure.verdicts import Status, Verdict
from pytest_loadtest.plugin.reports import load_record

CASE_PROPERTY = "load.threshold_of"
"""The user property that marks a threshold's report; its value is the node id of the test it belongs to."""
VERDICT_PROPERTY = "load.verdict"


def case_id(nodeid: str, verdict: Verdict) -> str:
    """The node id of a threshold's report: the test's, then ``::threshold[...]`` (``::warning[...]`` for warn=)."""
    kind = "warning" if verdict.threshold.warning else "threshold"
    return f"{nodeid}::{kind}[{verdict.threshold.label} {verdict.threshold.describe_limit()}]"


def describe(verdict: Verdict) -> str:
    """A verdict in a few words, e.g. "FAIL: measured 250 ms"."""
    return f"{verdict.status.value.upper()}: measured {verdict.describe_measured()}"


def threshold_reports(test: pytest.TestReport, record: Mapping[str, Any]) -> list[pytest.TestReport]:
    """One report per verdict in the test's record, when its scenario asks for them (``threshold_cases``): passed
    for PASS and WARN, failed otherwise; each has the test's location, timing and worker, and its verdict as its
    message (a failure's) and property."""
    if not record["parameters"].get("threshold_cases"):
        return []
    return [_report(test, Verdict.from_dict(verdict)) for verdict in record.get("thresholds") or ()]


def _report(test: pytest.TestReport, verdict: Verdict) -> pytest.TestReport:
    report = pytest.TestReport(
        case_id(test.nodeid, verdict),
        test.location,
        {},
        "passed" if verdict.passed else "failed",
        None if verdict.passed else f"{describe(verdict)} (limit {verdict.threshold.describe_limit()})",
        "call",
        duration=test.duration,
        start=test.start,
        stop=test.stop,
        user_properties=[(CASE_PROPERTY, test.nodeid), (VERDICT_PROPERTY, describe(verdict))],
    )
    if hasattr(test, "node"):  # the xdist worker that ran the test: JUnit keys its test cases by worker too
        report.node = test.node  # type: ignore[attr-defined]
    return report


def threshold_status(report: pytest.TestReport | pytest.CollectReport) -> tuple[str, str, str] | None:
    """The terminal's category, letter and word for a threshold's report (None for any other report): a category
    of its own, and no letter or word, so that the progress shown is the tests' and not the thresholds'."""
    properties = dict(report.user_properties) if isinstance(report, pytest.TestReport) else {}
    if CASE_PROPERTY not in properties:
        return None
    if report.failed:
        return "thresholds failed", "", ""
    warned = str(properties.get(VERDICT_PROPERTY, "")).startswith(Status.WARN.value.upper())
    return ("thresholds warned" if warned else "thresholds passed"), "", ""


class ThresholdOutcomes:
    """The plugin that logs each load test's threshold reports after its own call report; registered where the
    session's reports are written (not in xdist workers, whose reports the controller logs again)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = load_record(report)
        if record is None:
            return
        for threshold in threshold_reports(report, record):
            self._log(threshold)

    def _log(self, threshold: pytest.TestReport) -> None:
        """Log a threshold's report to every plugin (JUnit, the terminal), but not as a test that failed: pytest's
        own count (``--maxfail``, ``-x``, the exit status) stays the tests'."""
        session = self.session
        counted = (session.testsfailed, session.shouldfail) if session is not None else None
        self.config.hook.pytest_runtest_logreport(report=threshold)
        if session is not None and counted is not None:
            session.testsfailed, session.shouldfail = counted

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(
        self, report: pytest.TestReport | pytest.CollectReport
    ) -> tuple[str, str, str] | None:
        return threshold_status(report)
