#!/usr/bin/env python3
"""The public face under load: what a resident's search and tap cost, next to the raw SQL of the same answer.

    .venv/bin/python bench/public.py [--duration 10] [--connections 16] [--threads 2] [--workers 2]

Workloads (targets seeded, the same list for every system):
  geocode-address  GET /geocode?q=   the regression addresses (written, kana, romaji, old names, postcodes)
  geocode-place    GET /geocode?q=   place names of our layers (parks, cemeteries, facilities, shelters, stops)
  lookup           GET /lookup?lat=&lon=   the whole report with its summary, random points in both cities
  report           GET /report?lat=&lon=   the print view (HTML around the same report)
Systems:
  gis   `gis serve --workers N` (lookups are no-store: every request runs its SQL)
  raw   pgbench -M prepared running the report's one SQL statement (lookup and report rows only: the geocoder
        has no SQL counterpart, it answers from memory)

Uses the garbage bench's harness (wrk through ../shared/bench/wrk/paths.lua, pgbench with per-transaction logs).
Never run it next to other benchmarks or test runs. Writes bench/results-public.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import garbage as harness  # noqa: E402
import psycopg  # noqa: E402

from gis.geocode.landmarks import places_sql  # noqa: E402
from gis.lookup.sql import point_sql  # noqa: E402

WORK = REPO / "bench" / ".work" / "public"
WORKLOADS = ("geocode-address", "geocode-place", "lookup", "report")


def targets(url: str, seed: int = 41206) -> dict[str, list[str]]:
    """Paths per workload, and the points for the raw SQL."""
    rnd = random.Random(seed)
    with open(REPO / "tests" / "data" / "addresses_regression.csv", encoding="utf-8") as f:
        addresses = [row[0] for row in csv.reader(f)][1:]
    with psycopg.connect(url) as conn:
        names = sorted({r[0] for r in conn.execute(f"SELECT name FROM ({places_sql()}) p")})
        points = conn.execute(
            "SELECT ST_Y(p), ST_X(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 200, 41206))).geom p "
            "FROM municipalities) s"
        ).fetchall()
    rnd.shuffle(points)
    points = points[:300]
    return {
        "geocode-address": [f"/geocode?q={quote(a)}" for a in addresses],
        "geocode-place": [f"/geocode?q={quote(n)}" for n in names],
        "lookup": [f"/lookup?lat={lat:.6f}&lon={lon:.6f}" for lat, lon in points],
        "report": [f"/report?lat={lat:.6f}&lon={lon:.6f}" for lat, lon in points],
        "_points": [f"{lat:.6f},{lon:.6f}" for lat, lon in points],
    }


def _colonless(literal: str) -> str:
    """A SQL string literal with its colons spelled chr(58), so pgbench leaves it alone."""
    if ":" not in literal:
        return literal
    return "(" + " || chr(58) || ".join("'" + part + "'" for part in literal[1:-1].split(":")) + ")"


def raw_script(url: str, points: list[str]) -> Path:
    """A pgbench script running the report's statement at the same points (a table of them, picked at random)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench_public")
        conn.execute("DROP TABLE IF EXISTS bench_public.points")
        conn.execute("CREATE TABLE bench_public.points (i int PRIMARY KEY, lat float8, lon float8)")
        with conn.cursor().copy("COPY bench_public.points FROM STDIN") as cp:
            for i, p in enumerate(points, 1):
                lat, lon = p.split(",")
                cp.write_row((i, float(lat), float(lon)))
    sql = harness._bind(point_sql(), {1: ":lon", 2: ":lat", 3: "10"})
    # pgbench reads `:name` as a variable: spell the colons of the time formats as chr(58).
    sql = re.sub(r"'([^']*?)'", lambda m: _colonless(m.group(0)), sql)
    script = WORK / "lookup.sql"
    script.write_text(
        "\\set i random(1, :n)\nSELECT lat, lon FROM bench_public.points WHERE i = :i \\gset\n" + sql + ";\n"
    )
    return script


def main() -> None:
    """Run every workload against every system and write the results table."""
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    harness.WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    url = harness.database_url()
    harness.ensure_data(url)
    t = targets(url)
    rows: list[tuple[str, str, dict]] = []
    url_env = {"DATABASE_URL": url} if os.environ.get("DATABASE_URL") else {}
    proc = harness.start_server("gis", 8731, a.workers, url_env)
    try:
        for w in WORKLOADS:
            paths = WORK / f"{w}.txt"
            paths.write_text("\n".join(t[w]) + "\n")
            harness.run_wrk("http://127.0.0.1:8731", paths, a, 2)  # warm-up
            rows.append((w, "gis", harness.run_wrk("http://127.0.0.1:8731", paths, a, a.duration)))
            print(w, "gis", rows[-1][2], flush=True)
    finally:
        harness.stop_server(proc)
    raw = harness.run_pgbench(url, raw_script(url, t["_points"]), len(t["_points"]), a, a.duration)
    rows.append(("lookup", "raw SQL", raw))
    print("lookup raw", raw, flush=True)
    lines = [
        "# The public face under load",
        "",
        f"Run: {started}, command: `.venv/bin/python bench/public.py --duration {a.duration} --connections "
        f"{a.connections} --threads {a.threads} --workers {a.workers}` on this machine (2 cores: wrk, the server "
        "and PostgreSQL share them).",
        f"Targets: {len(t['geocode-address'])} regression addresses, {len(t['geocode-place'])} place names, "
        f"{len(t['lookup'])} random points in both cities. Raw SQL = pgbench running the report's one statement.",
        "",
        "| workload | system | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for w, system, r in rows:
        p50 = r["p50_us"] / 1000 if r["p50_us"] is not None else float("nan")
        p99 = r["p99_us"] / 1000 if r["p99_us"] is not None else float("nan")
        lines.append(f"| {w} | {system} | {r['rps']:,.0f} | {p50:.1f} | {p99:.1f} | {r['errors']} |")
    out = REPO / "bench" / "results-public.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
