#!/usr/bin/env python3
"""Farmland bench data: databases gis_farm_1x (200,000 parcels) and gis_farm_10x (2,000,000) on the bench cluster.

    .venv/bin/python bench/farmland_data.py [--rebuild] [--no-prepare]

Both are clones of database `gis` that `bench/run.sh prepare` fills (the bench generator's 200,000 farmland parcels
loaded with `gis import`, every migration applied), so our service, tipg and pgbench read the same rows:
1. `CREATE DATABASE gis_farm_1x TEMPLATE gis`, then the public summary columns of `farmland` (the ones the browse
   filters read: oaza, chiban, area_m2, intention, available_from, crop, noushin_kubun, urbanised, ...) are filled
   from a seeded hash of each parcel's id (md5, so the same on every machine), then VACUUM (FULL, ANALYZE); the
   ledger records (one per 地番), links and crops behind that summary are inserted to match it.
2. `CREATE DATABASE gis_farm_10x TEMPLATE gis_farm_1x`, then 9 translated copies of the 200,000 parcels are added
   with one INSERT ... SELECT under `SET session_replication_role = replica` (no FK checks; the secondary indexes
   of the four farmland tables are dropped first and rebuilt from their own definitions afterwards, as a bulk
   load does), with their ledger records, links and crops, then VACUUM ANALYZE.
   The copies tile a 5 x 2 grid of the bench box (0.3005 deg x 0.2505 deg steps east and south: Saga and its
   neighbours), so the parcels per km2, per tile and per 2 km circle stay those of the 1x data; ids are
   id + k * 1,000,000, polygon_uuids md5-derived, attributes those of the original parcel, and copy k gets the
   code of another Saga municipality (a prefecture's worth: `city=41206` still selects Takeo's parcels only).
`targets()` draws the seeded request targets of bench/farmland.py from the 1x data (the same lists for both sizes).
A stamp (the SQL and copy layout below, the source database's migration heads and farmland sources) on each
database skips the work when nothing changed.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
PORT = 54329
SU = f"postgresql://postgres@127.0.0.1:{PORT}"
BENCH_USER = f"postgresql://bench:bench@127.0.0.1:{PORT}"
DB_1X, DB_10X = "gis_farm_1x", "gis_farm_10x"
COPY_STEP = (0.3005, -0.2505)  # one bench box (lon 129.80-130.10, lat 33.10-33.35) plus a gap
COPY_ID_STEP = 1_000_000
# Other Saga municipalities (JIS codes) for the copies with --copy-codes saga.
SAGA_CODES = ("41201", "41202", "41203", "41204", "41207", "41208", "41209", "41210", "41327")
REQUIRED = ("oaza", "area_m2", "land_type", "intention", "available_from", "crop", "noushin_kubun", "urbanised")


def db_url(name: str) -> str:
    """The bench user's URL of database `name` on the bench cluster."""
    return f"{BENCH_USER}/{name}"


def lg_code(code: str) -> str:
    """6-digit local government code (JIS X 0402 check digit)."""
    s = sum(int(d) * w for d, w in zip(code, (6, 5, 4, 3, 2), strict=True)) % 11
    return code + str((11 - s) % 10 if s else 1)


# u(id, salt): a uniform [0, 1) value per parcel and purpose; cell(x, y, size, salt): the same per grid cell, so
# 大字, 農振区分 and 都市計画 zones come in spatial patches as they do on the ground.
FUNCS = """
CREATE FUNCTION pg_temp.u(bigint, int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
  $$ SELECT ('x' || substr(md5($1::text || ':' || $2::text), 1, 8))::bit(32)::bigint / 4294967296.0 $$;
CREATE FUNCTION pg_temp.cell(float8, float8, float8, int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
  $$ SELECT ('x' || substr(md5(floor($1 / $3)::text || ',' || floor($2 / $3)::text || ':' || $4::text), 1, 8))
       ::bit(32)::bigint / 4294967296.0 $$;
"""

# Shares follow the bundled sample ledger (5.8 % 貸付希望, 2.8 % 売渡希望, 75/18/7 % 農振区分, 36 % leased);
# area_m2 is the sum of the linked records' registered areas (1-3 records, 72/21/7 %), so about a fifth of the
# parcels reach 2,000 m2 and "Takeo + 田 + >= 2,000 m2 + lend" matches about a thousand of the 200,000.
FILL = """
-- a bulk rewrite of derived columns: no row-history capture (migration 0013) and no FK checks, as for the copies
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE h AS
SELECT f.id, f.city_code, f.land_type,
       (ST_XMin(f.geom) + ST_XMax(f.geom)) / 2 AS x, (ST_YMin(f.geom) + ST_YMax(f.geom)) / 2 AS y,
       CASE WHEN pg_temp.u(f.id, 1) < 0.72 THEN 1 WHEN pg_temp.u(f.id, 1) < 0.93 THEN 2 ELSE 3 END AS n,
       pg_temp.u(f.id, 2) AS u2, pg_temp.u(f.id, 3) AS u3, pg_temp.u(f.id, 4) AS u4, pg_temp.u(f.id, 5) AS u5,
       pg_temp.u(f.id, 6) AS u6, pg_temp.u(f.id, 7) AS u7, pg_temp.u(f.id, 8) AS u8, pg_temp.u(f.id, 9) AS u9
  FROM farmland f;
CREATE TEMP TABLE names AS
SELECT city_code, array_agg(DISTINCT name ORDER BY name) AS n FROM towns GROUP BY city_code;
CREATE TEMP TABLE s0 AS
SELECT h.*,
       (SELECT nm.n[1 + floor(pg_temp.cell(h.x, h.y, 0.02, 1) * array_length(nm.n, 1))::int]
          FROM names nm WHERE nm.city_code = h.city_code) AS oaza,
       pg_temp.cell(h.x, h.y, 0.01, 2) AS zone_u, pg_temp.cell(h.x, h.y, 0.01, 3) AS toshi_u,
       CASE WHEN h.u7 < 0.275 THEN '賃借権' WHEN h.u7 < 0.363 THEN '使用貸借による権利' END AS lease_type,
       CASE WHEN h.u7 < 0.363 THEN DATE '2023-04-01' + floor(h.u8 * 4750)::int END AS lease_end
  FROM h;
-- 地番 numbered within each 大字 (three numbers per parcel, so the records of one parcel are unique in it)
CREATE TEMP TABLE s AS SELECT s0.*, row_number() OVER (PARTITION BY city_code, oaza ORDER BY id) AS rn FROM s0;
UPDATE farmland f SET
  oaza = s.oaza,
  chiban = (SELECT string_agg((3 * s.rn - 2 + k)::text
                              || CASE WHEN s.u4 < 0.3 THEN '-' || (1 + floor(s.u4 * 30)::int) ELSE '' END, '、')
              FROM generate_series(0, s.n - 1) k),
  area_m2 = round((f.area_m2 * s.n * (0.8 + 0.45 * s.u2))::numeric, 1),
  ledger_count = s.n,
  link_confidence = CASE WHEN s.n = 1 AND s.u9 < 0.8 THEN 0.9 WHEN s.n = 1 THEN 0.6
                         ELSE round((0.3 + 0.6 * s.u9)::numeric, 2) END,
  noushin_kubun = CASE WHEN s.zone_u < 0.75 THEN '農用地区域内' WHEN s.zone_u < 0.93 THEN '農振地域内（農用地区域外）'
                       ELSE '農振地域外' END,
  toshi_kubun = CASE WHEN s.toshi_u < 0.01 THEN '市街化区域' WHEN s.toshi_u < 0.29 THEN '非線引き都市計画区域'
                     ELSE '都市計画区域外' END,
  urbanised = s.toshi_u < 0.01,
  intention = CASE WHEN s.u5 < 0.058 THEN 'lend' WHEN s.u5 < 0.086 THEN 'sell' END,
  lend_intention = CASE WHEN s.u5 < 0.058 THEN '貸付希望' WHEN s.u5 < 0.086 THEN '売渡希望' END,
  lease_type = s.lease_type,
  lease_end = s.lease_end,
  available_from = CASE WHEN s.lease_end >= DATE '2026-04-01' THEN s.lease_end + 1 END,
  cultivator_no = CASE WHEN s.lease_type IS NOT NULL OR s.u6 < 0.5 THEN 'K-' || lpad((f.id % 99991)::text, 6, '0') END,
  chukan_kanri = s.lease_type = '賃借権' AND s.u9 < 0.3,
  idle_measure = CASE WHEN s.u6 > 0.972 THEN '利用意向調査中' END,
  data_date = DATE '2025-03-31',
  crop = CASE WHEN s.land_type = 100 THEN
                CASE WHEN s.u8 < 0.70 THEN '水稲' WHEN s.u8 < 0.80 THEN '大豆' WHEN s.u8 < 0.88 THEN '麦'
                     WHEN s.u8 < 0.93 THEN '飼料作物' ELSE '不作付' END
              ELSE CASE WHEN s.u8 < 0.50 THEN '野菜' WHEN s.u8 < 0.65 THEN '麦' WHEN s.u8 < 0.80 THEN '大豆'
                        WHEN s.u8 < 0.90 THEN '飼料作物' ELSE '不作付' END END,
  crop_year = 2025,
  crop_date = DATE '2025-09-30',
  issue_year = 2025,
  edit_year = 2019 + floor(s.u2 * 6)::int,
  history = '[]',
  local_government_cd = CASE f.city_code WHEN '41205' THEN '412058' WHEN '41206' THEN '412066' END,
  point_lng = round(s.x::numeric, 7), point_lat = round(s.y::numeric, 7)
FROM s WHERE s.id = f.id;
"""


# The ledger records, links and crops behind the summary (the browse's 大字 + 地番 search and its sources read
# them): one record per 地番 of a parcel (id = parcel id * 4 + k), linked by position, one 夏作 crop per parcel.
LEDGER = """
INSERT INTO farmland_ledger (id, city_code, oaza, chiban, chimoku, area_m2, noushin_kubun, toshi_kubun, intention,
    cultivator_no, lease_type, lease_end, chukan_kanri, idle_measure, ledger_date, kubun_date, intention_date,
    lease_date, idle_date, sample, source_id)
SELECT f.id * 4 + e.k, f.city_code, f.oaza, e.c, f.land_type_name, round((f.area_m2 / f.ledger_count)::numeric, 1),
       f.noushin_kubun, f.toshi_kubun, f.intention, f.cultivator_no, f.lease_type, f.lease_end, f.chukan_kanri,
       f.idle_measure, f.data_date, f.data_date, f.data_date, f.data_date, f.data_date, f.sample, f.source_id
  FROM farmland f, unnest(string_to_array(f.chiban, '、')) WITH ORDINALITY e(c, k) WHERE f.id >= %(lo)s;
INSERT INTO farmland_links (polygon_id, ledger_id, confidence, method)
SELECT f.id, f.id * 4 + k, f.link_confidence, 'position' FROM farmland f, generate_series(1, f.ledger_count) k
 WHERE f.id >= %(lo)s;
INSERT INTO farmland_crops (id, polygon_id, year, season, crop, data_date, source_id, sample)
SELECT f.id, f.id, f.crop_year, '夏作', f.crop, f.crop_date, f.source_id, f.sample FROM farmland f WHERE f.id >= %(lo)s;
SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT max(id) FROM farmland_ledger))
  FROM (VALUES ('farmland_ledger')) v(t);
SELECT setval(pg_get_serial_sequence('farmland_crops', 'id'), (SELECT max(id) FROM farmland_crops));
"""
TABLES = ("farmland", "farmland_ledger", "farmland_links", "farmland_crops")


def sh(cmd: list[str]) -> None:
    """Run a command, raise with its output on failure."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {(done.stdout + done.stderr)[-3000:]}")


def prepare() -> None:
    """`bench/run.sh prepare`: the bench cluster, database gis migrated, the 200,000 bench parcels imported."""
    print("bench/run.sh prepare ...", flush=True)
    sh([str(REPO / "bench" / "run.sh"), "prepare"])


def source_stamp() -> str:
    """What the clones derive from: the data SQL and copy layout, database gis's migration heads and sources."""
    with psycopg.connect(db_url("gis")) as conn:
        heads = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version ORDER BY 1")]
        srcs = conn.execute(
            "SELECT string_agg(coalesce(file_sha256, ''), ',' ORDER BY id) FROM sources WHERE layer_id = 'farmland'"
        ).fetchone()[0]
    h = hashlib.sha256("|".join((FUNCS, FILL, LEDGER, repr(COPY_STEP), repr(SAGA_CODES), str(heads), srcs)).encode())
    return h.hexdigest()[:16]


def _stamp_of(su: psycopg.Connection, name: str) -> str | None:
    row = su.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
    ).fetchone()
    return row[0] if row else None


def _clone(su: psycopg.Connection, name: str, template: str) -> None:
    for _ in range(40):  # a session just closed may take a moment to leave
        busy = su.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (template,)).fetchone()[0]
        if not busy:
            break
        time.sleep(0.25)
    if busy:
        raise RuntimeError(f"database {template} has {busy} open sessions: stop what reads it, then run again")
    su.execute(f'DROP DATABASE IF EXISTS "{name}"')
    su.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER bench')


def _columns(conn: psycopg.Connection) -> list[tuple[str, bool]]:
    return conn.execute(
        "SELECT column_name, is_generated = 'ALWAYS' FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = 'farmland' ORDER BY ordinal_position"
    ).fetchall()


def _bulk(conn: psycopg.Connection, statements: list[str], lo: int) -> None:
    """Run the inserts as a bulk load: FK triggers off, secondary indexes dropped and rebuilt from their DDL."""
    idx = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        ([f"public.{t}" for t in TABLES],),
    ).fetchall()
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for name, _ in idx:
            conn.execute(f"DROP INDEX {name}")
        for sql in statements:
            conn.execute(sql)
        conn.execute(LEDGER.replace("%(lo)s", str(lo)))
        for _, ddl in idx:
            conn.execute(ddl)
        conn.execute("SELECT setval(pg_get_serial_sequence('farmland', 'id'), (SELECT max(id) FROM farmland))")
        if conn.execute("SELECT to_regproc('gis_bump_version') IS NOT NULL").fetchone()[0]:
            for t in TABLES:
                conn.execute("SELECT gis_bump_version(%s)", (t,))
    for t in TABLES:
        conn.execute(f"VACUUM (ANALYZE) {t}")


def fill_1x(url: str) -> dict[str, int]:
    """Fill the summary columns of the 200,000 parcels and their ledger, links, crops; return shares."""
    with psycopg.connect(url, autocommit=True) as conn:
        have = {c for c, _ in _columns(conn)}
        missing = [c for c in REQUIRED if c not in have]
        if missing:
            raise RuntimeError(f"farmland lacks {missing}: the farmland migration (0011) is not applied yet")
        if conn.execute("SELECT max(id) FROM farmland").fetchone()[0] >= COPY_ID_STEP:
            raise RuntimeError(f"farmland ids reach {COPY_ID_STEP:,}: the copies' ids would collide")
        for t in TABLES[1:]:
            conn.execute(f"DELETE FROM {t}")  # an upgraded bench database may hold carried-over records
        with conn.transaction():
            conn.execute(FUNCS)
            conn.execute(FILL)
        conn.execute("VACUUM (FULL, ANALYZE) farmland")
        _bulk(conn, [], 0)
        return share(conn)


def share(conn: psycopg.Connection) -> dict[str, int]:
    """Counts that show the filters' selectivity."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE intention = 'lend'), count(*) FILTER (WHERE intention = 'sell'),"
        " count(*) FILTER (WHERE area_m2 >= 2000), count(*) FILTER (WHERE urbanised),"
        " count(*) FILTER (WHERE city_code = '41206' AND land_type = 100 AND area_m2 >= 2000"
        "   AND intention = 'lend' AND NOT urbanised), (SELECT count(*) FROM farmland_ledger) FROM farmland"
    ).fetchone()
    keys = ("parcels", "lend", "sell", "area >= 2000", "urbanised", "Takeo 田 >= 2000 lend", "ledger records")
    return dict(zip(keys, row, strict=True))


def add_copies(url: str) -> dict[str, int]:
    """Nine translated copies of the 200,000 parcels with their records, bulk-loaded."""
    with psycopg.connect(url, autocommit=True) as conn:
        cols = [c for c, generated in _columns(conn) if not generated]
        over = {
            "id": f"f.id + c.k * {COPY_ID_STEP}",
            "city_code": "c.code",
            "polygon_uuid": "md5(f.polygon_uuid || ':copy:' || c.k)::uuid::text",
            "feature_key": "CASE WHEN f.feature_key IS NOT NULL THEN f.feature_key || ':copy:' || c.k END",
            "geom": "ST_Translate(f.geom, c.dx, c.dy)",
            "point_lng": "f.point_lng + c.dx",
            "point_lat": "f.point_lat + c.dy",
            "local_government_cd": "c.lg",
        }
        values = []
        for k, code in enumerate(SAGA_CODES, start=1):
            dx, dy = COPY_STEP[0] * (k % 5), COPY_STEP[1] * (k // 5)
            values.append(f"({k}, '{code}', {dx!r}, {dy!r}, '{lg_code(code)}')")
        sel = ", ".join(over.get(c, f"f.{c}") for c in cols)
        insert = (
            f"INSERT INTO farmland ({', '.join(cols)}) SELECT {sel} FROM farmland f, "
            f"(VALUES {', '.join(values)}) c(k, code, dx, dy, lg) ORDER BY c.k, f.id"
        )
        _bulk(conn, [insert], COPY_ID_STEP)
        return share(conn)


def ensure(rebuild: bool = False, run_prepare: bool = True) -> dict[str, dict]:
    """Both databases up to date (rebuilt when the stamp differs); their shares and build times."""
    if run_prepare:
        prepare()
    stamp = source_stamp()
    info: dict[str, dict] = {}
    with psycopg.connect(f"{SU}/postgres", autocommit=True) as su:
        for name, template in ((DB_1X, "gis"), (DB_10X, DB_1X)):
            if not rebuild and _stamp_of(su, name) == stamp:
                with psycopg.connect(db_url(name)) as conn:
                    info[name] = {"built": f"up to date (stamp {stamp})", **share(conn)}
                continue
            rebuild = True  # a rebuilt 1x invalidates the 10x clone
            t = time.monotonic()
            su.execute(f'DROP DATABASE IF EXISTS "{DB_10X}"')
            _clone(su, name, template)
            su_url = f"{SU}/{name}"  # session_replication_role needs a superuser
            counts = fill_1x(su_url) if name == DB_1X else add_copies(su_url)
            su.execute(f"COMMENT ON DATABASE \"{name}\" IS '{stamp}'")
            info[name] = {"built": f"built in {time.monotonic() - t:.0f} s (stamp {stamp})", **counts}
            print(name, info[name], flush=True)
    return info


ABOUT = {
    "B1": "Takeo 田 ≥ area_min (1,500–3,000 m²) to lend, 大字 order, pages 1–2 of 50",
    "B2": "lend within 2 km of a parcel, nearest first, 20 per page "
    "(tipg: S_INTERSECTS with the circle as a 64-gon, id order)",
    "B3": "for sale anywhere (no city), 田 or 畑, largest first, pages 1–10 of 100",
    "B4": "Imari or Takeo, available by a date (2026-06 … 2030-03), 水稲 or 大豆, 農用地区域内, soonest first "
    "(tipg: available_from, id — NULLs last where ours puts them first)",
    "B5": "大字 + 地番 (ours through the ledger's unique key; tipg: LIKE on the parcel's 地番 list)",
    "T": "farmland MVT z15 tile holding a seeded parcel (600 tiles; tipg with the same properties)",
}


def targets(url: str, seed: int = 12) -> dict[str, list[dict[str, str]]]:
    """Seeded query strings per workload (read from the 1x data; the same lists serve both sizes)."""
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT city_code, oaza, split_part(split_part(chiban, '、', 1), '-', 1), point_lat, point_lon FROM ("
            " SELECT city_code, oaza, chiban, point_lat, point_lng AS point_lon FROM farmland"
            " WHERE id < %s AND NOT urbanised ORDER BY md5(id::text) LIMIT 600) s",
            (COPY_ID_STEP,),
        ).fetchall()
    t: dict[str, list[dict[str, str]]] = {}
    t["B1"] = [
        {"city": "41206", "land_type": "100", "area_min": str(a), "intention": "lend", "offset": str(o)}
        for a in range(1500, 3001, 100)
        for o in (0, 50)
    ]
    t["B2"] = [
        {"lat": f"{r[3]:.6f}", "lon": f"{r[4]:.6f}", "within_m": "2000", "intention": "lend", "limit": "20"}
        for r in rows[:300]
    ]
    t["B3"] = [
        {"intention": "sell", "land_type": lt, "sortby": "-area_m2", "limit": "100", "offset": str(o)}
        for lt in ("100", "200")
        for o in range(0, 1000, 100)
    ]
    days = [date(2026 + m // 12, 1 + m % 12, 1).isoformat() for m in range(5, 53, 3)]
    t["B4"] = [
        {"city": c, "available_from": d, "crop": crop, "noshin": "nouyouchi", "sortby": "available_from"}
        for c in ("41205", "41206")
        for d in days
        for crop in ("水稲", "大豆")
    ]
    t["B5"] = [{"city": r[0], "oaza": r[1], "chiban": r[2]} for r in rows[300:600]]
    for v in t.values():
        rng.shuffle(v)
    z = 15
    t["T"] = [
        {
            "z": str(z),
            "x": str(int((lon + 180) / 360 * 2**z)),
            "y": str(int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)),
        }
        for _, _, _, lat, lon in rows
    ]
    return t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rebuild", action="store_true", help="rebuild both databases even when up to date")
    p.add_argument("--no-prepare", action="store_true", help="skip bench/run.sh prepare")
    a = p.parse_args()
    for name, d in ensure(a.rebuild, not a.no_prepare).items():
        print(name, d)


if __name__ == "__main__":
    sys.exit(main())
