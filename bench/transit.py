#!/usr/bin/env python3
"""Transit benchmark: next departures and the lookup report with its bus section, next to their raw SQL.

    .venv/bin/python bench/transit.py [--duration 10] [--connections 16] [--threads 2] [--workers 2]
                                      [--systems gis,gis-nocache,raw]

Workloads (seeded targets, the same list for every system):
  departures  GET /transit/stops/{id}/departures?at=&limit=10   (stations and lone boarding points of the two
              cities × moments from 06:00 to 21:00 over a week with a 祝日, 2026-11-22..28)
  report      GET /lookup?lat=&lon=   (points within ~300 m of a stop; the report holds the bus section)
Systems:
  gis          `gis serve --workers N` (response cache on)
  gis-nocache  the same with GIS_RESPONSE_CACHE_MIB=0 (every request runs its SQL)
  raw          pgbench -M prepared: departures = the endpoint's own statement (gis.transit.sql.DEPARTURES_SQL);
               report = the report's one statement (gis.lookup.sql.point_sql), and the same statement built
               without the bus section (`report-nobus`), which gives the section's cost.

Reuses the harness of bench/garbage.py (server start/stop, wrk, pgbench). Never run it next to other benchmarks
or test runs. Writes bench/results-transit.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import garbage as harness  # noqa: E402
import psycopg  # noqa: E402

import gis.lookup.sql as lookup_sql  # noqa: E402
from gis.lookup.service import CLICK_REACH_M  # noqa: E402
from gis.transit.sql import DEPARTURES_SQL  # noqa: E402
from layers import LAYERS  # noqa: E402

JST = ZoneInfo("Asia/Tokyo")
WORK = REPO / "bench" / ".work" / "transit"
SYSTEMS = ("gis", "gis-nocache", "raw")


def ensure_data(url: str) -> dict[str, int]:
    """Load the bundled data when there is no timetable; return row counts."""
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM transit_stop_times)").fetchone()[0]:
            print("loading the bundled data (gis load) ...", flush=True)
            subprocess.run([harness.GIS, "load"], check=True, env={**os.environ, "DATABASE_URL": url})
        tables = ("bus_stops", "bus_routes", "transit_trips", "transit_stop_times", "transit_service_days")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def make_targets(url: str, seed: int = 41206) -> dict[str, list[tuple]]:
    """Seeded targets: (stop, moment) for departures, (lat, lon) for the report."""
    rnd = random.Random(seed)
    with psycopg.connect(url) as conn:
        stops = [r[0] for r in conn.execute("SELECT stop_id FROM bus_stops WHERE parent_station IS NULL ORDER BY 1")]
        points = conn.execute("SELECT ST_Y(geom), ST_X(geom) FROM bus_stops ORDER BY stop_id").fetchall()
    start = datetime(2026, 11, 22, 6, 0, tzinfo=JST)
    departures = [
        (rnd.choice(stops), (start + timedelta(days=rnd.randrange(7), minutes=rnd.randrange(15 * 60))).isoformat())
        for _ in range(2000)
    ]
    report = []
    for _ in range(500):
        lat, lon = rnd.choice(points)
        report.append((round(lat + rnd.uniform(-0.003, 0.003), 6), round(lon + rnd.uniform(-0.003, 0.003), 6)))
    return {"departures": departures, "report": report, "report-nobus": report}


def http_paths(t: dict[str, list[tuple]]) -> dict[str, list[str]]:
    """The request paths of each HTTP workload."""
    return {
        "departures": [
            f"/transit/stops/{s}/departures?at={a.replace('+', '%2B')}&limit=10" for s, a in t["departures"]
        ],
        "report": [f"/lookup?lat={lat}&lon={lon}" for lat, lon in t["report"]],
    }


def store_targets(url: str, t: dict[str, list[tuple]]) -> None:
    """Schema bench_transit: the targets as numbered tables, read by the pgbench scripts."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_transit CASCADE")
        conn.execute("CREATE SCHEMA bench_transit")
        conn.execute("CREATE TABLE bench_transit.departures (i int PRIMARY KEY, stop text, at timestamptz)")
        conn.execute("CREATE TABLE bench_transit.report (i int PRIMARY KEY, lat float8, lon float8)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_transit.departures VALUES (%s, %s, %s)",
                [(i + 1, s, a) for i, (s, a) in enumerate(t["departures"])],
            )
            cur.executemany(
                "INSERT INTO bench_transit.report VALUES (%s, %s, %s)",
                [(i + 1, lat, lon) for i, (lat, lon) in enumerate(t["report"])],
            )


def _report_sql(with_bus: bool) -> str:
    """point_sql() with or without the bus section (the same builder, the layer left out)."""
    if with_bus:
        return lookup_sql.point_sql()
    saved = LAYERS.pop("bus_stops")
    try:
        lookup_sql.point_sql.cache_clear()
        return lookup_sql.point_sql()
    finally:
        LAYERS["bus_stops"] = saved
        lookup_sql.point_sql.cache_clear()


def _colons(sql: str) -> str:
    """pgbench reads ':name' inside string literals (time formats such as 'HH24:MI') as variables: the same text,
    with each colon inside a literal spelled chr(58)."""
    return re.sub(
        r"'[^']*'", lambda m: m.group(0).replace(":", "' || chr(58) || '") if ":" in m.group(0) else m.group(0), sql
    )


def pgbench_scripts() -> dict[str, str]:
    """The raw statements as pgbench scripts (targets read with \\gset)."""
    pick = "\\set i random(1, :n)\nSELECT {} FROM bench_transit.{} WHERE i = :i \\gset\n"
    bind = lambda sql, v: _colons(" ".join(harness._bind(sql, v).split()))  # noqa: E731
    report = {1: ":lon", 2: ":lat", 3: str(float(CLICK_REACH_M))}
    return {
        "departures": pick.format("stop, at", "departures")
        + bind(DEPARTURES_SQL, {1: ":stop", 2: ":at", 3: "10"}).strip()
        + ";\n",
        "report": pick.format("lat, lon", "report") + bind(_report_sql(True), report) + ";\n",
        "report-nobus": pick.format("lat, lon", "report") + bind(_report_sql(False), report) + ";\n",
    }


def report_md(results: dict, counts: dict, a: argparse.Namespace, started: str) -> str:
    """The markdown report."""
    ms = lambda us: f"{us / 1000:.2f}" if us is not None else "—"  # noqa: E731
    lines = [
        "# Benchmark: next departures and the report's bus section, next to their raw SQL",
        "",
        f"Run: {started} (UTC), command: `{' '.join(sys.argv)}`; {os.cpu_count()} cores; wrk -t{a.threads} "
        f"-c{a.connections}, pgbench -c{a.connections} -j{a.threads}, {a.duration} s per cell after a "
        f"{a.warmup} s warm-up; server `gis serve --workers {a.workers}`. Same machine, same database.",
        "",
        "Data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        "",
        "| workload | system | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (w, s), r in sorted(results.items()):
        lines.append(f"| {w} | {s} | {r['rps']:,.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {r['errors']} |")
    lines += [
        "",
        "- departures: the endpoint answers with the statement `raw` runs (stop, feed, departures as one JSON); "
        "gis adds HTTP, parameter checks, the source lookup and the cache.",
        "- report vs report-nobus (raw): the cost of the bus section (3 nearest stops, 3 departures each) inside "
        "the report's one statement. The HTTP report always holds the section.",
        "- gis answers from the response cache after the warm-up; gis-nocache runs the SQL on every request.",
        "- The departures targets are 2,000 distinct (stop, moment) pairs and each worker has its own cache, so "
        "within a short run part of the `gis` requests still run their SQL (mixed cached/uncached).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--port", type=int, default=8105)
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--out", default=str(REPO / "bench" / "results-transit.md"))
    a = p.parse_args()
    a.systems = [s for s in a.systems.split(",") if s]
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    WORK.mkdir(parents=True, exist_ok=True)
    harness.WORK.mkdir(parents=True, exist_ok=True)
    url = harness.database_url()
    counts = ensure_data(url)
    targets = make_targets(url)
    store_targets(url, targets)
    files = {}
    for w, lines in http_paths(targets).items():
        files[w] = WORK / f"{w}.txt"
        files[w].write_text("\n".join(lines) + "\n", encoding="utf-8")
    scripts = {}
    for w, text in pgbench_scripts().items():
        scripts[w] = WORK / f"{w}.sql"
        scripts[w].write_text(text, encoding="utf-8")
    url_env = {"DATABASE_URL": url} if os.environ.get("DATABASE_URL") else {}
    results: dict[tuple[str, str], dict] = {}
    try:
        for k, system in enumerate(a.systems):
            if system == "raw":
                for w, script in scripts.items():
                    n = len(targets[w])
                    harness.run_pgbench(url, script, n, a, a.warmup)
                    results[(w, system)] = harness.run_pgbench(url, script, n, a, a.duration)
                    print(w, system, results[(w, system)], flush=True)
                continue
            port = a.port + k
            proc = harness.start_server(system, port, a.workers, url_env)
            try:
                for w, f in files.items():
                    harness.run_wrk(f"http://127.0.0.1:{port}", f, a, a.warmup)
                    results[(w, system)] = harness.run_wrk(f"http://127.0.0.1:{port}", f, a, a.duration)
                    print(w, system, results[(w, system)], flush=True)
            finally:
                harness.stop_server(proc)
    finally:
        with psycopg.connect(url) as conn:
            conn.execute("DROP SCHEMA IF EXISTS bench_transit CASCADE")
    Path(a.out).write_text(report_md(results, counts, a, started), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
