"""Exceptions in event listeners and greenlets, which Locust logs and swallows, recorded in the engine process.

``EventHook.fire`` catches a listener's exception and logs "Uncaught exception in event handler" (plain ``locust``
then exits 2); so does Locust's greenlet exception handler ("Unhandled exception in greenlet"). A handler on the
root logger keeps those records, traceback included, so that the test fails with them. A worker's records travel to
the master with its stats reports (Locust's ``report_to_master`` and ``worker_report`` events).
"""

from __future__ import annotations

import logging
from typing import Any

from pytest_loadtest.engine.protocol import LISTENER_ERRORS_KEY

PREFIXES = ("Uncaught exception in event handler", "Unhandled exception in greenlet")
LIMIT = 20
"""Records kept at most (a listener that fails on every request would repeat itself)."""

recorded: list[str] = []


class _Recorder(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if len(recorded) < LIMIT and str(record.msg).startswith(PREFIXES):
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            recorded.append(text.strip())


def install() -> None:
    """Record from now on (once per process): on the root logger, where ``EventHook.fire`` logs, and on Locust's
    own, which does not propagate to the root once Locust's ``setup_logging`` ran."""
    recorder = _Recorder(logging.ERROR)
    for logger in (logging.getLogger(), logging.getLogger("locust")):
        if not any(isinstance(handler, _Recorder) for handler in logger.handlers):
            logger.addHandler(recorder)


def report_to_master(events: Any) -> None:
    """On a worker: each stats report carries the records made since the last one."""
    sent = 0

    def attach(client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
        nonlocal sent
        if len(recorded) > sent:
            data[LISTENER_ERRORS_KEY] = recorded[sent:]
            sent = len(recorded)

    events.report_to_master.add_listener(attach)


def collect_from_workers(events: Any) -> None:
    """On the master: the workers' records join its own, each saying which worker made it."""

    def collect(client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
        for text in data.get(LISTENER_ERRORS_KEY, ()):
            if len(recorded) < LIMIT:
                recorded.append(f"on worker {client_id}: {text}")

    events.worker_report.add_listener(collect)
