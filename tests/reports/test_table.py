"""The one text-table renderer behind the threshold table, the session summary and the baseline comparison."""

from __future__ import annotations

import pytest

from pytest_loadtest.reports.table import Column, compact_number, format_table


def test_columns_are_as_wide_as_their_widest_cell_two_spaces_apart_and_aligned_as_asked() -> None:
    table = format_table(
        [Column("test"), Column("rps", "right"), Column("verdict")],
        [("t.py::test_a", "5", "PASSED"), ("t.py::b", "1234.5", "FAILED (partial)")],
    )
    assert table.splitlines() == [
        "test             rps  verdict",
        "------------  ------  ----------------",
        "t.py::test_a       5  PASSED",
        "t.py::b       1234.5  FAILED (partial)",
    ]


def test_without_a_rule_the_rows_follow_the_titles_and_no_line_ends_in_spaces() -> None:
    table = format_table([Column("metric"), Column("")], [("p95", ""), ("p99", "REGRESSED")], rule=False)
    assert table.splitlines() == ["metric", "p95", "p99     REGRESSED"]


def test_a_row_with_a_cell_too_few_is_refused_rather_than_shifted() -> None:
    with pytest.raises(ValueError):
        format_table([Column("a"), Column("b")], [("only one",)])


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [(12.0, 2, "12"), (12.3456, 2, "12.35"), (0.5, 2, "0.5"), (0.012345, 4, "0.0123")],
)
def test_compact_numbers_are_rounded_without_trailing_zeros(value: float, digits: int, shown: str) -> None:
    assert compact_number(value, digits) == shown
