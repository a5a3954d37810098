"""`gis load` for the garbage domain: groups, categories, exceptions, items and notices from the bundled CSVs,
and the events of the manifest's fiscal years authored from the groups' rules.

The manifest entry names this module and its files:

    [[table]]
    name = "garbage"
    module = "gis.garbage.load"
    source = "sample"
    fiscal_years = [2026, 2027]
    groups = "sample/garbage_groups_sample.csv"        # group_id, city_code, code, name, areas (JSON), ...
    categories = "sample/garbage_categories_sample.csv"
    exceptions = "sample/garbage_exceptions_sample.csv"
    items = "sample/garbage_items_sample.csv"          # the standard 「ごみの分別方法」 columns
    notices = "sample/garbage_notices_sample.csv"

Every city in the groups file is replaced as a whole (one source row, one version bump, in the loader's
transaction); loading twice gives the same rows with the same ids.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg

from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.garbage.cities import check_city
from gis.garbage.imports import import_city_data
from gis.garbage.model import CalendarException, Category, CityData, Group, Notice, blank
from gis.garbage.standard import read_items

FILE_KEYS = ("groups", "categories", "exceptions", "items", "notices")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as e:
        raise ImportFailed(f"{where}: not JSON ({e.msg})") from None


def _group(r: dict[str, str], where: str) -> Group:
    areas = _json(r.get("areas", ""), where) or []
    return Group(
        group_id=r["group_id"],
        name=r["name"],
        schedule=_json(r["schedule"], where),
        code=blank(r.get("code")),
        areas=list(areas),
        area_master=blank(r.get("area_master")),
        center=blank(r.get("center")),
    )


def _exception(r: dict[str, str]) -> CalendarException:
    new_day = blank(r["new_day"])
    if r["kind"] not in ("cancel", "move", "extra") or (r["kind"] == "move") != bool(new_day):
        raise ValueError(f"exception {r['day']}: kind must be cancel, move (with new_day) or extra")
    return CalendarException(
        day=date.fromisoformat(r["day"]),
        kind=r["kind"],
        reason=r["reason"],
        group_id=blank(r["group_id"]),
        category=blank(r["category"]),
        new_day=date.fromisoformat(new_day) if new_day else None,
    )


def read_bundle(data_dir: Path, entry: Mapping[str, Any]) -> list[CityData]:
    """Each city's data from the files an entry names (the groups file decides which cities there are)."""
    paths = {k: data_dir / entry[k] for k in FILE_KEYS if k in entry}
    if "groups" not in paths:
        raise ImportFailed("manifest: the garbage entry needs a groups file")
    cities: dict[str, CityData] = {}
    for n, r in enumerate(_rows(paths["groups"]), start=2):
        city = check_city(r["city_code"])
        data = cities.setdefault(city, CityData(city, groups=[]))
        assert data.groups is not None
        data.groups.append(_group(r, f"{paths['groups'].name} line {n}"))
    for data in cities.values():
        data.categories = [] if "categories" in paths else None
        data.exceptions = [] if "exceptions" in paths else None
        data.notices = [] if "notices" in paths else None
    try:
        for r in _rows(paths["categories"]) if "categories" in paths else []:
            names = _json(r["names"], paths["categories"].name)
            cat = Category(r["category"], int(r["sort"] or 0), blank(r["color"]), blank(r["icon"]),
                           blank(r["description"]), names)  # fmt: skip
            cities[r["city_code"]].categories.append(cat)  # type: ignore[union-attr]
        for r in _rows(paths["exceptions"]) if "exceptions" in paths else []:
            cities[r["city_code"]].exceptions.append(_exception(r))  # type: ignore[union-attr]
        for r in _rows(paths["notices"]) if "notices" in paths else []:
            valid_to = blank(r["valid_to"])
            notice = Notice(r["title"], r["body"], datetime.fromisoformat(r["valid_from"]),
                            datetime.fromisoformat(valid_to) if valid_to else None, blank(r["group_id"]))  # fmt: skip
            cities[r["city_code"]].notices.append(notice)  # type: ignore[union-attr]
    except KeyError as e:
        raise ImportFailed(f"garbage files: city or column {e} not in the groups file") from None
    except ValueError as e:
        raise ImportFailed(f"garbage files: {e}") from None
    for city, data in cities.items():
        ids = {g.group_id for g in data.groups or []}
        for x in [*(data.exceptions or []), *(data.notices or [])]:
            if x.group_id is not None and x.group_id not in ids:
                raise ImportFailed(f"garbage files: group {x.group_id} is not a group of {city}")
    if "items" in paths:
        known = {c: {x.category for x in d.categories or []} for c, d in cities.items()}
        parsed = read_items(paths["items"], None, known)
        for city, items in parsed.items.items():
            if city not in cities:
                raise ImportFailed(f"{paths['items'].name}: city {city} has no groups in {paths['groups'].name}")
            cities[city].items = items
        for data in cities.values():
            data.items = data.items if data.items is not None else []
    return list(cities.values())


def load(
    cur: psycopg.Cursor, data_dir: Path, entry: Mapping[str, Any], sources: Mapping[str, SourceInfo]
) -> list[tuple[str, int, str]]:
    """Load the garbage entry of the manifest; returns (table, rows, file) per table."""
    datas = read_bundle(Path(data_dir), entry)
    info = sources[entry["source"]]
    names = ", ".join(Path(entry[k]).name for k in FILE_KEYS if k in entry)
    years = [int(y) for y in entry.get("fiscal_years", [])]
    counts = import_city_data(cur, datas, info, names, years)
    label = {"garbage_events": "FY " + ", ".join(str(y) for y in years)}
    plural = {"garbage_groups": "groups", "garbage_categories": "categories", "garbage_exceptions": "exceptions"}
    plural |= {"garbage_items": "items", "garbage_notices": "notices"}
    return [(table, n, label.get(table) or str(entry.get(plural[table], ""))) for table, n in counts]


__all__ = ["FILE_KEYS", "load", "read_bundle"]
