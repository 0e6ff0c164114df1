"""Leak check: many short load scenarios in one pytest session leave the pytest process as it was.

Each scenario runs in its own engine process, forked by the session's fork server (its greenlets, sockets and Locust
state die with it), so what must stay flat is the pytest process (threads, greenlets, open file descriptors, sockets,
child processes besides the one fork server, RSS) and the fork server (its descriptors and RSS). The session samples
itself after every test; the baseline is the sample after the first scenario (one-time costs such as imports and
starting the fork server are paid by then).

    .venv/bin/python benchmarks/leaks.py                 # 100 scenarios of 0.3 s, prints the figures
    .venv/bin/python benchmarks/leaks.py --scenarios 10 --json

Exit status 1 when a bound is exceeded: any extra thread, greenlet, descriptor, socket, child process or fork server,
or RSS growth of the pytest process or the fork server over ``--rss-bound-mb`` (default 10 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.target import TargetServer  # noqa: E402  (needs the repository root on sys.path)

SAMPLER = """
import gc, json, os, threading
import greenlet, psutil, pytest

SAMPLES = []


def is_forkserver(process):
    return "pytest_loadtest.runtime.forkserver_main" in " ".join(process.cmdline())


def sample():
    process = psutil.Process()
    gc.collect()
    descendants = process.children(recursive=True)
    servers = [child for child in descendants if is_forkserver(child)]
    return {
        "threads": threading.active_count(),
        "os_threads": process.num_threads(),
        "greenlets": sum(isinstance(o, greenlet.greenlet) for o in gc.get_objects()),
        "fds": process.num_fds(),
        "sockets": len(process.net_connections(kind="all")),
        "children": len(descendants) - len(servers),
        "forkservers": len(servers),
        "forkserver_fds": sum(server.num_fds() for server in servers),
        "rss": process.memory_info().rss,
        "forkserver_rss": sum(server.memory_info().rss for server in servers),
    }


@pytest.hookimpl(trylast=True)  # after the plugin's own teardown of the test
def pytest_runtest_logfinish(nodeid, location):
    SAMPLES.append(sample())


def pytest_sessionfinish(session):
    with open(os.environ["LEAKS_SAMPLES"], "w") as out:
        json.dump(SAMPLES, out)
"""
TESTS = """
import pytest
from locust import FastHttpUser, HttpUser, constant, task


class FastUser(FastHttpUser):
    wait_time = constant(0.02)

    @task
    def health(self):
        self.client.get("/health")


class SlowUser(HttpUser):
    wait_time = constant(0.02)

    @task
    def health(self):
        self.client.get("/health")


@pytest.mark.parametrize("n", range({count}))
@pytest.mark.load(FastUser, SlowUser, users=4, duration={duration}, thresholds={{"requests": ">=1"}})
def test_short(n):
    pass
"""
COUNTS = ("threads", "os_threads", "greenlets", "fds", "sockets", "children", "forkservers", "forkserver_fds")


def measure(count: int, duration: float) -> dict[str, Any]:
    """Run ``count`` scenarios in one pytest session; the first and last samples and the growth between them."""
    with tempfile.TemporaryDirectory() as directory, TargetServer() as target:
        path = Path(directory)
        (path / "conftest.py").write_text(SAMPLER)
        (path / "test_leaks.py").write_text(TESTS.format(count=count, duration=duration))
        samples_file = path / "samples.json"
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--load-host", target.url],
            cwd=path,
            capture_output=True,
            text=True,
            env={**os.environ, "LEAKS_SAMPLES": str(samples_file)},
            check=False,
        )
        wall = time.monotonic() - started
        if run.returncode != 0:
            raise SystemExit(
                f"the session failed (exit {run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
            )
        samples = json.loads(samples_file.read_text())
    first, last = samples[0], samples[-1]
    return {
        "scenarios": count,
        "duration": duration,
        "wall_seconds": round(wall, 1),
        "first": first,
        "last": last,
        "growth": {key: last[key] - first[key] for key in (*COUNTS, "rss", "forkserver_rss")},
        "rss_growth_mb": round((last["rss"] - first["rss"]) / 2**20, 2),
        "forkserver_rss_growth_mb": round((last["forkserver_rss"] - first["forkserver_rss"]) / 2**20, 2),
        "rss_max_mb": round(max(s["rss"] for s in samples) / 2**20, 1),
    }


def problems(figures: dict[str, Any], rss_bound_mb: float) -> list[str]:
    """Every bound the figures exceed."""
    found = [f"{key} grew by {figures['growth'][key]}" for key in COUNTS if figures["growth"][key] > 0]
    if figures["last"]["children"]:
        found.append(f"{figures['last']['children']} child process(es) left")
    if figures["last"]["forkservers"] > 1:
        found.append(f"{figures['last']['forkservers']} fork servers (one per session)")
    for key, what in (("rss_growth_mb", "RSS"), ("forkserver_rss_growth_mb", "the fork server's RSS")):
        if figures[key] > rss_bound_mb:
            found.append(f"{what} grew by {figures[key]} MB (bound {rss_bound_mb} MB)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", type=int, default=100)
    parser.add_argument("--duration", type=float, default=0.3, help="seconds per scenario")
    parser.add_argument("--rss-bound-mb", type=float, default=10.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.scenarios, args.duration)
    found = problems(figures, args.rss_bound_mb)
    figures["problems"] = found
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{figures['scenarios']} scenarios of {figures['duration']} s in one session: {figures['wall_seconds']} s"
        )
        for key in (*COUNTS, "rss", "forkserver_rss"):
            print(f"  {key:14} first {figures['first'][key]:>12}  last {figures['last'][key]:>12}")
        print(f"  RSS growth {figures['rss_growth_mb']} MB, max {figures['rss_max_mb']} MB")
        print(f"  fork server RSS growth {figures['forkserver_rss_growth_mb']} MB")
        print("  " + ("; ".join(found) if found else "no leaks"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
