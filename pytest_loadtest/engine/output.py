"""What the engine process writes (user prints, logging, Locust's own log lines), on its way to the caller.

Plain Python, no gevent and no pytest: the engine side uses ``EngineOutput`` (the pipe the engine's stderr goes to,
read line by line while the run goes) and ``Tail`` (the last bytes of a process's output, for error messages); the
pytest side uses ``CapturedOutput`` (bounded, redacted, into the test's captured stderr, remembering Locust's
warnings for the failure message).
"""

from __future__ import annotations

import os
import re
import select
import time
from collections.abc import Callable
from typing import IO, Any, TextIO

from pytest_loadtest.reports.redaction import Redactor

OutputCallback = Callable[[str], None]
"""Receives the engine's output one line at a time (each ending in a newline), as it is written."""
TAIL_LIMIT = 4000
"""Characters of a process's last output that an error message quotes."""
OUTPUT_LIMIT = 1024 * 1024
"""Bytes of one load test's engine output forwarded to pytest; the rest is counted, not kept."""
WARNINGS_SHOWN = 10
"""Warning lines of a run quoted in the failure message of its test."""
_LONGEST_LINE = 65536
"""A longer line without a newline is passed on in pieces of this size (memory stays bounded)."""
_READ_SIZE = 65536
_READS_AT_ONCE = 16
"""Reads of ``_READ_SIZE`` one ``read()`` does at most: an engine printing without end must not keep its reader from
its channel and its deadline."""
_WARNING_LINE = re.compile(r"^(?:\[worker \d+\] )?\[[^\]]*\] (\S+/(?:WARNING|ERROR|CRITICAL)/.*)")
"""A log line in Locust's format (``[time] host/LEVEL/logger: message``) at WARNING or above; group 1 is the line
without its time (the same warning logged again is counted, not repeated)."""


class Tail:
    """The last bytes of a process's output (bounded, whatever the process writes), and the one way error messages
    quote them: ``text()``."""

    def __init__(self, limit: int = TAIL_LIMIT * 4) -> None:
        self.limit = limit
        """Bytes kept: up to 4 a character."""
        self._data = bytearray()

    @classmethod
    def of_file(cls, file: IO[bytes], limit: int = TAIL_LIMIT * 4) -> Tail:
        """The end of an open binary file that a process writes its output to, read without the rest of it."""
        tail = cls(limit)
        fd = file.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        tail.add(os.pread(fd, size - start, start))
        return tail

    def add(self, data: bytes) -> None:
        self._data += data
        if len(self._data) > self.limit:
            del self._data[: len(self._data) - self.limit]

    def text(self, limit: int = TAIL_LIMIT) -> str:
        """A colon and the last ``limit`` characters on the next line, or "" when the process wrote nothing."""
        text = self._data.decode(errors="replace").strip()
        return f":\n{text[-limit:]}" if text else ""


class EngineOutput:
    """A pipe for an engine's stderr: ``write_fd`` goes to the engine, this side reads it without blocking.

    ``read()`` passes every complete line to ``on_output`` (if given) and keeps the last bytes in ``tail``; it is
    called whenever ``fileno()`` is readable, so the engine never blocks on a full pipe while the run goes.
    """

    def __init__(self, on_output: OutputCallback | None = None) -> None:
        self.on_output = on_output
        self.tail = Tail()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._pending = b""
        self.ended = False
        """Whether every writer has closed the pipe (end of input)."""

    @property
    def write_fd(self) -> int:
        """The descriptor the engine writes to (closed here by ``hand_over()`` once the engine has it)."""
        return self._write_fd

    def hand_over(self) -> None:
        """Close this side's copy of the write end: the engine holds it now, its exit ends the input."""
        if self._write_fd >= 0:
            os.close(self._write_fd)
            self._write_fd = -1

    def fileno(self) -> int:
        return self._read_fd

    def read(self) -> None:
        """Read what is there now (up to about 1 MB) and pass on its complete lines (the rest waits for its newline)."""
        for _ in range(_READS_AT_ONCE):
            if self.ended:
                return
            try:
                chunk = os.read(self._read_fd, _READ_SIZE)
            except BlockingIOError:
                return
            if not chunk:
                self.ended = True
                self._pass_on(self._pending, final=True)
                self._pending = b""
                return
            self.tail.add(chunk)
            self._pending = self._pass_on(self._pending + chunk)

    def drain(self, timeout: float) -> None:
        """Read until every writer is gone, for at most ``timeout`` seconds (a process the engine started may hold
        the pipe open after the engine is gone)."""
        deadline = time.monotonic() + timeout
        while not self.ended:
            self.read()
            remaining = deadline - time.monotonic()
            if self.ended or remaining <= 0:
                return
            select.select([self._read_fd], [], [], remaining)

    def tail_text(self, wait: float = 0.5) -> str:
        """The engine's last output for an error message, once what it wrote last has arrived (``wait`` at most)."""
        self.drain(wait)
        return self.tail.text()

    def close(self) -> None:
        self.hand_over()
        if self._read_fd >= 0:
            if not self.ended:
                self._pass_on(self._pending, final=True)
            os.close(self._read_fd)
            self._read_fd = -1
            self.ended = True

    def __enter__(self) -> EngineOutput:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _pass_on(self, data: bytes, final: bool = False) -> bytes:
        """Pass on the lines of ``data``; return what is left of it (an unfinished line)."""
        *lines, rest = data.split(b"\n")
        while len(rest) >= _LONGEST_LINE:
            lines.append(rest[:_LONGEST_LINE])
            rest = rest[_LONGEST_LINE:]
        if final and rest:
            lines.append(rest)
            rest = b""
        if self.on_output is not None:
            for line in lines:
                try:
                    self.on_output(line.decode(errors="replace") + "\n")
                except (
                    Exception
                ):  # a broken receiver must not stop the pipe being read (the engine would block)
                    self.on_output = None
                    break
        return rest


class CapturedOutput:
    """An engine's output as a test's captured stderr: redacted, at most ``limit`` bytes, and the run's warnings.

    ``write`` is the ``on_output`` of ``run_scenario``; ``finish()`` says how much was left out; ``warnings()`` is
    the block a failure message ends with (Locust's WARNING-and-above lines, and the users' own).
    """

    def __init__(self, stream: TextIO, redactor: Redactor | None = None, limit: int = OUTPUT_LIMIT) -> None:
        self.stream = stream
        self.redactor = redactor or Redactor.from_environ(os.environ)
        self.limit = limit
        self.written = 0
        self.left_out = 0
        self._warnings: dict[str, list[Any]] = {}
        """The first line of each warning (without its time) -> [that line, how often it was logged]."""
        self._more_warnings = 0

    def write(self, line: str) -> None:
        warning = _WARNING_LINE.match(line)
        if warning:
            self._note_warning(line, warning.group(1))
        size = len(line.encode(errors="replace"))
        if self.written + size > self.limit:
            self.left_out += size
            return
        self.written += size
        self.stream.write(self.redactor.text(line))
        self.stream.flush()

    def _note_warning(self, line: str, without_time: str) -> None:
        key = line[: line.index("[", 1)] + without_time if line.startswith("[worker") else without_time
        if key in self._warnings:
            self._warnings[key][1] += 1
        elif len(self._warnings) < WARNINGS_SHOWN:
            self._warnings[key] = [self.redactor.text(line.rstrip()[:300]), 1]
        else:
            self._more_warnings += 1

    def finish(self) -> None:
        """Write the one line that says how much output was left out, if any was."""
        if self.left_out:
            self.stream.write(
                f"pytest-loadtest: {self.left_out} more bytes of the engine's output were left out "
                f"(at most {self.limit} bytes are kept per load test)\n"
            )
            self.stream.flush()
            self.left_out = 0

    def warnings(self) -> str:
        """The run's warning lines for a failure message, or "" when there were none."""
        if not self._warnings:
            return ""
        shown = [f"{line} ({count}x)" if count > 1 else line for line, count in self._warnings.values()]
        more = f"\n(and {self._more_warnings} more in the captured stderr)" if self._more_warnings else ""
        return "Logged at WARNING or above during the run:\n" + "\n".join(shown) + more
