#!/usr/bin/env python3
"""Cemetery search benchmark: the in-memory name index and the nearest statement next to plain SQL baselines.

    .venv/bin/python bench/cemeteries.py [--rounds 2000] [--copies 1]

- name: `CemeteryIndex.search` (what `GET /cemeteries?q=` runs once its answer is not cached) over seeded queries
  (whole names, names without the sample label, katakana readings, hiragana, one wrong character) next to an ILIKE
  over name and name_kana through psycopg (the nearest plain-SQL baseline: it finds no typo, reading or kana form,
  so it is not the same answer; the hit rate of both is printed).
- nearest: the service's statement (`gis.cemeteries.sql.nearest_sql`: GiST KNN, then metric distances) next to
  ORDER BY ST_Distance over every row.
`--copies N` repeats the rows N times in the index (the SQL side reads the table as it is), to see its growth.
The database is DATABASE_URL or the embedded cluster (`gis db url`). Never run it next to other benchmarks or test
runs. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from gis.cemeteries.search import build_index, strip_label  # noqa: E402
from gis.cemeteries.sql import nearest_sql, rows_sql  # noqa: E402

GIS = str(REPO / ".venv" / "bin" / "gis")


def database_url() -> str:
    """DATABASE_URL, or the embedded cluster's URL."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    return subprocess.run([GIS, "db", "url"], capture_output=True, text=True, check=True).stdout.split()[-1]


def queries(rows: list[dict], rng: random.Random, n: int = 200) -> list[str]:
    """Seeded queries: names with and without the label, readings, hiragana, one wrong character."""
    out = []
    for row in rng.choices(rows, k=n // 5):
        name = strip_label(row["name"])
        kana = row.get("name_kana") or name
        hira = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)
        i = rng.randrange(len(name))
        out += [row["name"], name, kana, hira, name[:i] + "時" + name[i + 1 :]]
    rng.shuffle(out)
    return out


def timed(fn, args: list, rounds: int) -> tuple[float, float]:  # noqa: ANN001
    """(p50, p99) in milliseconds of fn(arg) over `rounds` calls cycling through args."""
    laps = []
    for k in range(rounds):
        t0 = time.perf_counter()
        fn(args[k % len(args)])
        laps.append((time.perf_counter() - t0) * 1000)
    laps.sort()
    return statistics.median(laps), laps[int(0.99 * (len(laps) - 1))]


def main() -> None:
    """Run both comparisons and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--copies", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(41205)
    with psycopg.connect(database_url(), autocommit=True) as conn:
        rows = json.loads(conn.execute(rows_sql()).fetchone()[0])
        if not rows:
            sys.exit("no cemeteries: run `gis load` first")
        index = build_index(rows * args.copies)
        qs = queries(rows, rng)
        like = "SELECT id FROM cemeteries WHERE name ILIKE %s OR name_kana ILIKE %s LIMIT 5"
        hit_index = sum(bool(index.search(q, None, 5)) for q in qs) / len(qs)
        hit_sql = sum(bool(conn.execute(like, (f"%{q}%", f"%{q}%")).fetchall()) for q in qs) / len(qs)
        idx = timed(lambda q: index.search(q, None, 5), qs, args.rounds)
        sql = timed(lambda q: conn.execute(like, (f"%{q}%", f"%{q}%"), prepare=True).fetchall(), qs, args.rounds)
        pts = [(130.0 + rng.uniform(-0.15, 0.05), 33.2 + rng.uniform(-0.1, 0.15)) for _ in range(200)]
        near = nearest_sql().replace("$1", "%(lon)s").replace("$2", "%(lat)s").replace("$3", "%(n)s")
        naive = (
            "SELECT json_agg(x)::text FROM (SELECT id, name, round(ST_Distance(geom_m, "
            "ST_Transform(ST_SetSRID(ST_Point(%s, %s), 6668), 6670))::numeric, 1) AS d FROM cemeteries "
            "ORDER BY d, id LIMIT %s) x"
        )
        ours = timed(
            lambda p: conn.execute(near, {"lon": p[0], "lat": p[1], "n": 5}, prepare=True).fetchone(), pts, args.rounds
        )
        base = timed(lambda p: conn.execute(naive, (*p, 5), prepare=True).fetchone(), pts, args.rounds)
    print(f"cemeteries: {len(rows)} rows (index over {len(rows) * args.copies}); {args.rounds} calls each\n")
    print("| workload | system | p50 ms | p99 ms | queries answered |\n|---|---|---:|---:|---:|")
    print(f"| name | index (rapidfuzz + pykakasi keys) | {idx[0]:.3f} | {idx[1]:.3f} | {hit_index:.0%} |")
    print(f"| name | SQL ILIKE name/name_kana | {sql[0]:.3f} | {sql[1]:.3f} | {hit_sql:.0%} |")
    print(f"| nearest 5 | service SQL (KNN + metric) | {ours[0]:.3f} | {ours[1]:.3f} | |")
    print(f"| nearest 5 | ORDER BY ST_Distance (all rows) | {base[0]:.3f} | {base[1]:.3f} | |")


if __name__ == "__main__":
    main()
