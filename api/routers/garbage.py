"""Garbage collection for residents: nearest points with next days, groups, calendars (JSON, iCalendar), notices
(JSON, Atom) and item search.

Hot routes read the query string themselves (documented through `openapi_extra`, as api/params.py explains) and
answer from the one cache with strong ETags. An answer rests on the garbage tables (version `garbage`), the groups
and the points, so its ETag and cache entry carry all three versions; answers that depend on the date carry it
too ("today" in JST) and may be kept only until midnight in Japan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.params import Param
from api.respond import not_modified
from gis.cache import Cached
from gis.errors import InvalidParameter
from gis.etag import make_etag
from gis.garbage import params, service
from gis.garbage.tables import VERSION_ID

router = APIRouter(tags=["garbage"])
DEPENDS = (VERSION_ID, "garbage_groups", "garbage_points")
JSON = "application/json"
DAY_SECONDS = 300  # answers that change with the date
NOTICE_SECONDS = 60  # answers holding notices, which start and end at any minute
STATIC_SECONDS = 3600  # answers that change only with the data (a group, item search) or once a day (.ics)
MAX_POINTS = 20
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "not modified (If-None-Match)"}}
GroupId = Annotated[str, Path(description="collection group id, e.g. 41205-A (the group_id of a garbage point)")]


def _openapi(*items: Param) -> dict[str, Any]:
    return {"parameters": [p.openapi() for p in items]}


def _until_midnight(at: datetime, most: int) -> int:
    """Seconds an answer of today may be kept: at most `most`, never past midnight in Japan."""
    midnight = (at + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, min(most, int((midnight - at).total_seconds())))


async def _answer(
    request: Request,
    key: tuple[Hashable, ...],
    build: Callable[[], Awaitable[Cached]],
    max_age: int,
    dated: bool = True,
) -> Response:
    """304, a cached body, or one build shared by concurrent callers; the ETag follows the garbage versions.

    A `dated` answer (it depends on today or now) is never served stale by a shared cache.
    """
    rt = get_runtime(request)
    tag = rt.versions.snapshot(DEPENDS)
    etag = make_etag(VERSION_ID, rt.versions.get(VERSION_ID), (tag, key))
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}" + ("" if dated else f", stale-while-revalidate={max_age}"),
        "Vary": "Accept-Encoding",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    item = await rt.cache.get_or_build(("response", VERSION_ID, tag, key), build, tag=tag)
    headers.update(item.headers)
    return Response(item.body, media_type=item.media_type, headers=headers)


def _json(body: dict[str, Any]) -> Cached:
    return Cached(orjson.dumps(body), JSON)


def _query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    given = dict(request.query_params)
    params.only(given, allowed)
    return given


LAT = Param("lat", "latitude of the point (JGD2011 / WGS84), with lon", {"type": "number"})
LON = Param("lon", "longitude of the point", {"type": "number"})
ADDRESS = Param("address", "an address of 伊万里市 or 武雄市 instead of lat/lon, e.g. 武雄市武雄町武雄5680")
LIMIT = Param("limit", "how many points, 1–20 (default 3)", {"type": "integer", "minimum": 1, "maximum": MAX_POINTS})


@router.get(
    "/garbage/points",
    summary="Nearest collection points (集積所) with their group and next collection day per category",
    responses=NOT_MODIFIED,
    openapi_extra=_openapi(LAT, LON, ADDRESS, LIMIT),
)
async def points(request: Request) -> Response:
    """The nearest points to a point or an address; an address known only to its 大字 says so in `precision`."""
    rt = get_runtime(request)
    qp = _query(request, ("lat", "lon", "address", "limit"))
    limit = params.integer(qp.get("limit"), "limit", 3, 1, MAX_POINTS)
    at = service.now()
    on = at.date()
    address = qp.get("address")
    if address is not None:
        if "lat" in qp or "lon" in qp:
            raise InvalidParameter("address: give either address or lat/lon, not both")
        address = params.text(address, "address")
        g, precision = service.address_point(rt, address)
        if g["lat"] is None or g["match_level"] in ("none", "pref", "city"):
            body = service.no_points({"address": address, "geocode": g}, precision, g["candidates"])
            return Response(orjson.dumps(body), media_type=JSON, headers={"Cache-Control": "no-store"})
        lat, lon = g["lat"], g["lon"]
        query = {"address": address, "lat": lat, "lon": lon, "limit": limit, "geocode": g}
        key: tuple[Hashable, ...] = ("points", address, orjson.dumps(g), limit, on)
    else:
        lat, lon = params.point(qp.get("lat"), qp.get("lon"))
        query = {"lat": lat, "lon": lon, "limit": limit}
        precision = service.POINT_PRECISION
        key = ("points", lat, lon, limit, on)

    async def build() -> Cached:
        return _json(await service.points(rt, lat, lon, limit, on, query, precision))

    return await _answer(request, key, build, _until_midnight(at, DAY_SECONDS))


@router.get(
    "/garbage/groups/{group_id}",
    summary="A collection group: name, city, areas, categories with colours",
    responses=NOT_MODIFIED,
)
async def group(request: Request, group_id: GroupId) -> Response:
    """One group with its categories (colour, description, day rule), sources and the sample flag."""
    rt = get_runtime(request)
    _query(request, ())
    group_id = params.group_id(group_id, "group_id")

    async def build() -> Cached:
        return _json(await service.group(rt, group_id))

    return await _answer(request, ("group", group_id), build, STATIC_SECONDS, dated=False)


FROM = Param("from", "first day, YYYY-MM-DD (default: today in Japan)", {"type": "string", "format": "date"})
TO = Param("to", "last day, YYYY-MM-DD (default: one month after from; at most 366 days)", {"type": "string"})
CATEGORY = Param("category", "only this category, e.g. もえるごみ")


@router.get(
    "/garbage/groups/{group_id}/calendar",
    summary="Collection days of a group in a date range, the cancelled days, categories and current notices",
    responses=NOT_MODIFIED,
    openapi_extra=_openapi(FROM, TO, CATEGORY),
)
async def calendar(request: Request, group_id: GroupId) -> Response:
    """The effective calendar: regular days, moved days (status move, with planned_day and reason), extra days."""
    rt = get_runtime(request)
    qp = _query(request, ("from", "to", "category"))
    group_id = params.group_id(group_id, "group_id")
    at = service.now().replace(second=0, microsecond=0)
    first, last = params.date_range(qp.get("from"), qp.get("to"), at.date())
    category = params.category(qp.get("category"), "category")

    async def build() -> Cached:
        return _json(await service.calendar(rt, group_id, first, last, category, at))

    key = ("calendar", group_id, first, last, category, at)
    return await _answer(request, key, build, _until_midnight(at, NOTICE_SECONDS))


CATEGORIES = Param("categories", "comma-separated categories to include (default: all)")
ALARM = Param("alarm", "reminder time the evening before, HH:MM from 12:00 to 23:59 (default 19:00), or none")
MONTHS = Param("months", "months from today, 1–24 (default 12)", {"type": "integer", "minimum": 1, "maximum": 24})


@router.get(
    "/garbage/groups/{group_id}/calendar.ics",
    summary="A group's collection days as iCalendar, each with an alarm the evening before",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **NOT_MODIFIED},
    openapi_extra=_openapi(CATEGORIES, ALARM, MONTHS),
)
async def calendar_ics(request: Request, group_id: GroupId) -> Response:
    """Subscribe from a calendar app: one all-day event per day and category, with a VALARM."""
    rt = get_runtime(request)
    qp = _query(request, ("categories", "alarm", "months"))
    group_id = params.group_id(group_id, "group_id")
    categories = params.names(qp.get("categories"), "categories")
    alarm = params.alarm(qp.get("alarm"))
    months = params.integer(qp.get("months"), "months", 12, 1, 24)
    at = service.now()
    filename = quote(f"garbage-{group_id}.ics")

    async def build() -> Cached:
        text = await service.calendar_ics(rt, group_id, categories, alarm, months, at)
        disposition = f"inline; filename=\"garbage.ics\"; filename*=UTF-8''{filename}"
        return Cached(text, "text/calendar; charset=utf-8", (("Content-Disposition", disposition),))

    key = ("ics", group_id, categories, alarm, months, at.date())
    return await _answer(request, key, build, _until_midnight(at, STATIC_SECONDS))


Q = Param("q", "what to throw away: kanji, kana, romaji or English/中文/한국어/Tiếng Việt (at most 100 characters)")
CITY = Param("city", "41205 (伊万里市) or 41206 (武雄市); default both", {"type": "string", "enum": ["41205", "41206"]})
ITEMS_LIMIT = Param("limit", "how many items, 1–50 (default 20)", {"type": "integer", "minimum": 1, "maximum": 50})


@router.get(
    "/garbage/items",
    summary="How to sort an item (ごみの分別): search by name, reading, romaji, typo or another language",
    responses=NOT_MODIFIED,
    openapi_extra=_openapi(Q, CITY, ITEMS_LIMIT),
)
async def items(request: Request) -> Response:
    """Items best matching q, each with its category, notice, names and how it matched."""
    rt = get_runtime(request)
    qp = _query(request, ("q", "city", "limit"))
    q = params.text(qp.get("q"), "q")
    city = params.city(qp.get("city"))
    limit = params.integer(qp.get("limit"), "limit", 20, 1, 50)

    async def build() -> Cached:
        return _json(await service.items(rt, q, city, limit))

    return await _answer(request, ("items", q, city, limit), build, STATIC_SECONDS, dated=False)


NOTICE_CITY = Param("city", "41205 or 41206 (default both)")
GROUP = Param("group", "a collection group id: its notices and its city's")


def _notice_filters(request: Request) -> tuple[str | None, str | None, datetime]:
    qp = _query(request, ("city", "group"))
    group_id = params.group_id(qp["group"], "group") if qp.get("group") else None
    return params.city(qp.get("city")), group_id, service.now().replace(second=0, microsecond=0)


UNKNOWN_GROUP: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such collection group (group)"},
    **NOT_MODIFIED,
}


@router.get(
    "/garbage/notices",
    summary="Notices in force now (年末年始, disasters, changes), newest first, times in JST",
    responses=UNKNOWN_GROUP,
    openapi_extra=_openapi(NOTICE_CITY, GROUP),
)
async def notices(request: Request) -> Response:
    """Current notices of a city, of a group (with its city's), or of both cities."""
    rt = get_runtime(request)
    city, group_id, at = _notice_filters(request)

    async def build() -> Cached:
        return _json(await service.notices(rt, city, group_id, at))

    return await _answer(request, ("notices", city, group_id, at), build, NOTICE_SECONDS)


@router.get(
    "/garbage/notices.atom",
    summary="The current notices as an Atom 1.0 feed",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, **UNKNOWN_GROUP},
    openapi_extra=_openapi(NOTICE_CITY, GROUP),
)
async def notices_atom(request: Request) -> Response:
    """The same notices for feed readers."""
    rt = get_runtime(request)
    city, group_id, at = _notice_filters(request)
    self_url = str(request.url)
    page_url = str(request.url.replace(path=request.url.path.removesuffix(".atom")))

    async def build() -> Cached:
        body = await service.notices_feed(rt, city, group_id, at, self_url, page_url)
        return Cached(body, "application/atom+xml; charset=utf-8")

    return await _answer(request, ("atom", city, group_id, at, self_url), build, NOTICE_SECONDS)
