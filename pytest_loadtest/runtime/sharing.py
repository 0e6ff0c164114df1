"""What a scenario shares with its users besides their classes: the fixtures' values and the arrival rate.

In one process (the local runner) both are installed directly. In a distributed run the master sends them to every
worker, local or started by hand, in one Locust custom message right after the workers connected and before it
spawns users (messages from the master reach a worker in order); each worker paces its share of the rate, and its
iteration counts travel back with its stats reports (Locust's ``report_to_master``/``worker_report`` events).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from locust import runners
from locust.env import Environment
from locust.runners import MasterRunner, Runner

from pytest_loadtest import shared_values
from pytest_loadtest.engine.protocol import ITERATIONS_KEY, SETUP_MESSAGE, IterationCounts, Spec, WorkerSetup
from pytest_loadtest.runtime import arrival
from pytest_loadtest.settings.rate import rate_per_worker


class Sharing:
    """The scenario's sharing on the engine side; ``figures()`` adds the iteration counts to the result."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.counts = IterationCounts(iterations=0, dropped_iterations=0)
        self.schedule: arrival.ArrivalSchedule | None = None

    def figures(self) -> dict[str, Any]:
        if self.rate is None:
            return {}
        if self.schedule is not None:
            return {"iterations": self.schedule.started, "dropped_iterations": self.schedule.dropped}
        return dict(self.counts)

    def add_report(self, client_id: str, data: Mapping[str, Any], **kwargs: Any) -> None:
        counts: IterationCounts | None = data.get(ITERATIONS_KEY)
        if counts:
            self.counts["iterations"] += counts["iterations"]
            self.counts["dropped_iterations"] += counts["dropped_iterations"]

    def reset(self, **kwargs: Any) -> None:
        self.counts = IterationCounts(iterations=0, dropped_iterations=0)


def share(environment: Environment, runner: Runner, spec: Spec) -> Sharing:
    """Install the spec's values and rate for this run: here (local runner) or on every worker (a master)."""
    values, rate = spec["values"], spec["rate"]
    shared_values.install(values)
    sharing = Sharing(rate)
    if isinstance(runner, MasterRunner):
        share_rate = rate_per_worker(rate, runner.worker_count) if rate else None
        runner.send_message(SETUP_MESSAGE, dict(WorkerSetup(values=values, rate=share_rate)))
        environment.events.worker_report.add_listener(sharing.add_report)  # type: ignore[no-untyped-call]
        environment.events.reset_stats.add_listener(sharing.reset)  # type: ignore[no-untyped-call]
    elif rate:
        sharing.schedule = arrival.pace(environment, rate)
    return sharing


class WorkerRunner(runners.WorkerRunner):
    """Locust's worker runner, ready for the master's values and rate share before it connects: the master sends
    them as soon as every worker is connected, which can be before ``create_worker_runner`` returns (the runner
    reads messages while it waits for the master's ack), and Locust drops a message nobody registered for.

    It keeps Locust's class name: user code that logs ``type(environment.runner).__name__`` sees what it sees under
    ``locust --worker``."""

    def connect_to_master(self) -> None:
        if SETUP_MESSAGE not in self.custom_messages:  # connect_to_master calls itself to retry
            self.environment.runner = (
                self  # as Environment.create_worker_runner does, before anything arrives
            )
            receive(self.environment, self)
        super().connect_to_master()  # type: ignore[no-untyped-call]


def create_worker_runner(
    environment: Environment, master_host: str, master_port: int
) -> runners.WorkerRunner:
    """``environment.create_worker_runner``, with the master's values and rate received from its first message on."""
    return WorkerRunner(environment, master_host, master_port)


def receive(environment: Environment, runner: runners.WorkerRunner) -> None:
    """On a worker: take the master's values and rate share before it spawns users."""

    def on_setup(environment: Environment, msg: Any, **kwargs: Any) -> None:
        setup: WorkerSetup = msg.data
        shared_values.install(setup["values"])
        if setup["rate"]:
            schedule = arrival.pace(environment, setup["rate"])
            environment.events.report_to_master.add_listener(  # type: ignore[no-untyped-call]
                lambda client_id, data: data.update({ITERATIONS_KEY: schedule.take_counts()})
            )

    runner.register_message(SETUP_MESSAGE, on_setup)
