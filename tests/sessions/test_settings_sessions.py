"""The settings table in a real pytest: every option and ini key it says are registered, warmup reaches the layers
from the command line and the ini file, and a bad value there stops the session once at start-up."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_loadtest.plugin.options import layers
from pytest_loadtest.settings.resolve import resolve_setting
from pytest_loadtest.settings.table import SETTINGS, Setting, Where


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_each_setting_is_an_option_and_an_ini_key_exactly_where_the_table_says(
    pytester: pytest.Pytester, setting: Setting
) -> None:
    config = pytester.parseconfig()
    for where, read in [
        (Where.COMMAND_LINE, lambda: config.getoption(setting.option)),
        (Where.INI, lambda: config.getini(setting.ini_key)),
    ]:
        if where in setting.where:
            assert read() is None
        else:
            with pytest.raises(ValueError):
                read()


def test_warmup_reaches_the_layers_from_the_command_line_above_the_ini_file(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nload_warmup = 1s\n")
    mark = pytest.mark.load(warmup=3).mark

    def warmup(*args: str) -> object:
        config = pytester.parseconfigure(*args)
        item = SimpleNamespace(config=config, nodeid="t.py::x")
        return resolve_setting("warmup", layers(item, mark), "t.py::x")  # type: ignore[arg-type]

    assert warmup("--load-warmup", "2s") == 2.0
    assert warmup() == 3.0


LOAD_TESTS = """
import pytest
from locust import User, task


class Idle(User):
    @task
    def nothing(self):
        pass


@pytest.mark.load(Idle, duration=1)
def test_one():
    pass


@pytest.mark.load(Idle, duration=1)
def test_two():
    pass
"""


def test_a_bad_command_line_value_is_refused_once_at_start_up(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_load=LOAD_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-users", "abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count("--load-users='abc' from the command line: must be a number") == 1, output
    assert "test_one" not in output and "test_two" not in output


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("load_duration = -1", "load_duration='-1' from the ini file: must be a finite, non-negative number"),
        (
            "load_workers = many",
            "load_workers='many' from the ini file: must be a whole number >= 0 or 'auto'",
        ),
    ],
)
def test_a_bad_ini_value_is_refused_at_start_up(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    with pytest.raises(pytest.UsageError, match=f"^{message}"):
        pytester.parseconfigure()


def test_a_repeated_load_option_gives_locust_every_value_and_a_flag_with_a_value_is_refused(
    pytester: pytest.Pytester,
) -> None:
    from pytest_loadtest.plugin.options import command_line_options

    config = pytester.parseconfig("--load-option", "tag=a", "--load-option", "tag=b", "--load-option", "fast")
    assert command_line_options(config) == {"tag": ["a", "b"], "fast": True}
    mixed = pytester.parseconfig("--load-option", "fast", "--load-option", "fast=1")
    with pytest.raises(pytest.UsageError, match=r"--load-option fast: given both as a flag and with a value"):
        command_line_options(mixed)
