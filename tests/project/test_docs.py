"""The docs match the code: the quickstart's runnable blocks run, and every option, ini key, environment variable and
error message that docs/*.md, README.md and CHANGELOG.md name exists (so later additions are checked too).

A shell block is runnable when the line before its fence is ``<!-- runnable -->``; it runs with bash (``-e -o
pipefail``) from the repository root with ``.venv/bin`` (this interpreter's directory) first on PATH, in its own
process group, which is killed afterwards so that nothing a block started survives it.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import signal
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from pytest_loadtest.settings.table import MARKER_KEYWORDS, SETTINGS, Setting, Where, settable

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
GUIDE = ROOT / "docs" / "LOAD_TESTING.md"
QUICKSTART = ROOT / "docs" / "LOAD_TESTING_QUICKSTART.md"
OPS_GUIDE = ROOT / "docs" / "LOAD_TESTING_OPS_GUIDE.md"
BLOCK_TIMEOUT = 60.0
RUNNABLE = re.compile(r"^<!-- runnable -->\n```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
NOT_INI_KEYS = frozenset({"load_result", "load_test_reports", "load_value", "load_values"})
"""``load_*`` names the docs use that are not ini keys: the fixture, the default report directory, the accessors."""


def runnable_blocks() -> list[str]:
    return RUNNABLE.findall(QUICKSTART.read_text(encoding="utf-8"))


def documents() -> dict[str, str]:
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in [*DOCS, ROOT / "README.md", ROOT / "CHANGELOG.md"]
    }


@cache
def pytest_help() -> str:
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def named(pattern: str) -> dict[str, list[str]]:
    """Every match of ``pattern`` in the docs and README, with the documents naming it."""
    found: dict[str, list[str]] = {}
    for name, text in documents().items():
        for match in sorted(set(re.findall(pattern, text))):
            found.setdefault(match, []).append(name)
    return found


def test_the_quickstart_has_runnable_blocks() -> None:
    assert len(runnable_blocks()) >= 2


@pytest.mark.parametrize("number", range(len(runnable_blocks())), ids=lambda n: f"block{n + 1}")
@pytest.mark.slow
def test_quickstart_block_runs(number: int, tmp_path: Path) -> None:
    block = runnable_blocks()[number]
    environment = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "VIRTUAL_ENV": str(Path(sys.executable).parent.parent),
        "TMPDIR": str(tmp_path),  # what the block writes with mktemp goes away with the test
        "LOAD_REPORT_DIR": str(
            tmp_path / "load_test_reports"
        ),  # each block's reports its own (blocks run at once)
    }
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", block],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        output = ""
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the block's servers and anything else it left running
        process.wait()
    assert process.returncode == 0, (
        f"quickstart block {number + 1} failed ({process.returncode}):\n{block}\n{output}"
    )


def test_every_option_the_docs_name_exists() -> None:
    options = set(re.findall(r"--load-[a-z-]*[a-z]", pytest_help()))
    missing = {
        option: where for option, where in named(r"--load-[a-z-]*[a-z]").items() if option not in options
    }
    assert not missing, f"options named in the docs that pytest --help does not list: {missing}"


SETTINGS_COLUMNS = {
    "command line": Where.COMMAND_LINE,
    "marker": Where.MARKER,
    "environment": Where.ENVIRONMENT,
    "ini key": Where.INI,
    "profile": Where.PROFILE,
}


def guide_table(heading: str, first_column: str) -> list[dict[str, str]]:
    """The rows of the table under ``heading`` in docs/LOAD_TESTING.md whose first column is ``first_column``."""
    section = GUIDE.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = section[section.index(f"| {first_column} |") :].split("\n\n", 1)[0].splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


def spelled_in_the_docs(cell: str) -> str | None:
    """A cell's setting as written there: its first `code`, without the marker's ``=``; None for an empty cell."""
    code = re.match(r"`([^`]+)`", cell)
    return code.group(1).removesuffix("=") if code else None


def spelled_in_the_code(setting: Setting, where: Where) -> str:
    return {
        Where.COMMAND_LINE: setting.option,
        Where.MARKER: setting.name,
        Where.ENVIRONMENT: setting.variable,
        Where.INI: setting.ini_key,
        Where.PROFILE: setting.name,
    }[where]


def test_the_settings_table_of_the_guide_is_the_settings_table_of_the_code() -> None:
    """Both ways: each row of the guide's table names one setting of settings/table.py, spelled as the plugin does,
    in exactly the places the code lets it be set; and each setting set outside the marker alone has its row."""
    documented = {}
    for row in guide_table("Settings and their precedence", "setting"):
        places = {where: spelled_in_the_docs(row[column]) for column, where in SETTINGS_COLUMNS.items()}
        names = {name for name in places.values() if name is not None}
        setting = next((s for s in SETTINGS if spelled_in_the_code(s, Where.INI) in names), None)
        assert setting is not None, f"the row {row['setting']!r} names no setting of the code: {names}"
        assert places == {
            where: spelled_in_the_code(setting, where) if where in setting.where else None
            for where in SETTINGS_COLUMNS.values()
        }, f"the row {row['setting']!r} is not where the code lets {setting.name} be set"
        documented[setting.name] = row
    assert sorted(documented) == sorted(s.name for s in SETTINGS if s.where != {Where.MARKER})


def test_the_load_markers_arguments_in_the_guide_are_the_markers_keywords() -> None:
    rows = guide_table("The load marker", "argument")
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row["argument"])}
    assert documented == MARKER_KEYWORDS


def test_every_ini_key_the_docs_name_exists() -> None:
    keys = set(re.findall(r"^\s+(load_[a-z_]+) \(", pytest_help(), re.MULTILINE))
    missing = {
        key: where
        for key, where in named(r"\bload_[a-z_]*[a-z]\b").items()
        if key not in keys and key not in NOT_INI_KEYS
    }
    assert not missing, f"ini keys named in the docs that pytest --help does not list: {missing}"


def test_every_environment_variable_the_docs_name_is_a_setting() -> None:
    keys = set(re.findall(r"^\s+(load_[a-z_]+) \(", pytest_help(), re.MULTILINE))
    # every setting's LOAD_* variable (and those of the session-wide ini keys, such as LOAD_REPORT_DIR)
    settings = {"LOAD_" + key.removeprefix("load_").upper() for key in keys}
    settings |= {setting.variable for setting in settable(Where.ENVIRONMENT)}
    # and the variables the plugin (LOAD_SECRET_KEYS) and the Platform API suite (its thresholds, seed) read
    settings |= {name for name in read_variables() if name.startswith("LOAD_")}
    unknown = {
        name: where for name, where in named(r"\bLOAD_[A-Z_]*[A-Z]\b(?!\.md)").items() if name not in settings
    }
    assert not unknown, f"LOAD_* variables named in the docs that are no setting: {unknown}"


def read_variables() -> set[str]:
    """LOAD_* names in the code and in the committed env file (which the suite's settings read)."""
    sources = [*(ROOT / "pytest_loadtest").rglob("*.py"), *(ROOT / "loadtests").rglob("*.py")]
    text = "\n".join(path.read_text(encoding="utf-8") for path in [*sources, ROOT / ".env.load-testing"])
    return set(re.findall(r"\bLOAD_[A-Z_]*[A-Z]\b", text))


def message_templates() -> list[str]:
    """Every string the package can print, as written: f-string fields become NUL, except module-level string
    constants (such as the host guard's REFUSED), which are filled in."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in (ROOT / "pytest_loadtest").rglob("*.py")]
    constants = {
        target.id: node.value.value
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def render(node: ast.expr) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if (
            isinstance(node, ast.FormattedValue)
            and isinstance(node.value, ast.Name)
            and node.format_spec is None
        ):
            return constants.get(node.value.id, "\0")
        if isinstance(node, ast.JoinedStr):
            return "".join(render(value) for value in node.values)
        return "\0"

    return [
        render(node)
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))
    ]


def test_the_troubleshooting_messages_are_the_plugins_own() -> None:
    """Each message quoted in the troubleshooting table: every part between two '…' is in one string of the code."""
    templates = message_templates()
    table = OPS_GUIDE.read_text(encoding="utf-8").split("\n## Troubleshooting\n", 1)[1].split("\n## ", 1)[0]
    messages = re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE)
    assert len(messages) >= 20
    absent = [
        piece
        for message in messages
        for piece in (part.strip(" :;,.()'") for part in message.split("…"))
        if piece and not any(piece in template for template in templates)
    ]
    assert not absent, f"message parts quoted in the ops guide that the code does not contain: {absent}"
