"""Samples the CPU of the load-generating processes during a run, in the engine process (a greenlet).

Locust's own CPU warning samples every 10 s and reads 0 first, so it never fires in a run under about 20 s; this
samples every ``saturation.SAMPLE_INTERVAL`` seconds from the users' start (``test_start``) until they are told to
stop (``test_stopping``), dropping the warm-up (``reset_stats``). Local processes (the engine, its local workers) are
read from the kernel's CPU-time counters; remote workers through the ``cpu_usage`` of Locust's heartbeats, which a
worker refreshes only every 10 s (figures for remote workers are coarse).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import gevent
import psutil
from locust.env import Environment
from locust.runners import MasterRunner

from pytest_loadtest.measure.saturation import SAMPLE_INTERVAL, Sample, assess


class CpuMonitor:
    """Collects (seconds, share of a core) samples per process while the users run."""

    def __init__(
        self,
        environment: Environment,
        local: Mapping[str, int],
        local_client_ids: frozenset[str] = frozenset(),
        interval: float = SAMPLE_INTERVAL,
    ) -> None:
        self.environment = environment
        self.interval = interval
        self.processes = {label: psutil.Process(pid) for label, pid in local.items()}
        self.local_client_ids = local_client_ids
        """Locust client ids of the local workers: sampled through their processes, not their heartbeats."""
        self.samples: dict[str, list[Sample]] = {label: [] for label in local}
        self._greenlet: gevent.Greenlet[..., None] | None = None
        events = environment.events
        events.test_start.add_listener(self._start)  # type: ignore[no-untyped-call]
        events.test_stopping.add_listener(self.stop)  # type: ignore[no-untyped-call]
        events.reset_stats.add_listener(self._reset)  # type: ignore[no-untyped-call]

    @classmethod
    def attach(cls, environment: Environment, mode: Any) -> CpuMonitor:
        """A monitor of this process and, for a distributed run (``mode`` a Cluster), its local workers."""
        workers = list(getattr(mode, "local", ()))
        local = {"engine": os.getpid()}
        for worker in workers:
            local[f"worker {worker.number} (pid {worker.process.pid})"] = worker.process.pid
        return cls(environment, local, frozenset(worker.client_id for worker in workers if worker.client_id))

    def figures(self) -> dict[str, Any] | None:
        """The busiest process's figures as a dict (see saturation.GeneratorCpu); None without samples."""
        self.stop()
        cpu = assess(self.samples)
        return cpu.to_dict() if cpu else None

    def stop(self, **kwargs: Any) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def _start(self, **kwargs: Any) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._sample)

    def _reset(self) -> None:
        for taken in self.samples.values():
            taken.clear()

    def _sample(self) -> None:
        last = {
            label: (time.monotonic(), _busy_seconds(process)) for label, process in self.processes.items()
        }
        while True:
            gevent.sleep(self.interval)
            for label, process in self.processes.items():
                now, busy = time.monotonic(), _busy_seconds(process)
                then, before = last[label]
                if busy is not None and before is not None and now > then:
                    span = now - then
                    self.samples[label].append(
                        (span, (busy[0] - before[0]) / span, (busy[1] - before[1]) / span)
                    )
                last[label] = (now, busy)
            self._sample_remote()

    def _sample_remote(self) -> None:
        runner = self.environment.runner
        if not isinstance(runner, MasterRunner):
            return
        for client_id, node in list(runner.clients.items()):
            if node.cpu_usage and client_id not in self.local_client_ids:
                self.samples.setdefault(f"remote worker {client_id}", []).append(
                    (self.interval, node.cpu_usage / 100.0, 0.0)
                )


def _busy_seconds(process: psutil.Process) -> tuple[float, float] | None:
    """Seconds ``process`` ran on a CPU and waited in the run queue for one; None once it has exited.

    The wait comes from the main thread's /proc schedstat (where gevent runs every user), so that a generator
    starved by other processes counts as busy too; without schedstat (not Linux), CPU time alone, no wait.
    """
    try:
        with open(f"/proc/{process.pid}/schedstat") as stats:
            ran, waited = (int(field) / 1e9 for field in stats.read().split()[:2])
        return ran, waited
    except (OSError, ValueError):
        pass
    try:
        times = process.cpu_times()
    except psutil.Error:  # a worker that exited: the run reports it as lost
        return None
    return float(times.user + times.system), 0.0
