"""Distributed load benchmark: requests/s of one process vs ``--load-workers 2``, and plain Locust in the same run.

The target is not CPU-bound: an asyncio server in its own process that answers every request after a fixed delay
(``--delay-ms``, default 2 ms) with a canned response, so each request costs it a few microseconds while it costs a
Locust user over a hundred; with enough users the load generator is the limit. Four runs, each ``--users`` users for
``--duration`` seconds, one after the other:

- pytest-loadtest, one process (``--load-workers 0``)
- pytest-loadtest, a master and two local workers (``--load-workers 2``)
- plain ``locust --headless``
- plain ``locust --master --expect-workers 2`` with two ``locust --worker`` processes

``--rounds`` times (default 3), interleaved; it prints the median round of each and every round's requests/s.

    .venv/bin/python benchmarks/distributed.py                     # 100 FastHttpUsers, 10 s per run
    .venv/bin/python benchmarks/distributed.py --users 50 --duration 5 --user-class HttpUser --json

Only loopback. The figures depend on the cores free for the generators: the master, the workers and the target
share this machine's cores (``os.sched_getaffinity`` is printed with the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

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

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class _DelayedAnswer(asyncio.Protocol):
    """Answers each request (headers only, no body) ``delay`` seconds after it arrived, on a keep-alive connection."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
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

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _serve(listener: socket.socket, delay: float) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(lambda: _DelayedAnswer(delay), sock=listener)
        await server.serve_forever()

    asyncio.run(main())


@contextmanager
def delayed_target(delay_ms: float) -> Iterator[str]:
    """The target in its own process, so that its CPU is not the generator's."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(listener, delay_ms / 1000), daemon=True
    )
    process.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        process.terminate()
        process.join(5)
        listener.close()


@dataclass
class Figures:
    run: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float


def plugin_run(name: str, workdir: Path, host: str, args: argparse.Namespace, workers: int) -> Figures:
    out = workdir / f"{name}.json"
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bench.py",
        "--load-host", host, "--load-users", str(args.users), "--load-duration", str(args.duration),
        "--load-workers", str(workers), "--load-allow-saturation",  # the generator is the limit here, by design
    ]  # fmt: skip
    finished = subprocess.run(
        command, cwd=workdir, env={**os.environ, "BENCH_OUT": str(out)}, capture_output=True, text=True
    )
    if finished.returncode != 0:
        raise SystemExit(
            f"{name}: pytest exited with {finished.returncode}:\n{finished.stdout}{finished.stderr}"
        )
    result = json.loads(out.read_text())
    total = result["total"]
    histogram = {float(rt): count for rt, count in total["histogram"]}
    return Figures(
        name,
        total["num_requests"],
        total["num_failures"],
        total["num_requests"] / result["elapsed"],
        _percentile(histogram, 0.50),
        _percentile(histogram, 0.95),
    )


def _percentile(histogram: dict[float, int], fraction: float) -> float:
    from pytest_loadtest.measure.result import histogram_percentile

    return histogram_percentile(histogram, sum(histogram.values()), fraction)


def locust_run(name: str, workdir: Path, host: str, args: argparse.Namespace, workers: int) -> Figures:
    prefix = workdir / name
    common = ["-f", "bench_users.py", "--skip-log-setup"]
    master = [
        str(BIN / "locust"), *common, "--headless", "--only-summary", "--host", host, "-u", str(args.users),
        "-r", str(args.users), "-t", f"{args.duration}s", "--csv", str(prefix), "--stop-timeout", "5",
    ]  # fmt: skip
    port = _free_port()
    if workers:
        master += ["--master", "--expect-workers", str(workers), "--master-bind-port", str(port)]
    started = [
        subprocess.Popen(
            [str(BIN / "locust"), *common, "--worker", "--master-port", str(port)],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        finished = subprocess.run(
            master, cwd=workdir, capture_output=True, text=True, timeout=args.duration + 60
        )
    finally:
        for worker in started:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise SystemExit(f"{name}: locust wrote no stats:\n{finished.stdout}{finished.stderr}")
    with stats.open() as handle:
        row = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return Figures(
        name,
        int(row["Request Count"]),
        int(row["Failure Count"]),
        int(row["Request Count"]) / args.duration,  # as the plugin counts: requests over the run's duration
        float(row["50%"]),
        float(row["95%"]),
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


RUNS = (
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
    parser.add_argument("--user-class", choices=("FastHttpUser", "HttpUser"), default="FastHttpUser")
    parser.add_argument("--json", action="store_true", help="print every run's figures as JSON")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results: dict[str, list[Figures]] = {name: [] for name, _, _ in RUNS}
    with (
        tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp,
        delayed_target(args.delay_ms) as host,
    ):
        workdir = Path(tmp)
        (workdir / "bench_users.py").write_text(USERS_MODULE.format(user_class=args.user_class))
        (workdir / "test_bench.py").write_text(TEST_MODULE)
        for _ in range(args.rounds):  # interleaved, so that a burst of other activity hits every kind of run
            for name, run, workers in RUNS:
                results[name].append(run(name, workdir, host, args, workers))
    if args.json:
        print(json.dumps({name: [asdict(run) for run in runs] for name, runs in results.items()}, indent=2))
        return 0
    print(
        f"{args.users} {args.user_class}s, {args.duration} s per run, {args.rounds} rounds, target answers after "
        f"{args.delay_ms:g} ms; cores available: {len(os.sched_getaffinity(0))}; load average before "
        f"{load_before:.2f}, after {os.getloadavg()[0]:.2f} (anything else running skews the figures)"
    )
    print(
        f"{'run (the median round)':<36} {'requests':>9} {'failures':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}  req/s of every round"
    )
    medians = {}
    for name, runs in results.items():
        median = sorted(runs, key=lambda figures: figures.rps)[len(runs) // 2]
        medians[name] = median.rps
        every = ", ".join(f"{figures.rps:.0f}" for figures in runs)
        print(
            f"{name:<36} {median.requests:>9} {median.failures:>8} {median.rps:>7.0f} {median.p50:>7g} "
            f"{median.p95:>7g}  {every}"
        )
    one, two, plain_one, plain_two = medians.values()
    print(
        f"--load-workers 2 vs 1 process: {two / one:.2f}x   (plain Locust, 2 workers vs 1: {plain_two / plain_one:.2f}x)"
    )
    print(
        f"pytest-loadtest vs plain Locust: 1 process {one / plain_one:.2f}x, 2 workers {two / plain_two:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
