#!/usr/bin/env python3
"""Sensor API benchmark: ingest rate (batches of 100) and GET /sensors latency with millions of stored observations,
beside the raw SQL of the same answers on the same data.

    .venv/bin/python bench/sensors.py [--sensors 1000] [--days 35] [--step-minutes 10] [--seconds 10]
                                      [--concurrency 4] [--workers 1]

Data: `--sensors` Things (a generated sample layer, imported through the importer), one water datastream each
(wet or depth) every `--step-minutes` and battery every hour, for `--days` up to now: 1,000 x 35 days = 5.9 million
observations, generated in SQL, time-major. sensor_state is set from the data once.
Measured, each for `--seconds` (the service is `gis serve --workers N` in its own process group):
  ingest HTTP      POST /sensors/observations, 100 readings per request, `--concurrency` clients, 10 % of every
                   batch already stored (retries); readings/s received and stored
  ingest function  gis.sensors.ingest.ingest() on one connection (the same batches, no HTTP)
  GET /sensors     sequential; 200 with the body, and 304 with If-None-Match
  raw SQL          the query behind GET /sensors (sensor_state join) and the "latest observation per sensor" two
                   ways over sensor_observations: naive DISTINCT ON, and a LATERAL primary-key probe per datastream
The database is DATABASE_URL when set (GIS_PUBLIC_PASSWORD must then be set too), else a private embedded cluster
under bench/.work/sensors. Never run it next to other benchmarks or test runs. Writes bench/results-sensors-api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psycopg  # noqa: E402

WORK = REPO / "bench" / ".work" / "sensors"
OUT = REPO / "bench" / "results-sensors-api.md"
GIS = str(REPO / ".venv" / "bin" / "gis")
TAKEO = (130.0195, 33.1916)
IMARI = (129.8808, 33.2646)
NAIVE_SQL = """
SELECT DISTINCT ON (d.thing_id) d.thing_id, o.phenomenon_time, o.result
FROM sensor_observations o JOIN sensor_datastreams d ON d.id = o.datastream_id
WHERE d.kind IN ('wet', 'depth')
ORDER BY d.thing_id, o.phenomenon_time DESC
"""
LATERAL_SQL = """
SELECT d.thing_id, o.phenomenon_time, o.result
FROM sensor_datastreams d
CROSS JOIN LATERAL (SELECT phenomenon_time, result FROM sensor_observations x WHERE x.datastream_id = d.id
                    ORDER BY phenomenon_time DESC LIMIT 1) o
WHERE d.kind IN ('wet', 'depth')
"""


def cluster() -> tuple[str, str]:
    """(owner URL, public password): DATABASE_URL, or the bench's own embedded cluster."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], os.environ.get("GIS_PUBLIC_PASSWORD", "")
    from gis.db.embedded import EmbeddedPostgres

    emb = EmbeddedPostgres(root=WORK, preferred_port=55434)
    emb.start()
    return emb.url(), emb.public_password


def things(url: str, n: int) -> None:
    """`n` generated sensors in the layer (imported like any file), each with datastreams and a state row."""
    from gis.db.migrate import upgrade
    from gis.db.provenance import SourceInfo
    from gis.ingest.importer import import_file

    upgrade(url)
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT count(*) FROM inundation_sensors").fetchone()[0] == n:
            return
    rng = random.Random(41206)
    feats = []
    for i in range(n):
        city, (x, y) = ("41206", TAKEO) if i % 3 else ("41205", IMARI)
        kind = ("フロート式10cm", "フロート式40cm", "段階式10-20-30cm")[i % 3]
        props = {
            "sensor_id": f"B-{city}-{i:04d}",
            "name": f"（サンプル）ベンチ用センサ{i}",
            "vendor": "ベンチ",
            "sensor_type": kind,
            "heartbeat_minutes": 60,
            "city_code": city,
            "sample": True,
        }
        point = [round(x + rng.uniform(-0.02, 0.02), 7), round(y + rng.uniform(-0.015, 0.015), 7)]
        feats.append({"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": point}})
    path = WORK / "bench_sensors.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False))
    with psycopg.connect(url) as conn:
        info = SourceInfo(title="ベンチ用センサ（生成）", sample=True, licence="サンプル")
        import_file(conn, "inundation_sensors", path, info, replace=True, allow_outside=True, force=True)


def observations(url: str, days: int, step: int) -> int:
    """Generate the observations (once) and set sensor_state from them; the row count."""
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM sensor_observations").fetchone()[0]
        if have:
            return have
        end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
        start = end - timedelta(days=days)
        conn.execute("SELECT sensor_observations_prepare(%s, %s)", (start, end + timedelta(days=40)))
        t0 = time.perf_counter()
        # Water: mostly dry, a wet spell of 1-2 hours on a few days; step sensors report 0/10/20 cm.
        conn.execute(
            "INSERT INTO sensor_observations (datastream_id, phenomenon_time, result_time, received_at, result, "
            "provenance) "
            "SELECT d.id, p, p, p + interval '3 s', "
            "  CASE WHEN (extract(doy FROM p)::int + d.id) %% 11 = 0 AND extract(hour FROM p) BETWEEN 3 AND 4 "
            "       THEN CASE d.kind WHEN 'wet' THEN 1 ELSE 10 END ELSE 0 END, 'bench' "
            "FROM generate_series(%s::timestamptz, %s::timestamptz, make_interval(mins => %s)) p "
            "CROSS JOIN sensor_datastreams d WHERE d.kind IN ('wet', 'depth')",
            (start, end, step),
        )
        conn.execute(
            "INSERT INTO sensor_observations (datastream_id, phenomenon_time, result, provenance) "
            "SELECT d.id, p, 3.0 + (d.id %% 5) / 10.0, 'bench' "
            "FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 hour') p "
            "CROSS JOIN sensor_datastreams d WHERE d.kind = 'battery'",
            (start, end),
        )
        conn.execute(f"""
            UPDATE sensor_state s SET state = CASE WHEN l.result > 0 THEN 'wet' ELSE 'dry' END, since = l.t,
              last_seen = l.t, level_cm = l.result::int, updated_at = now()
            FROM ({NAIVE_SQL.replace("o.phenomenon_time, o.result", "o.phenomenon_time AS t, o.result")}) l
            WHERE s.thing_id = l.thing_id""")
        conn.execute("VACUUM ANALYZE sensor_observations")
        conn.execute("VACUUM ANALYZE sensor_state")
        n = conn.execute("SELECT count(*) FROM sensor_observations").fetchone()[0]
        print(f"generated {n:,} observations in {time.perf_counter() - t0:.0f} s", flush=True)
        return n


def stats(lat: list[float], seconds: float) -> dict[str, float]:
    """Requests per second and latency percentiles (ms)."""
    lat.sort()
    return {
        "n": len(lat),
        "per_s": len(lat) / seconds,
        "p50": statistics.median(lat) if lat else 0.0,
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0,
    }


class Batches:
    """Batches of 100 readings of distinct sensors at new times, each with 10 readings already sent (retries)."""

    def __init__(self, streams: list[tuple[str, str]]) -> None:
        self.streams = streams
        self.rng = random.Random(11)
        self.base = datetime.now(UTC) - timedelta(minutes=20)
        self.tick = 0
        self.sent: list[dict[str, Any]] = []

    def next(self) -> list[dict[str, Any]]:
        """90 new readings and 10 of earlier ones."""
        self.tick += 1
        at = (self.base + timedelta(milliseconds=10 * self.tick)).isoformat()
        new = [
            {"sensor_id": s, "datastream": k, "phenomenon_time": at, "result": 0}
            for s, k in self.rng.sample(self.streams, min(90, len(self.streams)))
        ]
        old = self.rng.sample(self.sent, 10) if len(self.sent) >= 10 else new[:10]
        self.sent = (self.sent + new)[-5000:]
        return new + old


async def ingest_http(base: str, token: str, batches: Batches, seconds: float, concurrency: int) -> dict[str, float]:
    """POST batches from `concurrency` clients for `seconds`."""
    lat: list[float] = []
    got = {"received": 0, "stored": 0, "errors": 0}
    end = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            while time.perf_counter() < end:
                body = {"observations": batches.next()}
                t = time.perf_counter()
                r = await c.post("/sensors/observations", json=body, headers=headers)
                lat.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    got["errors"] += 1
                    continue
                got["received"] += r.json()["received"]
                got["stored"] += r.json()["stored"]

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return {**stats(lat, seconds), **{k: v / seconds for k, v in got.items()}}


async def ingest_direct(url: str, batches: Batches, seconds: float) -> dict[str, float]:
    """The same batches through gis.sensors.ingest.ingest on one connection."""
    from gis.sensors.ingest import Reading, ingest

    conn = await asyncpg.connect(url)
    lat: list[float] = []
    stored = received = 0
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            readings = [
                Reading(o["sensor_id"], o["datastream"], datetime.fromisoformat(o["phenomenon_time"]), o["result"])
                for o in batches.next()
            ]
            t = time.perf_counter()
            result = await ingest(conn, readings, "bench")
            lat.append((time.perf_counter() - t) * 1000)
            stored += result.stored
            received += result.received
    finally:
        await conn.close()
    return {**stats(lat, seconds), "received": received / seconds, "stored": stored / seconds}


async def get_sensors(base: str, seconds: float, conditional: bool) -> dict[str, float]:
    """Sequential GET /sensors (optionally with If-None-Match)."""
    lat: list[float] = []
    size = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        etag = (await c.get("/sensors")).headers["etag"]
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            r = await c.get("/sensors", headers={"If-None-Match": etag} if conditional else {})
            lat.append((time.perf_counter() - t) * 1000)
            size = len(r.content)
            etag = r.headers.get("etag", etag)
    return {**stats(lat, seconds), "bytes": size}


async def raw(url: str, sql: str, seconds: float) -> dict[str, float]:
    """One query repeated for `seconds` on one connection."""
    conn = await asyncpg.connect(url)
    lat: list[float] = []
    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            await conn.fetch(sql)
            lat.append((time.perf_counter() - t) * 1000)
    finally:
        await conn.close()
    return stats(lat, seconds)


def serve(url: str, password: str, port: int, workers: int) -> subprocess.Popen:
    """`gis serve` in its own process group."""
    env = {**os.environ, "DATABASE_URL": url, "GIS_PUBLIC_PASSWORD": password}
    log = open(WORK / "serve.log", "w")  # noqa: SIM115 (kept open for the server's life)
    cmd = [GIS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-load"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gis serve exited; see {WORK / 'serve.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gis serve did not become ready")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server we started (its process group, by its id)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def row(name: str, r: dict[str, float], extra: str = "") -> str:
    return f"| {name} | {r['per_s']:,.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {extra} |"


async def measure(a: argparse.Namespace, url: str, base: str, token: str) -> list[str]:
    with psycopg.connect(url) as conn:
        streams = conn.execute(
            "SELECT sensor_id, kind FROM sensor_datastreams WHERE kind IN ('wet', 'depth') ORDER BY id"
        ).fetchall()
    batches = Batches(streams)
    http = await ingest_http(base, token, batches, a.seconds, a.concurrency)
    direct = await ingest_direct(url, batches, a.seconds)
    full = await get_sensors(base, a.seconds, conditional=False)
    cond = await get_sensors(base, a.seconds, conditional=True)
    from gis.sensors.service import SENSORS_SQL

    state = await raw(url, SENSORS_SQL, a.seconds)
    lateral = await raw(url, LATERAL_SQL, a.seconds)
    naive = await raw(url, NAIVE_SQL, max(a.seconds, 5))
    return [
        "| what | per s | p50 ms | p99 ms | note |",
        "|---|---:|---:|---:|---|",
        row(
            f"POST /sensors/observations, 100 per batch, {a.concurrency} clients",
            http,
            f"{http['received']:,.0f} readings/s received, {http['stored']:,.0f} stored/s, "
            f"{http['errors']:.1f} errors/s",
        ),
        row(
            "ingest() on one connection, 100 per batch",
            direct,
            f"{direct['received']:,.0f} readings/s received, {direct['stored']:,.0f} stored/s",
        ),
        row("GET /sensors (200, body)", full, f"{full['bytes']:,.0f} bytes"),
        row("GET /sensors with If-None-Match (304)", cond, ""),
        row("raw SQL behind GET /sensors (sensor_state join)", state, "what the service runs"),
        row("raw SQL latest per sensor: LATERAL primary-key probe", lateral, "one index probe per datastream"),
        row("raw SQL latest per sensor: naive DISTINCT ON", naive, "reads every observation"),
    ]


def main() -> None:
    """Prepare, serve, measure, write."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sensors", type=int, default=1000)
    ap.add_argument("--days", type=int, default=35)
    ap.add_argument("--step-minutes", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--port", type=int, default=8771)
    a = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    url, password = cluster()
    things(url, a.sensors)
    n = observations(url, a.days, a.step_minutes)
    from gis.db.tokens import create_token

    with psycopg.connect(url) as conn:
        token = create_token(conn, "bench sensors", "device")
    proc = serve(url, password, a.port, a.workers)
    try:
        lines = asyncio.run(measure(a, url, f"http://127.0.0.1:{a.port}", token))
    finally:
        stop(proc)
    head = [
        "# bench: sensors API",
        "",
        f"Run {started} on this machine (2 cores shared by client, server and PostgreSQL): "
        f"`{' '.join(sys.argv)}`, `gis serve --workers {a.workers}`, {a.seconds:g} s per row.",
        f"{a.sensors:,} sensors, {n:,} stored observations ({a.days} days, water every {a.step_minutes} min, "
        "battery hourly).",
        "",
    ]
    text = "\n".join(head + lines) + "\n"
    print(text)
    OUT.write_text(text)


if __name__ == "__main__":
    main()
