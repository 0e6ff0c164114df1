"""Settings of a distributed run (Locust master + workers): plain data, no Locust.

The engine side (master, worker processes) is in ``distributed.py`` and ``worker_process.py``; this module is what
the scenario model and the plugin need: parsers for its settings (the rows of ``table.py``), and the ``Distribution``
value sent to the engine (the failure message when a worker was lost mid-run is a gate: ``measure/gates.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pytest_loadtest.settings.parsers import number

DEFAULT_WORKER_TIMEOUT = 60.0
LOCUST_MASTER_PORT = 5557
"""Locust's own default master port: the one remote workers (``locust --worker``) try when given none."""
DISTRIBUTED_RUN_ALLOWANCE = 5.0
"""Seconds a distributed run takes beyond a local one: the master's wait for the workers' first reports after
spawning, and the quit handshake that collects every worker's last figures."""
parse_worker_count = number(int, refusal="must be a whole number >= 0", minimum=0, uniform=True)
parse_port = number(
    int, refusal="must be a port number 0-65535 (0: any free port)", minimum=0, maximum=65535, uniform=True
)
_local_worker_count = number(int, refusal="must be a whole number >= 0 or 'auto'", minimum=0, uniform=True)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), which ``--load-workers auto`` counts."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_workers(cores: int) -> int:
    """The local workers ``--load-workers auto`` starts on ``cores`` cores: one per core but one, which is left for
    the master and for a target on this machine (each worker keeps a core busy, and a target starved of CPU reports
    the generator's contention as its own latency); none, one process, when that leaves fewer than two, since a
    master with one worker sends no more than one process does."""
    workers = cores - 1
    return workers if workers >= 2 else 0


def auto_workers_note(cores: int) -> str:
    """What ``auto`` picks on ``cores`` cores, and why (the session header says it)."""
    workers = auto_workers(cores)
    why = "one per available core but one, which is left for the master and a target on this machine"
    if workers == 0:
        why = f"{why}; fewer than two workers send no more than one process"
    return f"--load-workers auto: {workers or 'none, one process'} on {cores} available core{'s' * (cores != 1)} ({why})"


def parse_workers(value: object) -> int:
    """A whole number of local workers >= 0, or ``auto`` (see ``auto_workers``)."""
    if is_auto(value):
        return auto_workers(available_cores())
    return _local_worker_count(value)


def is_auto(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "auto"


def parse_bind_host(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise ValueError("must be an address to listen on, such as 127.0.0.1, 0.0.0.0 or a host name")
    return value.strip()


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(**data)


def resolve_distribution(setting: Callable[[str], Any]) -> Distribution | None:
    """The Distribution the resolved settings ask for (``setting(name)`` is None when unset); None: one process.

    Every setting is resolved, so a bad value is refused even when no worker is asked for."""
    local, remote = setting("workers") or 0, setting("expect_workers") or 0
    bind_host, port = setting("master_bind_host"), setting("master_bind_port")
    timeout = setting("worker_timeout")
    if local + remote == 0:
        return None
    return Distribution(
        local_workers=local,
        remote_workers=remote,
        bind_host=bind_host or "127.0.0.1",
        bind_port=port if port is not None else (LOCUST_MASTER_PORT if remote else 0),
        timeout=timeout or DEFAULT_WORKER_TIMEOUT,
    )


def allowances(distribution: Distribution | None) -> tuple[float, float]:
    """Seconds a distributed run adds to the engine's start-up and run deadlines (workers connecting, quitting)."""
    if distribution is None:
        return 0.0, 0.0
    return distribution.timeout, DISTRIBUTED_RUN_ALLOWANCE
