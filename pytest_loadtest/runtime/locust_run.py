"""One scenario run with Locust's own local runner, inside the engine process (gevent already patched).

Everything here talks to Locust; what leaves this module is plain data: progress points while the run goes and,
at the end, a ``LoadResult.to_dict()``-shaped snapshot.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import gevent
import gevent.event
import locust
import locust.log
import locust.stats
from locust import User
from locust.env import Environment
from locust.main import create_environment
from locust.runners import Runner
from locust.stats import StatsEntry, calculate_response_time_percentile, diff_response_time_dicts

from pytest_loadtest.engine import protocol
from pytest_loadtest.engine.protocol import ModuleSpec, Spec, UserClassSpec
from pytest_loadtest.measure import names
from pytest_loadtest.measure.evidence import EvidenceRule, ramp_up_seconds
from pytest_loadtest.measure.result import TOTAL_NAME, LoadResult, ProgressPoint, Tick, Timeline, merge_ticks
from pytest_loadtest.measure.thresholds import Threshold, evaluate
from pytest_loadtest.measure.windows import abort_reason
from pytest_loadtest.runtime import body_task, listener_errors, locust_options, shapes

UNREACHABLE_AFTER = 1.0
"""Seconds of nothing but connection errors after which the target counts as unreachable."""
PROGRESS_INTERVAL = 1.0
"""Seconds between progress points."""
FINAL_SAMPLE_AFTER = 0.25
"""Seconds of the run after the last progress point that earn a final point of their own when the run ends."""

_CONNECTION_ERROR = re.compile(
    r"ConnectionRefused|Connection refused|NewConnectionError|Failed to establish a new connection|"
    r"NameResolution|gaierror|Name or service not known|nodename nor servname|Temporary failure in name resolution|"
    r"No route to host|Network is unreachable|ConnectTimeout|Cannot assign requested address|Errno 111|Errno -2",
    re.IGNORECASE,
)


class UserClassImportError(Exception):
    """A User class named by the scenario could not be imported in the engine process."""


def three_significant_digits(response_time: float) -> float:
    """Locust's response-time bucketing, made finer: 3 significant digits keep percentiles within 0.5%.

    Called for every request: the usual decades (1 ms to 1 s) are rounded with integer arithmetic, half the cost of
    ``round(response_time, digits)``."""
    if response_time >= 100:
        if response_time < 1000:
            return float(int(response_time + 0.5))
    elif response_time >= 10:
        return int(response_time * 10 + 0.5) / 10
    elif response_time >= 1:
        return int(response_time * 100 + 0.5) / 100
    elif response_time <= 0:
        return 0
    return round(response_time, 2 - math.floor(math.log10(response_time)))


def freeze_heap() -> None:
    """Collect, then move every object alive now (the imports, the test module, its User classes) out of the garbage
    collector's reach for the rest of the process (``gc.freeze``), as Locust does before it forks ``--processes``.

    Under load Locust's users outlive two young collections often enough that CPython runs several full collections a
    second; each walks every tracked object, and the engine holds some 60,000 from its imports (pytest among them),
    7 ms a collection on this machine against plain ``locust``'s 50,000 and 5 ms. Frozen, they are skipped. The
    collection first keeps garbage out of the frozen heap (in a forked engine it walks only what the fork server had
    not frozen already)."""
    gc.collect()
    gc.freeze()


def install_bucketing() -> None:
    """Replace Locust's ~2-significant-digit bucketing (documented as replaceable) with a finer one."""
    locust.stats.bucket_response_time = three_significant_digits  # type: ignore[assignment]  # floats, not ints
    install_name_cap()


class _CappedEntries(locust.stats.EntriesDict):
    """Locust's stats entries, folding every name beyond ``STATS_NAME_CAP`` into one overflow entry per method."""

    def __missing__(self, key: tuple[str, str]) -> StatsEntry:
        if len(self) >= names.STATS_NAME_CAP and key[0] != names.OVERFLOW_NAME:
            return self[(names.OVERFLOW_NAME, key[1])]  # type: ignore[no-any-return]
        return super().__missing__(key)  # type: ignore[no-any-return, no-untyped-call]


def install_name_cap() -> None:
    """Bound Locust's stats whatever names user code makes (one entry and error row per distinct name otherwise):
    entries (also those a master merges from its workers) and errors beyond the cap go under ``OVERFLOW_NAME``."""
    if locust.stats.EntriesDict is _CappedEntries:
        return
    locust.stats.EntriesDict = _CappedEntries  # type: ignore[misc]  # RequestStats makes its entries from it
    log_error = locust.stats.RequestStats.log_error

    def capped_log_error(self: locust.stats.RequestStats, method: str, name: str, error: Any) -> None:
        if (name, method) not in self.entries and len(self.entries) >= names.STATS_NAME_CAP:
            name = names.OVERFLOW_NAME
        log_error(self, method, name, error)

    locust.stats.RequestStats.log_error = capped_log_error  # type: ignore[method-assign]


def import_module(module_name: str, path: str | None) -> Any:
    """Import a module by name, falling back to its file when it is not importable by name."""
    try:
        return sys.modules.get(module_name) or importlib.import_module(module_name)
    except ImportError as by_name:
        if not path:
            raise UserClassImportError(f"cannot import module {module_name!r}: {by_name}") from by_name
        return _import_from_file(module_name, path)


def import_test_module(test_module: ModuleSpec | None) -> None:
    """Import the test module itself, as ``locust -f test_module.py`` would: its event listeners, its module-level
    set-up and everything it imports (not only the modules its User classes live in)."""
    if test_module:
        import_module(test_module["module"], test_module["path"])


def load_user_class(ref: UserClassSpec) -> type[User]:
    """Import a User class by module name, falling back to its file when the module is not importable by name."""
    module_name, qualname, path = ref["module"], ref["qualname"], ref["path"]
    module = import_module(module_name, path)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise UserClassImportError(f"module {module_name!r} has no attribute {qualname!r}")
    if ref["body"]:  # a test function run as the task
        return body_task.user_class(obj, ref["body"])
    return obj  # type: ignore[no-any-return]


def _import_from_file(module_name: str, path: str) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserClassImportError(f"cannot import {module_name!r} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class TimelineRecorder:
    """The timeline of the measured window (``measure.result.Timeline``): at each tick, what every entry and the
    total measured since the last tick, from the differences of Locust's cumulative stats."""

    def __init__(self, start: float, keys: Sequence[str] = ()) -> None:
        self.start = start
        self.keys = frozenset(keys)
        """What is recorded: ``TOTAL_NAME`` and entry keys or request names (the sustained thresholds' scopes)."""
        self.ends: list[float] = []
        self.entries: dict[str, dict[int, Tick]] = {}
        self._last: dict[str, tuple[dict[int, int], int, int, float]] = {}

    def record(self, stats: locust.stats.RequestStats, now: float) -> None:
        """A tick ending ``now`` (nothing is kept when no sustained threshold asks for it)."""
        if self.keys:
            self.ends.append(now - self.start)
            self._add(stats, len(self.ends) - 1)

    def tail(self, ticks: int) -> Timeline:
        """The last ``ticks`` ticks (the abort check takes them every second): the rest is not copied."""
        return Timeline(tuple(self.ends), self.entries).tail(ticks)

    def close(self, stats: locust.stats.RequestStats) -> None:
        """Count what arrived after the last tick (requests finishing as the users stop, a worker's last report)
        in the last tick, so that the timeline adds up to the run's figures."""
        if self.ends:
            self._add(stats, len(self.ends) - 1)

    def timeline(self) -> Timeline:
        return Timeline(tuple(self.ends), {name: dict(ticks) for name, ticks in self.entries.items()})

    def _add(self, stats: locust.stats.RequestStats, index: int) -> None:
        named = [(TOTAL_NAME, stats.total)] if TOTAL_NAME in self.keys else []
        named += [
            (f"{e.method} {e.name}", e)
            for e in stats.entries.values()
            if f"{e.method} {e.name}" in self.keys or e.name in self.keys
        ]
        for name, entry in named:
            times = dict(entry.response_times)
            last_times, requests, failures, response_time = self._last.get(name, ({}, 0, 0, 0.0))
            tick = Tick(
                entry.num_requests - requests,
                entry.num_failures - failures,
                float(entry.total_response_time) - response_time,
                {float(rt): count for rt, count in diff_response_time_dicts(times, last_times).items()},
            )
            if tick.requests or tick.failures:
                ticks = self.entries.setdefault(name, {})
                ticks[index] = merge_ticks([ticks[index], tick]) if index in ticks else tick
            self._last[name] = (
                times,
                entry.num_requests,
                entry.num_failures,
                float(entry.total_response_time),
            )


class RunnerMode(Protocol):
    """How a LocustRun gets its runner and ends it: ``LocalMode`` here, a master with workers in distributed.py."""

    def create_runner(self, environment: Environment, abort: Callable[[], None]) -> Runner:
        """The runner of ``environment``, ready to start users; ``abort()`` ends the run early, keeping its figures."""
        ...

    def stop_runner(self, runner: Runner, timeout: float) -> None:
        """Stop the users and end the runner within about ``timeout`` seconds."""
        ...

    def figures(self) -> dict[str, Any]:
        """Fields this mode adds to the result snapshot."""
        ...


class LocalMode:
    """Locust's local runner: every user in this process."""

    def create_runner(self, environment: Environment, abort: Callable[[], None]) -> Runner:
        return environment.create_local_runner()

    def stop_runner(self, runner: Runner, timeout: float) -> None:
        with gevent.Timeout(timeout, False):  # type: ignore[arg-type]  # False: end the block quietly
            runner.quit()
            runner.greenlet.join()

    def figures(self) -> dict[str, Any]:
        return {}


class LocustRun:
    """Run one scenario: start users, reset stats after the warm-up, stop after the duration or on request."""

    def __init__(
        self,
        spec: Spec,
        user_classes: Sequence[type[User]],
        emit: protocol.Emit,
        mode: RunnerMode | None = None,
    ) -> None:
        self.spec = spec
        self.emit = emit
        self.mode = mode or LocalMode()
        listener_errors.install()
        # Locust's own parser: init_command_line_parser fires here
        options = locust_options.parsed_options(spec)
        user_shape = load_user_class(spec["shape"]) if spec["shape"] else None
        # As locust's main: the Environment from its options (host, tags, reset_stats, profile, parsed_options)
        self.environment: Environment = create_environment(  # type: ignore[no-untyped-call]
            list(user_classes),
            options,
            events=locust.events,
            shape_class=shapes.shape_for(spec["stages"], user_shape),  # type: ignore[arg-type]
            locustfile=spec["test_module"]["path"] if spec["test_module"] else None,
            available_user_classes={user_class.__name__: user_class for user_class in user_classes},
            available_user_tasks={user_class.__name__: user_class.tasks for user_class in user_classes},
        )
        self.runner: Runner = self.mode.create_runner(
            self.environment, lambda: self.request_stop(interrupted=False)
        )
        locust_options.apply_after_runner(self.environment, options)
        self._done = gevent.event.Event()
        self._stopped_by_user_code = False
        self._interrupted = False
        self._unreachable = False
        self._measure_start = 0.0
        self._stats_reset = False
        self._history: list[ProgressPoint] = []
        self._last_sample: tuple[dict[int, int], int, float] | None = None  # Locust types buckets as int
        self._recorder: TimelineRecorder  # made when the run starts, again when the warm-up ends
        self._warming_up = spec["warmup"] > 0
        abort = spec["abort"]
        self._abort_on = tuple(Threshold.from_dict(data) for data in abort["thresholds"]) if abort else ()
        self._abort_longest = max((threshold.window or 0.0 for threshold in self._abort_on), default=0.0)
        self._abort_scopes = frozenset(threshold.scope for threshold in self._abort_on if threshold.scope)
        self._abort_evidence = EvidenceRule(
            abort["min_samples"] if abort else 0.0,
            ramp_up_seconds(spec["users"], spec["spawn_rate"]),
            spec["warmup"],
        )
        self._aborted: str | None = None
        self._figure_sources: list[Callable[[], Mapping[str, Any]]] = []

    def add_figures(self, source: Callable[[], Mapping[str, Any]]) -> None:
        """Figures kept outside Locust's stats (the open model's iteration counts): in every snapshot of the run, so
        that the abort conditions judge them each second as the result does at the end."""
        self._figure_sources.append(source)

    def request_stop(self, interrupted: bool = True) -> None:
        """Stop the run early (Ctrl-C, SIGTERM, the parent asking); the figures so far are kept."""
        self._interrupted = self._interrupted or interrupted
        self._done.set()

    def run(self) -> dict[str, Any]:
        spec = self.spec
        events = self.environment.events
        events.init.fire(environment=self.environment, runner=self.runner, web_ui=None)  # type: ignore[no-untyped-call]
        gevent.get_hub().loop.update_now()  # the loop's clock is stale after the imports: timers would fire early
        started = time.monotonic()
        self._measure_start = started
        self._recorder = TimelineRecorder(started, self.spec["timeline"])
        self.emit(protocol.UsersStarted())  # the parent's deadline now becomes duration + stop timeout
        # A master's start() blocks while it dispatches users at the spawn rate: start them beside the clock, so a
        # run that ends during the ramp-up ends on time (the starter is killed with the timers).
        starting = gevent.spawn(shapes.start_users, self.runner, self.environment, spec)
        gevent.sleep(0)  # start() clears the stats before it first yields: let it, before anything reads them
        timers: list[gevent.Greenlet[Any, Any]] = [
            starting,
            gevent.spawn_later(spec["duration"], self._done.set),
            gevent.spawn(self._tick, started),
            gevent.spawn(self._watch_runner),
        ]
        if spec["warmup"] > 0:
            timers.append(gevent.spawn_later(spec["warmup"], self._end_warmup))
        self._done.wait()
        stopped = time.monotonic()
        stages = starting.value  # a profile's stage recorder (start_shape returns at once), else None
        gevent.killall(timers, block=True)
        last_at = self._last_sample[2] if self._last_sample else started
        if not self._unreachable and stopped - last_at >= FINAL_SAMPLE_AFTER:
            self._sample(started, stopped)  # the run's last part, shorter than a progress interval
        self._stop_runner()
        self._recorder.close(self.environment.stats)
        events.quitting.fire(environment=self.environment, reverse=True)  # type: ignore[no-untyped-call]  # as locust's shutdown()
        events.quit.fire(exit_code=self._exit_code())  # type: ignore[no-untyped-call]
        return {
            **self._snapshot(stopped - self._measure_start),
            **({"stages": stages.figures()} if stages else {}),
            "timeline": self._recorder.timeline().to_dict(),
            "aborted": self._aborted,
            "stopped_by_user_code": self._stopped_by_user_code,
            "process_exit_code": self.environment.process_exit_code,
            "exit_code_on_error": int(getattr(self.environment.parsed_options, "exit_code_on_error", 1)),
            "listener_errors": list(listener_errors.recorded),
        }

    def _watch_runner(self) -> None:
        """User code that quits the runner (``runner.quit()``, Locust's stop-on-threshold pattern) ends the run."""
        self.runner.greenlet.join()
        if not self._done.is_set():
            self._stopped_by_user_code = True
            self._done.set()

    def _exit_code(self) -> int:
        """The exit code plain ``locust`` would end with (its ``shutdown()``): the one user code set, else 1 for
        failed requests or exceptions, else 2 for an exception in a listener or greenlet, else 0."""
        if self.environment.process_exit_code is not None:
            return int(self.environment.process_exit_code)
        if self.environment.stats.errors or self.runner.exceptions:
            return int(getattr(self.environment.parsed_options, "exit_code_on_error", 1))
        return 2 if locust.log.unhandled_greenlet_exception else 0

    def _end_warmup(self) -> None:
        self.environment.events.reset_stats.fire()  # type: ignore[no-untyped-call]  # as Locust's web UI does, so listeners reset their own counts
        self.environment.stats.reset_all()
        self._stats_reset = True
        self._measure_start = time.monotonic()
        self._recorder = TimelineRecorder(self._measure_start, self.spec["timeline"])
        self._warming_up = False

    def _stop_runner(self) -> None:
        self.mode.stop_runner(self.runner, self.spec["stop_timeout"] + 1.0)

    def _tick(self, started: float) -> None:
        while True:
            gevent.sleep(PROGRESS_INTERVAL)
            now = time.monotonic()
            self._sample(started, now)
            if now - started >= UNREACHABLE_AFTER and self._target_unreachable():
                self._unreachable = True
                self._done.set()
                return
            self._aborted = self._abort_reason(now)
            if self._aborted:
                self._done.set()
                return

    def _abort_reason(self, now: float) -> str | None:
        """Why the run stops now: an abort condition failed on the figures so far (judged as the pytest process
        judges them, measure/windows.py); None while none did, during the warm-up and the grace period."""
        abort = self.spec["abort"]
        if abort is None or self._warming_up or now - self._measure_start < abort["after"]:
            return None
        result = LoadResult.from_dict(self._snapshot(now - self._measure_start, self._abort_scopes))
        if self._abort_longest:
            result = replace(result, timeline=self._recorder.tail(round(self._abort_longest)))
        return abort_reason(evaluate(self._abort_on, result, self._abort_evidence))

    def _sample(self, started: float, now: float) -> None:
        """One progress point: what the display shows and the charts plot, for the interval since the last."""
        last_times, last_requests, last_at = self._last_sample or ({}, 0, started)
        if self._stats_reset:  # the warm-up ended since the last sample: count from zero again
            last_times, last_requests, self._stats_reset = {}, 0, False
        total = self.environment.stats.total  # start() replaces it when it clears the stats
        recent = diff_response_time_dicts(dict(total.response_times), last_times)
        point = ProgressPoint(
            elapsed=now - started,
            users=self.runner.user_count,
            requests=total.num_requests,
            failures=total.num_failures,
            rps=(total.num_requests - last_requests) / max(now - last_at, 1e-9),
            p95=float(calculate_response_time_percentile(recent, sum(recent.values()), 0.95)),
        )
        self._history.append(point)
        self.emit(point)
        if not self._warming_up:
            self._recorder.record(self.environment.stats, now)
        self._last_sample = (dict(total.response_times), total.num_requests, now)

    def _target_unreachable(self) -> bool:
        stats = self.environment.stats
        if stats.total.num_requests == 0 or stats.total.num_failures < stats.total.num_requests:
            return False
        return all(_CONNECTION_ERROR.search(str(error.error)) for error in stats.errors.values())

    def _snapshot(self, window: float, scopes: frozenset[str] | None = None) -> dict[str, Any]:
        """The run's figures so far; with ``scopes``, only what the abort conditions judge (the total and the
        entries those keys or request names give: no history, errors or exceptions), as the engine takes it every
        second."""
        stats = self.environment.stats
        whole, wanted = scopes is None, scopes or frozenset()
        entries = {
            f"{entry.method} {entry.name}": _entry_dict(f"{entry.method} {entry.name}", entry, window)
            for entry in stats.entries.values()
            if whole or f"{entry.method} {entry.name}" in wanted or entry.name in wanted
        }
        return {
            "test_id": self.spec["test_id"],
            "host": self.environment.host or _class_host(self.environment.user_classes),
            "users": self.spec["users"],
            "duration": self.spec["duration"],
            "elapsed": window,
            "total": _entry_dict(TOTAL_NAME, stats.total, window),
            "entries": entries,
            "errors": [
                {"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
                for e in (stats.errors.values() if whole else ())
            ],
            "exceptions": [
                {"message": row["msg"], "traceback": row["traceback"], "count": row["count"]}
                for row in (self.runner.exceptions.values() if whole else ())
            ],
            "history": [point.to_dict() for point in self._history] if whole else [],
            "unreachable": self._unreachable,
            "interrupted": self._interrupted,
            **self.mode.figures(),
            **{name: value for source in self._figure_sources for name, value in source().items()},
        }


def _class_host(user_classes: Sequence[type[User]]) -> str | None:
    hosts = [getattr(cls, "host", None) for cls in user_classes]
    return next((host for host in hosts if host), None)


def _entry_dict(name: str, entry: StatsEntry, window: float) -> dict[str, Any]:
    return {
        "name": name,
        "num_requests": entry.num_requests,
        "num_failures": entry.num_failures,
        "total_response_time": float(entry.total_response_time),
        "min": float(entry.min_response_time or 0.0),
        "max": float(entry.max_response_time),
        "window": window,
        "histogram": [[float(rt), count] for rt, count in sorted(entry.response_times.items())],
    }
