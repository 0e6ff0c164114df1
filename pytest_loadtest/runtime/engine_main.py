"""Entry point of the engine process: ``python -m pytest_loadtest.runtime.engine_main``.

The pytest process never gevent-patches itself (that breaks ``requests``-first imports, threads and xdist); it
starts this process instead (or has the fork server fork one), which patches first by importing Locust, runs one
scenario and exits. Protocol (``engine/protocol.py``): one spec line on stdin (the scenario, with the import path,
environment and working directory to run in), then the ``STOP`` command at most; message lines on stdout
(``EngineStarted`` first, ``UsersStarted``, progress points while running, then one ``RunResult`` or
``EngineFailed``, or ``ExitCalled`` when user code ends the process through ``sys.exit``). User code that prints writes to stderr, line by line, and logging
is set up as plain ``locust`` sets it up (Locust's ``setup_logging``, INFO, its format), also on stderr: the parent
passes all of it on to pytest.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import time
import traceback
from typing import Any

from pytest_loadtest.engine import protocol
from pytest_loadtest.engine.protocol import EngineFailed, RunResult, Spec
from pytest_loadtest.reports import redaction
from pytest_loadtest.runtime import preloaded


def main() -> int:
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    line_buffered_output()

    def emit(message: protocol.Message) -> None:
        channel.write(protocol.encode(message))
        channel.flush()

    emit(protocol.EngineStarted(os.getpid()))
    spec = protocol.decode_spec(_read_line(0))
    _enter(spec)

    try:
        # A forked engine cannot swap modules that gevent and Locust hold: the caller spawns one instead.
        shadowed = preloaded.shadowed_since_preload(spec["sys_path"])
        if shadowed:
            emit(protocol.ModulesShadowed({name: list(files) for name, files in shadowed.items()}))
            return 1
        return _run(spec, emit)
    except Exception as exc:  # the parent shows this to the user with the traceback
        emit(_failed(exc))
        return 1
    except (
        SystemExit
    ) as exc:  # user code called sys.exit: say where, then exit as asked (as plain locust does)
        emit(exit_called(exc))
        raise
    finally:
        channel.close()


def _failed(exc: Exception) -> EngineFailed:
    return EngineFailed(f"{type(exc).__name__}: {exc}", traceback.format_exc())


def exit_called(exc: SystemExit) -> protocol.ExitCalled:
    """What ``sys.exit`` was given and the line that called it: the innermost frame of its traceback (a task's
    ``SystemExit`` reaches this greenlet with the task's frames, gevent passes it on to the main greenlet)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return protocol.ExitCalled(repr(exc.code), "an unknown line")
    frame = frames[-1]
    path = (
        os.path.relpath(frame.filename) if frame.filename.startswith(os.getcwd() + os.sep) else frame.filename
    )
    source = f" ({frame.line})" if frame.line else ""
    return protocol.ExitCalled(repr(exc.code), f"{path}, line {frame.lineno}, in {frame.name}{source}")


def _enter(spec: Spec) -> None:
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


def _run(spec: Spec, emit: protocol.Emit) -> int:
    preload()
    setup_locust_logging()
    import gevent

    from pytest_loadtest.runtime import (
        client_guard,
        cpu_monitor,
        locust_files,
        locust_options,
        locust_run,
        sharing,
    )
    from pytest_loadtest.runtime import cluster as distributed
    from pytest_loadtest.runtime.locust_options import LocustOptionsError

    locust_run.install_bucketing()
    client_guard.install(spec["allowed_hosts"])
    try:
        # as locust -f would: its listeners and set-up run here too
        locust_run.import_test_module(spec["test_module"])
        user_classes = [locust_run.load_user_class(ref) for ref in spec["user_classes"]]
    except Exception as exc:
        emit(_failed(exc))
        return 1
    locust_run.freeze_heap()
    with distributed.runner_mode(spec) as mode:  # a master with workers, reaped on the way out; or None
        try:
            run = locust_run.LocustRun(spec, user_classes, emit, mode)
        except distributed.WorkersError as exc:
            emit(EngineFailed(str(exc)))
            return 1
        except LocustOptionsError as exc:
            emit(EngineFailed(f"Locust refused the options: {exc}"))
            return 1
        options = vars(run.environment.parsed_options)
        secret = redaction.secret_option_values(options, locust_options.secret)
        if secret:  # before anything of the users' is written, which may print them
            emit(protocol.SecretsLearned(list(secret)))
        shared = sharing.share(run.environment, run.runner, spec)  # fixture values, arrival rate
        run.add_figures(shared.figures)
        _watch_commands(0, run)
        gevent.signal_handler(signal.SIGINT, run.request_stop)
        gevent.signal_handler(signal.SIGTERM, run.request_stop)
        monitor = cpu_monitor.CpuMonitor.attach(run.environment, mode)  # is the generator measuring itself?
        with locust_files.recording(
            run.environment, spec["report_dir"], spec["test_id"]
        ):  # also when stopped
            figures = run.run()
        figures = {**figures, "generator_cpu": monitor.figures()}
        emit(RunResult(figures, secrets=redaction.learned()))
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
            if protocol.STOP in buffered:
                run.request_stop()
                return

    gevent.spawn(watch)


if __name__ == "__main__":
    sys.exit(main())
