"""Writing report files so that a failed write loses nothing: each file is replaced whole or not at all, and a write
that fails is said once, with the path and the OS error.

A file is written to a temporary file beside it, then renamed over it: a full disk or a kill mid-write leaves the
previous file (or none), never a truncated one, and a symlink at the path is replaced, never written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class WriteError:
    """A report file that could not be written, and why (``[Errno 28] No space left on device``)."""

    path: str
    reason: str

    @classmethod
    def of(cls, path: Path, exc: OSError) -> WriteError:
        return cls(str(path), f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc))

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "error": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WriteError:
        return cls(str(data["path"]), str(data["error"]))


def make_directory(path: Path) -> None:
    """``path`` and its parents as directories; NotADirectoryError when a file is in the way."""
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    path.mkdir(parents=True, exist_ok=True)


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file beside it, flushed to disk, renamed over it)."""
    make_directory(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, _CREATE, 0o666)  # the umask applies, as to any file the user writes
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def move_file(source: Path, destination: Path) -> None:
    """Move ``source`` over ``destination`` atomically: renamed on one file system, else copied and renamed."""
    make_directory(destination.parent)
    try:
        os.replace(source, destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        replace_file(destination, source.read_bytes())
        source.unlink()


def discard_stale(path: Path) -> None:
    """Remove the earlier run's file that this run could not replace, so that it does not pass for this run's."""
    with contextlib.suppress(OSError):
        if path.is_file() and not path.is_symlink():
            path.unlink()


def grouped(errors: Iterable[WriteError]) -> list[WriteError]:
    """One error per OS error: the first path it hit and how many more (a read-only folder is one line, not ten)."""
    by_reason: dict[str, list[str]] = {}
    for error in errors:
        paths = by_reason.setdefault(error.reason, [])
        if error.path not in paths:
            paths.append(error.path)
    return [
        WriteError(paths[0] + (f" (and {len(paths) - 1} more files)" if len(paths) > 1 else ""), reason)
        for reason, paths in by_reason.items()
    ]
