"""`python -m gis.sample [--out DIR] [--seed N]`: regenerate the sample data files."""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from gis.sample import DEFAULT_SEED, N_FARMLAND, generate

REPO = Path(__file__).resolve().parents[2]


def count_rows(path: Path) -> int:
    """Features of a GeoJSON file or data rows of a CSV file."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8") as f:
            return sum(1 for _ in csv.DictReader(f))
    return len(json.loads(path.read_text(encoding="utf-8"))["features"])


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, generate, and print one line per file."""
    parser = argparse.ArgumentParser(prog="python -m gis.sample", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "sample", help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 41205)")
    parser.add_argument("--farmland", type=int, default=N_FARMLAND, help="number of farmland parcels")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = generate(REPO / "data", args.out, seed=args.seed, n_farmland=args.farmland)
    for name, path in paths.items():
        size = path.stat().st_size
        print(f"{name:<20} {count_rows(path):>7} rows  {size / 1e6:>6.2f} MB  {path}")
    print(f"generated in {time.perf_counter() - start:.1f} s (seed {args.seed})")


if __name__ == "__main__":
    main()
