"""Distributed load benchmark: pytest-loadtest and plain Locust, one process and a master with two workers.

Four runs, each ``--users`` users for ``--duration`` seconds, interleaved ``--rounds`` times (default 3):

- pytest-loadtest, one process (``--load-workers 0``)
- pytest-loadtest, a master and two local workers (``--load-workers 2``)
- plain ``locust --headless``
- plain ``locust --master --expect-workers 2`` with two ``locust --worker`` processes

    .venv/bin/python benchmarks/distributed.py                     # 100 FastHttpUsers, 10 s per run
    .venv/bin/python benchmarks/distributed.py --users 50 --duration 5 --user-class HttpUser --json

**The verdict does not depend on either tool's accounting.** The target counts the responses it sends, per second of
the machine's monotonic clock; a run's rate is the mean over its steady seconds (the seconds with traffic, less the
first ``--settle`` and the last ``--settle``: the spawning and the stopping). The tools' own request counts are
printed next to it.

**Both tools start on equal terms.** Linux gives each session its own share of the CPU (scheduler autogroups), so
the layout is the same for both: every run starts in a session of its own, with stdin from /dev/null and output
captured, and the generating processes (a master and its workers, or the one process) share one session. The
plugin's engine and its workers are in a session the engine starts (the pytest process waits in the run's own);
plain Locust's master and workers are started by a launcher in the run's session. The target is in the
benchmark's session, the same for every run. Nothing is pinned; every process has the benchmark's CPU affinity.

The target is not CPU-bound: an asyncio server in its own process that answers every request after a fixed delay
(``--delay-ms``, default 2 ms) with a canned response, so each request costs it a few microseconds while it costs a
Locust user over a hundred; with enough users the load generator is the limit. It prints the machine's free cores
(idle time over a second before the first round) and the worker count ``--load-workers auto`` picks here.

Only loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

USERS_MODULE = """
from locust import {user_class}, constant, task


class BenchUser({user_class}):
    wait_time = constant(0)

    @task
    def ping(self):
        self.client.get("/")
"""

TEST_MODULE = """
import json
import os

import pytest
from bench_users import BenchUser


@pytest.mark.load(BenchUser, users=1)  # a keyword: a lone class argument would be taken as the decorated object
def test_bench(load_result):
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump(load_result.to_dict(), out)
"""

LAUNCHER = """
import json, subprocess, sys

workers, master = json.loads(sys.argv[1])
started = [subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for worker in workers]
code = subprocess.run(master).returncode
for process in started:
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
sys.exit(code)
"""
"""Plain Locust's master and workers in one session, as the plugin's engine and its workers are."""

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
SECONDS = 36_000
"""Seconds of counts the target keeps (ten hours from its start)."""


class _DelayedAnswer(asyncio.Protocol):
    """Answers each request ``delay`` seconds after it arrived, on a keep-alive connection, and counts the answer."""

    def __init__(self, delay: float, counts: Any, start: float) -> None:
        self.delay, self.counts, self.start = delay, counts, start
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            loop.call_later(self.delay, self._answer)

    def _answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE)
            self.counts[int(time.monotonic() - self.start)] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _serve(listener: socket.socket, delay: float, counts: Any, start: float) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _DelayedAnswer(delay, counts, start), sock=listener)
        await server.serve_forever()

    asyncio.run(main())


@dataclass
class Target:
    url: str
    counts: Any
    start: float

    def steady_rate(self, begin: float, end: float, settle: int) -> float:
        """Responses a second, the mean over the seconds of [begin, end] with traffic, less ``settle`` at each end."""
        seconds = range(int(begin - self.start), int(end - self.start) + 1)
        busy = [second for second in seconds if self.counts[second]]
        traffic = (
            range(busy[0], busy[-1] + 1) if busy else range(0)
        )  # a stalled second in between counts, as 0
        steady = traffic[settle : len(traffic) - settle]
        if not steady:
            raise SystemExit(
                f"the run had {len(busy)} seconds of traffic: too few to leave out {settle} at each end"
            )
        return statistics.fmean(self.counts[second] for second in steady)


@contextmanager
def delayed_target(delay_ms: float) -> Iterator[Target]:
    """The target in its own process, so that its CPU is not the generator's; its counts in shared memory."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    context = multiprocessing.get_context("fork")
    counts, start = context.RawArray("q", SECONDS), time.monotonic()
    process = context.Process(target=_serve, args=(listener, delay_ms / 1000, counts, start), daemon=True)
    process.start()
    try:
        yield Target(f"http://127.0.0.1:{listener.getsockname()[1]}", counts, start)
    finally:
        process.terminate()
        process.join(5)
        listener.close()


@dataclass
class Figures:
    run: str
    rps: float
    """Responses a second the target sent, over the run's steady seconds."""
    requests: int
    """Requests the tool counted."""
    failures: int
    p50: float
    p95: float


def plugin_run(name: str, workdir: Path, target: Target, args: argparse.Namespace, workers: int) -> Figures:
    out = workdir / f"{name}.json"
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bench.py",
        "--load-host", target.url, "--load-users", str(args.users), "--load-spawn-rate", str(args.users),
        "--load-duration", str(args.duration), "--load-workers", str(workers),
        "--load-allow-saturation",  # the generator is the limit here, by design
    ]  # fmt: skip
    begin = time.monotonic()
    finished = _run_in_own_session(command, workdir, {"BENCH_OUT": str(out)}, args.duration)
    end = time.monotonic()
    if finished.returncode != 0:
        raise SystemExit(
            f"{name}: pytest exited with {finished.returncode}:\n{finished.stdout}{finished.stderr}"
        )
    total = json.loads(out.read_text())["total"]
    histogram = {float(rt): count for rt, count in total["histogram"]}
    return Figures(
        name,
        target.steady_rate(begin, end, args.settle),
        total["num_requests"],
        total["num_failures"],
        _percentile(histogram, 0.50),
        _percentile(histogram, 0.95),
    )


def _percentile(histogram: dict[float, int], fraction: float) -> float:
    from pytest_loadtest.measure.result import histogram_percentile

    return histogram_percentile(histogram, sum(histogram.values()), fraction)


def locust_run(name: str, workdir: Path, target: Target, args: argparse.Namespace, workers: int) -> Figures:
    prefix = workdir / name
    common = [str(BIN / "locust"), "-f", "bench_users.py", "--skip-log-setup"]
    master = [
        *common, "--headless", "--only-summary", "--host", target.url, "-u", str(args.users), "-r", str(args.users),
        "-t", f"{args.duration}s", "--csv", str(prefix), "--json-file", str(prefix), "--stop-timeout", "5",
    ]  # fmt: skip
    port = str(_free_port())
    if workers:
        master += ["--master", "--expect-workers", str(workers), "--master-bind-port", port]
    worker = [*common, "--worker", "--master-port", port]
    begin = time.monotonic()
    launch = json.dumps([[worker] * workers, master])
    finished = _run_in_own_session([sys.executable, "-c", LAUNCHER, launch], workdir, {}, args.duration)
    end = time.monotonic()
    stats = Path(f"{prefix}.json")
    if not stats.exists():
        raise SystemExit(f"{name}: locust wrote no stats:\n{finished.stdout}{finished.stderr}")
    requests, failures, histogram = final_stats(stats)
    return Figures(
        name,
        target.steady_rate(begin, end, args.settle),
        requests,
        failures,
        _percentile(histogram, 0.50),
        _percentile(histogram, 0.95),
    )


def final_stats(path: Path) -> tuple[int, int, dict[float, int]]:
    """Requests, failures and the response-time histogram of every entry in plain Locust's ``--json-file``.

    Its final stats, complete: the ``--csv`` stats file is rewritten once a second and not at the end, so it misses
    up to the last second of the run (15% of a 6-second run, measured against what the target answered)."""
    requests = failures = 0
    histogram: dict[float, int] = {}
    for entry in json.loads(path.read_text()):
        requests += entry["num_requests"]
        failures += entry["num_failures"]
        for response_time, count in entry["response_times"].items():
            histogram[float(response_time)] = histogram.get(float(response_time), 0) + count
    return requests, failures, histogram


def _run_in_own_session(
    command: list[str], workdir: Path, env: dict[str, str], duration: int
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a session of its own; past its time, kill its whole process group (workers included)."""
    with subprocess.Popen(
        command,
        cwd=workdir,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=duration + 90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise SystemExit(f"{command[:3]}... did not finish within {duration + 90} s") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_cores(seconds: float = 1.0) -> float:
    """Cores' worth of idle time on this machine over ``seconds`` (from /proc/stat: idle and iowait)."""

    def idle_and_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(field) for field in stat.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])

    idle_before, total_before = idle_and_total()
    time.sleep(seconds)
    idle_after, total_after = idle_and_total()
    return (os.cpu_count() or 1) * (idle_after - idle_before) / max(total_after - total_before, 1)


Run = Callable[[str, Path, Target, argparse.Namespace, int], Figures]
RUNS: tuple[tuple[str, Run, int], ...] = (
    ("pytest-loadtest, 1 process", plugin_run, 0),
    ("pytest-loadtest, --load-workers 2", plugin_run, 2),
    ("locust --headless", locust_run, 0),
    ("locust --master + 2 --worker", locust_run, 2),
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10, help="whole seconds per run (default 10)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the four runs, interleaved (default 3)"
    )
    parser.add_argument(
        "--delay-ms", type=float, default=2.0, help="the target's answer delay (default 2 ms)"
    )
    parser.add_argument(
        "--settle", type=int, default=2, help="seconds left out at each end of a run's traffic (default 2)"
    )
    parser.add_argument("--user-class", choices=("FastHttpUser", "HttpUser"), default="FastHttpUser")
    parser.add_argument("--json", action="store_true", help="print every run's figures as JSON")
    args = parser.parse_args()
    from pytest_loadtest.settings.distribution import parse_workers

    idle = free_cores()
    load_before = os.getloadavg()[0]
    results: dict[str, list[Figures]] = {name: [] for name, _, _ in RUNS}
    with (
        tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp,
        delayed_target(args.delay_ms) as target,
    ):
        workdir = Path(tmp)
        (workdir / "bench_users.py").write_text(USERS_MODULE.format(user_class=args.user_class))
        (workdir / "test_bench.py").write_text(TEST_MODULE)
        # interleaved, so that a burst of other activity hits every kind of run, and each kind first and last
        for number in range(args.rounds):
            for name, run, workers in RUNS if number % 2 == 0 else RUNS[::-1]:
                results[name].append(run(name, workdir, target, args, workers))
    if args.json:
        print(json.dumps({name: [asdict(run) for run in runs] for name, runs in results.items()}, indent=2))
        return 0
    print(
        f"{args.users} {args.user_class}s, {args.duration} s per run, {args.rounds} rounds, target answers after "
        f"{args.delay_ms:g} ms; cores: {os.cpu_count()}, available to this process {len(os.sched_getaffinity(0))}, "
        f"free before the first round {idle:.2f}; --load-workers auto picks {parse_workers('auto')} here; load "
        f"average before {load_before:.2f}, after {os.getloadavg()[0]:.2f} (anything else running skews the figures)"
    )
    print(
        f"{'run (median req/s; others: nearest round)':<42} {'req/s':>7} {'counted':>9} {'failures':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7}  req/s of every round (at the target, steady seconds)"
    )
    medians = {}
    for name, runs in results.items():
        medians[name] = statistics.median(figures.rps for figures in runs)
        nearest = min(runs, key=lambda figures: abs(figures.rps - medians[name]))
        every = ", ".join(f"{figures.rps:.0f}" for figures in runs)
        print(
            f"{name:<42} {medians[name]:>7.0f} {nearest.requests:>9} {nearest.failures:>8} {nearest.p50:>7g} "
            f"{nearest.p95:>7g}  {every}"
        )
    one, two, plain_one, plain_two = medians.values()
    print(
        f"--load-workers 2 vs 1 process: {two / one:.2f}x   (plain Locust, 2 workers vs 1: {plain_two / plain_one:.2f}x)"
    )
    print(
        f"pytest-loadtest vs plain Locust: 1 process {one / plain_one:.2f}x, 2 workers {two / plain_two:.2f}x"
    )
    ratios = [
        f"{plugin.rps / plain.rps:.2f}/{plugin_two.rps / plain_two_run.rps:.2f}"
        for plugin, plugin_two, plain, plain_two_run in zip(*results.values(), strict=True)
    ]
    print(f"per round, 1 process / 2 workers: {', '.join(ratios)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
