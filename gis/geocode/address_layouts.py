"""The address CSV layouts (ABR 町字/地番 with 位置参照拡張, MLIT 位置参照情報): detection, rows, coordinates."""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from gis.cities import CITIES, PREFECTURE
from gis.errors import ImportFailed
from gis.geo import STORAGE_SRID, in_japan, transformer
from gis.geocode.chiban import parse_rest
from gis.geocode.model import MACHIAZA, MACHIAZA_DETAIL, PARCEL
from gis.geocode.normalize import normalize

LAYER_ID = "address_points"
# (publisher, licence, attribution) of the default provenance.
ABR = (
    "デジタル庁 アドレス・ベース・レジストリ",
    "アドレス・ベース・レジストリ利用規約",
    "出典：デジタル庁「アドレス・ベース・レジストリ」",
)
MLIT = ("国土交通省 位置参照情報", "位置参照情報 利用約款", "「位置参照情報」（国土交通省）を加工して作成")
# Coordinates are stored in JGD2011; JGD2000 and WGS84 lon/lat are transformed, anything else is refused.
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
class AddressRow:
    """One usable CSV row: where it is in the file, its 町字 and 地番, and its raw coordinates."""

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
Point = tuple[AddressRow, float, float]
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


def read_layout_csv(path: Path) -> tuple[list[str], Table]:
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


def detect_layout(header: list[str], layout: str | None, path: Path) -> Layout:
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


def city_of(code: str) -> str | None:
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
    header, rows = read_layout_csv(pos_path)
    missing = [c for c in (*keys, "rep_lon", "rep_lat") if c not in header]
    if missing:
        raise ImportFailed(f"position file {pos_path.name} lacks column(s): {', '.join(missing)}")
    return {tuple(r.get(k, "") for k in keys): r for _, r in rows}


def parse_abr(spec: Layout, rows: Table, pos_path: Path | None, wanted: list[str], skip: Skips) -> list[AddressRow]:
    """ABR 町字 or 地番 master rows (coordinates in the file or joined from its 位置参照拡張)."""
    parcel = spec.name == "abr-parcel"
    keys = ("lg_code", "machiaza_id", "prc_id") if parcel else ("lg_code", "machiaza_id")
    pos = _positions(pos_path, keys) if pos_path else None
    if pos is None and not {"rep_lon", "rep_lat"} <= set(rows[0][1]):
        raise ImportFailed(f"{spec.name} rows carry no rep_lon/rep_lat: give the 位置参照拡張 file as --pos")
    out = []
    for line, r in rows:
        city, koaza, chiban = city_of(r.get("lg_code", "")), r.get("koaza") or None, None
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
        out.append(AddressRow(line, city, town, koaza, chiban, level, r.get("machiaza_id") or None, lon, lat, srid))
    return out


def parse_mlit(spec: Layout, rows: Table, wanted: list[str], skip: Skips) -> list[AddressRow]:
    """MLIT 位置参照情報 rows: 大字・町丁目 points, or 街区レベル 地番 points (住居表示フラグ 0)."""
    by_name = {c.name: c.code for c in CITIES.values()}
    kept: dict[tuple[str, str, str | None, str | None], tuple[AddressRow, bool]] = {}
    for line, r in rows:
        if spec.name == "mlit-oaza":
            city = city_of(r["市区町村コード"][:5])
            row = AddressRow(
                line, city, r["大字町丁目名"] or None, None, None, MACHIAZA, None, r["経度"], r["緯度"], "6668"
            )
        else:
            city = by_name.get(r["市区町村名"]) if r["都道府県名"] == PREFECTURE else None
            koaza, chiban = r.get("小字・通称名") or None, _chiban(r["街区符号・地番"])
            row = AddressRow(
                line, city, r["大字・丁目名"] or None, koaza, chiban, PARCEL, None, r["経度"], r["緯度"], "6668"
            )
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


def line_list(lines: list[int]) -> str:
    """The first few line numbers for a report line."""
    return ", ".join(map(str, lines[:MAX_LISTED])) + (" …" if len(lines) > MAX_LISTED else "")


def _in_japan(lon: float, lat: float) -> bool:
    return in_japan(lon, lat, lon, lat)


def locate(rows: list[AddressRow], name: str, skip: Skips, report: list[str]) -> list[Point]:
    """Parse, check and transform coordinates; rows without any are skipped, unreadable ones refuse the file."""
    out, bad, swapped = [], [], 0
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
            lon, lat = transformer(srid, STORAGE_SRID).transform(lon, lat)
        out.append((r, lon, lat))
    if bad:
        raise ImportFailed(
            f"{name}: unreadable or out-of-Japan coordinates in {len(bad)} rows (line {line_list(bad)}); "
            "the file must hold JGD2011 longitude/latitude in degrees"
        )
    if swapped:
        report.append(f"経度・緯度が入れ替わっていた {swapped} 行を補正した")
    if {r.srid.upper().removeprefix("EPSG:") for r, _, _ in out} & {str(s) for s in CONVERTIBLE_SRIDS}:
        report.append("座標系 EPSG:4612/4326 → EPSG:6668 に変換")
    if not out:
        raise ImportFailed(f"{name}: no row has coordinates, nothing can be located")
    return out
