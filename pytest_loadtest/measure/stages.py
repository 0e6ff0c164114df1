"""The breaking point of a staged run: the first stage whose figures fail the scenario's thresholds.

Each stage is judged on its own figures (``LoadResult.stages``, recorded by the engine at every stage boundary)
against the thresholds on the scenario's totals; thresholds on named entries are judged on the whole run only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pytest_loadtest.measure.evidence import EvidenceRule
from pytest_loadtest.measure.result import LoadResult, StageFigures
from pytest_loadtest.measure.thresholds import RUN_METRICS, evaluate
from pytest_loadtest.measure.verdicts import Status, Threshold, Verdict


@dataclass(frozen=True)
class StageVerdict:
    stage: StageFigures
    verdicts: tuple[Verdict, ...]

    @property
    def failed(self) -> bool:
        return any(verdict.status is Status.FAIL for verdict in self.verdicts)


def judge_stages(
    thresholds: tuple[Threshold, ...], result: LoadResult, min_samples: float
) -> list[StageVerdict]:
    """Every stage's verdicts on the total-scoped whole-run thresholds (rates and percentiles of that stage alone;
    a sustained threshold is judged over the run's windows, not per stage)."""
    totals = tuple(
        t for t in thresholds if t.scope is None and t.metric not in RUN_METRICS and t.window is None
    )
    judged = []
    for stage in result.stages:
        window = stage.end - stage.start
        figures = LoadResult(result.test_id, result.host, stage.users, window, window, stage.total, {})
        judged.append(StageVerdict(stage, evaluate(totals, figures, EvidenceRule(min_samples))))
    return judged


def breaking_point(judged: Sequence[StageVerdict]) -> StageVerdict | None:
    """The first stage that failed a threshold, or None when every stage held."""
    return next((stage for stage in judged if stage.failed), None)


def describe(judged: list[StageVerdict]) -> str:
    """One line per stage and the breaking point, for the failure message and the terminal."""
    if not judged:
        return ""
    lines = []
    for item in judged:
        stage, failed = item.stage, [v.threshold.label for v in item.verdicts if v.status is Status.FAIL]
        total = stage.total
        lines.append(
            f"  stage {stage.number}: {stage.users} users, {stage.start:.0f}-{stage.end:.0f}s, "
            f"{total.num_requests} requests, {total.fail_ratio:.2%} failed, p95 {total.percentile(0.95):.0f} ms"
            + (f"  FAILED: {', '.join(failed)}" if failed else "")
        )
    broken = breaking_point(judged)
    headline = (
        f"breaking point: {broken.stage.users} users (stage {broken.stage.number}, the first whose thresholds failed)"
        if broken
        else f"no breaking point: every stage up to {judged[-1].stage.users} users held its thresholds"
    )
    return "\n".join([headline, *lines])


def stage_properties(judged: Sequence[StageVerdict]) -> list[tuple[str, object]]:
    """JUnit properties: the breaking point's user count (0 when every stage held) and each stage's figures."""
    if not judged:
        return []
    broken = breaking_point(judged)
    properties: list[tuple[str, object]] = [
        ("load.breaking_point_users", broken.stage.users if broken else 0)
    ]
    for item in judged:
        total = item.stage.total
        prefix = f"load.stage{item.stage.number}"
        properties += [
            (f"{prefix}.users", item.stage.users),
            (f"{prefix}.fail_ratio", round(total.fail_ratio, 6)),
            (f"{prefix}.p95_ms", round(total.percentile(0.95), 3)),
            (f"{prefix}.passed", not item.failed),
        ]
    return properties
