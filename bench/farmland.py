#!/usr/bin/env python3
"""Farmland benchmark (issue 12 item 7): the browse query and the farmland tiles over 200,000 and 2,000,000 parcels,
our service beside tipg and the raw SQL of our own statements, in one run (see bench/README.md, "Farmland").

    .venv/bin/python bench/farmland.py [--duration 15] [--warmup 3] [--sizes 1x,10x] [--workloads B1,...,T]
                                       [--systems gis-nocache,gis,tipg,raw] [--rebuild] [--out FILE]

Data and targets: bench/farmland_data.py (databases gis_farm_1x / gis_farm_10x on the bench cluster). Per size:
the answers are checked (ours = raw statement, ours = tipg for the same filter), then each system is timed in turn,
one server at a time. Writes bench/results-farmland.md. Never run it next to tests or other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from itertools import repeat
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import farmland_data as data  # noqa: E402
import garbage  # noqa: E402
import mapbox_vector_tile  # noqa: E402
import psycopg  # noqa: E402
from garbage import run_pgbench, run_wrk, stop_server  # noqa: E402

from gis.farmland.browse import COUNT_CAP, browse_sql, oaza_forms  # noqa: E402
from gis.farmland.params import NOSHIN  # noqa: E402
from gis.farmland.params import browse as parse  # noqa: E402
from layers import LAYERS  # noqa: E402
from tiles.sql import layer_mvt_sql, tile_properties  # noqa: E402

WORK = REPO / "bench" / ".work" / "farmland"
HARNESS = REPO / "bench" / ".work" / "shared-bench"  # bench/run.sh's copy of the shared harness (tipg's venv)
SIZES = {"1x": data.DB_1X, "10x": data.DB_10X}
WORKLOADS = ("B1", "B2", "B3", "B4", "B5", "T")
SYSTEMS = ("gis-nocache", "gis", "tipg", "raw")
PORTS = {"gis-nocache": 8191, "gis": 8192, "tipg": 8193}
PUBLIC_PASSWORD = os.environ.get("GIS_BENCH_PUBLIC_PASSWORD", "bench-public-secret")  # as bench/run.sh
# What our browse answer carries that is a column of the table: tipg is asked for the same properties.
TIPG_PROPS = "city_code,oaza,chiban,land_type,land_type_name,area_m2,noushin_kubun,intention,available_from,crop,"
TIPG_PROPS += "crop_year,ledger_count,link_confidence,data_date,sample"
TIPG_SORT = {k: f"{k},id" for k in ("oaza", "area_m2", "-area_m2", "available_from")}
# Our tiles carry every public column, city_code and sample: tipg's tiles are asked for the same.
TILE_PROPS = ",".join(c if isinstance(c, str) else c.name for c in tile_properties(LAYERS["farmland"]))
CHECK_N = 6
STARTS: dict[str, list[int]] = {}  # seconds from start to ready, per system and database


def ours_path(w: str, q: dict[str, str]) -> str:
    """Our request for one target."""
    if w == "T":
        return f"/tiles/farmland/{q['z']}/{q['x']}/{q['y']}.mvt"
    return "/farmland/parcels?" + urlencode(q)


def circle_wkt(conn: psycopg.Connection, lat: float, lon: float, r: float) -> str:
    """The search circle (measured in EPSG:6670, as our query does) as a 64-gon in CRS84, for CQL2."""
    sql = "SELECT ST_AsText(ST_Transform(ST_Buffer(ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 6668), 6670), %s, 16)"
    return one(conn, sql + ", 4326), 7)", (lon, lat, r))


def cql(conn: psycopg.Connection, q: dict[str, str]) -> str:
    """The same filter in CQL2 text for tipg (the table's columns; 市街化区域 excluded as ours does)."""
    c = ["urbanised = false"]
    plain = {"city": "city_code = '{}'", "land_type": "land_type = {}", "area_min": "area_m2 >= {}",
             "area_max": "area_m2 <= {}", "intention": "intention = '{}'", "crop": "crop = '{}'",
             "available_from": "(available_from IS NULL OR available_from <= DATE('{}'))"}  # fmt: skip
    c += [f.format(q[k]) for k, f in plain.items() if k in q]
    if "noshin" in q:
        c.append(f"noushin_kubun = '{NOSHIN[q['noshin']]}'")
    if "oaza" in q:
        c.append("oaza IN (" + ", ".join(f"'{f}'" for f in oaza_forms(q["oaza"])) + ")")
    if "chiban" in q:  # one of the parcel's 地番 (joined with 、), main number alone also matching its branches
        n = q["chiban"]
        pats = [f"{n}", f"{n}-%", f"{n}、%", f"{n}-%、%", f"%、{n}", f"%、{n}-%", f"%、{n}、%"]
        c.append("(" + " OR ".join(f"chiban LIKE '{p}'" for p in pats) + ")")
    if "lat" in q:
        poly = circle_wkt(conn, float(q["lat"]), float(q["lon"]), float(q.get("within_m", 2000)))
        c.append(f"S_INTERSECTS(geom, {poly})")
    return " AND ".join(c)


def tipg_path(conn: psycopg.Connection, w: str, q: dict[str, str], sortby: str | None = None, limit: int = 0) -> str:
    """tipg's request for one target (its default order, id, where ours sorts by distance)."""
    if w == "T":
        return f"/collections/public.farmland/tiles/WebMercatorQuad/{q['z']}/{q['x']}/{q['y']}?properties={TILE_PROPS}"
    args = {"filter": cql(conn, q), "filter-lang": "cql2-text", "properties": TIPG_PROPS, "f": "geojson"}
    args["limit"] = str(limit or q.get("limit", "50"))
    args["offset"] = q.get("offset", "0")
    s = sortby or TIPG_SORT.get(q.get("sortby", "distance" if "lat" in q else "oaza"))
    if s:
        args["sortby"] = s
    return "/collections/public.farmland/items?" + urlencode(args)


def pg_value(v: object) -> str:
    """A bind value as text for pgbench (arrays in PostgreSQL's literal form)."""
    if isinstance(v, list):
        return "{" + ",".join('"' + str(x).replace('"', '\\"') + '"' for x in v) + "}"
    return v.isoformat() if isinstance(v, date) else str(v)


def raw_scripts(url: str, t: dict[str, list[dict[str, str]]]) -> dict[str, tuple[Path, int]]:
    """pgbench scripts of our own statements, their bind values in schema bench_farmland of the database."""
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_farmland CASCADE; CREATE SCHEMA bench_farmland")
        for w, qs in t.items():
            if w == "T":
                sql = layer_mvt_sql(LAYERS["farmland"], 15)
                rows = [[q["z"], q["x"], q["y"]] for q in qs]
            else:
                built = [browse_sql(parse(q)) for q in qs]
                sql = built[0][0]
                if any(s != sql for s, _ in built):
                    raise RuntimeError(f"{w}: the statement's text varies between targets")
                rows = [[pg_value(v) for v in vals] for _, vals in built]
            n = len(rows[0])
            cols = ", ".join(f"v{k + 1} text" for k in range(n))
            conn.execute(f"CREATE TABLE bench_farmland.{w} (i int PRIMARY KEY, {cols})")
            with conn.cursor().copy(f"COPY bench_farmland.{w} FROM STDIN") as cp:
                for i, r in enumerate(rows, start=1):
                    cp.write_row([i, *r])
            body = "\n".join(x for x in sql.splitlines() if not x.strip().startswith("--"))
            for k in range(n, 0, -1):
                body = body.replace(f"${k}", f":v{k}")
            pick = ", ".join(f"v{k + 1}" for k in range(n))
            script = WORK / f"raw-{w}.sql"
            script.write_text(
                f"\\set i random(1, :n)\nSELECT {pick} FROM bench_farmland.{w} WHERE i = :i \\gset\n{body};\n"
            )
            out[w] = (script, len(rows))
    return out


def get(base: str, path: str) -> bytes:
    """One GET, the body (raises on HTTP >= 400)."""
    with urllib.request.urlopen(base + path, timeout=120) as r:
        return r.read()


def ids_of(body: bytes) -> tuple[list[int], int | None]:
    """Feature ids and numberMatched (None when only a lower bound is given) of a FeatureCollection."""
    d = json.loads(body)
    return [int(f["id"]) for f in d["features"]], d.get("numberMatched")


def mvt_ids(body: bytes) -> list:
    """Feature ids (or a count of unnamed features) over the tile's layers."""
    tile = mapbox_vector_tile.decode(body) if body else {}
    return sorted(f.get("id") or 0 for layer in tile.values() for f in layer["features"])


def run_sql(conn: psycopg.Connection, sql: str, values: list) -> object:
    """One asyncpg-style statement ($n placeholders, some used twice) through psycopg; its one value."""
    named = re.sub(r"\$([0-9]+)", r"%(p\1)s", sql.replace("%", "%%"))
    return conn.execute(named, {f"p{k}": v for k, v in enumerate(values, start=1)}).fetchone()[0]


def raw_answer(conn: psycopg.Connection, w: str, q: dict[str, str]) -> bytes:
    """The raw statement's answer for one target."""
    if w == "T":
        return bytes(run_sql(conn, layer_mvt_sql(LAYERS["farmland"], 15), [int(q["z"]), int(q["x"]), int(q["y"])]))
    return str(run_sql(conn, *browse_sql(parse(q)))).encode()


def one(conn: psycopg.Connection, sql: str, args: tuple) -> object:
    """The first value of a query."""
    return conn.execute(sql, args).fetchone()[0]


def check(size: str, url: str, t: dict, workloads: list[str]) -> dict:
    """Ours vs raw (the same ids in order) and ours vs tipg (the same parcels for the same filter), CHECK_N targets."""
    notes: dict[str, dict] = {}
    procs = [start(s, url) for s in ("gis-nocache", "tipg")]
    ours_at, tipg_at = (lambda p: get(base("gis-nocache"), p)), (lambda p: get(base("tipg"), p))  # noqa: E731
    try:
        with psycopg.connect(url) as conn:
            for w in workloads:
                n: dict = {"n": 0, "raw_equal": 0, "tipg_equal": 0, "matched": [], "diff": []}
                sizes: dict[str, list[int]] = {"gis": [], "tipg": [], "raw": []}
                for q in t[w][:CHECK_N]:
                    ours, tipg, raw = ours_at(ours_path(w, q)), tipg_at(tipg_path(conn, w, q)), raw_answer(conn, w, q)
                    for k, body in (("gis", ours), ("tipg", tipg), ("raw", raw)):
                        sizes[k].append(len(body))
                    n["n"] += 1
                    if w == "T":  # ours clips with a 1/64 margin; tipg keeps the parcels meeting the tile itself
                        a, b = mvt_ids(ours), mvt_ids(tipg)
                        n["raw_equal"] += mvt_ids(raw) == a
                        meet = one(conn, "SELECT count(*) FROM farmland f, ST_Transform(ST_TileEnvelope(%s, %s, %s), "
                                   "6668) e WHERE f.geom && e AND ST_Intersects(f.geom, e)",
                                   (int(q["z"]), int(q["x"]), int(q["y"])))  # fmt: skip
                        n["tipg_equal"] += len(b) == meet
                        n["matched"].append((len(a), f"{len(b)} (meeting the tile: {meet})"))
                        continue
                    n["raw_equal"] += [f["id"] for f in json.loads(raw)["features"]] == ids_of(ours)[0]
                    # the filter itself: both answers sorted by -area_m2, id, up to 500 parcels
                    mine, m = ids_of(ours_at(ours_path(w, {**q, "sortby": "-area_m2", "limit": "500", "offset": "0"})))
                    theirs, tm = ids_of(tipg_at(tipg_path(conn, w, {**q, "offset": "0"}, "-area_m2,id", 500)))
                    n["matched"].append((m if m is not None else f">{COUNT_CAP:,}", tm))
                    if mine == theirs and (m == tm or (m is None and tm > COUNT_CAP)):
                        n["tipg_equal"] += 1
                        continue
                    odd = sorted(set(mine) ^ set(theirs))
                    if "lat" in q and odd:  # the 64-gon against the exact circle: how far from its edge?
                        d = one(conn, "SELECT max(abs(ST_Distance(geom_m, ST_Transform(ST_SetSRID(ST_MakePoint(%s, "
                                "%s), 6668), 6670)) - %s)) FROM farmland WHERE id = ANY(%s)",
                                (float(q["lon"]), float(q["lat"]), float(q["within_m"]), odd))  # fmt: skip
                        n["diff"].append(f"{len(odd)} parcel(s) differ, all within {d:.1f} m of the circle's edge")
                    else:
                        n["diff"].append(f"{urlencode(q)}: ours {len(mine)}/{m}, tipg {len(theirs)}/{tm}")
                n["bytes"] = {k: int(sum(v) / len(v)) for k, v in sizes.items() if v}
                notes[w] = n
                print(size, w, "check:", n, flush=True)
    finally:
        for p in procs:
            stop_server(p)
    return notes


def base(system: str) -> str:
    """The system's base URL."""
    return f"http://127.0.0.1:{PORTS[system]}"


def start(system: str, url: str) -> subprocess.Popen:
    """Start one HTTP system on the size's database, in its own process group (stopped by its id)."""
    env = {**os.environ, "DATABASE_URL": url, "GIS_PUBLIC_PASSWORD": PUBLIC_PASSWORD}
    env.pop("DATABASE_READ_URL", None)
    port, workers = str(PORTS[system]), str(A.workers)
    if system == "tipg":  # as the shared harness's peers/tipg.sh, but on our database and table
        env |= {"TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": '["public.farmland"]',
                "TIPG_MAX_FEATURES_PER_QUERY": "10000", "TIPG_DB_MAX_CONN_SIZE": "16"}  # fmt: skip
        cmd = [str(HARNESS / ".venv" / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", port,
               "--workers", workers, "--no-access-log", "--log-level", "warning"]  # fmt: skip
        ready = "/collections"
    else:
        cache = "0" if system == "gis-nocache" else None
        env |= (
            {"GIS_RESPONSE_CACHE_MIB": cache, "GIS_TILE_CACHE_MIB": cache} if cache else {"GIS_TILE_CACHE_MIB": "128"}
        )
        cmd = [garbage.GIS, "serve", "--host", "127.0.0.1", "--port", port, "--workers", workers, "--no-load"]
        ready = "/health"
    log = open(WORK / f"{system}.log", "w")  # noqa: SIM115 (kept open for the server's life)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.monotonic()
    while time.monotonic() < t0 + 900 and proc.poll() is None:  # ours took up to 10 min on a loaded machine
        try:
            get(base(system), ready)
            STARTS.setdefault(f"{system} {url.rsplit('/', 1)[1]}", []).append(round(time.monotonic() - t0))
            return proc
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"{system} did not start (see {log.name})")


def idle(url: str, timeout: float = 60) -> None:
    """Wait until the database runs no other statement (a slow system's backlog must not leak into the next cell)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
            if not one(conn, sql + " AND pid <> pg_backend_pid()", ()):
                return
            time.sleep(0.5)


def measure(size: str, url: str, t: dict, a: argparse.Namespace, results: dict) -> None:
    """Every cell of one size: each HTTP system in turn (one server at a time), then pgbench."""
    for system in a.systems:
        if system == "raw":
            scripts = raw_scripts(url, t)
            for w in a.workloads:
                script, n = scripts[w]
                idle(url)
                run_pgbench(url, script, n, a, a.warmup)
                results[(size, w, system)] = run_pgbench(url, script, n, a, a.duration)
                print(size, w, system, results[(size, w, system)], flush=True)
            continue
        with psycopg.connect(url) as conn:
            for w in a.workloads:
                paths = [tipg_path(conn, w, q) if system == "tipg" else ours_path(w, q) for q in t[w]]
                (WORK / f"{system}-{w}.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
        proc = start(system, url)
        try:
            for w in a.workloads:
                idle(url)
                f = WORK / f"{system}-{w}.txt"
                if system == "gis":  # "cached" means every target cached: each distinct request once before wrk
                    with ThreadPoolExecutor(4) as pool:
                        list(pool.map(get, repeat(base(system)), set(f.read_text(encoding="utf-8").split())))
                run_wrk(base(system), f, a, a.warmup)
                results[(size, w, system)] = run_wrk(base(system), f, a, a.duration)
                print(size, w, system, results[(size, w, system)], flush=True)
        finally:
            stop_server(proc)


def report(a: argparse.Namespace, info: dict, checks: dict, results: dict, started: str, took: float) -> str:
    """The markdown report."""
    ms = lambda us: f"{us / 1000:.1f}" if us is not None else "—"  # noqa: E731
    ratio = lambda x, y: f"{x / y:.2f}" if x and y else "—"  # noqa: E731
    keys = ("parcels", "lend", "sell", "area >= 2000", "urbanised", "Takeo 田 >= 2000 lend", "ledger records")
    L = ["# Benchmark: farmland browse and tiles at 200,000 and 2,000,000 parcels, beside tipg and raw SQL", "",
         f"Run {started} (UTC), {took / 60:.0f} min: `{' '.join(sys.argv)}` ({os.cpu_count()} cores). wrk "
         f"-t{a.threads} -c{a.connections}, pgbench -M prepared -c{a.connections} -j{a.threads}; {a.duration} s per "
         f"cell after a {a.warmup} s warm-up; servers with {a.workers} workers, one at a time. How the data, targets "
         "and systems are made: bench/README.md, section Farmland.", "", "## Data (bench/farmland_data.py)", "",
         "| database | build | " + " | ".join(keys) + " |", "|---|---|" + "---:|" * len(keys)]  # fmt: skip
    L += [f"| {name} | {d['built']} | " + " | ".join(f"{d[k]:,}" for k in keys) + " |" for name, d in info.items()]
    L += ["", "## Workloads", ""] + [f"- {w}: {data.ABOUT[w]}" for w in a.workloads]
    L += ["", "## Results", "", "Body bytes: mean over the checked sample (gis-nocache's for both gis rows); `× tipg` "
          "and `× raw` compare req/s at the same size; growth = 10x / 1x.", ""]  # fmt: skip
    cols = ("req/s", "p50 ms", "p99 ms", "bytes", "× tipg", "× raw")
    grow = len(a.sizes) == 2
    L.append("| workload | system |" + "".join(f" {z} {c} |" for z in a.sizes for c in cols)
             + (" req/s growth | p50 growth |" if grow else ""))  # fmt: skip
    L.append("|---|---|" + "---:|" * (len(cols) * len(a.sizes) + 2 * grow))
    for w in a.workloads:
        for s in a.systems:
            row = f"| {w} | {s} |"
            for z in a.sizes:
                r, tip, raw = (results.get((z, w, x)) for x in (s, "tipg", "raw"))
                if r is None:
                    row += " — |" * len(cols)
                    continue
                b = checks.get(z, {}).get(w, {}).get("bytes", {}).get("gis" if s.startswith("gis") else s) or 0
                err = f" ({r['errors']} errors)" if r["errors"] else ""
                row += f" {r['rps']:,.0f}{err} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {b:,} |"
                row += f" {ratio(r['rps'], tip and tip['rps'])} | {ratio(r['rps'], raw and raw['rps'])} |"
            if grow:
                r1, r2 = (results.get((z, w, s)) or {} for z in a.sizes)
                row += f" {ratio(r2.get('rps'), r1.get('rps'))} | {ratio(r2.get('p50_us'), r1.get('p50_us'))} |"
            L.append(row)
    L += ["", "## Answers checked before timing", "",
          f"The first {CHECK_N} targets of each workload. ours = raw: our statement run by psycopg gives the same ids "
          "in the same order (tiles: the same feature ids). ours = tipg: the same filter, both sorted by -area_m2, "
          "id, up to 500 parcels, gives the same ids and numberMatched (ours says only `numberMatchedAtLeast` "
          f"past {COUNT_CAP:,}); tiles: tipg's features = the parcels meeting the tile (ours adds a 1/64 margin).",
          "", "| size | workload | checked | ours = raw | ours = tipg | numberMatched ours / tipg | differences |",
          "|---|---|---:|---:|---:|---|---|"]  # fmt: skip
    for z in a.sizes:
        for w, n in checks.get(z, {}).items():
            m = ", ".join(f"{x} / {y}" for x, y in n["matched"][:3])
            L.append(
                f"| {z} | {w} | {n['n']} | {n['raw_equal']} | {n['tipg_equal']} | {m} | {'; '.join(n['diff'][:3])} |"
            )
    L += ["", "Start-up to ready (s): " + "; ".join(f"{k} {v}" for k, v in STARTS.items()) + ".", "",
          "Numbers from a shared 2-core machine: compare rows of this file only, never across runs."]  # fmt: skip
    return "\n".join(L) + "\n"


A: argparse.Namespace


def main() -> None:
    global A
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in (("duration", 15), ("warmup", 3), ("connections", 16), ("threads", 2), ("workers", 2)):
        p.add_argument(f"--{name}", type=int, default=default)
    for name, default in (("sizes", "1x,10x"), ("workloads", ",".join(WORKLOADS)), ("systems", ",".join(SYSTEMS))):
        p.add_argument(f"--{name}", default=default)
    p.add_argument("--rebuild", action="store_true", help="rebuild the two databases (bench/farmland_data.py)")
    p.add_argument("--no-prepare", action="store_true", help="skip bench/run.sh prepare (cluster already up)")
    p.add_argument("--out", default=str(REPO / "bench" / "results-farmland.md"))
    a = p.parse_args()
    a.sizes, a.workloads, a.systems = (v.split(",") for v in (a.sizes, a.workloads, a.systems))
    A = a
    t0, started = time.monotonic(), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    WORK.mkdir(parents=True, exist_ok=True)
    garbage.WORK = WORK  # run_pgbench keeps its transaction logs there
    info = data.ensure(a.rebuild, not a.no_prepare)
    t = data.targets(data.db_url(data.DB_1X))
    checks: dict[str, dict] = {}
    results: dict[tuple[str, str, str], dict] = {}
    for size in a.sizes:
        url = data.db_url(SIZES[size])
        checks[size] = check(size, url, t, a.workloads)
        measure(size, url, t, a, results)
    Path(a.out).write_text(report(a, info, checks, results, started, time.monotonic() - t0), encoding="utf-8")
    print(f"wrote {a.out} ({(time.monotonic() - t0) / 60:.1f} min)")


if __name__ == "__main__":
    main()
