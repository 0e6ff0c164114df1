"""The live one-line progress display of a running scenario."""

from __future__ import annotations

from collections.abc import Callable

from pytest_loadtest.measure.result import ProgressPoint

PLAIN_INTERVAL = 5.0
"""Seconds between progress lines when the output is not a terminal."""


def describe(point: ProgressPoint, duration: float) -> str:
    return (
        f"{point.elapsed:5.1f}/{duration:g}s  users {point.users}  rps {point.rps:.1f}  "
        f"p95 {point.p95:.0f} ms  failures {point.failures}/{point.requests}"
    )


class ProgressDisplay:
    """Rewrites one line in place on a terminal; prints a plain line every few seconds elsewhere (CI logs)."""

    def __init__(self, write: Callable[[str], None], label: str, duration: float, interactive: bool) -> None:
        self.write = write
        self.label = label
        self.duration = duration
        self.interactive = interactive
        self._shown = 0
        self._last_plain = float("-inf")

    def update(self, point: ProgressPoint) -> None:
        line = f"[load] {self.label}  {describe(point, self.duration)}"
        if self.interactive:
            self.write("\r" + line.ljust(self._shown))
            self._shown = len(line)
        elif point.elapsed - self._last_plain >= PLAIN_INTERVAL:
            self.write("\n" + line)
            self._shown = len(line)
            self._last_plain = point.elapsed

    def finish(self) -> None:
        """Clear the live line so pytest's own output continues where it was."""
        if self._shown:
            self.write("\r" + " " * self._shown + "\r" if self.interactive else "\n")
            self._shown = 0
