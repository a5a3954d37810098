"""Garbage imports and exports against the database: one transaction each, through the one write path.

Every import records one `sources` row (layer id `garbage`) and bumps the `garbage` version in the same
transaction as its rows; a bad file raises ImportFailed before anything is written, so the database is exactly as
it was. Only the imported city's rows are replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.errors import ImportFailed
from gis.garbage.cities import check_city, city_name
from gis.garbage.fmt5374 import read_5374, write_5374
from gis.garbage.model import CityData
from gis.garbage.standard import read_items, write_items_csv
from gis.garbage.store import (
    city_has_data,
    read_city,
    read_event_days,
    read_groups,
    replace_report,
    write_city,
    write_events,
    write_items,
)
from gis.garbage.tables import VERSION_ID

FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2000, 2100


@dataclass
class GarbageResult:
    """Rows written per table, what was noticed, the provenance row and the new `garbage` version."""

    counts: list[tuple[str, int]] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    source_id: int | None = None
    version: int | None = None


def check_fiscal_years(fiscal_years: Sequence[int]) -> list[int]:
    """The fiscal years, sorted and unique, or ImportFailed for one out of range."""
    for fy in fiscal_years:
        if not FIRST_FISCAL_YEAR <= fy <= LAST_FISCAL_YEAR:
            raise ImportFailed(f"fiscal year {fy} is out of range ({FIRST_FISCAL_YEAR}–{LAST_FISCAL_YEAR})")
    return sorted(set(fiscal_years))


def _record(cur: psycopg.Cursor, info: SourceInfo, name: str, cities: list[str], rows: int, report: list[str]) -> int:
    return insert_source(
        cur, VERSION_ID, info, file_name=name, city_codes=cities, row_count=rows,
        report=json.dumps(report, ensure_ascii=False),
    )  # fmt: skip


def import_5374(
    conn: psycopg.Connection,
    path: Path,
    city: str,
    *,
    fiscal_years: Sequence[int] = (),
    replace: bool = False,
    info: SourceInfo | None = None,
) -> GarbageResult:
    """Import a 5374 file set for one city and author its events for the given fiscal years."""
    city = check_city(city)
    fys = check_fiscal_years(fiscal_years)
    data = read_5374(Path(path), city)
    info = info or SourceInfo(title=f"5374 {Path(path).name}（{city_name(city)}）")
    result = GarbageResult(report=list(data.report))
    with conn.transaction(), conn.cursor() as cur:
        if not replace and city_has_data(cur, city):
            raise ImportFailed(f"{city_name(city)} ({city}) already has garbage data: pass --replace to replace it")
        result.report += replace_report(cur, data)
        rows = len(data.groups or []) + len(data.items or [])
        result.source_id = _record(cur, info, Path(path).name, [city], rows, result.report)
        result.counts = write_city(cur, data, result.source_id, fiscal_years=fys, sample=info.sample,
                                   closures_only=True)  # fmt: skip
        result.version = bump_version(cur, VERSION_ID)
    if not fys:
        result.report.append("no fiscal year given: no events authored (gis garbage generate --fiscal-year N)")
    return result


def export_5374(conn: psycopg.Connection, folder: Path, city: str, prefix: str = "") -> list[tuple[str, int]]:
    """Write one city's stored calendar as a 5374 file set; returns (file, rows)."""
    city = check_city(city)
    with conn.transaction(), conn.cursor() as cur:
        data = read_city(cur, city)
        if not data.groups:
            raise ImportFailed(f"{city_name(city)} ({city}) has no garbage groups to export")
        days = read_event_days(cur, city)
    return write_5374(Path(folder), data, days, prefix)


def _known_categories(cur: psycopg.Cursor) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for city, category in cur.execute("SELECT city_code, category FROM garbage_categories"):
        known.setdefault(city, set()).add(category)
    return known


def import_items(
    conn: psycopg.Connection,
    path: Path,
    city: str | None = None,
    *,
    replace: bool = False,
    swap: bool = False,
    info: SourceInfo | None = None,
) -> GarbageResult:
    """Import a standard 「ごみの分別方法」 CSV: replace (or add to) the items of the cities in the file."""
    path = Path(path)
    info = info or SourceInfo(title=f"ごみの分別方法 {path.name}")
    with conn.transaction(), conn.cursor() as cur:
        parsed = read_items(path, city, _known_categories(cur), swap=swap)
        cities = sorted(parsed.items)
        result = GarbageResult(report=parsed.report)
        total = sum(len(v) for v in parsed.items.values())
        result.source_id = _record(cur, info, path.name, cities, total, result.report)
        for code in cities:
            write_items(cur, code, parsed.items[code], result.source_id, info.sample, replace=replace)
            result.counts.append((f"garbage_items {code}", len(parsed.items[code])))
        result.version = bump_version(cur, VERSION_ID)
    return result


def export_items(conn: psycopg.Connection, path: Path, city: str) -> int:
    """Write one city's items as a standard 「ごみの分別方法」 CSV; returns the rows written."""
    city = check_city(city)
    with conn.transaction(), conn.cursor() as cur:
        data = read_city(cur, city)
    if not data.items:
        raise ImportFailed(f"{city_name(city)} ({city}) has no garbage items to export")
    return write_items_csv(Path(path), city, data.items)


def generate(conn: psycopg.Connection, fiscal_year: int, city: str | None = None) -> GarbageResult:
    """Author one fiscal year's events of a city (or of every city) from the stored rules."""
    (fy,) = check_fiscal_years([fiscal_year])
    result = GarbageResult()
    with conn.transaction(), conn.cursor() as cur:
        if city:
            cities = [check_city(city)]
        else:
            cities = [r[0] for r in cur.execute("SELECT DISTINCT city_code FROM garbage_groups ORDER BY 1")]
        groups = {c: read_groups(cur, c) for c in cities}
        if not any(groups.values()):
            raise ImportFailed(f"no garbage groups for {', '.join(cities) or 'any city'}: import a calendar first")
        sample = cur.execute(
            "SELECT coalesce(bool_and(sample), false) FROM garbage_groups WHERE city_code = ANY(%s)", (cities,)
        ).fetchone()[0]
        info = SourceInfo(
            title=f"収集日（{fy}年度）: 収集規則から生成",
            publisher="本サービス（収集グループの規則から生成）",
            licence="元の収集規則に同じ",
            derived=True,
            sample=sample,
        )
        counts = [(c, write_events(cur, c, g, [fy])) for c, g in groups.items() if g]
        result.counts = [(f"garbage_events {c} FY{fy}", n) for c, n in counts]
        result.source_id = _record(cur, info, f"FY{fy}", cities, sum(n for _, n in counts), [])
        result.version = bump_version(cur, VERSION_ID)
    return result


def import_city_data(
    cur: psycopg.Cursor, datas: Sequence[CityData], info: SourceInfo, name: str, fiscal_years: Sequence[int]
) -> list[tuple[str, int]]:
    """Replace whole cities' data in the cursor's transaction (the bundled loader); returns rows per table."""
    report = [line for d in datas for line in d.report]
    cities = [d.city_code for d in datas]
    source_id = _record(cur, info, name, cities, sum(len(d.groups or []) for d in datas), report)
    totals: dict[str, int] = {}
    for d in datas:
        for table, n in write_city(cur, d, source_id, fiscal_years=check_fiscal_years(fiscal_years),
                                   sample=info.sample):  # fmt: skip
            totals[table] = totals.get(table, 0) + n
    bump_version(cur, VERSION_ID)
    return list(totals.items())


__all__ = [
    "GarbageResult",
    "check_fiscal_years",
    "export_5374",
    "export_items",
    "generate",
    "import_5374",
    "import_city_data",
    "import_items",
]
