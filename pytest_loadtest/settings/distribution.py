"""Settings of a distributed run (Locust master + workers) and the verdict on lost workers: plain data, no Locust.

The engine side (master, worker processes) is in ``distributed.py`` and ``worker_process.py``; this module is what
the scenario model and the plugin need: parsers for the layered settings, the ``Distribution`` value sent to the
engine, and the failure message when a worker was lost mid-run.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pytest_loadtest.measure.result import LoadResult
from pytest_loadtest.settings.durations import parse_duration

DEFAULT_WORKER_TIMEOUT = 60.0
LOCUST_MASTER_PORT = 5557
"""Locust's own default master port: the one remote workers (``locust --worker``) try when given none."""
DISTRIBUTED_RUN_ALLOWANCE = 5.0
"""Seconds a distributed run takes beyond a local one: the master's wait for the workers' first reports after
spawning, and the quit handshake that collects every worker's last figures."""

DISTRIBUTION_HELP = {
    "workers": "run each scenario on a Locust master with N local worker processes ('auto': one per available "
    "core; 0: no workers, one process)",
    "expect_workers": "also wait for N Locust workers started elsewhere (see 'Distributed runs' in docs/LOAD_TESTING.md)",
    "master_bind_host": "address the Locust master listens on for workers (default 127.0.0.1; a non-loopback "
    "address lets other machines connect)",
    "master_bind_port": f"port the Locust master listens on (default: a free port, or {LOCUST_MASTER_PORT} "
    "when remote workers are expected)",
    "worker_timeout": f"seconds to wait for every worker to connect (default {DEFAULT_WORKER_TIMEOUT:g})",
}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), which ``--load-workers auto`` starts one worker per."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_workers(value: object) -> int:
    """A whole number of local workers >= 0, or ``auto`` for one per available core."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return available_cores()
    return _whole_number(value, "a whole number >= 0 or 'auto'")


def parse_worker_count(value: object) -> int:
    return _whole_number(value, "a whole number >= 0")


def parse_port(value: object) -> int:
    port = _whole_number(value, "a port number 0-65535 (0: any free port)")
    if port > 65535:
        raise ValueError("must be a port number 0-65535 (0: any free port)")
    return port


def parse_bind_host(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise ValueError("must be an address to listen on, such as 127.0.0.1, 0.0.0.0 or a host name")
    return value.strip()


def parse_worker_timeout(value: object) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be more than 0 seconds")
    return seconds


def _whole_number(value: object, expected: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be {expected}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"must be {expected}")
    return value


DISTRIBUTION_PARSERS: dict[str, Callable[[object], Any]] = {
    "workers": parse_workers,
    "expect_workers": parse_worker_count,
    "master_bind_host": parse_bind_host,
    "master_bind_port": parse_port,
    "worker_timeout": parse_worker_timeout,
}


@dataclass(frozen=True)
class Distribution:
    """A scenario run by a Locust master: ``local_workers`` started here plus ``remote_workers`` started elsewhere."""

    local_workers: int
    remote_workers: int = 0
    bind_host: str = "127.0.0.1"
    bind_port: int = 0
    timeout: float = DEFAULT_WORKER_TIMEOUT

    @property
    def expected(self) -> int:
        return self.local_workers + self.remote_workers

    @property
    def loopback_only(self) -> bool:
        try:
            return ipaddress.ip_address(self.bind_host).is_loopback
        except ValueError:
            return self.bind_host == "localhost"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(**data)


def resolve_distribution(setting: Callable[[str], Any]) -> Distribution | None:
    """The Distribution the resolved settings ask for (``setting(name)`` is None when unset); None: one process.

    Every setting is resolved, so a bad value is refused even when no worker is asked for."""
    values = {name: setting(name) for name in DISTRIBUTION_PARSERS}
    local, remote = values["workers"] or 0, values["expect_workers"] or 0
    if local + remote == 0:
        return None
    port = values["master_bind_port"]
    return Distribution(
        local_workers=local,
        remote_workers=remote,
        bind_host=values["master_bind_host"] or "127.0.0.1",
        bind_port=port if port is not None else (LOCUST_MASTER_PORT if remote else 0),
        timeout=values["worker_timeout"] or DEFAULT_WORKER_TIMEOUT,
    )


def allowances(distribution: Distribution | None) -> tuple[float, float]:
    """Seconds a distributed run adds to the engine's start-up and run deadlines (workers connecting, quitting)."""
    if distribution is None:
        return 0.0, 0.0
    return distribution.timeout, DISTRIBUTED_RUN_ALLOWANCE


def lost_workers_message(test_id: str, result: LoadResult) -> str | None:
    """Why a distributed run failed when workers were lost mid-run, with the partial figures; None when none was."""
    if not result.lost_workers:
        return None
    total = result.total
    lost = "\n".join(f"  - {worker}" for worker in result.lost_workers)
    return (
        f"{test_id}: lost {len(result.lost_workers)} Locust worker(s) during the load scenario; stopped after "
        f"{result.elapsed:.1f}s of {result.duration:g}s.\n{lost}\n"
        f"partial figures (the lost worker's last report interval never arrived): {total.num_requests} requests, "
        f"{total.num_failures} failures, {total.rps:.1f} req/s, p50 {total.percentile(0.5):g} ms, "
        f"p95 {total.percentile(0.95):g} ms"
    )
