"""The built wheel installs into a clean virtualenv and registers the plugin through its pytest11 entry point."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_registers_the_plugin_in_a_clean_virtualenv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("pytest_loadtest-*.whl")
    venv.create(
        tmp_path / "clean", with_pip=False
    )  # this interpreter's pip installs into it (ensurepip: +4 s)
    python = tmp_path / "clean" / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    shown = subprocess.run(
        [str(python), "-m", "pytest", "--help"], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert "load tests (pytest-loadtest):" in shown
    for option in ("--load-users", "--load-spawn-rate", "--load-duration", "--load-host", "--load-env-file"):
        assert option in shown
    markers = subprocess.run(
        [str(python), "-m", "pytest", "--markers"], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert "@pytest.mark.load(*user_classes" in markers
