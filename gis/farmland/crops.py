"""The 作付 CSV (README 「農地台帳 CSV」, 作付): one row per 筆ポリゴン, year and 作期; read and validate only.

Columns: polygon_uuid, 年 (the year the season starts), 作期 (夏作 / 冬作), 作物, 時点 (the data date).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import ImportFailed
from gis.farmland.ledger import MAX_ERRORS, parse_date, read_text
from gis.farmland.tables import SEASONS

HEADERS = {"polygon_uuid": "polygon_uuid", "年": "year", "作期": "season", "作物": "crop", "時点": "data_date"}
SEASON_ALIASES = {"夏作": "夏作", "夏": "夏作", "表作": "夏作", "冬作": "冬作", "冬": "冬作", "裏作": "冬作"}


@dataclass
class CropFile:
    """The validated rows of one 作付 CSV (each with its line) and what was noticed."""

    rows: list[dict[str, Any]]
    report: list[str] = field(default_factory=list)


def _n(v: str | None) -> str:
    return unicodedata.normalize("NFKC", v or "").strip()


def read_crops(path: Path) -> CropFile:
    """Read and validate a 作付 CSV; ImportFailed naming every bad line (up to MAX_ERRORS) when any is bad."""
    name = Path(path).name
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    header = [_n(h) for h in reader.fieldnames or []]
    missing = [h for h in HEADERS if h not in header]
    if missing:
        raise ImportFailed(f"{name}: missing column {', '.join(missing)} (the layout is in README 「農地台帳 CSV」)")
    reader.fieldnames = [HEADERS.get(h, h) for h in header]
    errors: list[str] = []
    rows = []
    for line, raw in enumerate(reader, start=2):
        r = {k: _n(v) if isinstance(v, str) else "" for k, v in raw.items()}
        if not any(r.values()):
            continue
        out: dict[str, Any] = {"line": line, "polygon_uuid": r["polygon_uuid"].lower(), "crop": r["crop"]}
        if not out["polygon_uuid"]:
            errors.append(f"line {line}, column polygon_uuid: empty")
        try:
            out["year"] = int(r["year"])
            if not 1900 <= out["year"] <= 2100:
                raise ValueError
        except ValueError:
            errors.append(f"line {line}, column 年: not a year ({r['year']!r})")
        out["season"] = SEASON_ALIASES.get(r["season"])
        if out["season"] not in SEASONS:
            errors.append(f"line {line}, column 作期: one of 夏作, 冬作 ({r['season']!r})")
        if not out["crop"]:
            errors.append(f"line {line}, column 作物: empty (use 不作付 for a fallow season)")
        try:
            out["data_date"] = parse_date(r["data_date"]) if r["data_date"] else None
        except ValueError:
            errors.append(f"line {line}, column 時点: not a date (YYYY-MM-DD) ({r['data_date']!r})")
        rows.append(out)
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS} more)" if len(errors) > MAX_ERRORS else ""
        raise ImportFailed(
            f"{name}: {len(errors)} problems, nothing imported: " + "; ".join(errors[:MAX_ERRORS]) + more
        )
    if not rows:
        raise ImportFailed(f"{name}: no rows")
    return CropFile(rows)


__all__ = ["CropFile", "read_crops"]
