"""`gis import-addresses`: ABR 町字/地番 and MLIT 位置参照情報 CSVs → address_points, and the geocoder's reference."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from gis.cities import CITIES
from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.errors import ImportFailed
from gis.geo import STORAGE_SRID
from gis.geocode.address_layouts import (
    LAYER_ID,
    MAX_LISTED,
    SKIPPED,
    Point,
    Skips,
    city_of,
    detect_layout,
    line_list,
    locate,
    parse_abr,
    parse_mlit,
    read_layout_csv,
)
from gis.geocode.forms import load_readings
from gis.geocode.model import MACHIAZA, MACHIAZA_DETAIL, PARCEL, Town
from gis.geocode.normalize import fold_key
from gis.geocode.reference import Reference, city_readings, load_cities, with_postal


@dataclass
class AddressImportResult:
    """What an address import did."""

    layout: str
    rows: int
    cities: list[str]
    levels: dict[str, int]
    source_id: int
    report: list[str] = field(default_factory=list)
    replaced: int = 0


def plain_key(name: str) -> str:
    """Matching key of a 大字/町 name with 大字 ignored (武雄町大字武雄 = 武雄町武雄)."""
    return fold_key(unicodedata.normalize("NFKC", name).replace("大字", ""))


def _known_towns(cur: psycopg.Cursor) -> dict[tuple[str, str], str]:
    """(city, plain key) → the spelling of the towns table (else of machiaza rows already imported)."""
    out: dict[tuple[str, str], str] = {}
    cur.execute(
        "SELECT city_code, name FROM (SELECT city_code, name, 0 AS o FROM towns WHERE coalesce(koaza, '') = '' "
        "UNION ALL SELECT city_code, town, 1 FROM address_points WHERE level <> 'parcel') t ORDER BY o"
    )
    for code, name in cur.fetchall():
        out.setdefault((code, plain_key(name)), name)
    return out


def _machiaza_ids(cur: psycopg.Cursor, town_path: Path | None) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(city, 町字ID) → (town, koaza) from imported ABR 町字 rows, overridden by a 町字マスター file."""
    cur.execute(
        "SELECT city_code, machiaza_id, town, koaza FROM address_points "
        "WHERE machiaza_id IS NOT NULL AND level <> 'parcel' ORDER BY id"
    )
    out = {(c, m): (t, k) for c, m, t, k in cur.fetchall()}
    if town_path is not None:
        header, rows = read_layout_csv(town_path)
        detect_layout(header, "abr-town", town_path)
        for _line, r in rows:
            city, town = city_of(r["lg_code"]), r["oaza_cho"] + r["chome"]
            if city and town:
                out[(city, r["machiaza_id"])] = (town, r["koaza"] or None)
    return out


def _resolve(
    cur: psycopg.Cursor, points: list[Point], town_path: Path | None, skip: Skips, report: list[str]
) -> list[Point]:
    """Fill parcel towns from their 町字ID and give every town the towns table's spelling."""
    unnamed = [r for r, _, _ in points if r.town is None and r.level == PARCEL and r.machiaza_id]
    if unnamed:
        ids = _machiaza_ids(cur, town_path)
        unknown = sorted({f"{r.city}/{r.machiaza_id}" for r in unnamed if (r.city, r.machiaza_id) not in ids})
        if unknown:
            raise ImportFailed(
                f"町字ID {', '.join(unknown[:MAX_LISTED])} cannot be resolved to a 町字 name: import the ABR "
                "町字マスター (mt_town) first or give it as the town file (--town-file)"
            )
        for r in unnamed:
            town, koaza = ids[(r.city, r.machiaza_id)]
            r.town, r.koaza = town, r.koaza or koaza
    skip["no_town"] += [r.line for r, _, _ in points if r.town is None]
    points = [p for p in points if p[0].town is not None]
    known, foreign = _known_towns(cur), set()
    for r, _, _ in points:
        name = known.get((r.city, plain_key(r.town)))
        if name is None and r.koaza and (name := known.get((r.city, plain_key(r.town + r.koaza)))):
            r.koaza = None  # the 大字 came as a separate part (武雄町 + 大字武雄)
            r.level = MACHIAZA if r.level == MACHIAZA_DETAIL else r.level
        if name is None:
            foreign.add((r.level == PARCEL, f"{r.city} {r.town}"))
        r.town = name or r.town
    for parcels, note in (
        (False, "新しい町字として取り込んだ"),
        (True, "の地番は、その町字を取り込むまで照合されない"),
    ):
        if names := sorted(n for p, n in foreign if p == parcels):
            report.append(f"大字・町一覧（towns）にない町字 {len(names)} 件{note}: {'、'.join(names[:MAX_LISTED])}")
    if not points:
        raise ImportFailed("no row names its 大字・町: nothing to import")
    return points


def import_addresses(
    conn: psycopg.Connection,
    path: Path,
    *,
    layout: str | None = None,
    city: str | None = None,
    replace: bool = True,
    info: SourceInfo | None = None,
    pos_path: Path | None = None,
    town_path: Path | None = None,
) -> AddressImportResult:
    """Load one ABR or MLIT address CSV into address_points in one transaction; on any error nothing changes."""
    path = Path(path)
    if city is not None and city not in CITIES:
        raise ImportFailed(f"unknown city '{city}': one of {', '.join(CITIES)}")
    header, table = read_layout_csv(path)
    spec = detect_layout(header, layout, path)
    report: list[str] = []
    skip: Skips = defaultdict(list)
    wanted = [city] if city else list(CITIES)
    if spec.name.startswith("abr"):
        rows = parse_abr(spec, table, Path(pos_path) if pos_path else None, wanted, skip)
    else:
        rows = parse_mlit(spec, table, wanted, skip)
    if not rows:
        other = len(skip["other"])
        raise ImportFailed(f"{path.name}: no usable rows of {', '.join(wanted)} ({other} rows of other municipalities)")
    located = locate(rows, path.name, skip, report)
    publisher, licence, attribution = spec.source
    info = info or SourceInfo(title=spec.title, publisher=publisher, licence=licence, attribution=attribution)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("LOCK TABLE address_points IN SHARE ROW EXCLUSIVE MODE")
        resolved = _resolve(cur, located, Path(town_path) if town_path else None, skip, report)
        report[:0] = [f"{SKIPPED[k].format(n=len(v))}（行 {line_list(v)}）" for k, v in skip.items() if v]
        cities = sorted({r.city for r, _, _ in resolved})
        replaced = 0
        if replace:
            cur.execute(
                "DELETE FROM address_points WHERE city_code = ANY(%s) AND level = ANY(%s)", (cities, list(spec.levels))
            )
            replaced = cur.rowcount
        source_id = insert_source(
            cur,
            LAYER_ID,
            info,
            file_name=path.name,
            file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            city_codes=cities,
            row_count=len(resolved),
            report=json.dumps(report, ensure_ascii=False),
        )
        with cur.copy(
            "COPY address_points (city_code, town, koaza, chiban, level, machiaza_id, source_id, sample, geom) "
            "FROM STDIN"
        ) as copy:
            for r, lon, lat in resolved:
                geom = f"SRID={STORAGE_SRID};POINT({lon!r} {lat!r})"
                copy.write_row(
                    (r.city, r.town, r.koaza, r.chiban, r.level, r.machiaza_id, source_id, info.sample, geom)
                )
        bump_version(cur, LAYER_ID)
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    conn.execute("ANALYZE address_points")
    if idle:
        conn.commit()
    levels = dict(Counter(r.level for r, _, _ in resolved))
    return AddressImportResult(spec.name, len(resolved), cities, levels, source_id, report, replaced)


TOWNS_SQL = "SELECT city_code, btrim(name), nullif(btrim(koaza), ''), ST_Y(geom), ST_X(geom) FROM towns ORDER BY id"
POINTS_SQL = "SELECT city_code, town, koaza, chiban, level, ST_Y(geom), ST_X(geom) FROM address_points ORDER BY id"


def reference_from_db(conn: psycopg.Connection, data_dir: Path) -> Reference:
    """load_reference's tuple with towns from the database (psycopg; the API reads the same rows with asyncpg)."""
    return reference_from_rows(conn.execute(TOWNS_SQL).fetchall(), conn.execute(POINTS_SQL).fetchall(), data_dir)


def reference_from_rows(town_rows: Iterable[Sequence], point_rows: Iterable[Sequence], data_dir: Path) -> Reference:
    """load_reference's tuple from the rows of TOWNS_SQL and POINTS_SQL, plus the bundled postal aliases.

    An address_points 町字 replaces the towns row of the same 大字/町 and 小字 (one point per name, or the geocoder
    would call the name ambiguous); parcel rows become parcel Towns spelled like their 町字 entry.
    """
    cities, others = load_cities(Path(data_dir))
    base: dict[tuple[str, str, str], Town] = {}
    for code, name, koaza, lat, lon in town_rows:
        town = Town(code, name, lat, lon, level=MACHIAZA_DETAIL if koaza else MACHIAZA, koaza=koaza)
        base.setdefault((code, plain_key(name), koaza or ""), town)
    parcels: list[tuple] = []
    for code, name, koaza, chiban, level, lat, lon in point_rows:
        if level == PARCEL:
            parcels.append((code, name, lat, lon, koaza, chiban))
        else:
            base[(code, plain_key(name), koaza or "")] = Town(code, name, lat, lon, level=level, koaza=koaza)
    # The matcher finds a parcel by (city, 町字 name, 地番): use the spelling of the 町字 entry.
    spelling = {(c, k): t.name for (c, k, koaza), t in base.items() if not koaza}
    towns = with_postal(list(base.values()), data_dir)
    parcel_towns = [
        Town(c, spelling.get((c, plain_key(n)), n), lat, lon, level=PARCEL, koaza=k, chiban=b)
        for c, n, lat, lon, k, b in parcels
    ]
    return [*towns, *parcel_towns], cities, others, load_readings(Path(data_dir), city_readings(data_dir), towns)
