"""The ``.env.load-testing`` file: validated line by line, then loaded without overriding what is already set.

python-dotenv parses it; its ``${NAME}`` interpolation is done here, in one pass (python-dotenv's own copies the
environment once per variable: 30,000 variables took minutes). A value the engine process could not be started
with (one variable over the system's limit, or more than the whole environment may hold) is a usage error naming
the variable, before any test runs.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream
from dotenv.variables import parse_variables

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.reports.redaction import ENV_FILE_NAMES_VARIABLE
from pytest_loadtest.settings.textfile import read_settings_file

DEFAULT_ENV_FILE = ".env.load-testing"
MAX_VARIABLE_BYTES = 128 * 1024
"""Bytes of one ``NAME=value`` (and its NUL) a process can be started with: Linux's MAX_ARG_STRLEN."""
COMMAND_LINE_ALLOWANCE = 64 * 1024
"""Bytes of ARG_MAX left for an engine's or worker's command line."""


@dataclass(frozen=True)
class Variable:
    name: str
    value: str | None
    line: int

    @property
    def size(self) -> int:
        """Bytes it takes in a process's environment."""
        return len(self.name.encode()) + len((self.value or "").encode()) + 2


def load_env_file(path: Path) -> None:
    """Load ``path`` into the environment (existing variables win); a malformed line is a usage error naming it.

    A ``<path>.local`` beside it (``.env.load-testing.local``, kept out of version control) is loaded first, so its
    values override the committed file's while real environment variables override both.
    """
    local = path.with_name(path.name + ".local")
    for source in (local, path) if local.is_file() else (path,):
        _load_one(source)


def _load_one(path: Path) -> None:
    variables = list(_interpolated(check_env_text(read_settings_file(path, "the load env file"), str(path))))
    new = [
        variable for variable in variables if variable.name not in os.environ and variable.value is not None
    ]
    _check_sizes(path, new)
    for variable in new:
        os.environ[variable.name] = variable.value or ""
    known = {name for name in os.environ.get(ENV_FILE_NAMES_VARIABLE, "").split(",") if name}
    os.environ[ENV_FILE_NAMES_VARIABLE] = ",".join(
        sorted(known | {variable.name for variable in variables})
    )  # the redaction of every process judges these names by the env file's rule (reports/redaction.py)


def check_env_text(text: str, source: str) -> list[Variable]:
    """The file's variables, uninterpolated; a line that is not ``NAME=value`` is a usage error naming it."""
    variables = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            line = binding.original.line
            content = binding.original.string.strip()
            raise LoadTestUsageError(
                f"{source}, line {line}: cannot parse {content!r}; expected NAME=value (or a comment starting with #)"
            )
        if binding.key is not None:
            variables.append(Variable(binding.key, binding.value, binding.original.line))
    return variables


def _interpolated(variables: list[Variable]) -> Iterator[Variable]:
    """``${NAME}`` and ``${NAME:-default}`` filled in as python-dotenv does without override (the environment wins
    over the file's earlier variables), in time linear in the file's size."""
    environment: dict[str, str | None] = dict(os.environ)
    for variable in variables:
        value = variable.value
        if value is not None and "$" in value:
            value = "".join(atom.resolve(environment) for atom in parse_variables(value))
        if variable.name not in os.environ:
            environment[variable.name] = value
        yield Variable(variable.name, value, variable.line)


def _check_sizes(path: Path, new: list[Variable]) -> None:
    """Refuse variables that would keep the engine from starting (``OSError: Argument list too long``)."""
    for variable in new:
        if variable.size > MAX_VARIABLE_BYTES:
            raise LoadTestUsageError(
                f"{path}, line {variable.line}: {variable.name} holds {variable.size - 2} bytes; a process can be "
                f"started with at most {MAX_VARIABLE_BYTES - 2} bytes in one environment variable, so the engine "
                "could not receive it: pass large data in a file and its path in the variable"
            )
    limit = _environment_limit()
    total = sum(len(name.encode()) + len(value.encode()) + 2 for name, value in os.environ.items())
    total += sum(variable.size for variable in new)
    if limit is not None and total > limit:
        largest = sorted(new, key=lambda variable: variable.size, reverse=True)[:3]
        named = ", ".join(f"{v.name} (line {v.line}, {v.size} bytes)" for v in largest)
        raise LoadTestUsageError(
            f"{path}: its {len(new)} variables would make the environment {total} bytes, more than the {limit} "
            f"bytes the engine process can be started with; the largest are {named}"
        )


def _environment_limit() -> int | None:
    """Bytes the environment of a new process may hold (ARG_MAX less the command line's allowance), if known."""
    try:
        arg_max = os.sysconf("SC_ARG_MAX")
    except (AttributeError, ValueError, OSError):
        return None
    return arg_max - COMMAND_LINE_ALLOWANCE if arg_max > 0 else None
