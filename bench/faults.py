"""The fault suite: the service under the faults of issue 9, each with the property it checks.

    .venv/bin/python bench/faults.py [--outage 70] [--kills 8] [--only NAME ...] [--out bench/results-faults.md]

A private PostgreSQL cluster (temporary directory) is loaded with the bundled data and `gis serve --workers 2`
runs on it. Then, one after another:

- outage:    the database stops for --outage seconds under load, then starts; an import follows.
             Property: no stale version after recovery (every response within a second of the import's commit
             carries the new ETag, in both workers), no 5xx except 503 while the database is down, /health says
             so, and nothing needs a restart.
- kill:      `gis import farmland ... --replace --force` killed (SIGKILL) at random points, --kills times.
             Property: nothing lost, nothing half-applied: after each kill the farmland rows are either exactly
             the old ones or exactly the new ones (count and checksum of ids and keys).
- wrong_crs: a lon/lat farmland file imported as EPSG:6670 with --replace.
             Property: refused in one line naming the right CRS; the old rows intact.
- collision: ?city_code=41206%26limit%3D5 then ?city_code=41206&limit=5.  Property: two different, right answers.
- causes:    the 7 causes of 500s found by the fuzz run (26 requests).  Property: no 5xx, JSON bodies.
- body:      a 50 MB POST /lookup.  Property: a 413 within a second, the service keeps answering.
- memory:    one worker with 16 MiB response and 16 MiB tile caches; 10x that in distinct pages and tiles.
             Property: resident memory grows by at most the cache budgets plus a stated overhead.

Each fault prints PASS/FAIL with its figures; the Markdown report goes to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gis.db.embedded import EmbeddedPostgres  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.ingest.loader import load_all  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from faults_harness import (  # noqa: E402
    FARMLAND,
    GIS,
    Service,
    _load,
    _secs,
    farmland_state,
    fire_file,
    free_port,
    gis_cli,
)

CAUSES = [
    "/collections/zoning/items?youto_name=a%00b",
    "/collections/zoning/items?filter=youto_name%3D%27a%00b%27",
    "/collections/zoning/items?filter=youto_name%20LIKE%20%27abc%5C%27",
    "/collections/zoning/items?filter=kenpei%20*%201e308%20*%201e308%20%3E%201",
    "/collections/zoning/items?filter=kenpei%20%2B%20999999999999999999999999999999999999999%20%3E%201",
    "/collections/zoning/items?filter=S_INTERSECTS(geom,SRID%3D999999%3BPOINT(130%2033))",
    "/collections/zoning/items?bbox=-1e9,-1e9,1e9,1e9&bbox-crs=EPSG:6670",
    "/collections/zoning/items?filter=S_INTERSECTS(geom,POINT(1e9%201e9))&filter-crs=EPSG:6670",
    "/collections/inundation_sensors/items?datetime=9999-12-31T23:59:59-14:00",
    "/collections/zoning/items/%C2%B2",
    "/collections/zoning/items/%E2%91%A0",
    "/collections/zoning/items/%EF%BC%91%EF%BC%92",
]


def fault_outage(emb: EmbeddedPostgres, tmp: Path, outage: float) -> tuple[bool, list[str]]:
    """Database down for `outage` seconds under load; then an import must show within a second everywhere."""
    svc = Service(emb)
    notes: list[str] = []
    try:
        before = httpx.get(svc.url + "/collections/fire_districts/items").headers["etag"]
        stats: dict[str, int] = {}

        async def run() -> dict:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(_load(svc.url, stop, stats)) for _ in range(4)]
            await asyncio.sleep(2)
            emb.stop()
            t0 = time.monotonic()
            health_down = []
            while time.monotonic() - t0 < outage:
                async with httpx.AsyncClient(timeout=5) as c:
                    r = await c.get(svc.url + "/health")
                    health_down.append(r.status_code if r.status_code != 200 else r.json()["status"])
                await asyncio.sleep(min(5, outage / 4))
            emb.start()
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*tasks)
            return {"health while down": sorted({str(h) for h in health_down})}

        extra = asyncio.run(run())
        r = gis_cli(emb, "import", "fire_districts", str(fire_file(tmp, 130.012)), "--replace", "--force")
        committed = time.monotonic()
        assert r.returncode == 0, r.stderr
        fresh_after = None
        stale_after_1s = 0
        for _ in range(400):  # both workers answer these; every one must carry the new version
            et = httpx.get(svc.url + "/collections/fire_districts/items").headers["etag"]
            elapsed = time.monotonic() - committed
            if et != before and fresh_after is None:
                fresh_after = elapsed
            if et == before and elapsed > 1.0:
                stale_after_1s += 1
            if elapsed > 3:
                break
        health = httpx.get(svc.url + "/health").json()
        ok = (
            fresh_after is not None
            and fresh_after < 1.0
            and stale_after_1s == 0
            and "5xx (not 503)" not in stats
            and health["status"] == "ok"
        )
        notes += [
            f"outage {outage:.0f} s under load (4 clients); requests by status: {dict(sorted(stats.items()))}",
            f"/health while down: {extra['health while down']}; after: {health['status']}, "
            f"listener reconnects {health['listener']['reconnects']}",
            f"import committed → new ETag seen after {_secs(fresh_after)}; "
            f"stale answers later than 1 s after commit: {stale_after_1s}",
        ]
        return ok, notes
    finally:
        svc.stop()


def fault_kill(emb: EmbeddedPostgres, tmp: Path, kills: int) -> tuple[bool, list[str]]:
    """SIGKILL an import at random points: the layer is always exactly before or exactly after."""
    before = farmland_state(emb)
    r = gis_cli(emb, "import", "farmland", str(FARMLAND), "--replace", "--force", "--sample")
    assert r.returncode == 0, r.stderr
    after = farmland_state(emb)
    env = {**os.environ, "DATABASE_URL": emb.url(), "GIS_PUBLIC_PASSWORD": emb.public_password}
    outcomes = []
    ok = True
    for i in range(kills):
        proc = subprocess.Popen(
            [GIS, "import", "farmland", str(FARMLAND), "--replace", "--force", "--sample"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        delay = random.Random(i).uniform(0.5, 8.0)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # the server notices the dead client and rolls its transaction back
        # Ids are kept across re-imports of the same features, so rolled back and committed look the same:
        # anything else (fewer rows, other ids, orphaned private rows) is a half-applied import.
        state = farmland_state(emb)
        ok &= state == after
        outcomes.append(f"{delay:.1f}s→{state[0]} rows{'' if state == after else ' (CHANGED)'}")
    return ok, [
        f"before {before[0]} rows, after a full import {after[0]} rows",
        f"{kills} imports killed at: {', '.join(outcomes)}",
    ]


def fault_wrong_crs(emb: EmbeddedPostgres, tmp: Path) -> tuple[bool, list[str]]:
    """A lon/lat file declared EPSG:6670: refused, rows intact, the right CRS named."""
    before = farmland_state(emb)
    r = gis_cli(emb, "import", "farmland", str(FARMLAND), "--crs", "EPSG:6670", "--replace")
    after = farmland_state(emb)
    lines = r.stderr.strip().splitlines()
    ok = r.returncode == 2 and len(lines) == 1 and before == after and ("6668" in r.stderr or "4326" in r.stderr)
    return ok, [f"exit {r.returncode}: {lines[-1] if lines else ''}", f"rows before {before[0]}, after {after[0]}"]


def fault_collision(svc: Service) -> tuple[bool, list[str]]:
    """The encoded '&' collision pair: two different, right answers."""
    odd = httpx.get(svc.url + "/collections/garbage_points/items?city_code=41206%26limit%3D5").json()
    normal = httpx.get(svc.url + "/collections/garbage_points/items?city_code=41206&limit=5").json()
    ok = odd["numberReturned"] == 0 and normal["numberReturned"] == 5
    return ok, [f"odd value → {odd['numberReturned']} features; city_code=41206&limit=5 → {normal['numberReturned']}"]


def fault_causes(svc: Service) -> tuple[bool, list[str]]:
    """The requests that answered 500 before: none may now."""
    seen = []
    ok = True
    for path in CAUSES:
        r = httpx.get(svc.url + path)
        body_ok = r.headers.get("content-type", "").startswith("application/json") and "code" in r.json()
        ok &= r.status_code < 500 and body_ok
        seen.append(f"{r.status_code}")
    return ok, [f"{len(CAUSES)} requests → statuses {', '.join(seen)}"]


def fault_body(svc: Service) -> tuple[bool, list[str]]:
    """50 MB POST: a 413 at once."""
    port = int(svc.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        t0 = time.perf_counter()
        s.sendall(
            b"POST /lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n"
        )
        head = s.recv(4096).decode(errors="replace")
        elapsed = time.perf_counter() - t0
    alive = httpx.get(svc.url + "/health").status_code == 200
    ok = head.startswith("HTTP/1.1 413") and elapsed < 1 and alive
    return ok, [
        f"answer {head.splitlines()[0] if head else '(none)'} after {elapsed * 1000:.0f} ms; still serving: {alive}"
    ]


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return z, int((lon + 180.0) / 360.0 * n), int(y)


def fault_memory(emb: EmbeddedPostgres) -> tuple[bool, list[str]]:
    """Distinct pages and tiles worth 10x the cache budgets: resident memory stays bounded."""
    budget = 16
    svc = Service(emb, workers=1, GIS_RESPONSE_CACHE_MIB=str(budget), GIS_TILE_CACHE_MIB=str(budget))
    overhead_allowed = 40.0
    try:
        client = httpx.Client(base_url=svc.url, timeout=60)
        client.get("/collections/farmland/items?limit=10")
        client.get("/tiles/zoning/14/14393/6593.mvt")
        minx, miny, maxx, maxy = client.get("/collections/farmland").json()["extent"]["spatial"]["bbox"][0]
        z, x0, y0 = _tile_of((minx + maxx) / 2, (miny + maxy) / 2, 15)
        base = svc.rss_mib()
        fetched = 0
        peak = base
        for i in range(400):
            r = client.get("/collections/farmland/items", params={"limit": 1000, "offset": i * 7})
            fetched += len(r.content)
            x, y = x0 - 10 + i % 20, y0 - 10 + i // 20
            fetched += len(client.get(f"/tiles/farmland/{z}/{x}/{y}.mvt").content)
            if i % 50 == 0:
                peak = max(peak, svc.rss_mib())
        peak = max(peak, svc.rss_mib())
        cache = client.get("/health").json()["cache"]["partitions"]
        growth = peak - base
        ok = growth <= 2 * budget + overhead_allowed
        return ok, [
            f"budgets: response {budget} MiB + tile {budget} MiB; fetched {fetched / 2**20:.0f} MiB, all distinct",
            f"RSS {base:.0f} MiB after start → peak {peak:.0f} MiB (+{growth:.1f} MiB); cache holds "
            f"{cache['response']['bytes'] / 2**20:.1f} + {cache['tile']['bytes'] / 2**20:.1f} MiB; "
            f"allowed: budgets + {overhead_allowed:.0f} MiB overhead",
        ]
    finally:
        svc.stop()


def main() -> None:
    """Run the suite and write the report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outage", type=float, default=70.0)
    ap.add_argument("--kills", type=int, default=8)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results-faults.md")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gis-faults-"))
    tmp.chmod(0o755)
    emb = EmbeddedPostgres(root=tmp, preferred_port=free_port())
    emb.start()
    results: list[tuple[str, bool, list[str]]] = []
    try:
        upgrade(emb.url())
        with psycopg.connect(emb.url()) as conn:
            load_all(conn, REPO / "data", log=lambda _: None)

        def want(name: str) -> bool:
            return a.only is None or name in a.only

        def record(name: str, outcome: tuple[bool, list[str]]) -> None:
            results.append((name, *outcome))
            print(f"{'PASS' if outcome[0] else 'FAIL'} {name}: " + " | ".join(outcome[1]), flush=True)

        if want("outage"):
            record("outage", fault_outage(emb, tmp, a.outage))
        if want("kill"):
            record("kill", fault_kill(emb, tmp, a.kills))
        if want("wrong_crs"):
            record("wrong_crs", fault_wrong_crs(emb, tmp))
        if any(want(n) for n in ("collision", "causes", "body")):
            svc = Service(emb)
            try:
                for name, fn in (("collision", fault_collision), ("causes", fault_causes), ("body", fault_body)):
                    if want(name):
                        record(name, fn(svc))
            finally:
                svc.stop()
        if want("memory"):
            record("memory", fault_memory(emb))
    finally:
        emb.destroy()
    lines = [
        "# Fault suite",
        "",
        f"Run: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, command: `.venv/bin/python bench/faults.py "
        f"--outage {a.outage:.0f} --kills {a.kills}`, on a {os.cpu_count()}-core machine; the faults and the "
        "properties they check are in the script's docstring.",
        "",
        "| fault | result | figures |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {'PASS' if ok else 'FAIL'} | {'<br>'.join(notes)} |" for n, ok, notes in results]
    if a.only is None:
        a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    sys.exit(0 if all(ok for _, ok, _ in results) else 1)


if __name__ == "__main__":
    main()
