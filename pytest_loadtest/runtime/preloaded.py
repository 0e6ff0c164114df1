"""Modules the fork server imported before a scenario's ``sys.path`` was known, and which of them that path shadows.

A forked engine inherits every module the server preloaded (Locust, gevent, requests, certifi, ...). When the
scenario's ``sys.path`` (``PYTHONPATH``, pytest's ``pythonpath`` ini, a conftest's insertion) puts another copy of one
of them first, the pytest process and plain ``locust`` would import that copy, the forked engine would not: it cannot
swap a module that gevent and Locust already hold, so that scenario runs in a spawned engine instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from importlib.machinery import PathFinder

_preloaded: dict[str, str] = {}
"""What the fork server imported before it forked its first engine (empty in a spawned engine)."""


def remember() -> None:
    """In the fork server, once it has preloaded: its engines compare their import path with this."""
    _preloaded.update(preloaded_files())


def shadowed_since_preload(search_path: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The preloaded modules ``search_path`` would import from another file (none in a spawned engine)."""
    return shadowed(_preloaded, search_path)


def preloaded_files() -> dict[str, str]:
    """The top-level modules imported so far, each with the file it came from (built-in modules have none)."""
    files = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if "." not in name and isinstance(path, str):
            files[name] = path
    return files


def shadowed(preloaded: Mapping[str, str], search_path: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each preloaded module that ``search_path`` would import from another file: ``{name: (preloaded, would be)}``."""
    found = {}
    for name, path in preloaded.items():
        try:
            spec = PathFinder.find_spec(name, list(search_path))
        except (ImportError, ValueError):
            continue
        origin = spec.origin if spec is not None else None
        if origin and os.path.isfile(origin) and not _same_file(origin, path):
            found[name] = (path, origin)
    return found


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return os.path.realpath(first) == os.path.realpath(second)
