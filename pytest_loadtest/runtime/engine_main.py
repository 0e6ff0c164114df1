"""Entry point of the engine process: ``python -m pytest_loadtest.runtime.engine_main``.

The pytest process never gevent-patches itself (that breaks ``requests``-first imports, threads and xdist); it
starts this process instead (or has the fork server fork one), which patches first by importing Locust, runs one
scenario and exits. Protocol: one JSON line on stdin (the scenario spec, with the environment and working directory
to run in), then optional command lines (``stop``); JSON lines on stdout (``engine`` with its pid first, ``progress``
while running, then one ``result`` or ``error``). User code that prints writes to stderr, line by line, and logging
is set up as plain ``locust`` sets it up (Locust's ``setup_logging``, INFO, its format), also on stderr: the parent
passes all of it on to pytest.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    line_buffered_output()

    def emit(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")

    emit({"type": "engine", "pid": os.getpid()})
    spec = json.loads(_read_line(0))
    _enter(spec)

    try:
        return _run(spec, emit)
    except Exception as exc:  # the parent shows this to the user with the traceback
        emit(
            {
                "type": "error",
                "kind": "internal",
                "message": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
        )
        return 1
    finally:
        protocol.close()


def _enter(spec: dict[str, Any]) -> None:
    """Take on the pytest process's import path, environment and directory as they are now (a forked engine has the
    fork server's, from the session's first scenario); modules the test writes are found."""
    sys.path[:] = spec["sys_path"]
    os.environ.clear()
    os.environ.update(spec["environ"])
    if hasattr(time, "tzset"):
        time.tzset()
    os.chdir(spec["cwd"])
    importlib.invalidate_caches()


def _read_line(fd: int) -> bytes:
    """Read exactly one line from ``fd`` without buffering past it (later lines are commands)."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


def line_buffered_output() -> None:
    """Each printed line reaches the parent as it is printed (a pipe would otherwise hold 8 KB of them)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)


def setup_locust_logging() -> None:
    """Logging as plain ``locust`` sets it up: its handlers and format, INFO unless LOCUST_LOGLEVEL says otherwise."""
    import logging

    from locust.log import setup_logging

    level = os.environ.get("LOCUST_LOGLEVEL", "INFO").upper()
    setup_logging(level if isinstance(logging.getLevelName(level), int) else "INFO")  # type: ignore[no-untyped-call]


def preload() -> None:
    """Import what running a scenario needs (the fork server does this once for all its engines)."""
    import locust  # noqa: F401  (patches gevent first; nothing above imported ssl or sockets)
    import pytest  # noqa: F401  (test modules that define the users import it)

    from pytest_loadtest.runtime import (  # noqa: F401
        client_guard,
        cpu_monitor,
        locust_files,
        locust_run,
        sharing,
    )


def _run(spec: dict[str, Any], emit: Any) -> int:
    preload()
    setup_locust_logging()
    import gevent

    from pytest_loadtest.runtime import client_guard, cpu_monitor, locust_files, locust_run, sharing
    from pytest_loadtest.runtime import cluster as distributed
    from pytest_loadtest.runtime.locust_options import LocustOptionsError

    locust_run.install_bucketing()
    client_guard.install(spec.get("allowed_hosts", []))
    try:
        locust_run.import_test_module(spec)  # as locust -f would: its listeners and set-up run here too
        user_classes = [locust_run.load_user_class(ref) for ref in spec["user_classes"]]
    except Exception as exc:
        emit(
            {
                "type": "error",
                "kind": "import",
                "message": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
        )
        return 1
    with distributed.runner_mode(spec) as mode:  # a master with workers, reaped on the way out; or None
        try:
            run = locust_run.LocustRun(spec, user_classes, emit, mode)
        except distributed.WorkersError as exc:
            emit({"type": "error", "kind": "workers", "message": str(exc)})
            return 1
        except LocustOptionsError as exc:
            emit({"type": "error", "kind": "options", "message": f"Locust refused the options: {exc}"})
            return 1
        shared = sharing.share(run.environment, run.runner, spec)  # fixture values, arrival rate
        _watch_commands(0, run)
        gevent.signal_handler(signal.SIGINT, run.request_stop)
        gevent.signal_handler(signal.SIGTERM, run.request_stop)
        monitor = cpu_monitor.CpuMonitor.attach(run.environment, mode)  # is the generator measuring itself?
        with locust_files.recording(
            run.environment, spec.get("report_dir"), spec["test_id"]
        ):  # even when stopped
            figures = run.run()
        emit(
            {"type": "result", "result": {**figures, **shared.figures(), "generator_cpu": monitor.figures()}}
        )
    return 0


def _watch_commands(fd: int, run: Any) -> None:
    """Read ``stop`` commands from the parent; end of input means the parent is gone, so stop too.

    ``fd`` stays blocking: in a forked engine it is the same socket as the protocol's output, whose writes must not
    fail half-way when its buffer is full. Reads wait for the event loop to say there is something to read.
    """
    import gevent
    from gevent.socket import wait_read

    def watch() -> None:
        buffered = b""
        while True:
            wait_read(fd)
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # reset: the parent is gone
                chunk = b""
            if not chunk:
                run.request_stop()
                return
            buffered += chunk
            if b"stop" in buffered:
                run.request_stop()
                return

    gevent.spawn(watch)


if __name__ == "__main__":
    sys.exit(main())
