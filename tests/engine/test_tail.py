"""The one stderr tail (engine/output.py ``Tail``): what error messages quote of a process's last output, whether it
was read from a pipe as it came or from the end of a file."""

from __future__ import annotations

import tempfile

from pytest_loadtest.engine.output import Tail


def test_a_tail_keeps_the_last_bytes_and_quotes_the_last_characters_after_a_colon() -> None:
    tail = Tail(limit=16)
    for chunk in (b"first line\n", b"second line\n", b"last words\n"):
        tail.add(chunk)
    assert tail.text(limit=8) == ":\nst words"
    assert tail.text() == ":\nline\nlast words"  # the 16 bytes kept, stripped


def test_a_tail_of_a_file_quotes_its_end_as_a_tail_fed_the_same_bytes() -> None:
    output = b"".join(f"line {number}\n".encode() for number in range(5000))
    fed = Tail()
    fed.add(output)
    with tempfile.TemporaryFile() as file:
        file.write(output)
        file.flush()
        assert Tail.of_file(file).text() == fed.text()
        assert Tail.of_file(file).text().endswith("line 4999") and "line 0\n" not in fed.text()


def test_a_process_that_wrote_nothing_or_only_blanks_adds_nothing_to_a_message() -> None:
    tail = Tail()
    assert tail.text() == ""
    tail.add(b"\n  \n")
    assert tail.text() == ""
