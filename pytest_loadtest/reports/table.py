"""Fixed-width text tables for the terminal and failure messages: the threshold table, the session summary and the
baseline comparison are all drawn here.

Columns are two spaces apart, each as wide as its widest cell; trailing spaces are cut from every line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Column:
    title: str
    align: Literal["left", "right"] = "left"


def format_table(columns: Sequence[Column], rows: Iterable[Sequence[str]], rule: bool = True) -> str:
    """The titles, a rule of dashes under them (unless ``rule`` is False), then one line per row."""
    lines = [[column.title for column in columns], *(list(row) for row in rows)]
    # strict: a row with a cell too few or too many is a ValueError, not a shifted table
    widths = [max(len(cell) for cell in cells) for cells in zip(*lines, strict=True)]
    text = [_line(cells, columns, widths) for cells in lines]
    if rule:
        text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text)


def compact_number(value: float, digits: int = 2) -> str:
    """A figure rounded to ``digits`` decimals without trailing zeros (``12.5``, ``3``), as the summary and the
    JUnit properties show it."""
    return f"{round(value, digits):g}"


def _line(cells: Sequence[str], columns: Sequence[Column], widths: Sequence[int]) -> str:
    padded = (
        cell.rjust(width) if column.align == "right" else cell.ljust(width)
        for cell, column, width in zip(cells, columns, widths, strict=True)
    )
    return "  ".join(padded).rstrip()
