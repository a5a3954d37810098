"""Throughput benchmark: geocode the regression inputs repeated to N lines on one core."""

from __future__ import annotations

import argparse
import csv
import os
import time
from itertools import cycle, islice
from pathlib import Path

from .matcher import Geocoder
from .reference import load_reference

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT / "data"
REGRESSION_CSV = REPO_ROOT / "tests" / "data" / "addresses_regression.csv"
FALLBACK_INPUTS = ("伊万里市立花町1355番地1", "武雄市武雄町大字武雄5304番地1", "伊万里市大坪町一ノ坂乙4580番地2")


def _inputs(path: Path) -> list[str]:
    if not path.exists():
        return list(FALLBACK_INPUTS)
    with path.open(encoding="utf-8", newline="") as f:
        return [row["input"] for row in csv.DictReader(f)]


def _pin_one_core() -> None:
    # The batch path is single-threaded; pinning keeps the figure comparable on a busy machine.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run(n: int = 20_000, data_dir: Path = DEFAULT_DATA, inputs_csv: Path = REGRESSION_CSV) -> dict[str, float]:
    """Geocode n lines and return timings (build seconds, geocode seconds, addresses per second)."""
    t0 = time.perf_counter()
    geocoder = Geocoder(*load_reference(data_dir))
    built = time.perf_counter() - t0
    lines = list(islice(cycle(_inputs(inputs_csv)), n))
    t1 = time.perf_counter()
    count = sum(1 for _ in geocoder.geocode_many(lines))
    elapsed = time.perf_counter() - t1
    return {"lines": count, "build_s": built, "geocode_s": elapsed, "addresses_per_s": count / elapsed}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print addresses/s for N geocoded lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20_000, help="number of lines (default 20000)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    args = parser.parse_args(argv)
    if not args.no_pin:
        _pin_one_core()
    r = run(args.n, args.data_dir)
    print(
        f"geocode: {r['lines']:.0f} addresses in {r['geocode_s']:.2f} s = {r['addresses_per_s']:,.0f} addresses/s "
        f"(reference build {r['build_s'] * 1000:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
