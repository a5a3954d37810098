#!/usr/bin/env python3
"""Garbage API benchmark: our endpoints under wrk next to the raw SQL of the same answer under pgbench.

    .venv/bin/python bench/garbage.py [--duration 15] [--connections 16] [--threads 2] [--workers 2]
                                      [--workloads points,calendar,ics,items] [--systems gis,gis-nocache,raw]

Workloads (targets seeded, the same list for every system):
  points    GET /garbage/points?lat=&lon=&limit=3   (nearest 3 points with the next day per category)
  calendar  GET /garbage/groups/{id}/calendar?from=&to=   (one calendar month)
  ics       GET /garbage/groups/{id}/calendar.ics?alarm=   (12 months, a VALARM per event)
  items     GET /garbage/items?q=   (names, readings, romaji, typos, English names)
Systems:
  gis          `gis serve --workers N` (response cache on: after the warm-up most answers come from memory)
  gis-nocache  the same with GIS_RESPONSE_CACHE_MIB=0 (every request runs its SQL; the item index stays cached)
  raw          pgbench -M prepared running the service's own SQL for points/calendar/ics; for items, an ILIKE
               over name, reading, romaji and names (the nearest plain-SQL baseline: it finds no typos)

The database is DATABASE_URL when set (GIS_PUBLIC_PASSWORD must then be set too), else the embedded cluster
(`gis db url`); the bundled data is loaded when the garbage calendar is empty. Never run it next to other
benchmarks or test runs: wrk, the server and PostgreSQL share the machine's cores. Writes bench/results-garbage.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from gis.garbage.params import add_months  # noqa: E402
from gis.garbage.sql import calendar_sql, points_sql  # noqa: E402

GIS = str(REPO / ".venv" / "bin" / "gis")
SHARED = Path(os.environ.get("BENCH_SHARED", REPO.parent / "shared" / "bench"))
WORK = REPO / "bench" / ".work" / "garbage"
WORKLOADS = ("points", "calendar", "ics", "items")
SYSTEMS = ("gis", "gis-nocache", "raw")
JST_TODAY = "(now() AT TIME ZONE 'Asia/Tokyo')::date"


def sh(cmd: list[str], **kw: object) -> str:
    """Run a command, return its stdout (raises with its stderr on failure)."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout.strip()


def database_url() -> str:
    """DATABASE_URL, or the embedded cluster's URL (started and migrated by `gis db url`)."""
    return os.environ.get("DATABASE_URL") or sh([GIS, "db", "url"]).splitlines()[-1]


def ensure_data(url: str) -> dict[str, int]:
    """Load the bundled data when the garbage calendar is empty; return row counts."""
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM garbage_events)").fetchone()[0]:
            print("loading the bundled data (gis load) ...", flush=True)
            subprocess.run([GIS, "load"], check=True, env={**os.environ, "DATABASE_URL": url})
        tables = ("garbage_points", "garbage_groups", "garbage_events", "garbage_exceptions", "garbage_items")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def make_targets(url: str, seed: int = 41205) -> dict[str, list[tuple]]:
    """Seeded targets, also stored in schema bench_garbage for the pgbench scripts."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        pts = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM garbage_points ORDER BY id").fetchall()
        groups = [r[0] for r in conn.execute("SELECT group_id FROM garbage_groups ORDER BY group_id")]
        items = conn.execute("SELECT name, reading, romaji, names->>'en' FROM garbage_items ORDER BY id").fetchall()
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    points = []
    for _ in range(400):  # near a real point, up to ~300 m off
        lon, lat = rng.choice(pts)
        points.append((round(lat + rng.uniform(-0.0027, 0.0027), 6), round(lon + rng.uniform(-0.0032, 0.0032), 6)))
    months = [add_months(today.replace(day=1), k) for k in range(12)]
    calendar = [(g, m, add_months(m, 1) - timedelta(days=1)) for g in groups for m in months]
    ics = [(g, a) for g in groups for a in ("18:00", "19:00", "20:00", "21:00")]
    queries: list[str] = []
    for name, reading, romaji, en in rng.sample(items, min(60, len(items))):
        queries += [name, reading or name, romaji or name, (reading or name)[:-1] + "お", en or name]
    rng.shuffle(queries)
    return {"points": points, "calendar": calendar, "ics": ics, "items": [(q,) for q in queries]}


def http_paths(t: dict[str, list[tuple]]) -> dict[str, list[str]]:
    """Request paths per workload."""
    return {
        "points": [f"/garbage/points?lat={lat}&lon={lon}&limit=3" for lat, lon in t["points"]],
        "calendar": [f"/garbage/groups/{quote(g)}/calendar?from={a}&to={b}" for g, a, b in t["calendar"]],
        "ics": [f"/garbage/groups/{quote(g)}/calendar.ics?alarm={a}" for g, a in t["ics"]],
        "items": [f"/garbage/items?q={quote(q)}" for (q,) in t["items"]],
    }


def store_targets(url: str, t: dict[str, list[tuple]]) -> None:
    """Schema bench_garbage: one numbered table of targets per workload (read by the pgbench scripts)."""
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS bench_garbage CASCADE; CREATE SCHEMA bench_garbage")
        cur.execute("CREATE TABLE bench_garbage.points (i int PRIMARY KEY, lat float8, lon float8)")
        cur.execute("CREATE TABLE bench_garbage.calendar (i int PRIMARY KEY, group_id text, d0 date, d1 date)")
        cur.execute("CREATE TABLE bench_garbage.ics (i int PRIMARY KEY, group_id text, d0 date, d1 date)")
        cur.execute("CREATE TABLE bench_garbage.items (i int PRIMARY KEY, q text)")
        cur.executemany(
            "INSERT INTO bench_garbage.points VALUES (%s, %s, %s)", [(i + 1, *r) for i, r in enumerate(t["points"])]
        )
        cur.executemany(
            "INSERT INTO bench_garbage.calendar VALUES (%s, %s, %s, %s)",
            [(i + 1, *r) for i, r in enumerate(t["calendar"])],
        )
        ics = [(i + 1, g, today, add_months(today, 12)) for i, (g, _) in enumerate(t["ics"])]
        cur.executemany("INSERT INTO bench_garbage.ics VALUES (%s, %s, %s, %s)", ics)
        cur.executemany(
            "INSERT INTO bench_garbage.items VALUES (%s, %s)", [(i + 1, q) for i, (q,) in enumerate(t["items"])]
        )


# pgbench reads ":MI" and ":00" inside the JST format string as variables: the same text, colons spelled chr(58).
JST_FORMAT = """'YYYY-MM-DD"T"HH24:MI:SS"+09:00"'"""
JST_FORMAT_PGBENCH = "'YYYY-MM-DD\"T\"HH24' || chr(58) || 'MI' || chr(58) || 'SS\"+09' || chr(58) || '00\"'"


def _bind(sql: str, values: dict[int, str]) -> str:
    for n in sorted(values, reverse=True):
        sql = sql.replace(f"${n}", values[n])
    return sql.replace(JST_FORMAT, JST_FORMAT_PGBENCH)


def pgbench_scripts() -> dict[str, str]:
    """The raw SQL of each answer as a pgbench script (targets read with \\gset, then the answer's statement)."""
    calendar = _bind(calendar_sql(), {1: ":group_id", 2: ":d0", 3: ":d1", 4: "NULL", 5: "now()"})
    items = (
        "SELECT coalesce(json_agg(x), '[]'::json)::text FROM (SELECT id, city_code, name, category, notice, names "
        "FROM garbage_items WHERE name ILIKE '%' || :q || '%' OR reading ILIKE '%' || :q || '%' "
        "OR romaji ILIKE '%' || :q || '%' OR names::text ILIKE '%' || :q || '%' ORDER BY length(name), id LIMIT 20) x"
    )
    pick = "\\set i random(1, :n)\nSELECT {} FROM bench_garbage.{} WHERE i = :i \\gset\n"
    return {
        "points": pick.format("lat, lon", "points")
        + _bind(points_sql(), {1: ":lon", 2: ":lat", 3: "3", 4: JST_TODAY})
        + ";\n",
        "calendar": pick.format("group_id, d0, d1", "calendar") + calendar + ";\n",
        "ics": pick.format("group_id, d0, d1", "ics") + calendar + ";\n",
        "items": pick.format("q", "items") + items + ";\n",
    }


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    """Poll /health until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


def start_server(name: str, port: int, workers: int, url_env: dict[str, str]) -> subprocess.Popen:
    """`gis serve` in its own process group (stopped by its id at the end)."""
    env = {**os.environ, **url_env}
    env.pop("DATABASE_READ_URL", None)
    if name == "gis-nocache":
        env["GIS_RESPONSE_CACHE_MIB"] = "0"
    log = open(WORK / f"{name}.log", "w")  # noqa: SIM115 (kept open for the server's life)
    cmd = [GIS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-load"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server we started (its process group, by its id)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run_wrk(base: str, paths_file: Path, a: argparse.Namespace, duration: int) -> dict:
    """wrk over the path list (the shared harness's paths.lua); its WRKJSON line."""
    lua = SHARED / "wrk" / "paths.lua"
    cmd = [
        "wrk",
        f"-t{a.threads}",
        f"-c{a.connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        base,
        "--",
        str(paths_file),
        str(a.threads),
    ]
    out = sh(cmd)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON ") :])
    errors = sum(r[k] for k in r if k.startswith("err_"))
    return {
        "rps": (r["requests"] - r["err_status"]) / (r["duration_us"] / 1e6),
        "p50_us": r["p50_us"],
        "p99_us": r["p99_us"],
        "errors": errors,
        "n": r["requests"],
    }


def run_pgbench(url: str, script: Path, n: int, a: argparse.Namespace, duration: int) -> dict:
    """pgbench -M prepared with per-transaction logs (p50/p99 from them)."""
    logs = Path(tempfile.mkdtemp(prefix="pgbench-", dir=WORK))
    cmd = [
        "pgbench",
        "-n",
        "-M",
        "prepared",
        "-c",
        str(a.connections),
        "-j",
        str(a.threads),
        "-T",
        str(duration),
        "-D",
        f"n={n}",
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(logs / "tx"),
        url,
    ]
    out = sh(cmd)
    lat = sorted(int(line.split()[2]) for f in logs.iterdir() for line in f.read_text().splitlines() if line)
    tps = float(re.search(r"tps = ([0-9.]+)", out)[1])
    failed = re.search(r"number of failed transactions: ([0-9]+)", out)
    pick = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else None  # noqa: E731
    return {
        "rps": tps,
        "p50_us": pick(50),
        "p99_us": pick(99),
        "errors": int(failed[1]) if failed else 0,
        "n": len(lat),
    }


def report(results: dict, counts: dict, a: argparse.Namespace, started: str) -> str:
    """The markdown report."""
    ms = lambda us: f"{us / 1000:.2f}" if us is not None else "—"  # noqa: E731
    lines = [
        "# Benchmark: the garbage API next to its raw SQL",
        "",
        f"Run: {started} (UTC), command: `{' '.join(sys.argv)}`; {os.cpu_count()} cores; wrk -t{a.threads} "
        f"-c{a.connections}, pgbench -c{a.connections} -j{a.threads}, {a.duration} s per cell after a "
        f"{a.warmup} s warm-up; "
        f"`gis serve --workers {a.workers}`.",
        "",
        "Data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + " (the bundled sample unless DATABASE_URL "
        "pointed elsewhere).",
        "",
        "| workload | system | req/s | p50 ms | p99 ms | req/s vs raw | n | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for w in a.workloads:
        raw = results.get((w, "raw"))
        for s in a.systems:
            r = results.get((w, s))
            if r is None:
                continue
            ratio = f"{r['rps'] / raw['rps']:.2f}" if raw and raw["rps"] else "—"
            lines.append(
                f"| {w} | {s} | {r['rps']:,.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {ratio} | "
                f"{r['n']:,} | {r['errors']} |"
            )
    lines += [
        "",
        "- points: /garbage/points?lat=&lon=&limit=3 at 400 seeded spots near real points; raw: the service's own "
        "statement (KNN, metric distance, next day per category per group, provenance ids).",
        "- calendar: one month of a group (every group × the next 12 months); raw: the service's own statement.",
        "- ics: 12 months as iCalendar with a VALARM per event (every group × 4 alarm times); raw: the calendar "
        "statement over 12 months (the iCalendar text is built in Python by the service).",
        "- items: names, readings, romaji, one-kana typos and English names of 60 seeded items; raw: an ILIKE "
        "baseline over name/reading/romaji/names (finds no typos or half-width forms; not the same answer).",
        "- gis answers from the response cache after the warm-up (wrk sends no If-None-Match); gis-nocache runs "
        "the SQL on every request (the item search index stays in the meta cache).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--port", type=int, default=8095)
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--out", default=str(REPO / "bench" / "results-garbage.md"))
    a = p.parse_args()
    a.workloads = [w for w in a.workloads.split(",") if w]
    a.systems = [s for s in a.systems.split(",") if s]
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    WORK.mkdir(parents=True, exist_ok=True)
    url = database_url()
    counts = ensure_data(url)
    targets = make_targets(url)
    paths = http_paths(targets)
    store_targets(url, targets)
    files = {}
    for w, lines in paths.items():
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
                for w in a.workloads:
                    run_pgbench(url, scripts[w], len(targets[w]), a, a.warmup)
                    results[(w, system)] = run_pgbench(url, scripts[w], len(targets[w]), a, a.duration)
                    print(w, system, results[(w, system)], flush=True)
                continue
            port = a.port + k
            proc = start_server(system, port, a.workers, url_env)
            try:
                for w in a.workloads:
                    run_wrk(f"http://127.0.0.1:{port}", files[w], a, a.warmup)
                    results[(w, system)] = run_wrk(f"http://127.0.0.1:{port}", files[w], a, a.duration)
                    print(w, system, results[(w, system)], flush=True)
            finally:
                stop_server(proc)
    finally:
        with psycopg.connect(url) as conn:
            conn.execute("DROP SCHEMA IF EXISTS bench_garbage CASCADE")
    Path(a.out).write_text(report(results, counts, a, started), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
