"""Which files of the report directory are the plugin's: it lists them in a manifest there, and writes only into a
directory that holds nothing else, so that it never overwrites (or deletes) a file of the user's.

Listed: the session files, each test's Locust files, and the files pytest itself was told to write in that
directory in the same session (``--junitxml``, pytest-html's page and its ``assets/``). An entry ending in ``/`` is a
whole directory. Empty directories hold nothing to lose and are never in the way.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.reports.locust_names import CSV_NAMES, HTML_NAME

MANIFEST_NAME = ".pytest-loadtest-manifest.json"
FOLDER_MARK = ".pytest-loadtest-folder"
"""Written into each test's folder before its files are placed there: that folder is the plugin's even when the
session that made it never wrote its manifest (killed, or an xdist worker lost)."""
EARLIER_SESSION_FILES = {"index.html", "loadtest-report.json"}
"""The session files of a report directory an earlier version (0.1, without a manifest) wrote."""
LOCUST_FILE_NAMES = frozenset({HTML_NAME, *CSV_NAMES.values()})
TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")
"""A file the plugin was writing when it was stopped (``reports/files.replace_file``): its own, left behind."""
SHOWN_FOREIGN = 5
"""Foreign files named in the refusal (the search stops there: ``--load-report-dir .`` is refused at once)."""


def listed(directory: Path) -> set[str]:
    """The entries of the directory's manifest (paths relative to it); none when it has no readable manifest."""
    try:
        data = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        return {str(entry) for entry in data["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _written_by_an_earlier_version(directory: Path) -> bool:
    """Whether the directory's ``loadtest-report.json`` is one pytest-loadtest wrote before it kept a manifest: its
    files (the session's, and test folders holding Locust's files only) are the plugin's, so an upgrade is not
    refused."""
    try:
        report = json.loads((directory / "loadtest-report.json").read_text(encoding="utf-8"))
        return "pytest-loadtest" in report["environment"]["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _is_listed(relative: str, entries: set[str]) -> bool:
    return relative in entries or any(entry.endswith("/") and relative.startswith(entry) for entry in entries)


def foreign_files(directory: Path, also_ours: Iterable[str] = ()) -> list[str]:
    """Up to ``SHOWN_FOREIGN`` files in ``directory`` (at any depth) that neither its manifest nor ``also_ours``
    lists, relative to it; a symlink counts as a file. None in a directory that does not exist or is no directory."""
    if not directory.is_dir():
        return []
    earlier = not (directory / MANIFEST_NAME).exists() and _written_by_an_earlier_version(directory)
    entries = (
        listed(directory) | set(also_ours) | {MANIFEST_NAME} | (EARLIER_SESSION_FILES if earlier else set())
    )
    found: list[str] = []
    pending = [""]
    while pending and len(found) < SHOWN_FOREIGN:
        prefix = pending.pop()
        try:
            with os.scandir(directory / prefix) as scan:
                names = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in scan)
        except OSError:  # unreadable: what it holds cannot be known to be ours
            found.append(prefix or ".")
            continue
        if prefix and (FOLDER_MARK, False) in names:
            continue  # a test's folder of the plugin's: everything in it is its own
        if (
            prefix
            and earlier
            and names
            and all(name in LOCUST_FILE_NAMES and not folder for name, folder in names)
        ):
            continue  # a test's folder an earlier version wrote: Locust's files only
        for name, is_directory in names:
            relative = prefix + name
            if is_directory:
                pending.append(relative + "/")
            elif not _is_listed(relative, entries) and not TEMPORARY.match(name):
                found.append(relative)
    return found[:SHOWN_FOREIGN]


def refuse_foreign_files(directory: Path, source: str, also_ours: Iterable[str] = ()) -> None:
    """A usage error when ``directory`` holds files the plugin did not write (before any load test runs)."""
    foreign = foreign_files(directory, also_ours)
    if not foreign:
        return
    shown = ", ".join(foreign) + (" and more" if len(foreign) == SHOWN_FOREIGN else "")
    earlier = (
        ""
        if (directory / MANIFEST_NAME).is_file()
        else f" (it has no {MANIFEST_NAME}: if an earlier version of pytest-loadtest wrote it, remove it once)"
    )
    raise LoadTestUsageError(
        f"the report directory {directory} ({source}) holds files pytest-loadtest did not write: {shown}; it "
        f"writes only into a new or empty directory or one whose files it listed in its {MANIFEST_NAME}, so that it "
        f"never overwrites yours: choose another directory or move those files away{earlier}"
    )


def manifest_text(directory: Path, written: Iterable[str]) -> str:
    """The manifest after this session: what it wrote, and what earlier sessions wrote that is still there."""
    kept = {entry for entry in listed(directory) if (directory / entry).exists()}
    document = {"written_by": "pytest-loadtest", "files": sorted(kept | set(written))}
    return json.dumps(document, indent=2) + "\n"
