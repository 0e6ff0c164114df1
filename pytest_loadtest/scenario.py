"""The Scenario: what one load test runs, resolved from its settings (see ``settings/resolve.py``).

Plain data, shared by both sides of the process boundary: the engine gets it as its spec."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_loadtest.engine.protocol import (
    AbortSpec,
    BodySpec,
    DistributionSpec,
    ModuleSpec,
    ScenarioSpec,
    StageSpec,
    UserClassSpec,
)
from pytest_loadtest.measure.evidence import DEFAULT_MIN_SAMPLES
from pytest_loadtest.measure.names import DEFAULT_MAX_ENTRIES
from pytest_loadtest.measure.result import TOTAL_NAME
from pytest_loadtest.measure.thresholds import Threshold
from pytest_loadtest.measure.windows import abortable
from pytest_loadtest.settings.distribution import Distribution

DEFAULT_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class UserClassRef:
    """Where a User class lives, so that the engine process can import the same class."""

    module: str
    qualname: str
    path: str | None
    body: Mapping[str, Any] | None = None
    """Set when the reference is a test function run as the task (see plugin/body.py), not a User class."""

    @classmethod
    def of(cls, user_class: type) -> UserClassRef:
        try:
            path = inspect.getsourcefile(user_class)
        except TypeError:
            path = None
        return cls(user_class.__module__, user_class.__qualname__, path)

    def to_spec(self) -> UserClassSpec:
        body = self.body
        return UserClassSpec(
            module=self.module,
            qualname=self.qualname,
            path=self.path,
            body=BodySpec(client=body["client"], clients=list(body["clients"]), values=list(body["values"]))
            if body
            else None,
        )


@dataclass(frozen=True)
class ModuleRef:
    """Where a test module lives: its name in ``sys.modules`` and its file."""

    module: str
    path: str | None

    def to_spec(self) -> ModuleSpec:
        return ModuleSpec(module=self.module, path=self.path)


@dataclass(frozen=True)
class Scenario:
    """Everything the engine needs to run one load test, validated."""

    test_id: str
    user_classes: tuple[UserClassRef, ...]
    users: int
    spawn_rate: float
    duration: float
    host: str | None
    thresholds: tuple[Threshold, ...] = ()
    warnings: tuple[Threshold, ...] = ()
    """The marker's ``warn=`` conditions: judged like thresholds, a breach warns (WARN) instead of failing."""
    strict: bool = False
    """Warnings fail like thresholds (``--load-strict``)."""
    threshold_cases: bool = False
    """Each threshold also reported as an outcome of its own (``--load-threshold-cases``, see plugin/outcomes.py)."""
    warmup: float = 0.0
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    allowed_hosts: tuple[str, ...] = ()
    """Allow-list entries besides loopback (see guard.py); the engine refuses connections to any other host."""
    distribution: Distribution | None = None
    """A Locust master with workers (see settings/distribution.py); None runs the scenario in one process."""
    min_samples: float = DEFAULT_MIN_SAMPLES
    """Samples a threshold needs beyond its percentile; fewer make it INCONCLUSIVE (see evidence.py)."""
    allow_saturation: bool = False
    """Accept the figures of a CPU-bound generator instead of failing the test (see saturation.py)."""
    max_entries: int = DEFAULT_MAX_ENTRIES
    """Distinct request names allowed; more fail the test (see measure/names.py)."""
    rate: float | None = None
    """Iterations started per second (the open model, see rate.py and arrival.py); None: the closed model."""
    test_module: ModuleRef | None = None
    """The test module, which the engine imports as ``locust -f`` would (its listeners, its set-up)."""
    tags: tuple[str, ...] = ()
    """Run only tasks with one of these ``@tag`` tags (Locust's ``--tags``); empty: every task."""
    exclude_tags: tuple[str, ...] = ()
    """Leave out tasks with one of these tags (Locust's ``--exclude-tags``)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Custom Locust arguments (``init_command_line_parser``) for ``environment.parsed_options``."""
    shape: UserClassRef | None = None
    """A ``LoadTestShape`` that drives the user count as in Locust (``duration`` is then an upper bound)."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """The fixtures' values the users read with ``load_value`` (JSON data, see shared_values.py)."""
    report_dir: str | None = None
    """Where the engine writes Locust's own HTML and CSV reports of the run; None: nowhere."""
    stages: tuple[StageSpec, ...] = ()
    """A profile's stages, which drive the user count (see settings/profiles.py); empty: a flat run."""
    abort_on_fail: bool = False
    """Stop the run as soon as a threshold can no longer pass (see measure/windows.py)."""
    abort_after: float = 0.0
    """Seconds into the measured window before a failing threshold may stop the run."""

    def abort_spec(self) -> AbortSpec | None:
        """What the engine needs to stop the run early; None when no threshold stops it."""
        thresholds = abortable(self.thresholds, self.abort_on_fail)
        if not thresholds:
            return None
        return AbortSpec(
            thresholds=[threshold.to_dict() for threshold in thresholds],
            after=self.abort_after,
            min_samples=self.min_samples,
        )

    def to_spec(self) -> ScenarioSpec:
        """The JSON-safe description sent to the engine process (see engine/protocol.py)."""
        return ScenarioSpec(
            test_id=self.test_id,
            user_classes=[ref.to_spec() for ref in self.user_classes],
            users=self.users,
            spawn_rate=self.spawn_rate,
            duration=self.duration,
            host=self.host,
            warmup=self.warmup,
            stop_timeout=self.stop_timeout,
            allowed_hosts=list(self.allowed_hosts),
            distribution=_distribution_spec(self.distribution) if self.distribution else None,
            rate=self.rate,
            test_module=self.test_module.to_spec() if self.test_module else None,
            tags=list(self.tags),
            exclude_tags=list(self.exclude_tags),
            options=dict(self.options),
            shape=self.shape.to_spec() if self.shape else None,
            values=dict(self.values),
            report_dir=self.report_dir,
            stages=list(self.stages),
            abort=self.abort_spec(),
            timeline=self.timeline_keys(),
        )

    def timeline_keys(self) -> list[str]:
        """The total and the entries a sustained threshold or warning judges over windows (none without one)."""
        sustained = [threshold for threshold in (*self.thresholds, *self.warnings) if threshold.window]
        return sorted({threshold.scope or TOTAL_NAME for threshold in sustained})


def _distribution_spec(distribution: Distribution) -> DistributionSpec:
    return DistributionSpec(
        local_workers=distribution.local_workers,
        remote_workers=distribution.remote_workers,
        bind_host=distribution.bind_host,
        bind_port=distribution.bind_port,
        timeout=distribution.timeout,
    )
