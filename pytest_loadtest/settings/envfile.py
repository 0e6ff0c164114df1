"""The ``.env.load-testing`` file: validated line by line, then loaded without overriding what is already set."""

from __future__ import annotations

import io
from pathlib import Path

from dotenv import load_dotenv
from dotenv.parser import parse_stream

from pytest_loadtest.errors import LoadTestUsageError

DEFAULT_ENV_FILE = ".env.load-testing"


def load_env_file(path: Path) -> None:
    """Load ``path`` into the environment (existing variables win); a malformed line is a usage error naming it.

    A ``<path>.local`` beside it (``.env.load-testing.local``, kept out of version control) is loaded first, so its
    values override the committed file's while real environment variables override both.
    """
    local = path.with_name(path.name + ".local")
    for source in (local, path) if local.is_file() else (path,):
        _load_one(source)


def _load_one(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadTestUsageError(f"cannot read the load env file {path}: {exc}") from None
    check_env_text(text, str(path))
    load_dotenv(path, override=False)


def check_env_text(text: str, source: str) -> None:
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            content = binding.original.string.strip()
            raise LoadTestUsageError(
                f"{source}, line {line}: cannot parse {content!r}; expected NAME=value (or a comment starting with #)"
            )
