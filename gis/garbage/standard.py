"""The standard 「ごみの分別方法」 CSV (自治体標準オープンデータセット) ↔ items, with the checks real files need.

Columns: 全国地方公共団体コード, ID, 地方公共団体名, 品目, 分別区分, 注意点, 料金種別, 料金, 料金備考, 備考, plus the
optional `品目_en`, `品目_zh`, `品目_ko`, `品目_vi` (the item's name in those languages) and `sample`.

- Prefixed column names (世田谷区 writes `ごみの分別方法_品目` …) are read by stripping the prefix when exactly one
  prefix turns the header into the standard columns; otherwise the file is refused naming the candidates.
- 品目 and 分別区分 swapped (世田谷区 again): when most 品目 values are the city's category names and 分別区分 is not,
  or, for a city with no categories yet, when 品目 has at most half as many distinct values as 分別区分, it is refused
  with what was seen; `swap=True` (`--swap-columns`) reads the two columns the other way round, with a report line.
- 全国地方公共団体コード is the 6-digit code with its check digit (a 5-digit code is accepted); a row without one
  takes `city`. On export the ID column is renumbered 1…n in stored order.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gis.cities import PREFECTURE
from gis.errors import ImportFailed
from gis.garbage.cities import check_city, city_name, lg_code
from gis.garbage.fmt5374 import read_rows
from gis.garbage.model import Item, blank

COLUMNS = ["全国地方公共団体コード", "ID", "地方公共団体名", "品目", "分別区分", "注意点"]
COLUMNS += ["料金種別", "料金", "料金備考", "備考"]
NAME_COLUMNS = {"en": "品目_en", "zh": "品目_zh", "ko": "品目_ko", "vi": "品目_vi"}
EXTRA_COLUMNS = [*NAME_COLUMNS.values(), "sample"]
FEW_CATEGORIES = 30  # a city has at most this many 分別区分


@dataclass
class ItemsFile:
    """Items per city read from one file, and what was noticed on the way."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    report: list[str] = field(default_factory=list)


def _unprefixed(header: list[str], name: str, report: list[str]) -> list[str]:
    if set(COLUMNS) <= set(header):
        return header
    candidates = {h[: -len(s)] for h in header for s in COLUMNS if h.endswith(s) and len(h) > len(s)}
    valid = []
    for p in sorted(candidates):
        stripped = [h.removeprefix(p) for h in header]
        if len(set(stripped)) == len(stripped) and all(p + s in header for s in COLUMNS):
            valid.append(p)
    if len(valid) > 1:
        raise ImportFailed(f"{name}: the column names carry a prefix, but which one is ambiguous: {', '.join(valid)}")
    if not valid:
        missing = [c for c in COLUMNS if c not in header]
        raise ImportFailed(
            f"{name}: missing columns {', '.join(missing)} (the standard 「ごみの分別方法」 columns are "
            f"{', '.join(COLUMNS)})"
        )
    report.append(f"the column names carry the prefix 「{valid[0]}」; read without it")
    return [h.removeprefix(valid[0]) for h in header]


def _looks_swapped(items: Sequence[str], cats: Sequence[str], known: set[str]) -> bool:
    n = len(items)
    in_items = sum(v in known for v in items) / n
    in_cats = sum(v in known for v in cats) / n
    if known and (in_items or in_cats):
        return in_items >= 0.5 and in_items > in_cats
    few, many = len(set(items)), len(set(cats))
    return n >= 10 and few <= FEW_CATEGORIES and few * 2 <= many


def _examples(values: Sequence[str]) -> str:
    return "、".join(list(dict.fromkeys(values))[:3])


def read_items(
    path: Path, city: str | None = None, known: Mapping[str, set[str]] | None = None, *, swap: bool = False
) -> ItemsFile:
    """Read a standard items CSV; known = category names per city (for the swap check). Raises ImportFailed."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    city = check_city(city) if city else None
    rows = read_rows(path)
    if not rows:
        raise ImportFailed(f"{path.name}: empty")
    out = ItemsFile()
    header = _unprefixed([h.strip() for h in rows[0][1]], path.name, out.report)
    ignored = [h for h in header if h not in COLUMNS and h not in EXTRA_COLUMNS]
    if ignored:
        out.report.append(f"columns ignored: {', '.join(ignored)}")
    per_city: dict[str, list[dict[str, str]]] = {}
    for line, cells in rows[1:]:
        r = dict(zip(header, [*cells, *[""] * len(header)], strict=False))
        where = f"{path.name} line {line}"
        code = r["全国地方公共団体コード"].strip()
        if code:
            try:
                code = check_city(code)
            except ImportFailed as e:
                raise ImportFailed(f"{where}: {e.description}") from None
            if city and code != city:
                raise ImportFailed(f"{where}: 全国地方公共団体コード {code} is not --city {city}")
        elif city:
            code = city
        else:
            raise ImportFailed(f"{where}: 全国地方公共団体コード is empty; pass --city")
        if not r["品目"].strip() or not r["分別区分"].strip():
            raise ImportFailed(f"{where}: 品目 and 分別区分 must not be empty")
        per_city.setdefault(code, []).append(r)
    if not per_city:
        raise ImportFailed(f"{path.name}: no rows")
    for code, rs in per_city.items():
        items, cats = [r["品目"].strip() for r in rs], [r["分別区分"].strip() for r in rs]
        if swap:
            items, cats = cats, items
            out.report.append(f"{code}: 品目 and 分別区分 read swapped (--swap-columns)")
        elif _looks_swapped(items, cats, (known or {}).get(code, set())):
            raise ImportFailed(
                f"{path.name}: 品目 and 分別区分 look swapped for {code}: 品目 holds {len(set(items))} distinct values "
                f"such as {_examples(items)} (category names), 分別区分 holds {len(set(cats))} such as "
                f"{_examples(cats)}; swap the two columns, or pass --swap-columns"
            )
        out.items[code] = [
            Item(
                name=name,
                category=cat,
                notice=blank(r["注意点"]),
                names={k: v.strip() for k, col in NAME_COLUMNS.items() if (v := r.get(col, "")).strip()},
                fee_type=blank(r["料金種別"]),
                fee=blank(r["料金"]),
                fee_note=blank(r["料金備考"]),
                note=blank(r["備考"]),
            )
            for name, cat, r in zip(items, cats, rs, strict=True)
        ]
    return out


def item_rows(city: str, items: Sequence[Item], *, sample: bool = False) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the standard CSV for one city's items (name columns only when some item has them)."""
    langs = [k for k in NAME_COLUMNS if any(k in i.names for i in items)]
    header = COLUMNS + [NAME_COLUMNS[k] for k in langs] + (["sample"] if sample else [])
    code, name = lg_code(city), PREFECTURE + city_name(city)
    rows = [
        [code, str(n), name, i.name, i.category, i.notice or "", i.fee_type or "", i.fee or "", i.fee_note or "",
         i.note or "", *[i.names.get(k, "") for k in langs], *(["true"] if sample else [])]
        for n, i in enumerate(items, start=1)
    ]  # fmt: skip
    return header, rows


def write_items_csv(path: Path, city: str, items: Sequence[Item]) -> int:
    """Write one city's items as a standard CSV (UTF-8 with BOM, so spreadsheet software reads it); returns rows."""
    header, rows = item_rows(city, items)
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return len(rows)


__all__ = ["COLUMNS", "EXTRA_COLUMNS", "NAME_COLUMNS", "ItemsFile", "item_rows", "read_items", "write_items_csv"]
