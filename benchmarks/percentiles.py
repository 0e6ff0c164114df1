"""Percentile accuracy and cost: Locust's default bucketing vs 3 significant digits (ours) vs an HdrHistogram.

For several latency distributions, every structure records the same samples; its percentiles are compared with the
exact ones (the same nearest-rank rule over the raw values). Cost is what one recorded sample costs: the bucketing
function alone, Locust's whole ``RequestStats.log_request`` with that bucketing installed, and for HdrHistogram its
``record_value`` (it would come on top of Locust's own stats, which the HTML report and CSV files still need).

    .venv/bin/python benchmarks/percentiles.py                     # 200,000 samples per distribution
    .venv/bin/python benchmarks/percentiles.py --samples 50000 --json
    pip install --target /tmp/hdr hdrhistogram && PYTHONPATH=/tmp/hdr .venv/bin/python benchmarks/percentiles.py

HdrHistogram (PyPI ``hdrhistogram``) is measured only when importable; it is not a dependency of the plugin.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import timeit
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import locust.stats

from pytest_loadtest.measure.result import histogram_percentile
from pytest_loadtest.runtime.locust_run import three_significant_digits

PERCENTILES = (0.5, 0.9, 0.95, 0.99, 0.999)
LOCUST_DEFAULT = locust.stats.bucket_response_time
BUCKETINGS: dict[str, Callable[[float], float]] = {
    "locust default (~2 digits)": LOCUST_DEFAULT,
    "3 significant digits": three_significant_digits,
}


def distributions(count: int, rng: random.Random) -> dict[str, list[float]]:
    return {
        "lognormal, median 50 ms": [rng.lognormvariate(3.9, 0.6) for _ in range(count)],
        "uniform 50-400 ms": [rng.uniform(50, 400) for _ in range(count)],
        "bimodal 2 ms / 200 ms": [
            rng.gauss(2, 0.3) if rng.random() < 0.8 else rng.gauss(200, 20) for _ in range(count)
        ],
        "196 ms +- 1": [rng.uniform(195.5, 196.9) for _ in range(count)],
        "204 ms +- 1": [rng.uniform(203.5, 204.9) for _ in range(count)],
        "207.4 ms +- 0.5": [rng.uniform(206.9, 207.9) for _ in range(count)],
        "1-5 s": [rng.uniform(1000, 5000) for _ in range(count)],
    }


def exact(times: list[float]) -> dict[float, float]:
    histogram = Counter(times)
    return {q: histogram_percentile(histogram, len(times), q) for q in PERCENTILES}


def bucketed(times: list[float], bucket: Callable[[float], float]) -> dict[float, float]:
    histogram = Counter(bucket(max(rt, 0.0)) for rt in times)
    return {q: histogram_percentile(histogram, len(times), q) for q in PERCENTILES} | {"keys": len(histogram)}


def hdr(times: list[float]) -> dict[float, float] | None:
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        return None
    histogram = HdrHistogram(1, 3_600_000_000, 3)  # microseconds up to an hour, 3 significant digits
    for rt in times:
        histogram.record_value(max(int(rt * 1000), 1))
    return {q: histogram.get_value_at_percentile(q * 100) / 1000 for q in PERCENTILES} | {"keys": None}


def errors(measured: dict[float, float], truth: dict[float, float]) -> dict[str, float]:
    return {f"p{q * 100:g}": abs(measured[q] - truth[q]) / truth[q] for q in PERCENTILES}


def accuracy(count: int, seed: int) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    for name, times in distributions(count, random.Random(seed)).items():
        truth = exact(times)
        row: dict[str, Any] = {}
        for label, bucket in BUCKETINGS.items():
            measured = bucketed(times, bucket)
            row[label] = {"max_error": max(errors(measured, truth).values()), "keys": measured["keys"]}
        measured_hdr = hdr(times)
        if measured_hdr is not None:
            row["HdrHistogram (3 digits)"] = {
                "max_error": max(errors(measured_hdr, truth).values()),
                "keys": None,
            }
        figures[name] = row
    return figures


def cost(count: int, seed: int) -> dict[str, dict[str, float]]:
    """Nanoseconds per sample: the bucketing alone, and Locust's whole log_request with it installed."""
    rng = random.Random(seed)
    times = [rng.lognormvariate(3.9, 0.6) for _ in range(count)]
    figures: dict[str, dict[str, float]] = {}
    for label, bucket in BUCKETINGS.items():
        alone = min(timeit.repeat(lambda b=bucket: [b(rt) for rt in times], number=1, repeat=3)) / count
        locust.stats.bucket_response_time = bucket
        stats = locust.stats.RequestStats()
        logged = min(
            timeit.repeat(
                lambda s=stats: [s.log_request("GET", "/x", rt, 100) for rt in times], number=1, repeat=3
            )
        )
        figures[label] = {"bucket_ns": alone * 1e9, "log_request_ns": logged / count * 1e9}
    locust.stats.bucket_response_time = LOCUST_DEFAULT
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        return figures
    histogram = HdrHistogram(1, 3_600_000_000, 3)
    record = min(
        timeit.repeat(lambda: [histogram.record_value(int(rt * 1000)) for rt in times], number=1, repeat=3)
    )
    figures["HdrHistogram (3 digits)"] = {"record_value_ns": record / count * 1e9}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=200_000, help="samples per distribution")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {"accuracy": accuracy(args.samples, args.seed), "cost": cost(args.samples, args.seed)}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"largest relative error of p50/p90/p95/p99/p99.9 vs exact, {args.samples:,} samples each (keys stored)"
    )
    for name, row in figures["accuracy"].items():
        cells = "  ".join(
            f"{label}: {cell['max_error']:.3%}" + (f" ({cell['keys']} keys)" if cell["keys"] else "")
            for label, cell in row.items()
        )
        print(f"  {name:24} {cells}")
    print("cost per recorded sample")
    for label, cell in figures["cost"].items():
        print(f"  {label:28} " + "  ".join(f"{key} {value:.0f}" for key, value in cell.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
