"""The live progress line: rewritten in place on a terminal, a plain line every few seconds elsewhere."""

from __future__ import annotations

from pytest_loadtest.measure.result import ProgressPoint
from pytest_loadtest.reports.progress import PLAIN_INTERVAL, ProgressDisplay


def point(elapsed: float) -> ProgressPoint:
    return ProgressPoint(elapsed=elapsed, users=20, requests=1000, failures=3, rps=200.0, p95=12.0)


def test_a_terminal_gets_one_line_rewritten_in_place_then_cleared() -> None:
    written: list[str] = []
    display = ProgressDisplay(written.append, "test_api", duration=5, interactive=True)
    display.update(point(1.0))
    display.update(point(2.0))
    display.finish()
    assert written[0] == "\r[load] test_api    1.0/5s  users 20  rps 200.0  p95 12 ms  failures 3/1000"
    assert written[1].startswith("\r[load] test_api    2.0/5s")
    assert "\n" not in "".join(written)
    assert written[-1].strip() == "" and written[-1].endswith("\r")


def test_a_log_gets_a_plain_line_every_few_seconds() -> None:
    written: list[str] = []
    display = ProgressDisplay(written.append, "test_api", duration=60, interactive=False)
    for second in range(1, 12):
        display.update(point(float(second)))
    display.finish()
    lines = [text for text in written if text.strip()]
    assert len(lines) == 1 + int((11 - 1) // PLAIN_INTERVAL)
    assert all(text.startswith("\n[load] test_api") for text in lines)
    assert written[-1] == "\n"
