"""Which modules a fork server preloaded that a scenario's ``sys.path`` would import from elsewhere (plain Python)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pytest_loadtest.runtime.preloaded import preloaded_files, shadowed


def test_a_module_this_process_imported_is_listed_with_its_file() -> None:
    files = preloaded_files()
    assert files["json"] == json.__file__
    assert "json.decoder" not in files  # top-level modules only: a package is shadowed as a whole
    assert "sys" not in files  # built in: no file, nothing to shadow


def test_a_copy_first_on_the_path_shadows_the_preloaded_module(tmp_path: Path) -> None:
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "__init__.py").write_text("")
    found = shadowed({"json": json.__file__}, [str(tmp_path), *sys.path])
    assert found == {"json": (json.__file__, str(tmp_path / "json" / "__init__.py"))}


def test_the_same_path_shadows_nothing(tmp_path: Path) -> None:
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "__init__.py").write_text("")
    assert (
        shadowed({"json": json.__file__}, [*sys.path, str(tmp_path)]) == {}
    )  # the preloaded copy comes first
    assert shadowed(preloaded_files(), sys.path) == {}
