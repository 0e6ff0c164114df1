"""A settings file the user wrote (the env file, the profiles file), read as UTF-8 text: what cannot be read, is
not UTF-8 or holds a NUL byte is a usage error naming the file and the line."""

from __future__ import annotations

from pathlib import Path

from pytest_loadtest.errors import LoadTestUsageError


def read_settings_file(path: Path, what: str) -> str:
    """The text of ``path``, ``what`` it is ("the load env file") naming it in the errors."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadTestUsageError(f"cannot read {what} {path}: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadTestUsageError(
            f"{what} {path}, line {_line_of(data, exc.start)}: byte {data[exc.start]:#04x} is not UTF-8; save the "
            "file as UTF-8"
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        raise LoadTestUsageError(
            f"{what} {path}, line {_line_of(data, len(text[:nul].encode()))}: a NUL byte, which no setting or "
            "environment variable can hold; remove it"
        )
    return text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
