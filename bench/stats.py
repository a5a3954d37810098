#!/usr/bin/env python3
"""Access counting's cost: the hottest cached endpoints with counting on and off, and a day's flush.

    .venv/bin/python bench/stats.py [--duration 15] [--connections 16] [--threads 2] [--workers 1]
                                    [--parts http,middleware,flush] [--keys 800,2000,20000]

Parts:
  http        wrk on GET /collections/zoning/items?limit=10 and on one vector tile (both answered from the response
              and tile caches after the first request: what remains is the stack the counting middleware adds to),
              `gis serve` with GIS_STATS=1 and GIS_STATS=0, alternated (on, off, on, off) so drift shows.
  middleware  the counting middleware alone, in process: a request through CountAccess around an ASGI app that
              answers at once, against the same app without it (ns per request, no network, no server).
  flush       one upsert of N keys into access_counts (N = a day's worth: ~800 keys is 20 API families × 5
              classes, 25 layers, 60 pages, 300 大字 × 2; 20,000 is the per-worker bound): first as new rows, then
              as conflicts that add. Rows written to day 2000-01-01 and deleted afterwards.

The database is DATABASE_URL when set (GIS_PUBLIC_PASSWORD too), else the embedded cluster (`gis db url`), loaded
when empty. Never run it next to other benchmarks or test runs (`pgrep -fa pytest`): wrk, the server and
PostgreSQL share the machine's cores. Writes bench/results-stats.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import asyncpg  # noqa: E402
import psycopg  # noqa: E402
from garbage import database_url, run_wrk, stop_server, wait_ready  # noqa: E402

from api.counting import CountAccess  # noqa: E402
from gis.stats.counter import AccessCounts  # noqa: E402
from gis.stats.flush import write  # noqa: E402

GIS = str(REPO / ".venv" / "bin" / "gis")
WORK = REPO / "bench" / ".work" / "stats"
BENCH_DAY = date(2000, 1, 1)
PATHS = {
    "items": "/collections/zoning/items?limit=10",
    "tile": "/tiles/zoning/13/7054/3294.mvt",
}


def ensure_data(url: str) -> dict[str, int]:
    """Load the bundled data when zoning is empty; its row count."""
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM zoning)").fetchone()[0]:
            print("loading the bundled data (gis load) ...", flush=True)
            subprocess.run([GIS, "load"], check=True, env={**os.environ, "DATABASE_URL": url})
        return {"zoning": conn.execute("SELECT count(*) FROM zoning").fetchone()[0]}


def start_server(stats: bool, port: int, workers: int, url_env: dict[str, str]) -> subprocess.Popen:
    """`gis serve` with counting on or off, in its own process group (stopped by its id)."""
    env = {**os.environ, **url_env, "GIS_STATS": "1" if stats else "0"}
    env.pop("DATABASE_READ_URL", None)
    log = open(WORK / f"serve-{'on' if stats else 'off'}.log", "w")  # noqa: SIM115 (kept for the server's life)
    cmd = [GIS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-load"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc


def http_part(a: argparse.Namespace, url: str) -> list[dict]:
    """wrk on each cached path, counting on/off alternated `rounds` times."""
    url_env = {"DATABASE_URL": url} if os.environ.get("DATABASE_URL") else {}
    rows = []
    for r in range(a.rounds):
        for stats in (True, False):
            proc = start_server(stats, a.port, a.workers, url_env)
            try:
                base = f"http://127.0.0.1:{a.port}"
                for name, path in PATHS.items():
                    paths_file = WORK / f"{name}.txt"
                    paths_file.write_text(path + "\n", encoding="utf-8")
                    run_wrk(base, paths_file, a, a.warmup)
                    res = run_wrk(base, paths_file, a, a.duration)
                    rows.append({"round": r + 1, "workload": name, "stats": stats, **res})
                    print(rows[-1], flush=True)
            finally:
                stop_server(proc)
    return rows


async def _middleware(n: int) -> dict[str, float]:
    """ns per request through an instant ASGI app, with and without CountAccess (best of 5 runs)."""
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    body = {"type": "http.response.body", "body": b"{}"}

    class Route:
        path = "/collections/{collectionId}/items"

    async def app(scope, receive, send) -> None:  # noqa: ANN001
        scope["route"] = Route
        scope["path_params"] = {"collectionId": "zoning"}
        await send(start)
        await send(body)

    async def receive() -> dict:
        return {"type": "http.request"}

    async def send(message: dict) -> None:
        return None

    counts = AccessCounts()
    counted = CountAccess(app, counts)
    scope = {"type": "http", "method": "GET", "path": "/collections/zoning/items", "query_string": b"limit=10"}
    out = {}
    for name, target in (("without", app), ("with", counted)):
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                await target(dict(scope), receive, send)
            best = min(best, (time.perf_counter_ns() - t0) / n)
        out[name] = best
    out["added"] = out["with"] - out["without"]
    out["counted"] = counts.total()
    return out


def _keys(n: int) -> dict[tuple[date, str, str], int]:
    kinds = ("api", "layer", "page", "town", "geocode")
    return {(BENCH_DAY, kinds[i % 5], f"bench-key-{i:06d}"): 1 + i % 97 for i in range(n)}


async def _flush(url: str, sizes: list[int], repeat: int = 7) -> list[dict]:
    """ms per upsert of N keys: new rows, then the same keys again (conflicts that add)."""
    rows = []
    conn = await asyncpg.connect(url)
    try:
        for n in sizes:
            counts = _keys(n)
            insert, update = [], []
            for _ in range(repeat):
                await conn.execute("DELETE FROM access_counts WHERE day = $1", BENCH_DAY)
                t0 = time.perf_counter()
                await write(conn, counts)
                insert.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                await write(conn, counts)
                update.append((time.perf_counter() - t0) * 1000)
            total = await conn.fetchval("SELECT sum(count) FROM access_counts WHERE day = $1", BENCH_DAY)
            assert total == 2 * sum(counts.values()), "the upsert must add"
            rows.append({"keys": n, "insert_ms": statistics.median(insert), "update_ms": statistics.median(update)})
            print(rows[-1], flush=True)
    finally:
        await conn.execute("DELETE FROM access_counts WHERE day = $1", BENCH_DAY)
        await conn.close()
    return rows


def report(a: argparse.Namespace, started: str, counts: dict, http: list, mw: dict | None, flush: list) -> str:
    """The markdown report."""
    lines = [
        "# Benchmark: access counting (counts only) on the hot path, and its flush",
        "",
        f"Run: {started} (UTC), command: `{' '.join(sys.argv)}`; {os.cpu_count()} cores (shared); "
        f"zoning rows: {counts.get('zoning', 0):,}.",
        "",
    ]
    if http:
        lines += [
            f"## Cached endpoints, counting on and off (wrk -t{a.threads} -c{a.connections}, {a.duration} s per "
            f"cell after a {a.warmup} s warm-up, `gis serve --workers {a.workers}`, on/off alternated)",
            "",
            "| workload | round | counting | req/s | p50 ms | p99 ms | n | errors |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in http:
            lines.append(
                f"| {r['workload']} | {r['round']} | {'on' if r['stats'] else 'off'} | {r['rps']:,.0f} | "
                f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['n']:,} | {r['errors']} |"
            )
        lines += ["", "| workload | mean req/s on | mean req/s off | on / off |", "|---|---:|---:|---:|"]
        for w in PATHS:
            on = [r["rps"] for r in http if r["workload"] == w and r["stats"]]
            off = [r["rps"] for r in http if r["workload"] == w and not r["stats"]]
            if on and off:
                m_on, m_off = statistics.mean(on), statistics.mean(off)
                lines.append(f"| {w} | {m_on:,.0f} | {m_off:,.0f} | {m_on / m_off:.3f} |")
        lines += [
            "",
            f"- items: `{PATHS['items']}`; tile: `{PATHS['tile']}`. Both come from the in-process caches after the "
            "first request, so the server's whole work is routing, the cache lookup and the middleware stack.",
            "",
        ]
    if mw:
        lines += [
            "## The middleware alone (in process)",
            "",
            f"{a.middleware_n:,} requests through an ASGI app that answers at once (best of 5): "
            f"{mw['without']:,.0f} ns without, {mw['with']:,.0f} ns with CountAccess: **{mw['added']:,.0f} ns added "
            f"per request** (route keys memoised per template, one dict increment per kind).",
            "",
        ]
    if flush:
        lines += [
            "## Flush: one upsert per worker and round",
            "",
            "| keys | new rows, ms | existing rows (adds), ms |",
            "|---:|---:|---:|",
        ]
        for r in flush:
            lines.append(f"| {r['keys']:,} | {r['insert_ms']:.1f} | {r['update_ms']:.1f} |")
        lines += [
            "",
            "- Median of 7; `INSERT … SELECT unnest(…) ON CONFLICT (day, kind, key) DO UPDATE SET count = "
            "access_counts.count + EXCLUDED.count`, one statement, on the staff pool, off the request path.",
            "- A worker flushes only the keys counted since its last round (default every 60 s): a busy day's "
            "round is a few hundred keys.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--port", type=int, default=8099)
    p.add_argument("--parts", default="http,middleware,flush")
    p.add_argument("--keys", default="800,2000,20000")
    p.add_argument("--middleware-n", type=int, default=200_000)
    p.add_argument("--out", default=str(REPO / "bench" / "results-stats.md"))
    a = p.parse_args()
    parts = set(a.parts.split(","))
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    WORK.mkdir(parents=True, exist_ok=True)
    url = database_url()
    counts = ensure_data(url)
    http = http_part(a, url) if "http" in parts else []
    mw = asyncio.run(_middleware(a.middleware_n)) if "middleware" in parts else None
    if mw:
        print(mw, flush=True)
    flush = asyncio.run(_flush(url, [int(k) for k in a.keys.split(",")])) if "flush" in parts else []
    Path(a.out).write_text(report(a, started, counts, http, mw, flush), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
