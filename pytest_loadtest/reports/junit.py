"""Figures as JUnit XML properties (through ``item.user_properties``, which survive xdist's report transport)."""

from __future__ import annotations

from pytest_loadtest.measure.result import LoadResult, users_shown
from pytest_loadtest.reports.table import compact_number

PREFIX = "load."


def load_properties(result: LoadResult, workers: int = 0) -> list[tuple[str, str]]:
    """The ``load.*`` properties of one result: figures first, then one per threshold (``load.threshold.*``) and
    per warning (``load.warning.*``) with its verdict. ``workers``: the Locust workers the scenario was configured
    with (0: a local run, no ``load.workers``)."""
    total = result.total
    figures = {
        "users": users_shown(result.users, result.users_reached),
        "duration": compact_number(result.duration),
        "requests": str(total.num_requests),
        "failures": str(total.num_failures),
        "fail_ratio": compact_number(total.fail_ratio, 4),
        "rps": compact_number(total.rps),
        "p50": compact_number(total.percentile(0.50)),
        "p95": compact_number(total.percentile(0.95)),
        "p99": compact_number(total.percentile(0.99)),
    }
    if result.iterations is not None:  # the open model (rate=): iterations started and dropped
        figures["iterations"] = str(result.iterations)
        figures["dropped_iterations"] = str(result.dropped_iterations or 0)
    if workers:  # a distributed run: the workers asked for, and those whose figures reached the master
        figures["workers"] = str(workers)
        figures["workers_reported"] = str(sum(share.received > 0 for share in result.workers))
    if result.partial:
        figures["partial"] = _why_partial(result)
    if result.stopped_by_user_code:
        figures["stopped"] = f"by user code at {result.elapsed:.1f}s of {result.duration:g}s"
    if result.generator_cpu is not None:
        figures["generator_cpu"] = result.generator_cpu.describe()
        if result.saturated:
            figures["saturated"] = "true"
    properties = [(PREFIX + name, value) for name, value in figures.items()]
    for verdict in result.thresholds:
        properties.append(
            (
                f"{PREFIX}{'warning' if verdict.threshold.warning else 'threshold'}.{verdict.threshold.label}",
                f"{verdict.status.value}: {verdict.describe_measured()} (limit {verdict.threshold.describe_limit()})",
            )
        )
    return properties


def _why_partial(result: LoadResult) -> str:
    """Why the run did not complete its course: the ``load.partial`` value."""
    if result.interrupted:
        return "interrupted"
    if result.engine_lost is not None:
        return "engine lost"
    if result.unreachable:
        return "target unreachable"
    if result.aborted is not None:
        return "aborted"
    return "lost workers"
