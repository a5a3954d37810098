"""The garbage service: nearest points with their next days, groups, calendars, iCalendar, notices, item search.

Used by the API router (and usable from the CLI); no web types. "Today" and "now" are in Japan (JST) and come from
`now()`, which tests replace. Every answer states its sources (the provenance of the rows it used), the newest
data date among them and whether any of it is sample data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from gis.cities import CITIES
from gis.errors import InvalidParameter, NotFound
from gis.garbage import atom, ical, search
from gis.garbage.params import add_months
from gis.garbage.sql import calendar_sql, group_exists_sql, group_sql, notices_sql, points_sql
from gis.garbage.tables import VERSION_ID
from gis.lookup.service import geocode
from gis.runtime import Runtime

JST = ZoneInfo("Asia/Tokyo")
APPROXIMATE_LEVELS = ("machiaza", "machiaza_detail")
# A point given as lat/lon is exact: distances are from it.
POINT_PRECISION = {
    "match_level": "point",
    "coordinates_level": "point",
    "uncertainty_m": 0,
    "approximate": False,
    "message": "指定した地点から近い順に示しています。",
}


def now() -> datetime:
    """The current time in Japan (tests replace this function)."""
    return datetime.now(JST)


def today() -> date:
    """Today's date in Japan."""
    return now().date()


async def provenance(rt: Runtime, ids: Iterable[int | None], *, sample: bool = False) -> dict[str, Any]:
    """sources (by id, from the catalog), data_date (the newest) and sample (any row or source)."""
    by_id, _ = await rt.catalog.sources()
    sources = [by_id[i] for i in sorted({i for i in ids if i is not None}) if i in by_id]
    dates = [s["data_date"] for s in sources if s.get("data_date")]
    return {
        "sources": sources,
        "data_date": max(dates) if dates else None,
        "sample": sample or any(s.get("sample") for s in sources),
    }


# -- points --------------------------------------------------------------------------------------------------------


def _precision_of(g: dict[str, Any]) -> dict[str, Any]:
    level, uncertainty = g["coordinates_level"], g["uncertainty_m"]
    out = {"match_level": g["match_level"], "coordinates_level": level, "uncertainty_m": uncertainty}
    if level in APPROXIMATE_LEVELS:
        out["approximate"] = True
        out["message"] = (
            f"住所は「{g['town']}」（大字・町）までしか特定できないため、その代表点から近い集積所を示しています"
            f"（位置の誤差 約{round(uncertainty or 0)} m）。"
            "実際に最寄りの集積所とは限りません。地図で確かめてください。"
        )
    else:
        out["approximate"] = False
        out["message"] = "住所の地番の位置から近い順に示しています。"
    return out


def address_point(rt: Runtime, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Geocode an address: (the geocoder's answer, the precision stated with the points)."""
    g = geocode(rt, address)
    if g["outside_service_area"]:
        raise InvalidParameter(f"address: '{address}' is outside 伊万里市 and 武雄市")
    if g["lat"] is None or g["match_level"] in ("none", "pref", "city"):
        precision = {
            "match_level": g["match_level"],
            "coordinates_level": g["coordinates_level"],
            "uncertainty_m": None,
            "approximate": True,
            "message": "住所から大字・町を特定できませんでした。候補から選ぶか、地図上で位置を選んでください。",
        }
        return g, precision
    return g, _precision_of(g)


async def points(
    rt: Runtime, lat: float, lon: float, limit: int, on: date, query: dict[str, Any], precision: dict[str, Any]
) -> dict[str, Any]:
    """The nearest collection points with their group and next collection day per category (one SQL statement)."""
    async with rt.public_conn() as conn:
        found = orjson.loads(await conn.fetchval(points_sql(), lon, lat, limit, on))
    ids: list[int | None] = []
    sample = False
    for p in found:
        ids.extend(p.pop("_sources"))
        ids.extend(p.pop("_calendar_sources") or ())
        sample = p.pop("_sample") or sample
    return {"query": query, "precision": precision, "today": on.isoformat(), "points": found} | await provenance(
        rt, ids, sample=sample
    )


def no_points(query: dict[str, Any], precision: dict[str, Any], candidates: list[dict]) -> dict[str, Any]:
    """The answer when the address gave no point to search from."""
    return {
        "query": query,
        "precision": precision,
        "points": [],
        "candidates": candidates,
        "sources": [],
        "data_date": None,
        "sample": False,
    }


# -- groups and calendars ------------------------------------------------------------------------------------------


def _categories(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The group's categories: the city's (in its order) that the group's rules or events name, then the rest."""
    schedule = doc["group"]["schedule"] or {}
    named = set(schedule) | set(doc["used"] or ())
    listed = [c for c in doc["categories"] if not named or c["category"] in named]
    known = {c["category"] for c in listed}
    extra = [
        {"category": name, "sort": None, "color": None, "icon": None, "description": None, "names": {}}
        for name in sorted(named - known)
    ]
    return [
        {k: v for k, v in c.items() if k not in ("_source", "sample", "sort")} | {"rule": schedule.get(c["category"])}
        for c in listed + extra
    ]


def _group_summary(g: dict[str, Any]) -> dict[str, Any]:
    city = CITIES.get(g["city_code"])
    return {
        "id": g["id"],
        "name": g["name"],
        "city_code": g["city_code"],
        "city": city.name if city else None,
        "code": g["code"],
        "areas": g["areas"],
        "area_master": g["area_master"],
        "center": g["center"],
    }


def _unknown_group(group_id: str) -> NotFound:
    return NotFound(f"group_id: unknown garbage collection group '{group_id[:60]}'; see /collections/garbage_points")


async def group(rt: Runtime, group_id: str) -> dict[str, Any]:
    """One collection group: name, city, areas, categories with colours, descriptions and day rules."""
    async with rt.public_conn() as conn:
        text = await conn.fetchval(group_sql(), group_id)
    if text is None:
        raise _unknown_group(group_id)
    doc = orjson.loads(text)
    g = doc["group"]
    ids = [g["_source"], *(c["_source"] for c in doc["categories"])]
    sample = g["sample"] or any(c["sample"] for c in doc["categories"])
    return _group_summary(g) | {"categories": _categories(doc)} | await provenance(rt, ids, sample=sample)


async def _calendar_doc(
    rt: Runtime, group_id: str, first: date, last: date, categories: tuple[str, ...] | None, at: datetime, param: str
) -> dict[str, Any]:
    async with rt.public_conn() as conn:
        text = await conn.fetchval(calendar_sql(), group_id, first, last, list(categories) if categories else None, at)
    if text is None:
        raise _unknown_group(group_id)
    doc = orjson.loads(text)
    doc["group_categories"] = _categories(doc)
    if categories:
        known = {c["category"] for c in doc["group_categories"]}
        unknown = [c for c in categories if c not in known]
        if unknown:
            raise InvalidParameter(
                f"{param}: '{unknown[0][:40]}' is not a category of "
                f"group {group_id}; use one of {', '.join(sorted(known))}"
            )
    return doc


async def _calendar_provenance(rt: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    ids = [doc["group"]["_source"], *(c["_source"] for c in doc["categories"]), *doc["_exception_sources"]]
    ids += [n["_source"] for n in doc["notices"]]
    sample = doc["group"]["sample"] or any(c["sample"] for c in doc["categories"])
    return await provenance(rt, ids, sample=sample or any(n["sample"] for n in doc["notices"]))


def _public_notices(notices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in n.items() if k != "_source"} for n in notices]


async def calendar(
    rt: Runtime, group_id: str, first: date, last: date, category: str | None, at: datetime
) -> dict[str, Any]:
    """Collection days from..to on the effective calendar, the cancelled days, categories and current notices."""
    doc = await _calendar_doc(rt, group_id, first, last, (category,) if category else None, at, "category")
    body = {
        "group": _group_summary(doc["group"]),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "category": category,
        "days": doc["days"],
        "cancelled": doc["cancelled"],
        "categories": doc["group_categories"],
        "notices": _public_notices(doc["notices"]),
    }
    return body | await _calendar_provenance(rt, doc)


async def calendar_ics(
    rt: Runtime, group_id: str, categories: tuple[str, ...] | None, alarm: time | None, months: int, at: datetime
) -> bytes:
    """The group's calendar for `months` from today as iCalendar, with an alarm the evening before each day."""
    first = at.date()
    last = add_months(first, months)
    doc = await _calendar_doc(rt, group_id, first, last, categories, at, "categories")
    info = await _calendar_provenance(rt, doc)
    # Tens of milliseconds for a year of days (icalendar is pure Python): off the event loop.
    return await asyncio.to_thread(ical.build, _group_summary(doc["group"]), doc["days"], info, alarm, at)


# -- notices -------------------------------------------------------------------------------------------------------


async def notices(rt: Runtime, city: str | None, group_id: str | None, at: datetime) -> dict[str, Any]:
    """The notices in force now (valid_from ≤ now < valid_to, or open-ended), newest first, times in JST."""
    async with rt.public_conn() as conn:
        if group_id is not None:
            group_city = await conn.fetchval(group_exists_sql(), group_id)
            if group_city is None:
                raise NotFound(f"group: unknown garbage collection group '{group_id[:60]}'")
            if city is not None and city != group_city:
                raise InvalidParameter(f"group: {group_id} is a group of {group_city}, not of city {city}")
        found = orjson.loads(await conn.fetchval(notices_sql(), city, group_id, at))
    info = await provenance(rt, [n["_source"] for n in found], sample=any(n["sample"] for n in found))
    body = {"city": city, "group": group_id, "now": at.isoformat(timespec="seconds"), "notices": _public_notices(found)}
    return body | info


async def notices_feed(
    rt: Runtime, city: str | None, group_id: str | None, at: datetime, self_url: str, page_url: str
) -> bytes:
    """The same notices as an Atom 1.0 feed."""
    body = await notices(rt, city, group_id, at)
    return atom.build(body, at, self_url, page_url)


# -- items ---------------------------------------------------------------------------------------------------------


async def item_index(rt: Runtime) -> search.ItemIndex:
    """The search index of every item, built once per garbage data version through the one cache."""
    version = rt.versions.get(VERSION_ID)
    return await search.cached_index(rt, version)


async def items(rt: Runtime, q: str, city: str | None, limit: int) -> dict[str, Any]:
    """Items matching q by name, reading (kana), romaji, a small typo, or a name in another language."""
    index = await item_index(rt)
    found = index.search(q, city, limit)
    ids, sample = index.provenance(city)
    return {"q": q, "city": city, "items": found} | await provenance(rt, ids, sample=sample)
