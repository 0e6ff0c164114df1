"""The files a user writes for the settings: the env file and the profiles file, read in linear time, and refused
with the file and the line when they cannot be read, are not UTF-8, hold a NUL byte or a value no process can get."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.reports.redaction import ENV_FILE_NAMES_VARIABLE
from pytest_loadtest.settings.envfile import MAX_VARIABLE_BYTES, load_env_file
from pytest_loadtest.settings.profiles import load_profiles


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A copy of the environment that the env file is loaded into (the real one stays as it was)."""
    copy = dict(os.environ)
    copy.pop(ENV_FILE_NAMES_VARIABLE, None)
    monkeypatch.setattr(os, "environ", copy)
    return copy


def test_the_env_file_interpolates_as_python_dotenv_does_and_the_environment_wins(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    environ["PRESET"] = "from-env"
    path = tmp_path / ".env.load-testing"
    path.write_text(
        "BASE=http://127.0.0.1\nURL=${BASE}:8000/${MISSING:-x}\nPRESET=file\nUSES=${PRESET}\nBARE\n",
        encoding="utf-8",
    )
    load_env_file(path)
    assert (environ["URL"], environ["PRESET"], environ["USES"]) == (
        "http://127.0.0.1:8000/x",
        "from-env",
        "from-env",
    )
    assert "BARE" not in environ
    assert environ[ENV_FILE_NAMES_VARIABLE] == "BARE,BASE,PRESET,URL,USES"  # the names redaction judges


def test_an_env_file_of_30000_variables_loads_in_linear_time(tmp_path: Path, environ: dict[str, str]) -> None:
    path = tmp_path / ".env.load-testing"
    path.write_text("".join(f"VARIABLE_{n}=value-{n}-${{HOME}}\n" for n in range(30000)), encoding="utf-8")
    started = time.monotonic()
    load_env_file(path)
    assert time.monotonic() - started < 5  # python-dotenv's own interpolation took minutes (quadratic)
    assert environ["VARIABLE_29999"] == f"value-29999-{environ['HOME']}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"LOADED_FIRST=1\nB=x\x00y\n", r"the load env file .*\.env\.load-testing, line 2: a NUL byte"),
        (
            b"LOADED_FIRST=1\n\nB=caf\xe9\n",
            r"the load env file .*\.env\.load-testing, line 3: byte 0xe9 is not UTF-8",
        ),
        (
            b"LOADED_FIRST=1\nBIG=" + b"x" * MAX_VARIABLE_BYTES + b"\n",
            r"\.env\.load-testing, line 2: BIG holds \d+ bytes; a process can be started with at most",
        ),
    ],
    ids=["nul", "not-utf-8", "too-large"],
)
def test_an_env_file_the_engine_could_not_take_is_a_usage_error_naming_the_file_and_line(
    tmp_path: Path, environ: dict[str, str], content: bytes, message: str
) -> None:
    path = tmp_path / ".env.load-testing"
    path.write_bytes(content)
    with pytest.raises(LoadTestUsageError, match=message):
        load_env_file(path)
    assert "LOADED_FIRST" not in environ  # nothing of a refused file is loaded


def test_a_profiles_file_that_is_not_utf8_is_a_usage_error_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "load-profiles.toml"
    path.write_bytes(b'[smoke]\nusers = 5\ndescription = "caf\xe9"\n')
    with pytest.raises(LoadTestUsageError, match=r"load-profiles\.toml, line 3: byte 0xe9 is not UTF-8"):
        load_profiles(path)
