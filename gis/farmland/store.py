"""Writing the farmland domain: ledger records (+ private names) and crops, then links and the layer summary.

Each import is one transaction: stage, check, write, link, refresh, version; a refused file changes nothing.
Records keep their ids across re-imports (key: city + 大字 + 地番), crops theirs (polygon + year + season).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import shapely

from gis.db.provenance import SourceInfo, insert_source
from gis.errors import ImportFailed
from gis.farmland.crops import CropFile
from gis.farmland.ledger import PERSON_FIELDS, LedgerFile
from gis.farmland.link import build_links, lock_domain
from gis.farmland.refresh import refresh_parcels
from gis.geo import STORAGE_SRID
from gis.ingest.crsfit import TOLERANCE_M

LEDGER_FIELDS = (
    "city_code", "oaza", "chiban", "chimoku", "area_m2", "noushin_kubun", "toshi_kubun", "intention",
    "cultivator_no", "lease_type", "lease_end", "chukan_kanri", "idle_measure", "position", "geom",
    "ledger_date", "kubun_date", "intention_date", "lease_date", "idle_date",
)  # fmt: skip
STAGE_LEDGER = """
CREATE TEMP TABLE stage_ledger ON COMMIT DROP AS
SELECT {cols}, sample FROM farmland_ledger WITH NO DATA;
ALTER TABLE stage_ledger ADD COLUMN _line int, ADD COLUMN owner_name text, ADD COLUMN cultivator_name text,
  ADD COLUMN lessee_name text
"""
# A record whose position lies farther than the tolerance outside its city: a wrong CRS, swapped columns or city.
OUTSIDE_SQL = f"""
SELECT s._line FROM stage_ledger s JOIN municipalities m ON m.city_code = s.city_code
WHERE NOT ST_DWithin(m.geom_m, ST_Transform(coalesce(s.position, ST_PointOnSurface(s.geom)), 6670), {TOLERANCE_M})
ORDER BY s._line
"""
UNKNOWN_OAZA_SQL = """
SELECT s.oaza, count(*) FROM stage_ledger s
WHERE EXISTS (SELECT 1 FROM towns t WHERE t.city_code = s.city_code)
  AND NOT EXISTS (SELECT 1 FROM towns t WHERE t.city_code = s.city_code
                  AND replace(t.name, '大字', '') = replace(s.oaza, '大字', ''))
GROUP BY s.oaza ORDER BY count(*) DESC, s.oaza
"""


@dataclass
class FarmlandResult:
    """What a farmland import did (rows per table, the cities, the source row, the report)."""

    counts: dict[str, int]
    cities: list[str]
    source_id: int
    report: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """The file's SHA-256 (provenance)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _ewkb(g: Any) -> str | None:
    return None if g is None else shapely.to_wkb(shapely.set_srid(g, STORAGE_SRID), hex=True, include_srid=True)


def _stage_ledger(cur: psycopg.Cursor, ledger: LedgerFile, sample: bool) -> None:
    cols = ", ".join(LEDGER_FIELDS)
    cur.execute("DROP TABLE IF EXISTS pg_temp.stage_ledger")
    cur.execute(STAGE_LEDGER.format(cols=cols))
    with cur.copy(f"COPY stage_ledger ({cols}, sample, _line, {', '.join(PERSON_FIELDS)}) FROM STDIN") as copy:
        for rec, person, line in zip(ledger.records, ledger.persons, ledger.lines, strict=True):
            values = [_ewkb(rec[f]) if f in ("position", "geom") else rec[f] for f in LEDGER_FIELDS]
            copy.write_row((*values, sample, line, *(person[f] for f in PERSON_FIELDS)))


def _check_ledger(cur: psycopg.Cursor, name: str, report: list[str]) -> None:
    outside = [r[0] for r in cur.execute(OUTSIDE_SQL).fetchall()]
    if outside:
        lines = ", ".join(map(str, outside[:10])) + (" …" if len(outside) > 10 else "")
        raise ImportFailed(
            f"{name}: {len(outside)} records lie more than {TOLERANCE_M:.0f} m outside their city (line {lines}): "
            "wrong CRS of 経度/緯度/筆形状WKT, swapped columns or wrong 市区町村コード?"
        )
    unknown = cur.execute(UNKNOWN_OAZA_SQL).fetchall()
    if unknown:
        names = "、".join(f"{o}（{n}件）" for o, n in unknown[:8])
        report.append(f"住所の参照データにない大字 {len(unknown)} 種（取込はした）: {names}")


def store_ledger(
    cur: psycopg.Cursor, ledger: LedgerFile, info: SourceInfo, *, file: Path | None, replace: bool,
    finish: bool = True,
) -> FarmlandResult:  # fmt: skip
    """Write validated ledger records and names, rebuild the links and the summary (caller's transaction).

    `finish=False` leaves the links and the summary to the caller (a bundle that loads crops next).
    """
    report = list(ledger.report)
    cities = ledger.cities
    name = file.name if file else "ledger"
    lock_domain(cur)
    _stage_ledger(cur, ledger, info.sample)
    _check_ledger(cur, name, report)
    removed = 0
    if replace:
        cur.execute(
            "DELETE FROM farmland_ledger r WHERE r.city_code = ANY(%s) AND NOT EXISTS (SELECT 1 FROM stage_ledger s "
            "WHERE s.city_code = r.city_code AND s.oaza = r.oaza AND s.chiban = r.chiban)",
            (cities,),
        )
        removed = cur.rowcount
        if removed:
            report.append(f"ファイルにない台帳筆 {removed:,} 件を削除（--replace）")
    source_id = insert_source(
        cur, "farmland_ledger", info, file_name=name, file_sha256=file_sha256(file) if file else None,
        city_codes=cities, row_count=len(ledger.records), report=json.dumps(report, ensure_ascii=False),
    )  # fmt: skip
    cols = ", ".join(LEDGER_FIELDS)
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*LEDGER_FIELDS[3:], "sample", "source_id"])
    cur.execute(
        f"INSERT INTO farmland_ledger ({cols}, sample, source_id) SELECT {cols}, sample, %s FROM stage_ledger "
        f"ON CONFLICT (city_code, oaza, chiban) DO UPDATE SET {update}",
        (source_id,),
    )
    written = cur.rowcount
    names = ", ".join(PERSON_FIELDS)
    cur.execute(
        "DELETE FROM private.farmland_persons p USING farmland_ledger r WHERE p.ledger_id = r.id "
        "AND r.city_code = ANY(%s) AND EXISTS (SELECT 1 FROM stage_ledger s WHERE s.city_code = r.city_code "
        "AND s.oaza = r.oaza AND s.chiban = r.chiban)",
        (cities,),
    )
    cur.execute(
        f"INSERT INTO private.farmland_persons (ledger_id, {names}, sample) "
        f"SELECT r.id, {', '.join('s.' + f for f in PERSON_FIELDS)}, s.sample FROM stage_ledger s "
        "JOIN farmland_ledger r ON r.city_code = s.city_code AND r.oaza = s.oaza AND r.chiban = s.chiban "
        f"WHERE coalesce({names}) IS NOT NULL"
    )
    persons = cur.rowcount
    counts = {"farmland_ledger": written, "farmland_persons": persons}
    if finish:
        links = build_links(cur, cities)
        report.extend(links.lines())
        refresh_parcels(cur, sorted({*cities, *links.polygon_cities}))
        counts["farmland_links"] = links.position + links.overlap
        cur.execute(
            "UPDATE sources SET report = %s::jsonb WHERE id = %s", (json.dumps(report, ensure_ascii=False), source_id)
        )
    return FarmlandResult(counts, cities, source_id, report)


def store_crops(
    cur: psycopg.Cursor, crops: CropFile, info: SourceInfo, *, file: Path | None, replace: bool,
    finish: bool = True,
) -> FarmlandResult:  # fmt: skip
    """Write cropping records keyed by polygon_uuid (earlier years' uuids followed), then the summary."""
    name = file.name if file else "crops"
    report = list(crops.report)
    lock_domain(cur)
    cur.execute("DROP TABLE IF EXISTS pg_temp.stage_crops")
    cur.execute(
        "CREATE TEMP TABLE stage_crops (_line int, polygon_uuid text, year int, season text, crop text, "
        "data_date date, polygon_id bigint, city_code text) ON COMMIT DROP"
    )
    with cur.copy("COPY stage_crops (_line, polygon_uuid, year, season, crop, data_date) FROM STDIN") as copy:
        for r in crops.rows:
            copy.write_row((r["line"], r["polygon_uuid"], r["year"], r["season"], r["crop"], r["data_date"]))
    # This year's uuid first; a uuid of last year or the year before still finds the polygon it became.
    for col in ("polygon_uuid", "last_polygon_uuid", "prev_last_polygon_uuid"):
        cur.execute(
            f"UPDATE stage_crops s SET polygon_id = f.id, city_code = f.city_code FROM farmland f "
            f"WHERE s.polygon_id IS NULL AND f.{col} = s.polygon_uuid"
        )
    missing = cur.execute("SELECT _line FROM stage_crops WHERE polygon_id IS NULL ORDER BY _line").fetchall()
    total = len(crops.rows)
    if len(missing) == total:
        raise ImportFailed(f"{name}: no polygon_uuid of the file is a farmland polygon (import the polygons first)")
    if missing:
        lines = ", ".join(str(r[0]) for r in missing[:10]) + (" …" if len(missing) > 10 else "")
        report.append(f"筆ポリゴンが見つからない作付 {len(missing):,} 件を除外: line {lines}")
    dup = cur.execute(
        "SELECT min(_line), max(_line) FROM stage_crops WHERE polygon_id IS NOT NULL "
        "GROUP BY polygon_id, year, season HAVING count(*) > 1 ORDER BY 1 LIMIT 5"
    ).fetchall()
    if dup:
        pairs = "; ".join(f"lines {a} and {b}" for a, b in dup)
        raise ImportFailed(f"{name}: the same polygon, year and 作期 twice ({pairs})")
    cities = [r[0] for r in cur.execute("SELECT DISTINCT city_code FROM stage_crops WHERE city_code IS NOT NULL")]
    cities.sort()
    if replace:
        cur.execute(
            "DELETE FROM farmland_crops c USING farmland f WHERE f.id = c.polygon_id AND f.city_code = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM stage_crops s WHERE s.polygon_id = c.polygon_id AND s.year = c.year "
            "AND s.season = c.season)",
            (cities,),
        )
    source_id = insert_source(
        cur, "farmland_crops", info, file_name=name, file_sha256=file_sha256(file) if file else None,
        city_codes=cities, row_count=total - len(missing), report=json.dumps(report, ensure_ascii=False),
    )  # fmt: skip
    cur.execute(
        "INSERT INTO farmland_crops (polygon_id, year, season, crop, data_date, source_id, sample) "
        "SELECT polygon_id, year, season, crop, data_date, %s, %s FROM stage_crops WHERE polygon_id IS NOT NULL "
        "ON CONFLICT (polygon_id, year, season) DO UPDATE SET crop = EXCLUDED.crop, data_date = EXCLUDED.data_date, "
        "source_id = EXCLUDED.source_id, sample = EXCLUDED.sample",
        (source_id, info.sample),
    )
    written = cur.rowcount
    if finish:
        refresh_parcels(cur, cities)
    return FarmlandResult({"farmland_crops": written}, cities, source_id, report)


def import_ledger(
    conn: psycopg.Connection, path: Path, info: SourceInfo | None = None, *, city: str | None = None,
    replace: bool = False,
) -> FarmlandResult:  # fmt: skip
    """Read, validate and store a ledger CSV in one transaction (nothing changes when refused)."""
    from gis.farmland.ledger import read_ledger

    path = Path(path)
    ledger = read_ledger(path, city)
    with conn.transaction(), conn.cursor() as cur:
        return store_ledger(cur, ledger, info or SourceInfo(title=f"農地台帳 {path.name}"), file=path, replace=replace)


def import_crops(
    conn: psycopg.Connection, path: Path, info: SourceInfo | None = None, *, replace: bool = False
) -> FarmlandResult:
    """Read, validate and store a 作付 CSV in one transaction (nothing changes when refused)."""
    from gis.farmland.crops import read_crops

    path = Path(path)
    crops = read_crops(path)
    with conn.transaction(), conn.cursor() as cur:
        return store_crops(cur, crops, info or SourceInfo(title=f"作付 {path.name}"), file=path, replace=replace)


__all__ = ["FarmlandResult", "import_crops", "import_ledger", "store_crops", "store_ledger"]
