#!/usr/bin/env python3
"""SensorThings benchmark: "the latest observation of every datastream" through `$expand`, beside raw SQL.

    .venv/bin/python bench/sta.py [--things 1000] [--days 12] [--step-minutes 10] [--seconds 10] [--workers 1]

Data (generated, labelled sample): `--things` Things spread over 武雄市, each with the datastreams the migration
gives it (wet or depth, battery, rssi: 3 per Thing), and one reading per datastream every `--step-minutes` over
`--days` (1,000 Things x 12 days x 10 min = 5.2 million observations in the monthly partitions).

HTTP (`gis serve --workers N`, one client in a loop, sequential requests; no response cache on these answers):
  things-latest   GET /sta/v1.1/Things?$top=1000&$expand=Datastreams/Observations($top=1;$orderby=phenomenonTime desc)
  ds-latest       GET /sta/v1.1/Datastreams?$top=1000&$expand=Observations($top=1;$orderby=phenomenonTime desc)
  thing-latest    GET /sta/v1.1/Things(id)?$expand=Datastreams/Observations($top=1;...)   (a random Thing)
  day             GET /sta/v1.1/Datastreams(id)/Observations?$filter=phenomenonTime ge .. and lt ..&$top=1000
  sensors         GET /sensors (the current-state table, for scale)
SQL (asyncpg on the same database, the same loop):
  lateral         the statement behind things-latest's Observations level (one backward primary-key probe per
                  datastream: unnest(ids) CROSS JOIN LATERAL (... ORDER BY phenomenon_time DESC LIMIT 2))
  distinct-on     SELECT DISTINCT ON (datastream_id) ... ORDER BY datastream_id, phenomenon_time DESC
  window          row_number() OVER (PARTITION BY datastream_id ORDER BY phenomenon_time DESC) = 1
  group-max       max(phenomenon_time) GROUP BY datastream_id, joined back
  state           SELECT * FROM sensor_state (the current-state row per Thing)

The database is a private embedded cluster under bench/.work/sta (kept between runs; `--regenerate` rebuilds the
data; `--prepare-only` stops after it). Never measure next to other benchmarks or test runs: the server and
PostgreSQL share the machine's cores. Writes bench/results-sta.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402

GIS = str(REPO / ".venv" / "bin" / "gis")
WORK = REPO / "bench" / ".work" / "sta"
LATEST = "Observations($top=1;$orderby=phenomenonTime desc)"
THINGS_LATEST = f"Datastreams/{LATEST}"

RAW = {
    "distinct-on": (
        "SELECT DISTINCT ON (datastream_id) datastream_id, id, phenomenon_time, result FROM sensor_observations "
        "ORDER BY datastream_id, phenomenon_time DESC"
    ),
    "window": (
        "SELECT datastream_id, id, phenomenon_time, result FROM (SELECT o.*, row_number() OVER "
        "(PARTITION BY datastream_id ORDER BY phenomenon_time DESC) AS rn FROM sensor_observations o) x WHERE rn = 1"
    ),
    "group-max": (
        "SELECT o.datastream_id, o.id, o.phenomenon_time, o.result FROM (SELECT datastream_id, "
        "max(phenomenon_time) AS t FROM sensor_observations GROUP BY datastream_id) m "
        "JOIN sensor_observations o ON o.datastream_id = m.datastream_id AND o.phenomenon_time = m.t"
    ),
    "state": "SELECT * FROM sensor_state",
}


def cluster() -> Any:
    """The bench's own embedded cluster (started; its database `gis` holds the bench data)."""
    from gis.db.embedded import EmbeddedPostgres

    emb = EmbeddedPostgres(root=WORK, preferred_port=55434)
    emb.start()
    return emb


async def generate(url: str, things: int, days: int, step: int) -> dict[str, Any]:
    """Replace the Things and observations with generated ones; how long it took."""
    conn = await asyncpg.connect(url)
    try:
        t0 = time.perf_counter()
        await conn.execute("TRUNCATE sensor_observations, sensor_events")
        await conn.execute("DELETE FROM inundation_sensors")  # datastreams and states cascade
        source = await conn.fetchval(
            "INSERT INTO sources (layer_id, title, publisher, licence, attribution, sample, city_codes, note) "
            "VALUES ('inundation_sensors', 'bench/sta.py の生成データ（サンプル）', 'bench', 'CC BY 4.0', "
            "'bench', true, '{41206}', 'generated for bench/sta.py') RETURNING id"
        )
        # Things in a grid over Takeo; the triggers of migration 0006 add their datastreams and state rows.
        await conn.execute(
            "INSERT INTO inundation_sensors (city_code, source_id, sample, feature_key, sensor_id, name, vendor, "
            "sensor_type, heartbeat_minutes, geom) "
            "SELECT '41206', $1, true, 'bench:sta:' || k, format('B-41206-%s', lpad(k::text, 5, '0')), "
            "format('ベンチ地点 %s（サンプル）', k), 'bench', CASE WHEN k % 3 = 0 THEN '段階' ELSE 'フロート10cm' END, "
            "60, ST_SetSRID(ST_MakePoint(129.95 + (k % 40) * 0.0025, 33.17 + (k / 40) * 0.002), 6668) "
            "FROM generate_series(1, $2) k",
            source,
            things,
        )
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=days)
        await conn.fetchval("SELECT sensor_observations_prepare($1, $2)", start, end + timedelta(days=1))
        await conn.execute(
            "INSERT INTO sensor_observations (datastream_id, phenomenon_time, result_time, received_at, result, "
            "quality, provenance) "
            "SELECT d.id, p, p, p + interval '3 s', CASE d.kind WHEN 'wet' THEN (random() < 0.02)::int "
            "WHEN 'depth' THEN 10 * floor(random() * 1.05) WHEN 'battery' THEN 3.0 ELSE -90 END, 'good', 'bench' "
            "FROM generate_series($1::timestamptz, $2::timestamptz, make_interval(mins => $3)) p "
            "CROSS JOIN sensor_datastreams d",
            start,
            end,
            step,
        )
        await conn.execute(
            "UPDATE sensor_state SET last_seen = $1, since = $2, state = 'dry', updated_at = now()", end, start
        )
        await conn.execute("VACUUM ANALYZE sensor_observations")
        await conn.execute("VACUUM ANALYZE sensor_datastreams")
        return {"seconds": time.perf_counter() - t0}
    finally:
        await conn.close()


async def counts(url: str) -> dict[str, Any]:
    """What the database holds."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM inundation_sensors) AS things, "
            "(SELECT count(*) FROM sensor_datastreams) AS datastreams, "
            "(SELECT count(*) FROM sensor_observations) AS observations, "
            "(SELECT min(phenomenon_time) FROM sensor_observations) AS t0, "
            "(SELECT max(phenomenon_time) FROM sensor_observations) AS t1, "
            "pg_size_pretty(pg_total_relation_size('sensor_observations') + coalesce((SELECT "
            "sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = "
            "'sensor_observations'::regclass), 0)) AS size"
        )
        return dict(row)
    finally:
        await conn.close()


async def lateral_sql(url: str) -> tuple[str, tuple]:
    """The statement our $expand runs for the Observations of every datastream (recorded from gis.sensors.sta)."""
    from gis.sensors import sta

    seen: list[tuple[str, tuple]] = []

    class Recording:
        def __init__(self, conn: asyncpg.Connection) -> None:
            self.conn = conn

        async def fetch(self, sql: str, *args: Any) -> list:
            seen.append((sql, args))
            return await self.conn.fetch(sql, *args)

        async def fetchrow(self, sql: str, *args: Any) -> Any:
            return await self.conn.fetchrow(sql, *args)

        async def fetchval(self, sql: str, *args: Any) -> Any:
            return await self.conn.fetchval(sql, *args)

    conn = await asyncpg.connect(url)
    try:
        await sta.read(Recording(conn), "http://x/sta/v1.1", "Things", {"$top": "1000", "$expand": THINGS_LATEST})  # type: ignore[arg-type]
    finally:
        await conn.close()
    return next(s for s in seen if "CROSS JOIN LATERAL" in s[0] and "sensor_observations o" in s[0])


def summary(lat: list[float], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Requests per second and latency percentiles (ms) of a sequential loop."""
    lat.sort()
    return {
        "n": len(lat),
        "per_s": len(lat) / sum(lat),
        "p50": statistics.median(lat) * 1000,
        "p95": lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000,
        **(extra or {}),
    }


async def time_sql(url: str, sql: str, args: tuple, seconds: float, min_runs: int = 3) -> dict[str, Any]:
    """Run one statement in a loop for `seconds` (at least `min_runs` times), after one warm-up."""
    conn = await asyncpg.connect(url)
    try:
        rows = len(await conn.fetch(sql, *args))
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN (COSTS OFF) " + sql, *args))
        lat: list[float] = []
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(lat) < min_runs:
            t0 = time.perf_counter()
            await conn.fetch(sql, *args)
            lat.append(time.perf_counter() - t0)
        return summary(lat, {"rows": rows, "plan": plan})
    finally:
        await conn.close()


def time_http(base: str, paths: list[str], seconds: float, min_runs: int = 3) -> dict[str, Any]:
    """GET the paths round-robin for `seconds` (at least `min_runs`), after one warm-up; all must answer 200."""
    size = 0
    for p in paths[:3]:
        with urllib.request.urlopen(base + p, timeout=120) as r:
            size = len(r.read())
    lat: list[float] = []
    t_end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < t_end or len(lat) < min_runs:
        t0 = time.perf_counter()
        with urllib.request.urlopen(base + paths[i % len(paths)], timeout=120) as r:
            r.read()
            assert r.status == 200
        lat.append(time.perf_counter() - t0)
        i += 1
    return summary(lat, {"bytes": size})


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll /health until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited during start-up (see {WORK / 'serve.log'})")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


def start_server(url: str, public_password: str, port: int, workers: int) -> subprocess.Popen:
    """`gis serve` on the bench database, in its own process group (stopped by its id)."""
    env = {**os.environ, "DATABASE_URL": url, "GIS_PUBLIC_PASSWORD": public_password, "GIS_VAR_DIR": str(WORK / "var")}
    env.pop("DATABASE_READ_URL", None)
    log = open(WORK / "serve.log", "w")  # noqa: SIM115 (kept open for the server's life)
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


async def http_paths(url: str, seed: int = 41206) -> dict[str, list[str]]:
    """Seeded request paths per HTTP workload."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(url)
    try:
        things = [r[0] for r in await conn.fetch("SELECT id FROM inundation_sensors ORDER BY id")]
        streams = [r[0] for r in await conn.fetch("SELECT id FROM sensor_datastreams ORDER BY id")]
        t0, t1 = await conn.fetchrow("SELECT min(phenomenon_time), max(phenomenon_time) FROM sensor_observations")
    finally:
        await conn.close()
    q = quote("Observations($top=1;$orderby=phenomenonTime desc)", safe="")
    days = []
    for _ in range(200):
        at = t0 + timedelta(hours=rng.randrange(max(1, int((t1 - t0).total_seconds() // 3600) - 24)))
        span = f"{at:%Y-%m-%dT%H:%M:%SZ} and phenomenonTime lt {at + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"
        f = quote(f"phenomenonTime ge {span}")
        days.append(f"/sta/v1.1/Datastreams({rng.choice(streams)})/Observations?$top=1000&$filter={f}")
    return {
        "things-latest": [f"/sta/v1.1/Things?$top=1000&$expand=Datastreams%2F{q}"],
        "ds-latest": [f"/sta/v1.1/Datastreams?$top=1000&$expand={q}"],
        "thing-latest": [f"/sta/v1.1/Things({rng.choice(things)})?$expand=Datastreams%2F{q}" for _ in range(200)],
        "day": days,
        "sensors": ["/sensors"],
    }


def report(a: argparse.Namespace, held: dict[str, Any], made: dict[str, Any] | None, http: dict, sql: dict) -> str:
    """Markdown with the command, the data, both tables and the plans."""
    lines = [
        "# SensorThings: latest observation per datastream through $expand, beside raw SQL",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on this machine (2 cores shared): "
        f"`.venv/bin/python bench/sta.py --things {a.things} --days {a.days} --step-minutes {a.step_minutes} "
        f"--seconds {a.seconds} --workers {a.workers}`.",
        "",
        f"Data (generated sample): {held['things']:,} Things, {held['datastreams']:,} Datastreams, "
        f"{held['observations']:,} Observations from {held['t0']:%Y-%m-%d %H:%M} to {held['t1']:%Y-%m-%d %H:%M} UTC, "
        f"{held['size']} with indexes (monthly partitions)"
        + (f"; generated in {made['seconds']:.0f} s." if made else " (generated by an earlier run)."),
        "",
        f"One client, sequential requests (latency, not throughput under load); `gis serve --workers {a.workers}`.",
        "",
        "| HTTP | requests | per s | p50 ms | p95 ms | bytes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in http.items():
        if "error" in r:
            lines.append(f"| {name} | — | — | — | — | {r['error']} |")
            continue
        lines.append(f"| {name} | {r['n']} | {r['per_s']:,.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['bytes']:,} |")
    lines += ["", "| SQL alone (asyncpg) | runs | per s | p50 ms | p95 ms | rows |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in sql.items():
        lines.append(f"| {name} | {r['n']} | {r['per_s']:,.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['rows']:,} |")
    lines += ["", "Plans (EXPLAIN, costs off):", ""]
    for name, r in sql.items():
        lines += [f"`{name}`:", "", "```", r["plan"], "```", ""]
    return "\n".join(lines) + "\n"


async def run(a: argparse.Namespace) -> None:
    """Prepare, measure, write the report."""
    WORK.mkdir(parents=True, exist_ok=True)
    emb = cluster()
    url = emb.url()
    try:
        await measure(a, emb, url)
    finally:
        emb.stop()


async def measure(a: argparse.Namespace, emb: Any, url: str) -> None:
    """Migrate, generate when the kept data does not match the arguments, measure, write the report."""
    from gis.db.migrate import upgrade

    upgrade(url)
    made = None
    held = await counts(url)
    want = a.things * 3 * (a.days * 24 * 60 // a.step_minutes + 1)
    if a.regenerate or held["things"] != a.things or held["observations"] < want * 0.99:
        print(f"generating {a.things} Things and about {want:,} observations ...", flush=True)
        made = await generate(url, a.things, a.days, a.step_minutes)
    held = await counts(url)
    print(held, flush=True)
    if a.prepare_only:
        return
    a.load = os.getloadavg()
    sql_results: dict[str, Any] = {}
    lateral, args = await lateral_sql(url)
    sql_results["lateral"] = await time_sql(url, lateral, args, a.seconds)
    for name, statement in RAW.items():
        sql_results[name] = await time_sql(url, statement, (), a.seconds)
        print(name, {k: v for k, v in sql_results[name].items() if k != "plan"}, flush=True)
    paths = await http_paths(url)
    http_results: dict[str, Any] = {}
    proc = start_server(url, emb.public_password, a.port, a.workers)
    try:
        base = f"http://127.0.0.1:{a.port}"
        for name, ps in paths.items():
            try:
                http_results[name] = time_http(base, ps, a.seconds)
            except OSError as e:  # e.g. /sensors not there yet: say so in the table
                http_results[name] = {"error": str(e)[:60]}
            print(name, http_results[name], flush=True)
    finally:
        stop_server(proc)
    out = REPO / "bench" / "results-sta.md"
    out.write_text(report(a, held, made, http_results, sql_results), encoding="utf-8")
    print(f"wrote {out}")


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--things", type=int, default=1000)
    ap.add_argument("--days", type=int, default=12)
    ap.add_argument("--step-minutes", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--port", type=int, default=8097)
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--prepare-only", action="store_true", help="generate the data, measure nothing")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
