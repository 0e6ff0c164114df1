"""A Locust worker for a distributed scenario: ``python -m pytest_loadtest.runtime.worker_main``.

Started two ways:

- by the engine (no arguments), for ``--load-workers``: one ``WorkerSpec`` line on stdin (master address, User
  class references, ``sys.path``, allowed hosts); message lines on stdout (see ``engine/protocol.py``):
  ``WorkerConnected`` (its Locust client id) and, at the end, ``WorkerDone`` (the requests it counted itself). End of stdin means the engine is gone, so the worker quits.
- by hand, on any machine that can reach the master, for ``--load-expect-workers``:
  ``python -m pytest_loadtest.runtime.worker_main --master-host H --master-port P tests/test_x.py`` runs the User
  classes of that file, found the way ``locust -f`` finds them, for one scenario; with ``--loop`` for every
  scenario of the session and the next sessions, until SIGTERM.

Either way it gevent-patches first (by importing Locust), sets up logging as plain ``locust`` does, buckets response
times like the engine, guards hosts like the engine, reports to the master every second, and runs until the master
tells it to quit. Started by the engine, what it prints and logs goes to its stderr, which the engine passes on.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from pytest_loadtest.engine import protocol

REPORT_INTERVAL = 1.0
"""Seconds between a worker's stats reports (Locust's default is 3): what a lost worker takes with it."""

MASTER_GONE_WAIT = 3.0
"""Seconds a looping worker waits for the previous scenario's master to close its port before it starts the next
process (a master that is already the next one is joined after that wait)."""

NO_MASTER = 3
"""Exit status of a worker started by hand when no master answered (Locust gives up after 60 tries of 5 s)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.locustfile is None:
        return _run_for_engine()
    problem = _bad_allowed_host(args.allowed_host)
    if not os.path.isfile(args.locustfile):
        problem = f"no such file: {args.locustfile} (give the test module whose User classes the worker runs)"
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.loop:
        return _serve_scenarios(args)
    import locust  # noqa: F401  (patches gevent before anything opens a socket)
    from locust.util.load_locustfile import load_locustfile

    from pytest_loadtest.runtime.engine_main import setup_locust_logging

    setup_locust_logging()

    user_classes, _shapes = load_locustfile(args.locustfile)
    if not user_classes:
        print(f"{args.locustfile}: no Locust User classes found", file=sys.stderr)
        return 1
    try:
        serve(args.master_host, args.master_port, list(user_classes.values()), args.allowed_host, _ignore)
    except ConnectionError:
        print(f"no pytest-loadtest master answered at {args.master_host}:{args.master_port}", file=sys.stderr)
        return NO_MASTER
    return 0


def _bad_allowed_host(entries: Sequence[str]) -> str | None:
    """Why an --allowed-host entry cannot be used (checked before Locust starts), or None."""
    from pytest_loadtest.errors import LoadTestUsageError
    from pytest_loadtest.guard import HostGuard

    try:
        HostGuard.from_entries(entries, source="--allowed-host")
    except LoadTestUsageError as exc:
        return str(exc)
    return None


def _serve_scenarios(args: argparse.Namespace) -> int:
    """``--loop``: one worker process per scenario, one after the other, until SIGTERM or Ctrl-C.

    The master of a pytest session lives for one scenario and tells its workers to quit at the end; a fresh process
    per scenario starts clean (gevent, Locust's global events) and connects to the next master on the same port."""
    import signal
    import subprocess

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    command = [
        sys.executable, "-m", "pytest_loadtest.runtime.worker_main", "--master-host", args.master_host,
        "--master-port", str(args.master_port), *(f"--allowed-host={host}" for host in args.allowed_host),
        args.locustfile,
    ]  # fmt: skip
    while True:
        worker = subprocess.Popen(command)
        try:
            status = worker.wait()
        except KeyboardInterrupt:
            worker.terminate()
            try:
                worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            return 0
        if status not in (0, NO_MASTER):  # a broken test module or options: repeating would not help
            return status
        try:
            _wait_for_master_to_leave(args.master_host, args.master_port)
        except KeyboardInterrupt:
            return 0


def _wait_for_master_to_leave(host: str, port: int) -> None:
    """Until the last scenario's master stops listening (bounded by MASTER_GONE_WAIT): a worker that connected to
    it while it shut down would wait for its heartbeats instead of joining the next scenario's master."""
    import socket
    import time

    deadline = time.monotonic() + MASTER_GONE_WAIT
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
        except OSError:
            return
        time.sleep(0.02)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_loadtest.runtime.worker_main",
        description="A Locust worker for a pytest-loadtest master (pytest --load-expect-workers N).",
    )
    parser.add_argument("locustfile", nargs="?", help="the test module whose User classes to run")
    parser.add_argument(
        "--master-host", default="127.0.0.1", help="address of the master (default 127.0.0.1)"
    )
    parser.add_argument("--master-port", type=int, default=5557, help="port of the master (default 5557)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host the users may send requests to besides loopback (repeatable; same forms as load_allowed_hosts)",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="serve scenario after scenario (a session's masters, one per load test) until SIGTERM; for a "
        "long-lived worker such as a Kubernetes Deployment",
    )
    return parser


def _run_for_engine() -> int:
    spec = protocol.decode_worker_spec(sys.stdin.buffer.readline())
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # user code that prints goes to stderr, never into the protocol
    sys.path[:] = spec["sys_path"]
    from pytest_loadtest.runtime.engine_main import line_buffered_output, setup_locust_logging

    line_buffered_output()

    def report(message: protocol.Message) -> None:
        channel.write(protocol.encode(message))
        channel.flush()

    import locust  # noqa: F401  (patches gevent before anything opens a socket)

    from pytest_loadtest.runtime import locust_run

    setup_locust_logging()

    # as locust --worker -f would: its listeners register here too
    locust_run.import_test_module(spec["test_module"])
    user_classes = [locust_run.load_user_class(ref) for ref in spec["user_classes"]]
    serve(
        spec["master_host"],
        spec["master_port"],
        user_classes,
        spec["allowed_hosts"],
        report,
        quit_on_eof=True,
    )
    return 0


def serve(
    master_host: str,
    master_port: int,
    user_classes: Sequence[type[Any]],
    allowed_hosts: Sequence[str],
    report: protocol.Emit,
    quit_on_eof: bool = False,
) -> None:
    """Connect to the master, run the users it assigns, and return once it says quit (or stdin ends)."""
    import locust
    import locust.runners
    from locust.env import Environment

    from pytest_loadtest.runtime import client_guard, listener_errors, locust_options, locust_run, sharing

    locust_run.install_bucketing()
    client_guard.install(allowed_hosts)
    listener_errors.install()
    locust.runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL  # read by the worker's report loop on every round
    environment = Environment(
        user_classes=list(user_classes),
        events=locust.events,
        parsed_options=locust_options.worker_options(),
        available_user_classes={user_class.__name__: user_class for user_class in user_classes},  # type: ignore[misc]
        available_user_tasks={user_class.__name__: user_class.tasks for user_class in user_classes},
    )
    counted = [0]

    def count(**kwargs: Any) -> None:
        counted[0] += 1

    environment.events.request.add_listener(count)  # type: ignore[no-untyped-call]
    listener_errors.report_to_master(environment.events)
    if quit_on_eof:
        _quit_on_eof(environment)
    runner = sharing.create_worker_runner(environment, master_host, master_port)
    locust_run.freeze_heap()
    # As locust --worker: init fires once the runner exists (listeners register their custom messages there).
    environment.events.init.fire(environment=environment, runner=runner, web_ui=None)  # type: ignore[no-untyped-call]
    report(protocol.WorkerConnected(runner.client_id))
    runner.greenlet.join()
    # Tells the master this worker quit; it follows the last stats report on the same connection, so once the master
    # has seen it, it has every figure of this worker.
    environment.events.quitting.fire(environment=environment, reverse=True)  # type: ignore[no-untyped-call]
    runner.client.close(linger=2000)  # type: ignore[no-untyped-call]
    environment.events.quit.fire(exit_code=environment.process_exit_code or 0)  # type: ignore[no-untyped-call]
    report(protocol.WorkerDone(runner.client_id, counted[0]))


def _quit_on_eof(environment: Any) -> None:
    """The engine holds our stdin open: when it ends, the engine is gone, so stop (or exit before connecting)."""
    import gevent
    from gevent.os import make_nonblocking, nb_read

    def watch() -> None:
        make_nonblocking(0)
        while nb_read(0, 1024):
            pass
        if environment.runner is None:
            os._exit(1)
        environment.runner.quit()

    gevent.spawn(watch)


def _ignore(message: protocol.Message) -> None:
    """Started by hand there is no engine to read our messages."""


if __name__ == "__main__":
    sys.exit(main())
