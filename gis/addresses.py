"""`gis import-addresses`: ABR 町字/地番 and MLIT 位置参照情報 CSVs → address_points, and the geocoder's reference."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pyproj import Transformer

from gis.cities import CITIES, PREFECTURE
from gis.errors import ImportFailed
from gis.geocode.chiban import parse_rest
from gis.geocode.model import MACHIAZA, MACHIAZA_DETAIL, PARCEL, Town
from gis.geocode.normalize import fold_key, normalize
from gis.geocode.reference import POSTAL_CSV, load_cities, postal_aliases, read_csv
from gis.provenance import SourceInfo, bump_version, insert_source
from gis.readers import JAPAN_BOUNDS

LAYER_ID = "address_points"
# (publisher, licence, attribution) of the default provenance.
ABR = (
    "デジタル庁 アドレス・ベース・レジストリ",
    "アドレス・ベース・レジストリ利用規約",
    "出典：デジタル庁「アドレス・ベース・レジストリ」",
)
MLIT = ("国土交通省 位置参照情報", "位置参照情報 利用約款", "「位置参照情報」（国土交通省）を加工して作成")
# Coordinates are stored in JGD2011; JGD2000 and WGS84 lon/lat are transformed, anything else is refused.
STORAGE_SRID = 6668
CONVERTIBLE_SRIDS = (4612, 4326)
MAX_LISTED = 5


@dataclass(frozen=True)
class Layout:
    """One supported CSV layout: the columns that identify it, the ones it needs, the levels it loads."""

    name: str
    title: str
    signature: tuple[str, ...]
    required: tuple[str, ...]
    levels: tuple[str, ...]
    source: tuple[str, str, str]


LAYOUTS = {spec.name: spec for spec in (
    Layout("abr-town", "アドレス・ベース・レジストリ 町字マスター（位置参照拡張）",
           ("lg_code", "machiaza_id", "machiaza_type"), ("lg_code", "machiaza_id", "oaza_cho", "chome", "koaza"),
           (MACHIAZA, MACHIAZA_DETAIL), ABR),
    Layout("abr-parcel", "アドレス・ベース・レジストリ 地番マスター（位置参照拡張）",
           ("lg_code", "machiaza_id", "prc_num1"),
           ("lg_code", "machiaza_id", "prc_id", "prc_num1", "prc_num2", "prc_num3"), (PARCEL,), ABR),
    Layout("mlit-oaza", "位置参照情報 大字・町丁目レベル", ("大字町丁目コード",),
           ("市区町村コード", "大字町丁目名", "緯度", "経度"), (MACHIAZA,), MLIT),
    Layout("mlit-gaiku", "位置参照情報 街区レベル", ("街区符号・地番",),
           ("都道府県名", "市区町村名", "大字・丁目名", "街区符号・地番", "緯度", "経度", "住居表示フラグ"),
           (PARCEL,), MLIT),
)}  # fmt: skip
# Header spellings seen in the wild → the names used here (the MLIT spec page writes 大字・町丁目名).
COLUMN_ALIASES = {"大字・町丁目名": "大字・丁目名"}


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


@dataclass
class _Row:
    line: int
    city: str
    town: str | None
    koaza: str | None
    chiban: str | None
    level: str
    machiaza_id: str | None
    lon: str
    lat: str
    srid: str = ""


Table = list[tuple[int, dict[str, str]]]
Point = tuple[_Row, float, float]
Skips = dict[str, list[int]]
SKIPPED = {
    "other": "対象外の市町村の {n} 行を除外した",
    "abolished": "廃止日（ablt_date）のある {n} 行を除外した",
    "chiban": "地番を読めない {n} 行を除外した",
    "rsdt": "住居表示（住居表示フラグ 1）の {n} 行を除外した（地番のみ取り込む）",
    "deleted": "履歴フラグ 3（削除）の {n} 行を除外した",
    "no_xy": "座標のない {n} 行は位置を特定できないため除外した",
    "no_town": "大字・町名のない {n} 行を除外した",
}


def _col(name: str) -> str:
    key = unicodedata.normalize("NFKC", name).strip().strip('"').lower()
    return COLUMN_ALIASES.get(key, key)


def _read_csv(path: Path) -> tuple[list[str], Table]:
    """Header (normalised names) and rows with line numbers; UTF-8 (BOM or not) or cp932."""
    if not path.exists():
        raise ImportFailed(f"file not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp932")
        except UnicodeDecodeError as e:
            raise ImportFailed(f"{path.name} is neither UTF-8 nor Shift_JIS (cp932)") from e
    if not text.strip():
        raise ImportFailed(f"{path.name} is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [_col(h) for h in next(reader)]
    rows: Table = []
    try:
        for values in reader:
            if any(v.strip() for v in values):
                rows.append((reader.line_num, dict(zip(header, (v.strip() for v in values), strict=False))))
    except csv.Error as e:
        raise ImportFailed(f"cannot read CSV {path.name} (line {reader.line_num}): {e}") from e
    if not rows:
        raise ImportFailed(f"{path.name} has a header but no rows")
    return header, rows


def _detect(header: list[str], layout: str | None, path: Path) -> Layout:
    """The layout named by the caller, or the one whose identifying columns the header has."""
    cols = set(header)
    if layout is not None:
        if layout not in LAYOUTS:
            raise ImportFailed(f"unknown address layout '{layout}': one of {', '.join(LAYOUTS)}")
        spec = LAYOUTS[layout]
    else:
        found = [s for s in LAYOUTS.values() if set(s.signature) <= cols]
        if not found:
            if {"lg_code", "machiaza_id", "rep_lat"} <= cols:
                raise ImportFailed(
                    f"{path.name} is an ABR 位置参照拡張 (mt_*_pos) file: import its master (mt_town / mt_parcel) "
                    "and give this file as the position file (--pos)"
                )
            expected = "; ".join(f"{s.name}: {', '.join(s.signature)}" for s in LAYOUTS.values())
            raise ImportFailed(f"{path.name}: unknown address layout; expected the columns of one of {expected}")
        spec = found[0]
    missing = [c for c in spec.required if c not in cols]
    if missing:
        raise ImportFailed(f"{path.name} ({spec.name}) lacks required column(s): {', '.join(missing)}")
    return spec


def _city(code: str) -> str | None:
    """5-digit city code from an ABR lg_code (412058) or a 5-digit code, for the served cities only."""
    return next((c.code for c in CITIES.values() if code in (c.lg_code, c.code)), None)


def _chiban(raw: str) -> str | None:
    """A 地番 normalised the way the geocoder parses one (0360-01 → 360-1, 甲４０２ → 甲402), or None."""
    if not raw:
        return None
    parts = parse_rest(normalize(raw))
    return parts.chiban if parts.chiban and not parts.prefix and not parts.tail else None


def _positions(pos_path: Path, keys: tuple[str, ...]) -> dict[tuple[str, ...], dict[str, str]]:
    """An ABR 位置参照拡張 file keyed by its join columns."""
    header, rows = _read_csv(pos_path)
    missing = [c for c in (*keys, "rep_lon", "rep_lat") if c not in header]
    if missing:
        raise ImportFailed(f"position file {pos_path.name} lacks column(s): {', '.join(missing)}")
    return {tuple(r.get(k, "") for k in keys): r for _, r in rows}


def _parse_abr(spec: Layout, rows: Table, pos_path: Path | None, wanted: list[str], skip: Skips) -> list[_Row]:
    """ABR 町字 or 地番 master rows (coordinates in the file or joined from its 位置参照拡張)."""
    parcel = spec.name == "abr-parcel"
    keys = ("lg_code", "machiaza_id", "prc_id") if parcel else ("lg_code", "machiaza_id")
    pos = _positions(pos_path, keys) if pos_path else None
    if pos is None and not {"rep_lon", "rep_lat"} <= set(rows[0][1]):
        raise ImportFailed(f"{spec.name} rows carry no rep_lon/rep_lat: give the 位置参照拡張 file as --pos")
    out = []
    for line, r in rows:
        city, koaza, chiban = _city(r.get("lg_code", "")), r.get("koaza") or None, None
        if parcel:
            chiban = _chiban("-".join(n for n in (r.get(f"prc_num{i}", "") for i in (1, 2, 3)) if n))
        reason = "other" if city not in wanted else "abolished" if r.get("ablt_date") else None
        if reason or (parcel and chiban is None):
            skip[reason or "chiban"].append(line)
            continue
        p = r if pos is None else pos.get(tuple(r.get(k, "") for k in keys), {})
        level = PARCEL if parcel else (MACHIAZA_DETAIL if koaza else MACHIAZA)
        town = (r.get("oaza_cho", "") + r.get("chome", "")) or None
        lon, lat, srid = p.get("rep_lon", ""), p.get("rep_lat", ""), p.get("rep_srid", "")
        out.append(_Row(line, city, town, koaza, chiban, level, r.get("machiaza_id") or None, lon, lat, srid))
    return out


def _parse_mlit(spec: Layout, rows: Table, wanted: list[str], skip: Skips) -> list[_Row]:
    """MLIT 位置参照情報 rows: 大字・町丁目 points, or 街区レベル 地番 points (住居表示フラグ 0)."""
    by_name = {c.name: c.code for c in CITIES.values()}
    kept: dict[tuple[str, str, str | None, str | None], tuple[_Row, bool]] = {}
    for line, r in rows:
        if spec.name == "mlit-oaza":
            city = _city(r["市区町村コード"][:5])
            row = _Row(line, city, r["大字町丁目名"] or None, None, None, MACHIAZA, None, r["経度"], r["緯度"], "6668")
        else:
            city = by_name.get(r["市区町村名"]) if r["都道府県名"] == PREFECTURE else None
            koaza, chiban = r.get("小字・通称名") or None, _chiban(r["街区符号・地番"])
            row = _Row(line, city, r["大字・丁目名"] or None, koaza, chiban, PARCEL, None, r["経度"], r["緯度"], "6668")
        if city not in wanted:
            skip["other"].append(line)
        elif spec.name == "mlit-gaiku" and r["住居表示フラグ"] != "0":
            skip["rsdt"].append(line)
        elif "3" in (r.get("更新前履歴フラグ"), r.get("更新後履歴フラグ")):
            skip["deleted"].append(line)
        elif spec.name == "mlit-gaiku" and row.chiban is None:
            skip["chiban"].append(line)
        else:
            # 街区レベル may give one 地番 several points: keep the one flagged 代表 (else the first).
            key, representative = (city, row.town or "", row.koaza, row.chiban or str(line)), r.get("代表フラグ") == "1"
            if key not in kept or (representative and not kept[key][1]):
                kept[key] = (row, representative)
    return [row for row, _ in kept.values()]


def _lines(lines: list[int]) -> str:
    return ", ".join(map(str, lines[:MAX_LISTED])) + (" …" if len(lines) > MAX_LISTED else "")


def _in_japan(lon: float, lat: float) -> bool:
    x0, y0, x1, y1 = JAPAN_BOUNDS
    return x0 <= lon <= x1 and y0 <= lat <= y1


def _locate(rows: list[_Row], name: str, skip: Skips, report: list[str]) -> list[Point]:
    """Parse, check and transform coordinates; rows without any are skipped, unreadable ones refuse the file."""
    out, bad, swapped, transformers = [], [], 0, {}
    for r in rows:
        if not r.lon and not r.lat:
            skip["no_xy"].append(r.line)
            continue
        srid_text = r.srid.upper().removeprefix("EPSG:").strip() or str(STORAGE_SRID)
        if not srid_text.isdigit() or int(srid_text) not in (STORAGE_SRID, *CONVERTIBLE_SRIDS):
            raise ImportFailed(f"{name} line {r.line}: coordinate system '{r.srid}' is not EPSG:6668, 4612 or 4326")
        try:
            lon, lat = float(r.lon), float(r.lat)
        except ValueError:
            bad.append(r.line)
            continue
        if not (math.isfinite(lon) and math.isfinite(lat)) or not (_in_japan(lon, lat) or _in_japan(lat, lon)):
            bad.append(r.line)
            continue
        if not _in_japan(lon, lat):
            lon, lat, swapped = lat, lon, swapped + 1
        srid = int(srid_text)
        if srid != STORAGE_SRID:
            tr = transformers.setdefault(srid, Transformer.from_crs(srid, STORAGE_SRID, always_xy=True))
            lon, lat = tr.transform(lon, lat)
        out.append((r, lon, lat))
    if bad:
        raise ImportFailed(
            f"{name}: unreadable or out-of-Japan coordinates in {len(bad)} rows (line {_lines(bad)}); "
            "the file must hold JGD2011 longitude/latitude in degrees"
        )
    if swapped:
        report.append(f"経度・緯度が入れ替わっていた {swapped} 行を補正した")
    if {r.srid.upper().removeprefix("EPSG:") for r, _, _ in out} & {str(s) for s in CONVERTIBLE_SRIDS}:
        report.append("座標系 EPSG:4612/4326 → EPSG:6668 に変換")
    if not out:
        raise ImportFailed(f"{name}: no row has coordinates, nothing can be located")
    return out


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
        header, rows = _read_csv(town_path)
        _detect(header, "abr-town", town_path)
        for _line, r in rows:
            city, town = _city(r["lg_code"]), r["oaza_cho"] + r["chome"]
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
    header, table = _read_csv(path)
    spec = _detect(header, layout, path)
    report: list[str] = []
    skip: Skips = defaultdict(list)
    wanted = [city] if city else list(CITIES)
    if spec.name.startswith("abr"):
        rows = _parse_abr(spec, table, Path(pos_path) if pos_path else None, wanted, skip)
    else:
        rows = _parse_mlit(spec, table, wanted, skip)
    if not rows:
        other = len(skip["other"])
        raise ImportFailed(f"{path.name}: no usable rows of {', '.join(wanted)} ({other} rows of other municipalities)")
    located = _locate(rows, path.name, skip, report)
    publisher, licence, attribution = spec.source
    info = info or SourceInfo(title=spec.title, publisher=publisher, licence=licence, attribution=attribution)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("LOCK TABLE address_points IN SHARE ROW EXCLUSIVE MODE")
        resolved = _resolve(cur, located, Path(town_path) if town_path else None, skip, report)
        report[:0] = [f"{SKIPPED[k].format(n=len(v))}（行 {_lines(v)}）" for k, v in skip.items() if v]
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


def reference_from_db(
    conn: psycopg.Connection, data_dir: Path
) -> tuple[list[Town], dict[str, tuple[str, float, float]], list[str]]:
    """load_reference's triple with towns from the database: the towns table, address_points and postal aliases.

    An address_points 町字 replaces the towns row of the same 大字/町 and 小字 (one point per name, or the geocoder
    would call the name ambiguous); parcel rows become parcel Towns spelled like their 町字 entry.
    """
    cities, others = load_cities(Path(data_dir))
    base: dict[tuple[str, str, str], Town] = {}
    for code, name, koaza, lat, lon in conn.execute(
        "SELECT city_code, btrim(name), nullif(btrim(koaza), ''), ST_Y(geom), ST_X(geom) FROM towns ORDER BY id"
    ):
        town = Town(code, name, lat, lon, level=MACHIAZA_DETAIL if koaza else MACHIAZA, koaza=koaza)
        base.setdefault((code, plain_key(name), koaza or ""), town)
    parcels: list[tuple] = []
    for code, name, koaza, chiban, level, lat, lon in conn.execute(
        "SELECT city_code, town, koaza, chiban, level, ST_Y(geom), ST_X(geom) FROM address_points ORDER BY id"
    ):
        if level == PARCEL:
            parcels.append((code, name, lat, lon, koaza, chiban))
        else:
            base[(code, plain_key(name), koaza or "")] = Town(code, name, lat, lon, level=level, koaza=koaza)
    # The matcher finds a parcel by (city, 町字 name, 地番): use the spelling of the 町字 entry.
    spelling = {(c, k): t.name for (c, k, koaza), t in base.items() if not koaza}
    postal = Path(data_dir) / POSTAL_CSV
    aliases = postal_aliases(read_csv(postal), list(base.values())) if postal.exists() else {}
    towns = [dataclasses.replace(t, aliases=tuple(aliases.get(t, ()))) for t in base.values()]
    parcel_towns = [
        Town(c, spelling.get((c, plain_key(n)), n), lat, lon, level=PARCEL, koaza=k, chiban=b)
        for c, n, lat, lon, k, b in parcels
    ]
    return [*towns, *parcel_towns], cities, others
