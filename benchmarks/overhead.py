"""Overhead of the plugin against plain Locust, measured in the same run.

A fast loopback target (gevent WSGI with TCP_NODELAY, answering "ok") runs pinned to the last core; the generator
runs pinned to the first. The same FastHttpUser class (no wait: the generator's own capacity is what is compared)
runs by ``locust --headless -f file -u 50 -r 50 -t 10s`` and by a pytest session with the equivalent marked test,
interleaved for several rounds. Printed: requests/s of each (requests counted / the scenario's duration, for both:
Locust's own CSV figure divides by the time since its stats were last reset instead), the plugin / plain ratio per
round, overall and the median of the rounds' (goal >= 0.97), then the fixed cost per load test: a session of several 1-second scenarios, each test's JUnit time minus
its scenario's duration (goal < 0.3 s; the first test of a session also starts the fork server), with where that
time goes.

    .venv/bin/python benchmarks/overhead.py                       # 3 rounds of 10 s, 50 users
    .venv/bin/python benchmarks/overhead.py --rounds 5 --duration 20 --users 50 --json

The plugin's run passes --load-allow-saturation: 50 users without waits saturate one core by design here.

Plain Locust runs in a session of its own, as the plugin's engine process does: with the kernel's scheduler
autogroups (``/proc/sys/kernel/sched_autogroup_enabled``), a new session gets a CPU share of its own, so on a busy
machine a plain ``locust`` started from the same session as everything else measured ~1.8x slower than the engine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET = """
import socket, sys
from gevent import monkey

monkey.patch_all()
from gevent.pywsgi import WSGIServer


class NoDelay(WSGIServer):
    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


server = NoDelay(("127.0.0.1", 0), app, log=None)
server.start()
print(server.server_port, flush=True)
server.serve_forever()
"""
USERS = """
from locust import FastHttpUser, constant, task


class Fast(FastHttpUser):
    @task
    def root(self):
        self.client.get("/")


class Light(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def root(self):
        self.client.get("/")
"""
LOAD_TEST = """
import pytest
from users import Fast


@pytest.mark.load(Fast, users={users}, spawn_rate={users}, duration={duration})
def test_overhead():
    pass
"""
FIXED_COST_TESTS = """
import pytest
from users import Light


@pytest.mark.parametrize("n", range({count}))
@pytest.mark.load(Light, users=2, duration=1)
def test_fixed(n):
    pass
"""


def cores() -> tuple[set[int], set[int]]:
    """(generator cores, target cores): first and last available core; all of them on a single-core machine."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return set(available), set(available)
    return {available[0]}, {available[-1]}


@contextmanager
def target(on: set[int]) -> Iterator[str]:
    process = subprocess.Popen(
        [PYTHON, "-c", TARGET],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, on),
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{process.stdout.readline().strip()}"
    finally:
        process.terminate()
        process.wait(5)


def pinned(on: set[int]) -> Any:
    return lambda: os.sched_setaffinity(0, on)


def plain_locust(work: Path, host: str, users: int, duration: float, on: set[int]) -> dict[str, float]:
    prefix = work / "plain"
    command = [
        PYTHON, "-m", "locust", "--headless", "-f", str(work / "users.py"), "Fast", "-u", str(users),
        "-r", str(users), "-t", f"{duration:g}s", "--host", host, "--csv", str(prefix), "--json-file", str(prefix),
        "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    started = time.monotonic()
    subprocess.run(
        command,
        cwd=work,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=True,
        preexec_fn=pinned(on),
        start_new_session=True,  # as the plugin's engine process: see the note on autogroups above
    )
    wall = time.monotonic() - started
    with open(f"{prefix}_stats.csv") as source:
        total = next(row for row in csv.DictReader(source) if row["Name"] == "Aggregated")
    # the final stats: the CSV stats file is rewritten once a second, not at the end, so it misses up to a second
    requests = sum(entry["num_requests"] for entry in json.loads(Path(f"{prefix}.json").read_text()))
    return {
        "requests": requests,
        "rps": requests / duration,
        "locust_rps": float(total["Requests/s"]),
        "wall": wall,
    }


def plugin(work: Path, host: str, users: int, duration: float, on: set[int]) -> dict[str, float]:
    (work / "test_overhead.py").write_text(LOAD_TEST.format(users=users, duration=duration))
    junit = work / "overhead.xml"
    started = time.monotonic()
    session(
        work, ["test_overhead.py", "--load-host", host, "--load-allow-saturation", f"--junitxml={junit}"], on
    )
    wall = time.monotonic() - started
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    requests = int(properties["load.requests"])
    return {
        "requests": requests,
        "rps": requests / duration,
        "plugin_rps": float(properties["load.rps"]),
        "wall": wall,
    }


def session(work: Path, args: list[str], on: set[int]) -> None:
    command = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:randomly", *args]
    run = subprocess.run(
        command,
        cwd=work,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=pinned(on),
        check=False,
    )
    if run.returncode != 0:
        raise SystemExit(
            f"the pytest session failed (exit {run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-2000:]}"
        )


def fixed_cost(work: Path, host: str, count: int, on: set[int]) -> dict[str, Any]:
    """Each 1-second test's JUnit time (setup + call + teardown) minus its 1 s scenario; the session's wall time.

    The first test of a session also starts the fork server (imports Locust); the others fork an engine from it.
    """
    (work / "test_fixed.py").write_text(FIXED_COST_TESTS.format(count=count))
    junit = work / "fixed.xml"
    started = time.monotonic()
    session(work, ["test_fixed.py", "--load-host", host, f"--junitxml={junit}"], on)
    wall = time.monotonic() - started
    per_test = [float(case.get("time", 0)) - 1.0 for case in ET.parse(junit).getroot().iter("testcase")]
    return {
        "tests": count,
        "per_test": [round(cost, 3) for cost in per_test],
        "first": per_test[0],
        "median": statistics.median(per_test[1:]),
        "session_wall": wall,
        "session_overhead": wall - count * 1.0,
        "breakdown": breakdown(on),
        "engine": engine_phases(work, host, on, None),
        "engine_with_reports": engine_phases(work, host, on, str(work / "reports")),
    }


def engine_phases(work: Path, host: str, on: set[int], report_dir: str | None) -> dict[str, float]:
    """One 1-second scenario in an engine forked by a running fork server, through the engine protocol: seconds
    until its users start, and from the end of the scenario until its result arrives (stopping, snapshot, the
    per-scenario Locust reports)."""
    sys.path.insert(0, str(ROOT))
    from pytest_loadtest.engine.processes import ForkServer, engine_environment
    from pytest_loadtest.scenario import Scenario, UserClassRef

    scenario = Scenario("x", (UserClassRef("users", "Light", str(work / "users.py")),), 2, 2.0, 1.0, host)
    spec = {
        **scenario.to_spec(),
        "sys_path": [str(work), *sys.path],
        "report_dir": report_dir,
        "environ": engine_environment(),
        "cwd": str(work),
    }
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, on)  # the fork server and its engines inherit it
    try:
        with ForkServer() as server, tempfile.TemporaryFile() as stderr:
            for _ in range(
                2
            ):  # the first fork also starts the server: the second is what every later test costs
                started = time.monotonic()
                engine = server.fork(stderr)
                engine.send(json.dumps(spec).encode() + b"\n")
                marks = {}
                with engine.channel.makefile("rb") as lines:
                    for line in lines:
                        kind = json.loads(line)["type"]
                        marks.setdefault(kind, time.monotonic() - started)
                        if kind in ("result", "error"):
                            break
                engine.reap()
    finally:
        os.sched_setaffinity(0, affinity)
    return {"until_users_start": marks["started"], "after_duration": marks["result"] - marks["started"] - 1.0}


def breakdown(on: set[int]) -> dict[str, float]:
    """What starting the fork server costs, once per session: a fresh interpreter, importing Locust in one (gevent
    patching), and the engine's own modules."""

    def seconds(code: str) -> float:
        runs = []
        for _ in range(3):
            started = time.monotonic()
            subprocess.run([PYTHON, "-c", code], check=True, preexec_fn=pinned(on), capture_output=True)
            runs.append(time.monotonic() - started)
        return min(runs)

    bare = seconds("pass")
    with_locust = seconds("import locust")
    engine = seconds(
        "import locust; from pytest_loadtest.runtime import locust_run, cluster, client_guard, cpu_monitor"
    )
    return {
        "interpreter": bare,
        "import_locust": with_locust - bare,
        "import_engine_modules": engine - with_locust,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--fixed-tests", type=int, default=5, help="1-second tests for the fixed cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    generator_cores, target_cores = cores()
    rounds = []
    with tempfile.TemporaryDirectory() as directory, target(target_cores) as host:
        work = Path(directory)
        (work / "users.py").write_text(USERS)
        for number in range(1, args.rounds + 1):
            runs = (
                [plain_locust, plugin] if number % 2 else [plugin, plain_locust]
            )  # alternate who goes first
            measured = {run: run(work, host, args.users, args.duration, generator_cores) for run in runs}
            plain, embedded = measured[plain_locust], measured[plugin]
            rounds.append(
                {"round": number, "plain": plain, "plugin": embedded, "ratio": embedded["rps"] / plain["rps"]}
            )
            if not args.json:
                print(
                    f"round {number}: plain locust {plain['rps']:8.1f} req/s   plugin {embedded['rps']:8.1f} req/s   "
                    f"ratio {embedded['rps'] / plain['rps']:.3f}"
                )
        fixed = fixed_cost(work, host, args.fixed_tests, generator_cores)
    plain_rps = statistics.mean(r["plain"]["rps"] for r in rounds)
    plugin_rps = statistics.mean(r["plugin"]["rps"] for r in rounds)
    figures = {
        "users": args.users,
        "duration": args.duration,
        "generator_cores": sorted(generator_cores),
        "target_cores": sorted(target_cores),
        "rounds": rounds,
        "plain_rps": plain_rps,
        "plugin_rps": plugin_rps,
        "ratio": plugin_rps / plain_rps,
        "median_round_ratio": statistics.median(r["ratio"] for r in rounds),
        "fixed_cost": fixed,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"mean over {args.rounds} rounds: plain {plain_rps:.1f} req/s, plugin {plugin_rps:.1f} req/s, ratio "
        f"{plugin_rps / plain_rps:.3f}; median of the rounds' ratios {figures['median_round_ratio']:.3f}"
    )
    print(
        f"fixed cost per load test ({fixed['tests']} tests of 1 s): median {fixed['median']:.3f} s after the first, "
        f"which also starts the fork server: {fixed['first']:.3f} s "
        f"(each: {', '.join(f'{c:.2f}' for c in fixed['per_test'])}); session wall {fixed['session_wall']:.1f} s"
    )
    parts = fixed["breakdown"]
    print(
        f"  starting the fork server, once per session: a fresh interpreter {parts['interpreter']:.3f} s, "
        f"import locust {parts['import_locust']:.3f} s, the engine's own modules {parts['import_engine_modules']:.3f} s"
    )
    for label, key in (("without", "engine"), ("with", "engine_with_reports")):
        phases = fixed[key]
        print(
            f"  forked engine {label} per-scenario Locust reports: {phases['until_users_start']:.3f} s until the "
            f"users start, {phases['after_duration']:.3f} s from the end of the scenario to its result"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
