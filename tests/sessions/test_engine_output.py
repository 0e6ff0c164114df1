"""What the engine writes (user prints, logging, Locust's own log lines; its local workers' too) reaches pytest as the
test's captured stderr: in a failure, under ``-rA``, live under ``-s``; bounded, redacted, and Locust's warnings of
the run end the failure message. Real sessions against the loopback target, fork server and spawned engine."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

import pytest

from pytest_loadtest.engine.output import OUTPUT_LIMIT, CapturedOutput, EngineOutput
from pytest_loadtest.reports.redaction import Redactor
from tests.support.plain_locust import run_plain_locust
from tests.support.target import TargetServer

MODULE = """
import logging
import sys

import pytest
from locust import HttpUser, constant, task


class PrintUser(HttpUser):
    wait_time = constant(0.2)

    @task
    def health(self):
        self.client.get("/health")
        print("hello from PrintUser")
        print("to stderr from PrintUser", file=sys.stderr)
        logging.warning("careful: PrintUser logged this")


class BrokenUser(HttpUser):
    wait_time = constant(0.2)

    @task
    def broken(self):  # its one task: every iteration prints, logs and raises
        print("hello from PrintUser")
        print("to stderr from PrintUser", file=sys.stderr)
        logging.warning("careful: PrintUser logged this")
        print("sending Authorization: Bearer s3cr3t-t0ken-value")
        self.client.get("/status/500")
        raise RuntimeError("login refused for password=hunter2-s3cret")


@pytest.mark.load(PrintUser, users=1, duration=1)
def test_passing():
    pass


@pytest.mark.load(BrokenUser, users=1, duration=1, spawn_rate=200)
def test_failing():
    pass
"""

WORKERS = """

@pytest.mark.load(PrintUser, users=2, duration=1, workers=2)
def test_workers():
    pass
"""

LIVE = """
import time

import pytest
from locust import HttpUser, constant, task


class EarlyUser(HttpUser):
    wait_time = constant(0.2)

    def on_start(self):
        print("LIVE-LINE printed as the users start", flush=True)

    @task
    def health(self):
        self.client.get("/health")


@pytest.mark.load(EarlyUser, users=1, duration=2)
def test_live():
    pass
"""

FLOOD = """
import pytest
from locust import HttpUser, constant, task


class FloodUser(HttpUser):
    wait_time = constant(0.2)

    def on_start(self):
        for _ in range(20_000):
            print("x" * 999)  # 20 MB

    @task
    def health(self):
        self.client.get("/health")


@pytest.mark.load(FloodUser, users=1, duration=1)
def test_flood():
    pass
"""


def run(pytester: pytest.Pytester, target: TargetServer, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--load-host", target.url, *args)


@pytest.mark.parametrize("engine", ["forked", "spawned"])
def test_prints_and_logging_are_the_tests_captured_stderr_and_locusts_warnings_end_the_failure(
    pytester: pytest.Pytester, target: TargetServer, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    if engine == "spawned":
        monkeypatch.setenv("LOAD_FORK_SERVER", "0")
    pytester.makepyfile(test_output=MODULE)
    result = run(pytester, target, "-rA", "--junitxml=junit.xml", "-o", "junit_logging=system-err")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    failures, _, passes = output.partition("= PASSES =")
    failure, _, failure_capture = failures.partition("- Captured stderr call -")
    passing_capture = passes.partition("- Captured stderr call -")[2]
    # Within a block the order of user prints and Locust's log lines depends on the scheduler: check each line.
    for block, lines in (
        (
            failure,
            [
                "*test_output.py::test_failing: user code raised * exception(s) during the load scenario:",
                "*x login refused for password=[[]REDACTED]",
                "Logged at WARNING or above during the run:",
                "[[]*] */WARNING/locust.runners: Your selected spawn rate is very high (>100)*",
                "[[]*] */WARNING/root: careful: PrintUser logged this*",
            ],
        ),
        (
            failure_capture,
            [
                "*/INFO/locust.runners: Ramping to 1 users at a rate of 200.00 per second",
                "hello from PrintUser",
                "to stderr from PrintUser",
                "[[]*] */WARNING/root: careful: PrintUser logged this",
            ],
        ),
        (
            passing_capture,
            [
                "*/INFO/locust.runners: Ramping to 1 users at a rate of 1.00 per second",
                "hello from PrintUser",
                "[[]*] */WARNING/root: careful: PrintUser logged this",
            ],
        ),
    ):
        for line in lines:
            pytest.LineMatcher(block.splitlines()).fnmatch_lines([line])
    assert "sending Authorization: Bearer [REDACTED]" in output
    junit = (pytester.path / "junit.xml").read_text()
    assert (
        "hello from PrintUser" in junit
    )  # JUnit keeps captured output with junit_logging: redacted there too
    assert "s3cr3t-t0ken-value" not in output + junit and "hunter2-s3cret" not in output + junit


def test_local_workers_lines_reach_pytest_prefixed_with_their_number(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_output=MODULE + WORKERS)
    result = run(pytester, target, "-rA", "-k", "workers")
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    for number in (1, 2):
        assert f"[worker {number}] hello from PrintUser" in output
        assert re.search(
            rf"^\[worker {number}\] \[[^]]+\] \S+/WARNING/root: careful: PrintUser", output, re.M
        )
    assert "/INFO/locust.runners: Sending spawn jobs of 2 users" in output  # the master's own Locust log


def test_under_s_the_output_is_on_the_terminal_while_the_scenario_runs(
    pytester: pytest.Pytester, target: TargetServer
) -> None:
    pytester.makepyfile(test_live=LIVE)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-s",
        "-v",
        "--load-host",
        target.url,
    ]
    seen: list[str] = []
    seen_at = None
    with pytester.popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            seen.append(raw.decode(errors="replace"))
            if "LIVE-LINE" in seen[-1] and seen_at is None:
                seen_at = time.monotonic()
        process.wait(timeout=60)
    ended_at = time.monotonic()
    output = "".join(seen)
    assert process.returncode == 0, output
    assert seen_at is not None, output
    assert ended_at - seen_at > 1.0, output  # it came while the 2 s scenario ran, not at its end
    assert output.index("LIVE-LINE") < output.index("PASSED")


def test_output_beyond_the_limit_is_counted_not_kept(pytester: pytest.Pytester, target: TargetServer) -> None:
    pytester.makepyfile(test_flood=FLOOD)
    result = run(pytester, target, "-rA")
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert len(output) < OUTPUT_LIMIT + 16_000
    left_out = re.search(r"pytest-loadtest: (\d+) more bytes of the engine's output were left out", output)
    assert left_out is not None, output[-3000:]
    assert 18_000_000 < int(left_out.group(1)) < 20_000_000
    assert f"(at most {OUTPUT_LIMIT} bytes are kept per load test)" in output


def test_the_same_lines_as_plain_locust_prints(pytester: pytest.Pytester, target: TargetServer) -> None:
    """Parity: the same file under ``locust --headless`` logs the same lines, in the same format."""
    locustfile = pytester.makepyfile(test_output=MODULE)
    plain = run_plain_locust(locustfile, "PrintUser", "-u", "1", "-r", "1", "-t", "1s", "--host", target.url)
    assert plain.returncode == 0, plain.log[-2000:]
    result = run(pytester, target, "-rA", "-k", "passing")
    result.assert_outcomes(passed=1)
    for output in (plain.log, result.stdout.str()):
        assert "to stderr from PrintUser" in output
        logged = {re.sub(r"^\[[^]]+\] ", "", line) for line in output.splitlines() if line.startswith("[20")}
        host = _host(output)
        expected = {
            f"{host}/WARNING/root: careful: PrintUser logged this",
            f"{host}/INFO/locust.runners: Ramping to 1 users at a rate of 1.00 per second",
        }
        assert expected <= logged, output[-3000:]


def _host(output: str) -> str:
    """The host name Locust's log format names (the same in both runs)."""
    found = re.search(r"^\[[^]]+\] ([^/\s]+)/", output, re.M)
    assert found is not None, output[-3000:]
    return found.group(1)


def test_the_pipe_passes_on_lines_bounded_and_survives_a_broken_receiver() -> None:
    lines: list[str] = []
    with EngineOutput(lines.append) as output:
        os.write(output.write_fd, b"one\ntw")
        output.read()
        assert lines == ["one\n"]  # "tw" waits for its newline
        for piece in (b"o\n" + b"z" * 35_000, b"z" * 35_000):  # a pipe holds 64 KB: read between writes
            os.write(output.write_fd, piece)
            output.read()
        output.hand_over()
        output.drain(5)
    assert lines[1:] == ["two\n", "z" * 65536 + "\n", "z" * (70_000 - 65536) + "\n"]
    assert output.tail.text(5) == ":\nzzzzz"

    def broken(line: str) -> None:
        raise OSError("the receiver is gone")

    with EngineOutput(broken) as output:
        os.write(output.write_fd, b"a\nb\n")
        output.hand_over()
        output.drain(5)  # no exception: the engine's pipe is still read to its end
        assert output.ended and output.tail.text() == ":\na\nb"


def test_warnings_are_counted_once_each_and_bounded() -> None:
    stream = io.StringIO()
    captured = CapturedOutput(stream, Redactor(), limit=200)
    for second in range(3):
        captured.write(f"[2026-01-01 00:00:0{second},000] h/WARNING/root: again\n")
    captured.write("[2026-01-01 00:00:03,000] h/INFO/locust.runners: not a warning\n")
    captured.write("[worker 2] [2026-01-01 00:00:04,000] h/ERROR/locust.runners: from a worker\n")
    for number in range(12):
        captured.write(f"[2026-01-01 00:00:05,000] h/WARNING/locust: distinct {number}\n")
    captured.finish()
    lines = captured.warnings().splitlines()
    assert lines[:3] == [
        "Logged at WARNING or above during the run:",
        "[2026-01-01 00:00:00,000] h/WARNING/root: again (3x)",
        "[worker 2] [2026-01-01 00:00:04,000] h/ERROR/locust.runners: from a worker",
    ]
    assert len(lines) == 1 + 10 + 1 and lines[-1] == "(and 4 more in the captured stderr)"
    written = stream.getvalue()
    assert len(written.encode()) < 200 + 200 and "more bytes of the engine's output were left out" in written
