"""Request names and their shapes: the name-cardinality guard's figures and its message.

Locust keeps one stats entry per distinct request name. A URL with an id in it (``/items/42``,
``/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6``) makes one entry per id: memory, reports and every per-entry
figure grow with the run. The runtime folds names beyond ``STATS_NAME_CAP`` into ``OVERFLOW_NAME`` so that nothing
grows without bound; the "too many request names" gate fails a test with more than ``max_entries`` names, showing
the most frequent *shapes* (ids replaced by placeholders) and the ``name=`` that groups them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from pytest_loadtest.measure.result import EntryStats

DEFAULT_MAX_ENTRIES = 200
"""Distinct request names a load test may produce before the guard fails it."""
STATS_NAME_CAP = 1000
"""Distinct names Locust keeps per engine process; later names are folded into ``OVERFLOW_NAME``. Also the highest
``max_entries``."""
OVERFLOW_NAME = "(other names)"
"""The one request name that stands for every name beyond ``STATS_NAME_CAP``."""
SHAPES_SHOWN = 10

_PLACEHOLDERS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE), "{uuid}"),
    (
        re.compile(
            r"(?<![0-9a-z])(?=[0-9a-z]*[0-9])(?=[0-9a-z]*[a-f])[0-9a-f]{8,}(?![0-9a-z])", re.IGNORECASE
        ),
        "{hex}",
    ),
    (re.compile(r"\d+(?:\.\d+)?"), "{n}"),
)


def name_shape(name: str) -> str:
    """``name`` with UUIDs, hex ids (8+ hex digits, letters and digits mixed) and numbers replaced by ``{uuid}``,
    ``{hex}`` and ``{n}``: ``GET /items/42?page=3`` is ``GET /items/{n}?page={n}``."""
    for pattern, placeholder in _PLACEHOLDERS:
        name = pattern.sub(placeholder, name)
    return name


@dataclass(frozen=True)
class Shape:
    """One name shape: how many distinct names have it, their requests, and one of them as an example."""

    shape: str
    names: int
    requests: int
    example: str


def name_count(entries: Mapping[str, EntryStats]) -> int:
    """The distinct request names measured (the overflow entry, standing for many, not counted)."""
    return sum(1 for key in entries if key.split(" ", 1)[-1] != OVERFLOW_NAME)


def folded(entries: Mapping[str, EntryStats]) -> int:
    """Requests whose names came beyond ``STATS_NAME_CAP`` and were folded into the overflow entry."""
    return sum(entry.num_requests for key, entry in entries.items() if key.split(" ", 1)[-1] == OVERFLOW_NAME)


def frequent_shapes(entries: Mapping[str, EntryStats], count: int = SHAPES_SHOWN) -> list[Shape]:
    """The ``count`` shapes with the most distinct names (then the most requests), most first."""
    names: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for key, entry in entries.items():
        if key.split(" ", 1)[-1] == OVERFLOW_NAME:
            continue
        shape = name_shape(key)
        names[shape] += 1
        requests[shape] += entry.num_requests
        examples.setdefault(shape, key)
    ranked = sorted(names, key=lambda shape: (-names[shape], -requests[shape], shape))
    return [Shape(shape, names[shape], requests[shape], examples[shape]) for shape in ranked[:count]]


def fix_suggestion(example: str, shape: str) -> str:
    """The ``name=`` that groups the names of ``shape``, in a call built from the user's own ``example`` request."""
    method, _, url = example.partition(" ")
    _, _, grouped = shape.partition(" ")
    call = method.lower() if method.isalpha() and method.isupper() else "request"
    return f'self.client.{call}("{url}", name="{grouped}")'


def too_many_names_message(test_id: str, entries: Mapping[str, EntryStats], max_entries: int) -> str | None:
    """Why the test produced too many distinct request names, with the shapes and the fix; None when within."""
    count = name_count(entries)
    overflow = folded(entries)
    if count <= max_entries and not overflow:
        return None
    counted = (
        f"more than {count} ({overflow} requests with later names were folded into {OVERFLOW_NAME!r})"
        if overflow
        else str(count)
    )
    shapes = frequent_shapes(entries)
    lines = [
        f"{test_id}: too many request names: {counted} distinct names, more than max_entries={max_entries}; "
        "each gets its own stats entry (an id in the URL?). Most frequent name shapes:"
    ]
    lines += [f"  {shape.names:>5} names  {shape.requests:>7} requests  {shape.shape}" for shape in shapes]
    if shapes:
        top = shapes[0]
        lines.append(f"fix: give such requests one name, e.g. {fix_suggestion(top.example, top.shape)}")
    lines.append("or raise max_entries= / --load-max-entries if the names are meant to be distinct")
    return "\n".join(lines)
