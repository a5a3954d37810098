"""The 農地台帳 CSV (the layout documented in README 「農地台帳 CSV」): read and validate, nothing written.

Every problem is collected with its line number and column, and the whole file is refused when there is one;
some things are accepted and reported instead: an 意向 without the owner's consent (stored empty), a 大字 the
address reference does not know (checked at import time against the towns layer).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely import Geometry
from shapely.geometry import MultiPolygon, Point, Polygon

from gis.cities import CITIES
from gis.errors import ImportFailed
from gis.geo import JAPAN_BOUNDS, STORAGE_SRID

# Header → field. Every header is optional except 所在_大字 and 地番 (and 所在等の時点, the ledger's date).
HEADERS: dict[str, str] = {
    "市区町村コード": "city_code",
    "所在_大字": "oaza",
    "地番": "chiban",
    "地目": "chimoku",
    "面積": "area_m2",
    "農振区分": "noushin_kubun",
    "都市計画区分": "toshi_kubun",
    "意向": "intention",
    "意向の同意": "consent",
    "耕作者整理番号": "cultivator_no",
    "権利の種類": "lease_type",
    "存続期間の満了日": "lease_end",
    "中間管理権": "chukan_kanri",
    "遊休農地の措置": "idle_measure",
    "経度": "lon",
    "緯度": "lat",
    "筆形状WKT": "wkt",
    "所有者氏名": "owner_name",
    "耕作者氏名": "cultivator_name",
    "借受者氏名": "lessee_name",
    "所在等の時点": "ledger_date",
    "区分の時点": "kubun_date",
    "意向の時点": "intention_date",
    "権利の時点": "lease_date",
    "遊休農地の時点": "idle_date",
}
REQUIRED = ("所在_大字", "地番", "所在等の時点")
# Each group's date falls back to the ledger's date (所在等の時点) when its own column is missing or blank.
GROUP_DATES = ("kubun_date", "intention_date", "lease_date", "idle_date")
PERSON_FIELDS = ("owner_name", "cultivator_name", "lessee_name")
NOUSHIN = {
    "農用地区域内": "農用地区域内",
    "農用地区域": "農用地区域内",
    "農振農用地": "農用地区域内",
    "農振地域内（農用地区域外）": "農振地域内（農用地区域外）",
    "農振地域内(農用地区域外)": "農振地域内（農用地区域外）",
    "農振白地": "農振地域内（農用地区域外）",
    "農用地区域外": "農振地域内（農用地区域外）",
    "農振地域外": "農振地域外",
}
TOSHI = {v: v for v in ("市街化区域", "市街化調整区域", "非線引き都市計画区域", "準都市計画区域", "都市計画区域外")} | {
    "非線引き": "非線引き都市計画区域",
    "非線引き区域": "非線引き都市計画区域",
    "区域外": "都市計画区域外",
}
INTENTION = {
    "貸付希望": "lend",
    "貸したい": "lend",
    "lend": "lend",
    "売渡希望": "sell",
    "売りたい": "sell",
    "sell": "sell",
}
TRUE = {"はい", "有", "あり", "〇", "○", "同意", "同意あり", "true", "1", "yes", "y"}
FALSE = {"いいえ", "無", "なし", "×", "不同意", "同意なし", "false", "0", "no", "n"}
ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925}
MAX_ERRORS = 20


@dataclass
class LedgerFile:
    """The validated rows of one ledger CSV: public records, private names, and what was noticed."""

    records: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    report: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # each record's line in the file

    @property
    def cities(self) -> list[str]:
        """The cities the file covers."""
        return sorted({r["city_code"] for r in self.records})


def _n(text: str | None) -> str:
    """NFKC, stripped; None as empty."""
    return unicodedata.normalize("NFKC", text or "").strip()


def normalise_chiban(text: str) -> str:
    """地番 as stored: half-width digits, branches with '-' (1234番2, 1234の2 → 1234-2), 番地/番 dropped."""
    s = _n(text).replace(" ", "")
    s = re.sub(r"(番地の|番地|番|の|ノ|之|‐|－|ー|―)(?=\d)", "-", s)
    return re.sub(r"(番地|番)$", "", s)


def parse_date(text: str) -> date:
    """2025-03-31, 2025/3/31, 20250331, 令和7年3月31日, R7.3.31 (ValueError otherwise)."""
    s = _n(text)
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(令和|平成|昭和|R|H|S)(\d{1,2}|元)[年.](\d{1,2})[月.](\d{1,2})日?", s, flags=re.IGNORECASE)
    if m:
        year = 1 if m[2] == "元" else int(m[2])
        return date(ERAS[m[1].upper() if len(m[1]) == 1 else m[1]] + year, int(m[3]), int(m[4]))
    raise ValueError(s)


def _bool(text: str) -> bool | None:
    s = _n(text).lower()
    if not s:
        return None
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise ValueError(s)


def _in_japan(x: float, y: float) -> bool:
    x0, y0, x1, y1 = JAPAN_BOUNDS
    return x0 <= x <= x1 and y0 <= y <= y1


class Why(ValueError):
    """A value refused with its own explanation (shown instead of the value)."""


class _Row:
    """One CSV row being validated: values by field, errors collected with the line number."""

    def __init__(self, line: int, raw: dict[str, str], errors: list[str]) -> None:
        self.line, self.raw, self.errors = line, raw, errors

    def text(self, f: str) -> str | None:
        return _n(self.raw.get(f)) or None

    def fail(self, header: str, problem: str) -> None:
        self.errors.append(f"line {self.line}, column {header}: {problem}")

    def convert(self, f: str, header: str, fn: Any, problem: str) -> Any:
        value = self.text(f)
        if value is None:
            return None
        try:
            return fn(value)
        except Why as e:
            self.fail(header, f"{problem}: {e}")
        except (ValueError, ArithmeticError):
            self.fail(header, f"{problem} ({value!r})")
        return None


def _area(text: str) -> float:
    value = float(text.replace(",", "").removesuffix("㎡").removesuffix("m2").strip())
    if value < 0 or value != value:
        raise ValueError(text)
    return value


def _choice(table: dict[str, str]) -> Any:
    def pick(text: str) -> str:
        if text in table:
            return table[text]
        raise ValueError(text)

    return pick


_TRANSFORMERS: dict[int, Transformer] = {}


def _geometry(text: str) -> Geometry:
    """A 登記筆 polygon from WKT or EWKT (SRID=6670;POLYGON(...)), as a MultiPolygon in EPSG:6668."""
    srid = STORAGE_SRID
    m = re.match(r"\s*SRID=(\d+);(.*)$", text, flags=re.S | re.I)
    if m:
        srid, text = int(m[1]), m[2]
    try:
        geom = shapely.from_wkt(text)
    except shapely.errors.GEOSException as e:
        raise Why(f"unreadable WKT ({str(e)[:80]})") from None
    if srid not in (STORAGE_SRID, 4326):
        tr = _TRANSFORMERS.setdefault(srid, Transformer.from_crs(srid, STORAGE_SRID, always_xy=True))
        geom = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty:
        raise Why(f"a {geom.geom_type}, not a polygon")
    x0, y0, x1, y1 = geom.bounds
    if not (_in_japan(x0, y0) and _in_japan(x1, y1)):
        raise Why(f"coordinates {x0:.1f},{y0:.1f} are not JGD2011 degrees (wrong CRS?): prefix SRID=6670; for metres")
    if not geom.is_valid:
        geom = MultiPolygon([p for p in shapely.get_parts(shapely.make_valid(geom)) if isinstance(p, Polygon)])
    return geom


def _position(row: _Row) -> Point | None:
    lon = row.convert("lon", "経度", float, "not a number")
    lat = row.convert("lat", "緯度", float, "not a number")
    if (lon is None) != (lat is None):
        row.fail("経度" if lon is None else "緯度", "経度 and 緯度 go together")
        return None
    if lon is None or lat is None:
        return None
    if not _in_japan(lon, lat):
        hint = "swapped?" if _in_japan(lat, lon) else "not JGD2011 degrees (wrong CRS?)"
        row.fail("経度", f"({lon}, {lat}) is outside Japan: {hint}")
        return None
    return Point(lon, lat)


def _city(row: _Row, city: str | None) -> str | None:
    code = row.text("city_code")
    if code is None:
        if city is None:
            row.fail("市区町村コード", "empty: give the column or --city")
        return city
    code = code[:5] if len(code) == 6 else code.zfill(5)
    if code not in CITIES:
        row.fail("市区町村コード", f"{code} is not 41205 (伊万里市) or 41206 (武雄市)")
        return None
    if city is not None and code != city:
        row.fail("市区町村コード", f"{code} differs from --city {city}")
    return code


def _record(row: _Row, city: str | None, no_consent: list[int]) -> tuple[dict[str, Any], dict[str, Any]]:
    rec: dict[str, Any] = {"city_code": _city(row, city)}
    rec["oaza"] = row.text("oaza")
    rec["chiban"] = normalise_chiban(row.raw.get("chiban") or "") or None
    for f, header in (("oaza", "所在_大字"), ("chiban", "地番")):
        if rec[f] is None:
            row.fail(header, "empty")
    rec["chimoku"] = row.text("chimoku")
    rec["area_m2"] = row.convert("area_m2", "面積", _area, "not a non-negative number of m²")
    rec["noushin_kubun"] = row.convert("noushin_kubun", "農振区分", _choice(NOUSHIN), f"one of {', '.join(NOUSHIN)}")
    rec["toshi_kubun"] = row.convert("toshi_kubun", "都市計画区分", _choice(TOSHI), f"one of {', '.join(TOSHI)}")
    intention = row.convert("intention", "意向", _choice(INTENTION), "one of 貸付希望, 売渡希望 (or empty)")
    consent = row.convert("consent", "意向の同意", _bool, "はい or いいえ")
    if intention is not None and consent is not True:
        no_consent.append(row.line)
        intention = None
    rec["intention"] = intention
    rec["cultivator_no"] = row.text("cultivator_no")
    rec["lease_type"] = row.text("lease_type")
    rec["lease_end"] = row.convert("lease_end", "存続期間の満了日", parse_date, "not a date (YYYY-MM-DD)")
    rec["chukan_kanri"] = row.convert("chukan_kanri", "中間管理権", _bool, "あり or なし")
    rec["idle_measure"] = row.text("idle_measure")
    rec["position"] = _position(row)
    rec["geom"] = row.convert("wkt", "筆形状WKT", _geometry, "not a 登記筆 polygon")
    headers = {v: k for k, v in HEADERS.items()}
    rec["ledger_date"] = row.convert("ledger_date", "所在等の時点", parse_date, "not a date (YYYY-MM-DD)")
    if rec["ledger_date"] is None and row.text("ledger_date") is None:
        row.fail("所在等の時点", "empty: every record needs its data date")
    for f in GROUP_DATES:
        d = row.convert(f, headers[f], parse_date, "not a date (YYYY-MM-DD)")
        rec[f] = d if d is not None else rec["ledger_date"]
    person = {f: row.text(f) for f in PERSON_FIELDS}
    return rec, person


def read_text(path: Path) -> str:
    """The file as text: UTF-8 (with or without BOM) or Shift_JIS (cp932), as city systems export."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImportFailed(f"{Path(path).name}: cannot read the file ({e.strerror})") from None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailed(f"{Path(path).name}: neither UTF-8 nor Shift_JIS (cp932) text")


def read_ledger(path: Path, city: str | None = None) -> LedgerFile:
    """Read and validate a ledger CSV; ImportFailed naming every bad line (up to MAX_ERRORS) when any is bad."""
    if city is not None and city not in CITIES:
        raise ImportFailed(f"unknown city code '{city}': this service covers {', '.join(CITIES)}")
    name = Path(path).name
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    header = [_n(h) for h in reader.fieldnames or []]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ImportFailed(f"{name}: missing column {', '.join(missing)} (the layout is in README 「農地台帳 CSV」)")
    unknown = [h for h in header if h and h not in HEADERS]
    reader.fieldnames = [HEADERS.get(h, h) for h in header]
    out = LedgerFile([], [])
    if unknown:
        out.report.append(f"未知の列を無視: {', '.join(unknown[:10])}")
    errors: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    no_consent: list[int] = []
    for line, raw in enumerate(reader, start=2):
        if not any(_n(v) for v in raw.values() if isinstance(v, str)):
            continue
        row = _Row(line, raw, errors)
        rec, person = _record(row, city, no_consent)
        key = (rec["city_code"], rec["oaza"], rec["chiban"])
        if None not in key:
            if key in seen:
                row.fail("地番", f"{rec['oaza']} {rec['chiban']} is already on line {seen[key]}")
            seen.setdefault(key, line)
        out.records.append(rec)
        out.persons.append(person)
        out.lines.append(line)
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise ImportFailed(
            f"{name}: {len(errors)} problems, nothing imported: " + "; ".join(errors[:MAX_ERRORS]) + more
        )
    if not out.records:
        raise ImportFailed(f"{name}: no records")
    if no_consent:
        lines = ", ".join(map(str, no_consent[:10])) + (" …" if len(no_consent) > 10 else "")
        out.report.append(f"意向の同意がない {len(no_consent):,} 件は意向を空欄で取込（公開しない）: line {lines}")
    return out


__all__ = ["HEADERS", "LedgerFile", "normalise_chiban", "parse_date", "read_ledger", "read_text"]
