#!/usr/bin/env python3
"""防災 report benchmark: the report's one SQL statement with the new hazard sections (shelters per need, flood
history, flood_risk, landslide_zones) and without them, beside the raw SQL of the same hazard answers.

    .venv/bin/python bench/hazards.py [--points 400] [--rounds 3]

Measured in one process with psycopg (prepared statements, one connection, sequential): the database cost of the
report, which is what the new sections add; the HTTP layer is unchanged by them. Points: seeded random clicks
inside the two cities (same list for every variant). Database: DATABASE_URL when set, else the embedded cluster
(`gis db url`); the bundled data is loaded when the shelters layer is empty. Never run it next to other
benchmarks or test runs. Writes bench/results-hazards.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from gis.lookup import sql as lookup_sql  # noqa: E402
from layers import LAYERS  # noqa: E402

HAZARD_LAYERS = ("shelters", "flood_history", "flood_risk", "landslide_zones")
# The hazard answers written by hand: the 3 nearest emergency sites per need and the 3 nearest 指定避難所 (KNN
# over the GiST index, exact metric order), whether the point is in the 2021 extent, the zones at the point.
RAW = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 6668) AS g)
SELECT json_build_object(
  'flood', (SELECT json_agg(x) FROM (SELECT s.name, ST_Distance(s.geom_m, ST_Transform(p.g, 6670)) AS d
            FROM shelters s, p WHERE s.kind = '指定緊急避難場所' AND s.flood ORDER BY s.geom <-> p.g LIMIT 3) x),
  'landslide', (SELECT json_agg(x) FROM (SELECT s.name, ST_Distance(s.geom_m, ST_Transform(p.g, 6670)) AS d
            FROM shelters s, p WHERE s.kind = '指定緊急避難場所' AND s.landslide ORDER BY s.geom <-> p.g LIMIT 3) x),
  'shelter', (SELECT json_agg(x) FROM (SELECT s.name, ST_Distance(s.geom_m, ST_Transform(p.g, 6670)) AS d
            FROM shelters s, p WHERE s.kind = '指定避難所' AND s.flood IS NOT FALSE ORDER BY s.geom <-> p.g LIMIT 3) x),
  'in_2021', (SELECT bool_or(ST_Intersects(f.geom, p.g)) FROM flood_history f, p WHERE f.geom && p.g),
  'flood_risk', (SELECT json_agg(r.depth_class) FROM flood_risk r, p WHERE ST_Intersects(r.geom, p.g)),
  'landslide_zones', (SELECT json_agg(z.zone_type) FROM landslide_zones z, p WHERE ST_Intersects(z.geom, p.g))
)::text
"""


def database_url() -> str:
    """DATABASE_URL, else the embedded cluster's URL (`gis db url`)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    gis = str(REPO / ".venv" / "bin" / "gis")
    return subprocess.run([gis, "db", "url"], capture_output=True, text=True, check=True).stdout.strip()


def points(conn: psycopg.Connection, n: int) -> list[tuple[float, float]]:
    """n seeded random points inside the two cities (rejection sampling in the cities' boxes)."""
    rng = random.Random(41206)
    boxes = conn.execute(
        "SELECT city_code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM municipalities"
    ).fetchall()
    out: list[tuple[float, float]] = []
    while len(out) < n:
        _, x0, y0, x1, y1 = boxes[len(out) % len(boxes)]
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        inside = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM municipalities "
            "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 6668)))",
            (lon, lat),
        ).fetchone()[0]
        if inside:
            out.append((lon, lat))
    return out


def report_sql(with_hazards: bool) -> str:
    """The report's statement as the service builds it, with or without the hazard layers' sections."""
    keep = {k: v for k, v in LAYERS.items() if with_hazards or k not in HAZARD_LAYERS}
    lookup_sql.point_sql.cache_clear()
    with mock.patch.object(lookup_sql, "LAYERS", keep):
        text = lookup_sql.point_sql()
    lookup_sql.point_sql.cache_clear()  # the service's statement is built from every layer again
    # asyncpg placeholders → psycopg ones
    return text.replace("$1", "%(lon)s").replace("$2", "%(lat)s").replace("$3", "%(reach)s")


def run(conn: psycopg.Connection, query: str, pts: list[tuple[float, float]], rounds: int) -> dict[str, float]:
    """Sequential executions of the query over the points: per-query latency percentiles and the rate."""
    for lon, lat in pts[:50]:  # warm-up
        conn.execute(query, {"lon": lon, "lat": lat, "reach": 0.0}, prepare=True).fetchone()
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(rounds):
        for lon, lat in pts:
            t = time.perf_counter()
            conn.execute(query, {"lon": lon, "lat": lat, "reach": 0.0}, prepare=True).fetchone()
            times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    times.sort()
    return {
        "n": len(times),
        "rate": len(times) / total,
        "p50": statistics.median(times) * 1000,
        "p95": times[int(len(times) * 0.95)] * 1000,
    }


def main() -> None:
    """Run the three variants and write bench/results-hazards.md."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    url = database_url()
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT count(*) FROM shelters").fetchone()[0]:
            from gis.ingest.loader import load_all

            load_all(conn, REPO / "data", log=lambda _: None)
        pts = points(conn, args.points)
        variants = {
            "report SQL with the hazard sections": report_sql(True),
            "report SQL without them": report_sql(False),
            "raw SQL of the hazard answers only": RAW,
        }
        results = {name: run(conn, q, pts, args.rounds) for name, q in variants.items()}
        version = conn.execute("SELECT version()").fetchone()[0].split(",")[0]
    lines = [
        "# Benchmark: the report with the 防災 sections",
        "",
        f"`.venv/bin/python bench/hazards.py --points {args.points} --rounds {args.rounds}` "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {version}, {os.cpu_count()} cores shared).",
        "",
        "One connection, prepared statements, sequential; seeded random points inside the two cities (every variant",
        "the same list). The report SQL is the service's own statement (`gis.lookup.sql.point_sql`) built with and",
        "without the layers shelters, flood_history, flood_risk, landslide_zones; the raw SQL answers only the",
        "hazard parts (3 nearest per need by KNN, in the 2021 extent, the zones at the point).",
        "",
        "| variant | queries | queries/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['n']:,} | {r['rate']:,.0f} | {r['p50']:.2f} | {r['p95']:.2f} |")
    with_h, without = results["report SQL with the hazard sections"], results["report SQL without them"]
    lines += [
        "",
        f"The hazard sections add {with_h['p50'] - without['p50']:.2f} ms at the median "
        f"({(with_h['p50'] / without['p50'] - 1) * 100:.0f} %); written by hand the same answers take "
        f"{results['raw SQL of the hazard answers only']['p50']:.2f} ms.",
        "",
    ]
    out = REPO / "bench" / "results-hazards.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
