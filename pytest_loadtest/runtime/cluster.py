"""The engine side of a distributed scenario: a Locust master in the engine process, workers in their own processes.

Locust does the distributing (ZeroMQ, dispatching users over the workers, merging their stats, heartbeats). This
module is the ``RunnerMode`` that ``LocustRun`` uses instead of the local runner: it creates the master, starts the
local worker processes (``worker_main.py``) and waits, bounded, for every expected worker to connect; while the
run goes it watches for lost workers (a local process that exited, a worker Locust marks missing after three missed
heartbeats, one that left) and ends the run on the first; at the end a quit handshake collects every worker's last
figures. ``Cluster`` is a context manager: whatever happens, no worker process outlives it. What a local worker
writes (prints, logging) is passed on to the engine's own stderr line by line, prefixed ``[worker N] ``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import (
    HEARTBEAT_LIVENESS,
    STATE_CLEANUP,
    STATE_MISSING,
    STATE_STOPPED,
    STATE_STOPPING,
    MasterRunner,
    Runner,
)

from pytest_loadtest.engine import protocol
from pytest_loadtest.engine.output import Tail
from pytest_loadtest.engine.protocol import Spec
from pytest_loadtest.measure.result import WorkerShare
from pytest_loadtest.runtime import listener_errors
from pytest_loadtest.settings.distribution import Distribution

POLL = 0.1
"""Seconds between checks while waiting for workers and while watching them."""
REAP_GRACE = 2.0
"""Seconds a worker process gets to exit after SIGTERM before SIGKILL."""
OUTPUT_GRACE = 1.0
"""Seconds to wait for an exited worker's last output (a process it started may keep its stderr open)."""
_LONGEST_LINE = 65536
_ANY_ADDRESS = ("*", "0.0.0.0", "::", "")


class WorkersError(Exception):
    """The master or its workers could not be set up: bind failure, a worker that died or never connected."""


@dataclass
class _LocalWorker:
    """A worker process started by this engine, and what it told us over its stdout."""

    number: int
    process: subprocess.Popen[bytes]
    client_id: str | None = None
    sent: int | None = None
    reader: gevent.Greenlet[..., None] | None = field(default=None, repr=False)
    output: Tail = field(default_factory=Tail, repr=False)
    forwarder: gevent.Greenlet[..., None] | None = field(default=None, repr=False)

    def read_messages(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = protocol.decode(line, sender=f"local Locust worker {self.number}")
            if isinstance(message, protocol.WorkerConnected):
                self.client_id = message.client_id
            elif isinstance(message, protocol.WorkerDone):
                self.sent = message.sent

    def forward_output(self) -> None:
        """Pass each line the worker writes to the engine's stderr (so on to pytest), prefixed with its number."""
        assert self.process.stderr is not None
        prefix = f"[worker {self.number}] "
        lines = 0
        while line := self.process.stderr.readline(_LONGEST_LINE):
            self.output.add(line)
            text = line.decode(errors="replace")
            sys.stderr.write(prefix + text + ("" if text.endswith("\n") else "\n"))
            sys.stderr.flush()
            lines += 1
            if lines % 100 == 0:  # a worker printing without pause must not starve the master's greenlets
                gevent.sleep(0)

    def stderr_tail(self, limit: int = 2000) -> str:
        """The worker's last output; once it has exited, after what it wrote last has arrived."""
        if self.forwarder is not None and self.process.poll() is not None:
            self.forwarder.join(timeout=OUTPUT_GRACE)
        return self.output.text(limit)


@contextlib.contextmanager
def runner_mode(spec: Spec) -> Iterator[Cluster | None]:
    """A Cluster when the spec asks for workers (reaped on exit), else None (the local runner)."""
    if not spec["distribution"]:
        yield None
        return
    with Cluster(Distribution.from_dict(spec["distribution"]), spec) as cluster:
        yield cluster


class Cluster:
    """A Locust master and its workers for one scenario: a ``locust_run.RunnerMode``."""

    def __init__(self, distribution: Distribution, spec: Spec) -> None:
        self.distribution = distribution
        self.spec = spec
        self.runner: MasterRunner | None = None
        self.local: list[_LocalWorker] = []
        self.received: Counter[str] = Counter()
        self.users: dict[str, int] = {}
        self.lost: dict[str, str] = {}
        self._watcher: gevent.Greenlet[..., None] | None = None
        self._started = 0.0

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reap()

    # --- RunnerMode ---------------------------------------------------------------------------------------------

    def create_runner(self, environment: Environment, abort: Callable[[], None]) -> Runner:
        distribution = self.distribution
        try:
            runner = environment.create_master_runner(distribution.bind_host, distribution.bind_port)
        except SystemExit:  # Locust logs "port busy" and exits
            raise WorkersError(
                f"the Locust master could not listen on {distribution.bind_host}:{distribution.bind_port} "
                "(is the port in use? --load-master-bind-port 0 picks a free one)"
            ) from None
        self.runner = runner
        environment.events.worker_report.add_listener(self._count_report)  # type: ignore[no-untyped-call]
        listener_errors.collect_from_workers(environment.events)
        environment.events.reset_stats.add_listener(self.received.clear)  # type: ignore[no-untyped-call]  # warm-up over
        port = runner.server.port
        self.local = [self._start_worker(number, port) for number in range(1, distribution.local_workers + 1)]
        self._wait_for_workers(runner, port)
        self._started = time.monotonic()
        self._watcher = gevent.spawn(self._watch, runner, set(runner.clients), abort)
        return runner

    def stop_runner(self, runner: Runner, timeout: float) -> None:
        """Quit handshake: each worker stops its users, sends its last report, then "quit", which the master
        receives after that report; so once every worker has quit, the master's stats hold all of it.

        The master's own greenlets end when LocustRun fires ``quitting`` (Locust's master quits on it)."""
        assert isinstance(runner, MasterRunner)
        if self._watcher is not None:
            self._watcher.kill()
        self._note_users(runner)
        if not len(
            runner.greenlet
        ):  # user code quit the master (runner.quit(), a shape's end): it told its workers
            self._end_workers()
            return
        with contextlib.suppress(gevent.Timeout), gevent.Timeout(timeout):
            runner.stop(send_stop_to_client=False)
            runner.send_message("quit")
            while any(client_id not in self.lost for client_id in runner.clients):
                gevent.sleep(0.02)
            for worker in self.local:
                if worker.client_id not in self.lost and worker.reader is not None:
                    worker.reader.join()  # ends with the worker's "done" line and its exit
        # Stop answering now: a looping worker's next process may connect before this engine exits, and an ack from
        # this master would bind it to a master that is about to go (its heartbeats then go unanswered for 60 s).
        runner.greenlet.kill(block=True)
        self._end_workers()

    def figures(self) -> dict[str, Any]:
        runner = self.runner
        assert runner is not None
        local_by_id = {worker.client_id: worker for worker in self.local if worker.client_id}
        ids = sorted({*self.users, *self.received, *local_by_id}, key=runner.get_worker_index)
        shares = [
            WorkerShare(
                id=client_id,
                index=runner.get_worker_index(client_id),  # type: ignore[no-untyped-call]
                users=self.users.get(client_id, 0),
                received=self.received[client_id],
                sent=local_by_id[client_id].sent if client_id in local_by_id else None,
                pid=local_by_id[client_id].process.pid if client_id in local_by_id else None,
            )
            for client_id in ids
        ]
        return {"workers": [share.to_dict() for share in shares], "lost_workers": list(self.lost.values())}

    # --- workers ------------------------------------------------------------------------------------------------

    def _start_worker(self, number: int, port: int) -> _LocalWorker:
        host = self.distribution.bind_host
        worker_spec = protocol.worker_spec(self.spec, "127.0.0.1" if host in _ANY_ADDRESS else host, port)
        # Same process group as the engine: if the engine is killed with its group, its workers go with it.
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest_loadtest.runtime.worker_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdin is not None
        process.stdin.write(protocol.encode_spec(worker_spec))
        process.stdin.flush()  # stdin stays open: its end tells the worker that the engine is gone
        worker = _LocalWorker(number, process)
        worker.reader = gevent.spawn(worker.read_messages)
        worker.forwarder = gevent.spawn(worker.forward_output)
        return worker

    def _wait_for_workers(self, runner: MasterRunner, port: int) -> None:
        distribution = self.distribution
        deadline = time.monotonic() + distribution.timeout
        while runner.worker_count < distribution.expected:
            for worker in self.local:
                if worker.process.poll() is not None:
                    raise WorkersError(
                        f"local Locust worker {worker.number} (pid {worker.process.pid}) exited with code "
                        f"{worker.process.returncode} before it connected{worker.stderr_tail()}"
                    )
            if time.monotonic() > deadline:
                raise WorkersError(self._not_connected(runner.worker_count, port))
            gevent.sleep(POLL)

    def _not_connected(self, connected: int, port: int) -> str:
        distribution = self.distribution
        message = (
            f"only {connected} of {distribution.expected} Locust workers connected to the master at "
            f"{distribution.bind_host}:{port} within {distribution.timeout:g}s "
            f"({distribution.local_workers} local, {distribution.remote_workers} expected from elsewhere)"
        )
        if distribution.remote_workers:
            message += (
                "; start each remote worker with: python -m pytest_loadtest.runtime.worker_main --master-host <this host> "
                f"--master-port {port} <test file>  (see 'Distributed runs' in docs/LOAD_TESTING.md; --load-worker-timeout waits longer)"
            )
        return message

    def _count_report(self, client_id: str, data: Mapping[str, Any]) -> None:
        self.received[client_id] += int(data["stats_total"]["num_requests"])

    def _note_users(self, runner: MasterRunner) -> None:
        for client_id, node in list(runner.clients.items()):
            self.users[client_id] = max(self.users.get(client_id, 0), node.user_count)

    def _watch(self, runner: MasterRunner, connected: set[str], abort: Callable[[], None]) -> None:
        """End the run on the first lost worker: the figures of one that is gone can no longer be complete."""
        while True:
            gevent.sleep(POLL)
            self._note_users(runner)
            if runner.state in (STATE_STOPPING, STATE_STOPPED, STATE_CLEANUP):
                return  # the master ends the run itself (a shape's end, runner.quit()): its workers leave as told
            lost = self._lost_workers(runner, connected)
            if lost:
                self.lost.update(lost)
                abort()
                return

    def _lost_workers(self, runner: MasterRunner, connected: set[str]) -> dict[str, str]:
        after = f"{time.monotonic() - self._started:.1f}s into the run"
        lost = {}
        for worker in self.local:
            if worker.process.poll() is not None:
                key = worker.client_id or f"local-{worker.number}"
                lost[key] = (
                    f"{self._name(runner, key)} exited with code {worker.process.returncode} {after}"
                    f"{worker.stderr_tail(500)}"
                )
        for client_id in connected - lost.keys():
            node = runner.clients.get(client_id)
            if node is None:
                lost[client_id] = f"{self._name(runner, client_id)} disconnected {after}"
            elif node.state == STATE_MISSING:
                lost[client_id] = (
                    f"{self._name(runner, client_id)} missed {HEARTBEAT_LIVENESS} heartbeats {after} (hung, stopped "
                    "or unreachable)"
                )
        return lost

    def _name(self, runner: MasterRunner, client_id: str) -> str:
        local = next((worker for worker in self.local if worker.client_id == client_id), None)
        where = f"local worker {local.number}, pid {local.process.pid}" if local else "remote worker"
        return f"worker {client_id} ({where}, index {runner.get_worker_index(client_id)})"  # type: ignore[no-untyped-call]

    # --- teardown -----------------------------------------------------------------------------------------------

    def reap(self) -> None:
        """End the master and every worker process, whatever happened."""
        if self._watcher is not None:
            self._watcher.kill()
        runner = self.runner
        if runner is not None:
            if len(runner.greenlet):  # the run never ended normally: tell remote workers to quit
                with contextlib.suppress(Exception):
                    runner.send_message("quit")
                runner.greenlet.kill(block=True)
            # messages still queued (a last "quit") get a second to go out
            runner.server.close(linger=1000)  # type: ignore[no-untyped-call]
        self._end_workers()

    def _end_workers(self) -> None:
        """SIGKILL lost workers (a stopped process ignores SIGTERM), SIGTERM the rest, SIGKILL after REAP_GRACE."""
        for worker in self.local:
            if worker.process.poll() is None:
                if worker.client_id in self.lost or worker.client_id is None:
                    worker.process.kill()
                else:
                    worker.process.terminate()
        deadline = time.monotonic() + REAP_GRACE
        for worker in self.local:
            try:
                worker.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            if worker.reader is not None:
                worker.reader.kill()
            if worker.forwarder is not None:
                worker.forwarder.join(timeout=OUTPUT_GRACE)  # its last lines
                worker.forwarder.kill()
            for stream in (worker.process.stdin, worker.process.stdout, worker.process.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
