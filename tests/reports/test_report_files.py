"""Report files without pytest sessions: atomic replacement, the errors said once, and the manifest that keeps the
plugin off the user's files."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.reports.files import (
    WriteError,
    grouped,
    make_directory,
    move_file,
    replace_file,
)
from pytest_loadtest.reports.layout import place_scenario_files, scenario_dir_name
from pytest_loadtest.reports.manifest import (
    MANIFEST_NAME,
    foreign_files,
    manifest_text,
    refuse_foreign_files,
)


def test_a_replaced_file_is_whole_and_a_failed_write_keeps_the_old_one_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out" / "report.json"
    replace_file(path, b"first")
    assert path.read_bytes() == b"first"

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        replace_file(path, b"second")
    assert path.read_bytes() == b"first"
    assert [child.name for child in path.parent.iterdir()] == ["report.json"]


def test_a_symlink_at_the_path_is_replaced_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's", encoding="utf-8")
    link = tmp_path / "index.html"
    link.symlink_to(victim)
    replace_file(link, b"report")
    assert victim.read_text(encoding="utf-8") == "the user's"
    assert not link.is_symlink() and link.read_bytes() == b"report"


def test_a_file_in_place_of_a_directory_is_not_a_directory_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "reports").write_text("x", encoding="utf-8")
    with pytest.raises(NotADirectoryError) as raised:
        make_directory(tmp_path / "reports")
    assert raised.value.filename == str(tmp_path / "reports")
    error = WriteError.of(tmp_path / "reports", raised.value)
    assert error.reason == "[Errno 20] Not a directory"


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a second file system: /dev/shm")
def test_a_file_moved_to_another_file_system_arrives_whole_and_leaves_the_source(tmp_path: Path) -> None:
    source = Path("/dev/shm") / f"pytest-loadtest-move-{os.getpid()}"
    source.write_bytes(b"locust report")
    try:
        assert source.stat().st_dev != tmp_path.stat().st_dev
        move_file(source, tmp_path / "sub" / "locust.html")
    finally:
        source.unlink(missing_ok=True)
    assert (tmp_path / "sub" / "locust.html").read_bytes() == b"locust report"
    assert not source.exists()


def test_one_os_error_over_many_files_is_one_line_naming_the_first_path() -> None:
    read_only = "[Errno 30] Read-only file system"
    errors = [
        WriteError("/r", read_only),
        WriteError("/r/a/locust.html", read_only),
        WriteError("/r/a/locust.html", read_only),
        WriteError("/r/b/locust.html", read_only),
        WriteError("/other/x.json", "[Errno 28] No space left on device"),
    ]
    assert grouped(errors) == [
        WriteError("/r (and 2 more files)", read_only),
        WriteError("/other/x.json", "[Errno 28] No space left on device"),
    ]
    assert WriteError.from_dict(errors[0].to_dict()) == errors[0]


def test_locust_files_are_moved_into_the_tests_folder_and_one_that_fails_is_an_error_not_a_stale_link(
    tmp_path: Path,
) -> None:
    staged, reports = tmp_path / "staged", tmp_path / "reports"
    staged.mkdir()
    (staged / "locust.html").write_text("<html>", encoding="utf-8")
    (staged / "locust_stats.csv").write_text("a,b", encoding="utf-8")
    sub = reports / scenario_dir_name("t.py::test_a")
    (sub / "locust_stats.csv").mkdir(parents=True)  # in the way: the move fails
    placed, errors = place_scenario_files(staged, reports, "t.py::test_a")
    assert placed == {"locust html": f"{sub.name}/locust.html"}
    assert (sub / "locust.html").read_text(encoding="utf-8") == "<html>"
    assert [error.path for error in errors] == [str(sub / "locust_stats.csv")]


def manifest(directory: Path, *files: str) -> None:
    (directory / MANIFEST_NAME).write_text(manifest_text(directory, files), encoding="utf-8")


def test_a_directory_holding_only_files_its_manifest_lists_and_empty_folders_is_the_plugins(
    tmp_path: Path,
) -> None:
    assert foreign_files(tmp_path / "new") == [] and foreign_files(tmp_path) == []
    (tmp_path / "sub").mkdir()
    (tmp_path / "empty").mkdir()
    for name in ("index.html", "sub/locust.html", "junit.xml", "html/assets/style.css"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    manifest(tmp_path, "index.html", "sub/locust.html")
    assert foreign_files(tmp_path) == ["junit.xml", "html/assets/style.css"]  # this folder's files first
    assert foreign_files(tmp_path, ["junit.xml", "html/assets/"]) == []


def test_the_manifest_keeps_what_earlier_sessions_wrote_that_is_still_there(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("x", encoding="utf-8")
    manifest(tmp_path, "old.csv", "gone.csv")
    listed = json.loads(manifest_text(tmp_path, ["index.html"]))["files"]
    assert listed == ["index.html", "old.csv"]


@pytest.mark.parametrize(
    ("planted", "shown"),
    [
        (["index.html", "loadtest-report.json"], "index.html, loadtest-report.json; "),
        ([f"f{n}.py" for n in range(9)], "f0.py, f1.py, f2.py, f3.py, f4.py and more; "),
        (["sub/notes.txt"], "sub/notes.txt; "),
    ],
)
def test_a_directory_holding_foreign_files_is_refused_naming_them(
    tmp_path: Path, planted: list[str], shown: str
) -> None:
    for name in planted:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("the user's", encoding="utf-8")
    with pytest.raises(LoadTestUsageError) as raised:
        refuse_foreign_files(tmp_path, "--load-report-dir")
    message = str(raised.value)
    assert message.startswith(
        f"the report directory {tmp_path} (--load-report-dir) holds files pytest-loadtest did not write: {shown}"
    )
    assert "choose another directory or move those files away" in message


def test_a_symlink_in_the_directory_is_foreign_even_to_a_folder(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "linked").symlink_to(tmp_path / "elsewhere")
    assert foreign_files(reports) == ["linked"]


def test_a_tests_folder_and_a_temporary_file_the_plugin_left_are_its_own_without_a_manifest(
    tmp_path: Path,
) -> None:
    """A session killed after its first test placed its files (before the manifest) leaves nothing in the way."""
    staged, reports = tmp_path / "staged", tmp_path / "reports"
    staged.mkdir()
    (staged / "locust.html").write_text("<html>", encoding="utf-8")
    place_scenario_files(staged, reports, "t.py::test_a")
    (reports / ".index.html.0123abcd.tmp").write_text("half", encoding="utf-8")  # a write cut short
    assert foreign_files(reports) == []
    (reports / scenario_dir_name("t.py::test_b")).mkdir()
    (reports / scenario_dir_name("t.py::test_b") / "locust.html").write_text("the user's", encoding="utf-8")
    assert foreign_files(reports) == [f"{scenario_dir_name('t.py::test_b')}/locust.html"]  # no mark: not ours


def test_a_directory_an_earlier_version_wrote_without_a_manifest_is_the_plugins(tmp_path: Path) -> None:
    """An upgrade is not refused: 0.1 wrote no manifest, but its loadtest-report.json says it wrote the folder."""
    report = {"schema_version": 1, "environment": {"packages": {"pytest-loadtest": "0.1.0"}}, "tests": []}
    (tmp_path / "loadtest-report.json").write_text(json.dumps(report), encoding="utf-8")
    (tmp_path / "index.html").write_text("<html>", encoding="utf-8")
    (tmp_path / "t.py-test_a-0123abcd").mkdir()
    (tmp_path / "t.py-test_a-0123abcd" / "locust.html").write_text("<html>", encoding="utf-8")
    assert foreign_files(tmp_path) == []
    (tmp_path / "notes.txt").write_text("the user's", encoding="utf-8")
    (tmp_path / "t.py-test_a-0123abcd" / "mine.py").write_text("the user's", encoding="utf-8")
    assert foreign_files(tmp_path) == [
        "notes.txt",
        "t.py-test_a-0123abcd/locust.html",
        "t.py-test_a-0123abcd/mine.py",
    ]
