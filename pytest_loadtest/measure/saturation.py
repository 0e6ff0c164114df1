"""Generator saturation: is the load-generating process CPU-bound, so that its figures measure itself?

A Locust process runs every user on one core. Once that core is busy, requests wait for the process rather than for
the target, and the latencies and rates it reports describe the generator. The engine samples every process that
generates load (the engine itself, each local worker; remote workers through Locust's heartbeats) every
``SAMPLE_INTERVAL`` seconds of the measured window (see cpu_monitor.py); this module judges the samples.

A sample's *busy* share is the CPU time the process used plus the time it waited in the run queue for a CPU, per
second of the sample: a generator that other processes starve of CPU is as unable to keep up as one that uses a
whole core. The rule: a process is saturated when it was at least ``SATURATED_CPU`` (90%) busy for at least
``SATURATED_SHARE`` (20%) of the measured window and at least two samples (``SATURATED_MIN_SECONDS``: a single busy
sample, such as the users' start in a 1-second run, is not enough); the run is saturated when any of its processes
is. Plain data, no
Locust, no pytest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

SAMPLE_INTERVAL = 0.25
"""Seconds between CPU samples."""
SATURATED_CPU = 0.90
"""Busy share of one core (CPU used + waiting for a CPU) at and above which a sample counts as saturated."""
SATURATED_SHARE = 0.20
"""Share of the measured window a process must spend saturated for the run to be saturated."""
SATURATED_MIN_SECONDS = 0.45
"""Seconds a process must spend saturated at least: two samples of SAMPLE_INTERVAL (with some slack)."""

Sample = tuple[float, float, float]
"""(seconds covered, CPU used in that time and time waiting for a CPU, each as a share of those seconds)."""


@dataclass(frozen=True)
class GeneratorCpu:
    """How busy the busiest load-generating process was over the measured window (shares of one core)."""

    process: str
    """Which process: "engine", "worker 2 (pid 1234)", "remote worker <id>"."""
    peak: float
    """Highest busy share of one sample (CPU used + waiting for a CPU)."""
    mean: float
    """Busy share over the window."""
    mean_wait: float
    """The part of ``mean`` spent waiting for a CPU (other processes had it)."""
    saturated_share: float
    """Share of the measured window it spent at or above SATURATED_CPU."""
    seconds: float
    """Seconds of the window its samples cover."""

    @property
    def saturated(self) -> bool:
        return (
            self.saturated_share >= SATURATED_SHARE
            and self.saturated_share * self.seconds >= SATURATED_MIN_SECONDS
        )

    def describe(self) -> str:
        return (
            f"{self.process}: busy {self.mean:.0%} of the time (CPU {self.mean - self.mean_wait:.0%} + waiting for a "
            f"CPU {self.mean_wait:.0%}), peak {self.peak:.0%}, at >= {SATURATED_CPU:.0%} for "
            f"{self.saturated_share:.0%} of {self.seconds:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "saturated": self.saturated}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneratorCpu:
        return cls(
            str(data["process"]),
            float(data["peak"]),
            float(data["mean"]),
            float(data["mean_wait"]),
            float(data["saturated_share"]),
            float(data["seconds"]),
        )


def assess(samples: Mapping[str, Sequence[Sample]]) -> GeneratorCpu | None:
    """The figures of the busiest process (longest saturated, then highest mean); None without samples."""
    figures = [_figures(process, taken) for process, taken in samples.items() if taken]
    covered = [figure for figure in figures if figure.seconds > 0]
    if not covered:
        return None
    return max(covered, key=lambda figure: (figure.saturated_share, figure.mean))


def _figures(process: str, samples: Sequence[Sample]) -> GeneratorCpu:
    seconds = sum(span for span, _, _ in samples)
    if seconds <= 0:
        return GeneratorCpu(process, 0.0, 0.0, 0.0, 0.0, 0.0)
    saturated = sum(span for span, cpu, wait in samples if cpu + wait >= SATURATED_CPU)
    return GeneratorCpu(
        process=process,
        peak=max(cpu + wait for _, cpu, wait in samples),
        mean=sum(span * (cpu + wait) for span, cpu, wait in samples) / seconds,
        mean_wait=sum(span * wait for span, _, wait in samples) / seconds,
        saturated_share=saturated / seconds,
        seconds=seconds,
    )


def saturation_message(test_id: str, cpu: GeneratorCpu | None, allowed: bool) -> str | None:
    """Why the test fails when its generator was CPU-bound; None when it was not, or the user accepts it."""
    if cpu is None or not cpu.saturated or allowed:
        return None
    return (
        f"{test_id}: the load generator was CPU-bound, so its response times and request rates measure the "
        f"generator, not the target.\n{cpu.describe()}.\nSpread the users over more processes with --load-workers N "
        "(workers=N in the marker), run fewer users, pace them (a wait_time, or rate= in the marker for a fixed "
        "number of iterations a second), or use FastHttpUser instead of HttpUser; to accept these "
        "figures anyway, pass --load-allow-saturation (allow_saturation=True in the marker, "
        "load_allow_saturation = true in the ini file)."
    )
