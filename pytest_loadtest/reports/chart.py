"""An inline SVG chart of requests/s and p95 over time, drawn from a record's history (no script, no network).

Static SVG works everywhere a report is opened: from disk, in pytest-html's page (whose extras run no scripts),
in a CI artifact viewer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 60, 28, 34
RPS_COLOUR, P95_COLOUR = "#1f77b4", "#d62728"


def history_chart(history: Sequence[Mapping[str, Any]], title: str = "") -> str:
    """An ``<svg class="lt-chart">`` with a polyline (and points) per series; a short note when there is no sample."""
    points = [(float(p["elapsed"]), float(p["rps"]), float(p["p95"])) for p in history]
    if not points:
        return '<p class="lt-no-chart">no samples over time (the run ended within its first second)</p>'
    x_max = max(x for x, _, _ in points) or 1.0
    rps_max = _nice(max(rps for _, rps, _ in points))
    p95_max = _nice(max(p95 for _, _, p95 in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(x: float) -> float:
        return LEFT + plot_w * x / x_max

    def y_of(value: float, top: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="lt-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="requests per second and p95 over time">',
        f"<title>{escape(title or 'rps and p95 over time')}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        parts.append(_label(LEFT - 6, y + 4, _short(rps_max * fraction), "end", RPS_COLOUR))
        parts.append(_label(LEFT + plot_w + 6, y + 4, _short(p95_max * fraction), "start", P95_COLOUR))
    for fraction in (0.0, 0.5, 1.0):
        parts.append(
            _label(x_of(x_max * fraction), HEIGHT - BOTTOM + 16, f"{x_max * fraction:.3g}s", "middle")
        )
    parts.append(_label(LEFT, TOP - 10, "requests/s", "start", RPS_COLOUR))
    parts.append(_label(LEFT + plot_w, TOP - 10, "p95 ms", "end", P95_COLOUR))
    for series, index, top, colour in (("rps", 1, rps_max, RPS_COLOUR), ("p95", 2, p95_max, P95_COLOUR)):
        coords = [(x_of(point[0]), y_of(point[index], top), point) for point in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
        parts.append(
            f'<polyline class="lt-{series}" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for x, y, point in coords:
            unit = "/s" if series == "rps" else " ms"
            parts.append(
                f'<circle class="lt-{series}-point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{point[0]:.1f}s: {series} {point[index]:.4g}{unit}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _label(x: float, y: float, text: str, anchor: str, colour: str = "#555") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" fill="{colour}" '
        f'font-family="sans-serif">{escape(text)}</text>'
    )


def _nice(value: float) -> float:
    """The axis top: the value rounded up to 1, 2 or 5 times a power of ten (1 when there is nothing)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _short(value: float) -> str:
    return f"{value / 1000:.3g}k" if value >= 10_000 else f"{value:.3g}"
