"""The figures of one finished scenario: a plain, JSON-safe snapshot that holds no Locust object."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_loadtest.measure.saturation import GeneratorCpu
from pytest_loadtest.measure.verdicts import Verdict

TOTAL_NAME = "Aggregated"


def histogram_percentile(histogram: Mapping[float, int], num_requests: int, fraction: float) -> float:
    """The response time that ``fraction`` of the requests finished within (Locust's nearest-rank rule)."""
    if num_requests <= 0 or not histogram:
        return 0.0
    rank = int(num_requests * fraction)
    seen = 0
    for response_time in sorted(histogram, reverse=True):
        seen += histogram[response_time]
        if num_requests - seen <= rank:
            return float(response_time)
    return 0.0


def _fraction(q: float) -> float:
    """Accept a percentile as a fraction (0.95) or as a percentage (95)."""
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not math.isfinite(q) or not 0 <= q <= 100:
        raise ValueError(f"percentile must be a fraction in [0, 1] or a percentage in (1, 100], got {q!r}")
    return q / 100.0 if q > 1 else float(q)


@dataclass(frozen=True)
class EntryStats:
    """Figures of one request entry ("GET /health") or of the total, over the measured window."""

    name: str
    num_requests: int
    num_failures: int
    total_response_time: float
    min_response_time: float
    max_response_time: float
    window: float
    histogram: Mapping[float, int] = field(default_factory=dict)

    @property
    def fail_ratio(self) -> float:
        return self.num_failures / self.num_requests if self.num_requests else 0.0

    @property
    def rps(self) -> float:
        return self.num_requests / self.window if self.window > 0 else 0.0

    @property
    def avg(self) -> float:
        timed = sum(self.histogram.values())
        return self.total_response_time / timed if timed else 0.0

    @property
    def min(self) -> float:
        return self.min_response_time

    @property
    def max(self) -> float:
        return self.max_response_time

    @property
    def median(self) -> float:
        return self.percentile(0.5)

    def percentile(self, q: float) -> float:
        """Response time (ms) at percentile ``q``: ``percentile(0.95)`` or ``percentile(95)``."""
        return histogram_percentile(self.histogram, sum(self.histogram.values()), _fraction(q))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "num_requests": self.num_requests,
            "num_failures": self.num_failures,
            "fail_ratio": self.fail_ratio,
            "rps": self.rps,
            "avg": self.avg,
            "min": self.min_response_time,
            "max": self.max_response_time,
            "p50": self.percentile(0.5),
            "p90": self.percentile(0.9),
            "p95": self.percentile(0.95),
            "p99": self.percentile(0.99),
            "total_response_time": self.total_response_time,
            "window": self.window,
            "histogram": [[rt, count] for rt, count in sorted(self.histogram.items())],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EntryStats:
        return cls(
            name=data["name"],
            num_requests=int(data["num_requests"]),
            num_failures=int(data["num_failures"]),
            total_response_time=float(data["total_response_time"]),
            min_response_time=float(data["min"]),
            max_response_time=float(data["max"]),
            window=float(data["window"]),
            histogram={float(rt): int(count) for rt, count in data["histogram"]},
        )


def merge_entries(name: str, entries: Iterable[EntryStats]) -> EntryStats:
    """One entry that counts the requests of several (all methods of one request name)."""
    items = list(entries)
    histogram: Counter[float] = Counter()
    for entry in items:
        histogram.update(entry.histogram)
    return EntryStats(
        name=name,
        num_requests=sum(entry.num_requests for entry in items),
        num_failures=sum(entry.num_failures for entry in items),
        total_response_time=sum(entry.total_response_time for entry in items),
        min_response_time=min((entry.min_response_time for entry in items), default=0.0),
        max_response_time=max((entry.max_response_time for entry in items), default=0.0),
        window=max((entry.window for entry in items), default=0.0),
        histogram=dict(histogram),
    )


@dataclass(frozen=True)
class StageFigures:
    """What one stage of a staged load shape measured (see profiles.py and stages.py)."""

    number: int
    users: int
    start: float
    """Seconds from the start of the run."""
    end: float
    total: EntryStats

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "users": self.users,
            "start": self.start,
            "end": self.end,
            "total": self.total.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageFigures:
        return cls(
            int(data["number"]),
            int(data["users"]),
            float(data["start"]),
            float(data["end"]),
            EntryStats.from_dict(data["total"]),
        )


@dataclass(frozen=True)
class ErrorCount:
    """One distinct error (``method``, ``name``, ``error`` text) and how often it occurred."""

    method: str
    name: str
    error: str
    occurrences: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "name": self.name,
            "error": self.error,
            "occurrences": self.occurrences,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorCount:
        return cls(str(data["method"]), str(data["name"]), str(data["error"]), int(data["occurrences"]))


@dataclass(frozen=True)
class UserException:
    """An exception raised by user code (``on_start``, a task) and how often it was raised."""

    message: str
    traceback: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "traceback": self.traceback, "count": self.count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserException:
        return cls(str(data["message"]), str(data["traceback"]), int(data["count"]))


@dataclass(frozen=True)
class ProgressPoint:
    """One sample of the run while it goes: what the live display shows and the report charts plot."""

    elapsed: float
    users: int
    requests: int
    failures: int
    rps: float
    p95: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "elapsed": self.elapsed,
            "users": self.users,
            "requests": self.requests,
            "failures": self.failures,
            "rps": self.rps,
            "p95": self.p95,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProgressPoint:
        return cls(
            elapsed=float(data["elapsed"]),
            users=int(data["users"]),
            requests=int(data["requests"]),
            failures=int(data["failures"]),
            rps=float(data["rps"]),
            p95=float(data["p95"]),
        )


@dataclass(frozen=True)
class Tick:
    """What one entry (or the total) measured in one tick of the timeline: about a second of the measured window."""

    requests: int
    failures: int
    response_time: float
    """The sum of the tick's response times (ms)."""
    histogram: Mapping[float, int] = field(default_factory=dict)
    """The tick's response times, in Locust's buckets (the difference of its histograms at either end)."""


@dataclass(frozen=True)
class Timeline:
    """The measured window second by second, for the total and each entry: what sustained thresholds judge.

    ``ends[i]`` is when tick ``i`` ended, in seconds since the measured window began (tick 0 began at ``begins``, 0
    unless the timeline is the tail of a longer one); ``entries``
    maps an entry's name (``TOTAL_NAME`` for the total) to its ticks by index, leaving out those without a request.
    JSON: ``{"ends": [...], "entries": {name: [[index, requests, failures, response_time, [[rt, count], ...]]]}}``.
    """

    ends: tuple[float, ...] = ()
    entries: Mapping[str, Mapping[int, Tick]] = field(default_factory=dict)
    begins: float = 0.0

    def start_of(self, index: int) -> float:
        return self.ends[index - 1] if index > 0 else self.begins

    def tail(self, ticks: int) -> Timeline:
        """The last ``ticks`` ticks of the timeline, as a timeline of their own."""
        first = max(0, len(self.ends) - ticks)
        entries = {
            name: {
                index - first: by_index[index] for index in range(first, len(self.ends)) if index in by_index
            }
            for name, by_index in self.entries.items()
        }
        return Timeline(self.ends[first:], entries, self.start_of(first) if self.ends else self.begins)

    def ticks(self, key: str) -> list[Tick]:
        """Every tick of the entry a key names (as ``LoadResult.find_entry``: "METHOD name" exactly, else every
        method of that request name, merged); an empty tick where it had no request."""
        if key in self.entries:
            named = [self.entries[key]]
        else:
            named = [ticks for name, ticks in self.entries.items() if name.split(" ", 1)[-1] == key]
        return [
            merge_ticks(ticks[index] for ticks in named if index in ticks) for index in range(len(self.ends))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "begins": self.begins,
            "ends": list(self.ends),
            "entries": {
                name: [
                    [index, tick.requests, tick.failures, tick.response_time, sorted(tick.histogram.items())]
                    for index, tick in sorted(ticks.items())
                ]
                for name, ticks in self.entries.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Timeline:
        return cls(
            tuple(float(end) for end in data.get("ends", ())),
            {
                name: {
                    int(index): Tick(
                        int(requests), int(failures), float(rt), {float(b): int(c) for b, c in histogram}
                    )
                    for index, requests, failures, rt, histogram in rows
                }
                for name, rows in data.get("entries", {}).items()
            },
            float(data.get("begins", 0.0)),
        )


def merge_ticks(ticks: Iterable[Tick]) -> Tick:
    """One tick counting the requests of several (several entries', or several seconds')."""
    items = list(ticks)
    histogram: Counter[float] = Counter()
    for tick in items:
        histogram.update(tick.histogram)
    return Tick(
        sum(tick.requests for tick in items),
        sum(tick.failures for tick in items),
        sum(tick.response_time for tick in items),
        dict(histogram),
    )


@dataclass(frozen=True)
class WorkerShare:
    """What one Locust worker contributed to a distributed run."""

    id: str
    """Locust's client id of the worker."""
    index: int
    users: int
    """The most users the master saw running on it."""
    received: int
    """Requests the master merged from its reports."""
    sent: int | None = None
    """Requests the worker counted itself (local workers that ended normally; None otherwise)."""
    pid: int | None = None
    """Process id of a local worker; None for a remote one."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "index": self.index,
            "users": self.users,
            "received": self.received,
            "sent": self.sent,
            "pid": self.pid,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkerShare:
        return cls(
            str(data["id"]),
            int(data["index"]),
            int(data["users"]),
            int(data["received"]),
            data.get("sent"),
            data.get("pid"),
        )


@dataclass(frozen=True)
class LoadResult:
    """What one load scenario measured and, once ``judge`` (gates.py) has judged it, its verdicts.

    The engine returns an unjudged result: no verdicts, ``judged`` False, and ``passed`` raises. ``judge`` returns
    the result with each threshold's verdict, ``judged`` True and the gate that failed it, if any; the plugin's
    reports and the ``load_result`` fixture get that one. ``to_dict`` leaves the judgement out (it is not part of
    the JSON schema): a result read back with ``from_dict`` is unjudged, and ``judge`` with its scenario judges it
    again.
    """

    test_id: str
    host: str | None
    users: int
    duration: float
    elapsed: float
    total: EntryStats
    entries: Mapping[str, EntryStats]
    errors: tuple[ErrorCount, ...] = ()
    exceptions: tuple[UserException, ...] = ()
    history: tuple[ProgressPoint, ...] = ()
    unreachable: bool = False
    interrupted: bool = False
    thresholds: tuple[Verdict, ...] = ()
    """One verdict per threshold the result was judged on; empty before ``judge``."""
    workers: tuple[WorkerShare, ...] = ()
    """Each Locust worker's share of a distributed run (empty when the scenario ran in one process)."""
    lost_workers: tuple[str, ...] = ()
    """Workers lost mid-run (exited, missed their heartbeats), described; the run stopped early on the first."""
    engine_lost: str | None = None
    """How the engine process ended mid-run, before it reported (user code calling ``os._exit`` or ``sys.exit``, a
    kill, the out-of-memory killer): the figures are its last progress report's. None when it reported."""
    generator_cpu: GeneratorCpu | None = None
    """CPU of the busiest load-generating process over the measured window (None when not sampled)."""
    stages: tuple[StageFigures, ...] = ()
    """Per-stage figures of a staged run (a profile with stages); empty for a flat run."""
    iterations: int | None = None
    """Open model (``rate=``): iterations started on schedule; None in the closed model."""
    dropped_iterations: int | None = None
    """Open model: iterations due when no user was free, so never started (see arrival.py)."""
    stopped_by_user_code: bool = False
    """User code quit the runner (``runner.quit()``) before the duration: ``elapsed`` is the time actually run."""
    process_exit_code: int | None = None
    """``environment.process_exit_code`` as user code left it (a ``quitting`` listener sets it to fail a run)."""
    exit_code_on_error: int = 1
    """Locust's ``--exit-code-on-error`` as the run's options set it (0: Locust tolerates failed requests)."""
    listener_errors: tuple[str, ...] = ()
    """Exceptions Locust caught in event listeners or greenlets and logged (plain ``locust`` exits 2 on them)."""
    judged: bool = False
    """True once ``judge`` has run the gates on this result (see gates.py)."""
    failed_gate: str | None = None
    """The name of the first gate that failed the load test; None when it passed (or is not judged)."""
    timeline: Timeline = field(default_factory=Timeline)
    """The measured window second by second (see ``Timeline``): what sustained thresholds are judged on."""
    aborted: str | None = None
    """Why the engine stopped the run early on a failing threshold (see windows.py); None when it did not."""

    @property
    def users_reached(self) -> int | None:
        """The most users running at one time, from the run's history; None without a history."""
        return max((point.users for point in self.history), default=None)

    @property
    def saturated(self) -> bool:
        """True when the generator was CPU-bound: its figures measure itself, not the target (see saturation.py)."""
        return self.generator_cpu is not None and self.generator_cpu.saturated

    @property
    def partial(self) -> bool:
        """True when the scenario did not run its full course (interrupted or stopped early)."""
        return (
            self.interrupted
            or self.unreachable
            or bool(self.lost_workers)
            or self.engine_lost is not None
            or self.aborted is not None
        )

    @property
    def passed(self) -> bool:
        """True when the load test passed every gate; a ValueError before ``judge`` has judged the result."""
        if not self.judged:
            raise ValueError(
                f"{self.test_id}: this LoadResult is not judged yet, so it has neither passed nor failed: "
                "judge it with pytest_loadtest.judge(scenario, result)"
            )
        return self.failed_gate is None

    def find_entry(self, key: str) -> EntryStats | None:
        """The entry a key names: "METHOD name" exactly, else every method of that request name, merged."""
        return find_entry(self.entries, key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_id": self.test_id,
            "host": self.host,
            "users": self.users,
            "duration": self.duration,
            "elapsed": self.elapsed,
            "total": self.total.to_dict(),
            "entries": {name: entry.to_dict() for name, entry in self.entries.items()},
            "errors": [error.to_dict() for error in self.errors],
            "exceptions": [exception.to_dict() for exception in self.exceptions],
            "history": [point.to_dict() for point in self.history],
            "unreachable": self.unreachable,
            "interrupted": self.interrupted,
            "partial": self.partial,
            "thresholds": [verdict.to_dict() for verdict in self.thresholds],
            "workers": [worker.to_dict() for worker in self.workers],
            "lost_workers": list(self.lost_workers),
            "engine_lost": self.engine_lost,
            "saturated": self.saturated,
            "generator_cpu": self.generator_cpu.to_dict() if self.generator_cpu else None,
            "stages": [stage.to_dict() for stage in self.stages],
            "iterations": self.iterations,
            "dropped_iterations": self.dropped_iterations,
            "stopped_by_user_code": self.stopped_by_user_code,
            "process_exit_code": self.process_exit_code,
            "exit_code_on_error": self.exit_code_on_error,
            "listener_errors": list(self.listener_errors),
            "timeline": self.timeline.to_dict(),
            "aborted": self.aborted,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadResult:
        return cls(
            test_id=str(data["test_id"]),
            host=data.get("host"),
            users=int(data["users"]),
            duration=float(data["duration"]),
            elapsed=float(data["elapsed"]),
            total=EntryStats.from_dict(data["total"]),
            entries={name: EntryStats.from_dict(entry) for name, entry in data["entries"].items()},
            errors=tuple(ErrorCount.from_dict(error) for error in data.get("errors", ())),
            exceptions=tuple(UserException.from_dict(exc) for exc in data.get("exceptions", ())),
            history=tuple(ProgressPoint.from_dict(point) for point in data.get("history", ())),
            unreachable=bool(data.get("unreachable", False)),
            interrupted=bool(data.get("interrupted", False)),
            thresholds=tuple(Verdict.from_dict(verdict) for verdict in data.get("thresholds", ())),
            workers=tuple(WorkerShare.from_dict(worker) for worker in data.get("workers", ())),
            lost_workers=tuple(str(worker) for worker in data.get("lost_workers", ())),
            engine_lost=data.get("engine_lost"),
            generator_cpu=GeneratorCpu.from_dict(data["generator_cpu"])
            if data.get("generator_cpu")
            else None,
            stages=tuple(StageFigures.from_dict(stage) for stage in data.get("stages", ())),
            iterations=data.get("iterations"),
            dropped_iterations=data.get("dropped_iterations"),
            stopped_by_user_code=bool(data.get("stopped_by_user_code", False)),
            process_exit_code=data.get("process_exit_code"),
            exit_code_on_error=int(data.get("exit_code_on_error", 1)),
            listener_errors=tuple(str(error) for error in data.get("listener_errors", ())),
            timeline=Timeline.from_dict(data.get("timeline") or {}),
            aborted=data.get("aborted"),
        )


def users_shown(target: int, reached: int | None) -> str:
    """The users a report shows: the target, or ``reached/target`` (``170/500``) when the run peaked below it."""
    return f"{reached}/{target}" if reached is not None and reached < target else str(target)


def find_entry(entries: Mapping[str, EntryStats], key: str) -> EntryStats | None:
    """The entry a key names: "METHOD name" exactly, else every method of that request name, merged."""
    if key in entries:
        return entries[key]
    same_name = [entry for name, entry in entries.items() if name.split(" ", 1)[-1] == key]
    return merge_entries(key, same_name) if same_name else None
