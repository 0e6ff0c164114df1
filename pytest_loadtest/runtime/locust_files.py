"""Locust's own per-scenario reports, written in the engine process (it holds the Environment): HTML and CSV.

``recording(environment, directory)`` runs Locust's CSV writer and a stats-history sampler while the scenario runs,
then writes Locust's HTML report and the final CSV rows, and redacts every file, even when the run was stopped early:
besides what the environment says is secret, the values of the Locust arguments added with ``is_secret=True`` and of
every cookie the target set or a request sent (``learn_cookies``).
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gevent
from geventhttpclient.header import Headers
from locust import stats
from locust.env import Environment
from locust.html import get_html_report
from requests.structures import CaseInsensitiveDict

from pytest_loadtest.reports.locust_names import CSV_NAMES, CSV_PREFIX, HTML_NAME
from pytest_loadtest.reports.redaction import Redactor, learn, secret_option_values
from pytest_loadtest.runtime import locust_options

_SET_COOKIE = re.compile(r"(?:^|,)\s*[^=;,\s]+=([^;,\s]+)")
"""The value of each cookie in a Set-Cookie header (several joined with commas, as requests joins them)."""
_COOKIE = re.compile(r"(?:^|;)\s*[^=;\s]+=([^;\s]+)")
"""The value of each cookie in a Cookie header."""
_BUNDLE_OPENING = '<script type="module" crossorigin>'
HISTORY_INTERVAL = 1.0
"""Seconds between the points of the HTML report's charts (Locust's own sampler takes one every 5 s: too few for
short scenarios)."""


@contextlib.contextmanager
def recording(environment: Environment, directory: str | None, title: str) -> Iterator[None]:
    """Record Locust's reports for the run inside the ``with`` block into ``directory`` (nothing when None)."""
    if not directory:
        yield
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    environment.locustfile = title  # shown as "Script" in Locust's HTML report
    environment.events.request.add_listener(learn_cookies)  # type: ignore[no-untyped-call]
    writer = stats.StatsCSVFileWriter(environment, stats.PERCENTILES_TO_REPORT, str(path / CSV_PREFIX))
    greenlets: list[gevent.Greenlet[..., None]] = [
        gevent.spawn(writer.stats_writer),
        gevent.spawn(_sample_history, environment),
    ]
    try:
        yield
    finally:
        gevent.killall(greenlets, block=True)
        options = environment.parsed_options
        learn(secret_option_values(vars(options) if options is not None else {}, locust_options.secret))
        _finish(environment, path, writer)


def _finish(environment: Environment, path: Path, writer: stats.StatsCSVFileWriter) -> None:
    """The final files, redacted; a file that cannot be written or redacted (a full or read-only disk) is removed
    and said once in the log, and the run's figures are reported all the same."""
    redactor = Redactor.from_environ(os.environ)
    try:
        writer.close_files()
        _write_final(environment, path, redactor)
    except Exception as exc:  # the figures matter more than Locust's copies of them
        logging.getLogger(__name__).error("Locust's report files in %s could not be written: %s", path, exc)
    for name in CSV_NAMES.values():  # the HTML report is written redacted (_write_final)
        try:
            redactor.file(path / name)
        except FileNotFoundError:
            continue
        except Exception:  # not redacted: not kept
            (path / name).unlink(missing_ok=True)


def learn_cookies(response: Any = None, **_: Any) -> None:
    """A ``request`` listener: the values of the cookies a response set (``Set-Cookie``, or the jar of requests'
    response) and of those its request sent (``Cookie``) are secret from now on.

    It runs for every request: for a response without cookies, two membership tests (about 1 µs here, all told)."""
    if response is None:
        return
    jar = getattr(response, "cookies", None)
    values = [cookie.value for cookie in jar if cookie.value] if jar else []
    for header in _header_values(getattr(response, "headers", None), "set-cookie"):
        values += _SET_COOKIE.findall(header)
    for header in _header_values(getattr(getattr(response, "request", None), "headers", None), "cookie"):
        values += _COOKIE.findall(header)
    if values:
        learn(values)


def _header_values(headers: Any, name: str) -> list[str]:
    """A header's values, from requests' headers (one string), geventhttpclient's (a list), both case-insensitive, or
    a plain mapping (a request's, as the user gave it: ``name`` or ``Name``); none from anything else. Membership
    first: it is a quarter of the cost of a lookup, and most responses set no cookie."""
    get = getattr(headers, "get", None)
    if get is None:
        return []
    if name not in headers:
        if isinstance(headers, (Headers, CaseInsensitiveDict)) or name.title() not in headers:
            return []
        name = name.title()
    found = get(name)
    if not found:
        return []
    return [str(value) for value in found] if isinstance(found, (list, tuple)) else [str(found)]


def _sample_history(environment: Environment) -> None:
    runner = environment.runner
    assert runner is not None
    while True:
        gevent.sleep(HISTORY_INTERVAL)
        if runner.state not in ("ready", "stopped"):
            stats.update_stats_history(runner)


def _write_final(environment: Environment, path: Path, redactor: Redactor) -> None:
    """The final figures: the stats, failures and exceptions files whole (the writer's last pass may be 1 s old),
    and the HTML report, redacted."""
    exporter = stats.StatsCSV(environment, stats.PERCENTILES_TO_REPORT)
    for name, write in (
        ("stats", exporter.requests_csv),
        ("failures", exporter.failures_csv),
        ("exceptions", exporter.exceptions_csv),
    ):
        with open(path / CSV_NAMES[name], "w", newline="", encoding="utf-8") as handle:
            write(csv.writer(handle))
    html: str = get_html_report(environment, show_download_link=False)  # type: ignore[no-untyped-call]
    (path / HTML_NAME).write_text(_redact_report(html, redactor), encoding="utf-8")


def _redact_report(html: str, redactor: Redactor) -> str:
    """Redact Locust's HTML report but its inlined web-UI bundle: ~940 KB of Locust's own script, static in its
    template, which holds no figures of ours and would take most of the time (0.27 s of regexes a report)."""
    start = html.find(_BUNDLE_OPENING)
    end = html.find("</script>", start) if start >= 0 else -1
    if end < 0:
        return redactor.text(html)
    return redactor.text(html[:start]) + html[start:end] + redactor.text(html[end:])
