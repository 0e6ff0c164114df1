"""Every ``locust`` option has its row: what it is under the marker, and whether ``options=`` refuses it (plain Python,
Locust's own parser, no session)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from pytest_loadtest.errors import LoadTestUsageError
from pytest_loadtest.settings.locust_equivalents import LOCUST_OPTIONS, refusal
from pytest_loadtest.settings.resolve import parse_locust_options

DOCS = Path(__file__).resolve().parents[2] / "docs" / "LOAD_TESTING.md"


def locust_options() -> list[tuple[str, str]]:
    """(flags as ``locust --help`` shows them, dest) of every option Locust's parser documents, in its order."""
    from locust.argument_parser import get_parser

    return [
        (", ".join(action.option_strings) or "(User classes)", action.dest)
        for action in get_parser()._actions
        if action.help != argparse.SUPPRESS and action.dest != "help"
    ]


def test_every_option_of_locusts_parser_has_its_row_and_every_row_is_one_of_them() -> None:
    assert [(option.flags, option.dest) for option in LOCUST_OPTIONS] == locust_options()


def test_the_docs_list_every_option_with_what_it_is_here() -> None:
    section = DOCS.read_text().split("## Coming from Locust", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, re.MULTILINE)
    documented = {flags: here for flags, here in rows}
    for option in LOCUST_OPTIONS:
        assert documented.get(option.flags) == option.here, option.flags


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("users", "-u, --users is Locust's own option; here: `users=`, `--load-users`"),
        ("num-users", "-u, --users is Locust's own option"),
        ("run_time", "-t, --run-time is Locust's own option; here: `duration=`"),
        ("web_port", "--web-port, -P is Locust's own option; here: not applicable"),
        ("html", "--html is Locust's own option; here: written for every load test"),
    ],
)
def test_an_option_the_plugin_gives_locust_itself_is_refused_in_options_naming_what_to_use(
    name: str, said: str
) -> None:
    with pytest.raises(LoadTestUsageError) as refused:
        parse_locust_options("test_x.py::test_a", "the load marker", {name: "1"})
    assert str(refused.value).startswith(
        f"test_x.py::test_a: option {name.replace('-', '_')} from the load marker: "
    )
    assert said in str(refused.value)


@pytest.mark.parametrize(
    "name", ["equal_weights", "config_users", "stop_timeout", "exit_code_on_error", "my_argument"]
)
def test_an_option_locust_applies_and_a_custom_argument_go_to_locusts_parser(name: str) -> None:
    assert refusal(name) is None
    assert parse_locust_options("test_x.py::test_a", "the load marker", {name: True}) == {name: True}
