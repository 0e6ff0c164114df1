"""The open model in the engine: a constant arrival rate of iterations over a pool of users (gevent, Locust).

A dispatcher greenlet ticks every ``1/rate`` seconds from the moment every user is spawned. At each tick it hands one iteration
to a free user (one waiting in the queue); with no user free, the iteration is dropped and counted, so a slow
target cannot hide behind fewer requests. Users take part through their ``wait_time`` and ``on_start``, replaced in a
subclass of the same name (see ``paced``): after ``on_start`` and after each task a user waits for its next
iteration instead of its own wait time.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import gevent
import gevent.event
from locust import User
from locust.env import Environment

from pytest_loadtest.engine.protocol import IterationCounts


class ArrivalSchedule:
    """Starts iterations at ``rate`` per second; counts those started and those dropped for want of a free user."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.started = 0
        self.dropped = 0
        self._free: deque[gevent.event.Event] = deque()
        self._dispatcher: gevent.Greenlet[..., None] | None = None

    def next_iteration(self) -> None:
        """Block the calling user until the schedule hands it an iteration."""
        ready = gevent.event.Event()
        self._free.append(ready)
        try:
            ready.wait()
        finally:
            if not ready.is_set():  # killed while waiting (the run stops): no longer free
                self._free.remove(ready)

    def start(self, **kwargs: Any) -> None:
        """Listener of ``spawning_complete``: the pool of users exists (as k6 allocates its VUs before it starts),
        so the first iteration is due now and the next ones every interval."""
        if self._dispatcher is None:
            self._dispatcher = gevent.spawn(self._dispatch)

    def stop(self, **kwargs: Any) -> None:
        """Listener of ``test_stopping``: no iteration is due (or dropped) while the users stop."""
        if self._dispatcher is not None:
            self._dispatcher.kill(block=True)
            self._dispatcher = None

    def reset(self, **kwargs: Any) -> None:
        """Listener of ``reset_stats`` (the warm-up ended): count from zero again."""
        self.started = self.dropped = 0

    def take_counts(self) -> IterationCounts:
        """The counts since the last call (a worker's report to its master), zeroed."""
        counts = IterationCounts(iterations=self.started, dropped_iterations=self.dropped)
        self.reset()
        return counts

    def _dispatch(self) -> None:
        begin, due = time.monotonic(), 0
        while True:
            ticks = (
                int((time.monotonic() - begin) / self.interval) + 1
            )  # iterations the schedule demands so far
            for _ in range(ticks - due):  # more than one when this greenlet ran late: catch up, never skip
                self._hand_out()
            due = ticks
            gevent.sleep(max(begin + due * self.interval - time.monotonic(), 0.0))

    def _hand_out(self) -> None:
        if self._free:
            self._free.popleft().set()
            self.started += 1
        else:
            self.dropped += 1


def paced(user_class: type[User], schedule: ArrivalSchedule) -> type[User]:
    """A subclass of ``user_class`` (same name, which Locust's master and workers match classes by) whose
    iterations start when ``schedule`` says: after ``on_start`` and after every task it waits for the next one."""
    own_on_start = user_class.on_start

    def on_start(self: User) -> None:
        own_on_start(self)
        schedule.next_iteration()

    def wait_time(self: User) -> float:
        schedule.next_iteration()
        return 0.0

    namespace = {"on_start": on_start, "wait_time": wait_time, "__module__": user_class.__module__}
    return type(user_class.__name__, (user_class,), namespace)


def pace(environment: Environment, rate: float) -> ArrivalSchedule:
    """Run ``environment``'s users at ``rate`` iterations per second once they are all spawned."""
    schedule = ArrivalSchedule(rate)
    environment.user_classes[:] = [paced(user_class, schedule) for user_class in environment.user_classes]
    events = environment.events
    events.spawning_complete.add_listener(schedule.start)  # type: ignore[no-untyped-call]
    events.test_stopping.add_listener(schedule.stop)  # type: ignore[no-untyped-call]
    events.reset_stats.add_listener(schedule.reset)  # type: ignore[no-untyped-call]
    return schedule
