"""Buses: next departures from a stop in JST, and the stops near a point (for the 交通 page and other clients).

Answers come from the one cache with strong ETags that follow the timetables' version (`transit`) and the
bus_stops layer; an answer for "now" is keyed on the minute and kept at most until the minute ends.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.params import Param
from api.respond import not_modified
from gis.cache import Cached
from gis.errors import InvalidParameter
from gis.etag import make_etag
from gis.garbage import params
from gis.transit import service
from gis.transit.tables import VERSION_ID

router = APIRouter(tags=["transit"])
DEPENDS = (VERSION_ID, "bus_stops")
JSON = "application/json"
NOW_SECONDS = 60  # an answer for "now" changes with the minute
FIXED_SECONDS = 3600  # an answer for a given `at` changes only with the timetables
MAX_NEAR = 10
StopId = Annotated[str, Path(description="GTFS stop_id of a station or boarding point, e.g. 0000120 (武雄温泉駅)")]
AT = Param("at", "the moment, ISO 8601 (e.g. 2026-11-24T08:00; without an offset: JST). Default: now")
LIMIT = Param("limit", "how many departures, 1–50 (default 10)", {"type": "integer", "minimum": 1, "maximum": 50})
LAT = Param("lat", "latitude of the point (JGD2011 / WGS84), with lon", {"type": "number"})
LON = Param("lon", "longitude of the point", {"type": "number"})
NEAR_LIMIT = Param("limit", "how many stops, 1–10 (default 5)", {"type": "integer", "minimum": 1, "maximum": MAX_NEAR})


def _openapi(*items: Param) -> dict[str, Any]:
    return {"parameters": [p.openapi() for p in items]}


async def _answer(request: Request, key: tuple[Hashable, ...], build: Any, max_age: int) -> Response:
    rt = get_runtime(request)
    tag = rt.versions.snapshot(DEPENDS)
    etag = make_etag(VERSION_ID, rt.versions.get(VERSION_ID), (tag, key))
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept-Encoding"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    item = await rt.cache.get_or_build(("response", VERSION_ID, tag, key), build, tag=tag)
    return Response(item.body, media_type=item.media_type, headers=headers)


@router.get(
    "/transit/stops/{stop_id}/departures",
    summary="Next departures from a bus stop (a station: from its boarding points), in JST",
    openapi_extra=_openapi(AT, LIMIT),
)
async def departures(request: Request, stop_id: StopId) -> Response:
    """Today's and (past midnight) yesterday's services; after the feed's end an empty list and a note."""
    rt = get_runtime(request)
    qp = dict(request.query_params)
    params.only(qp, ("at", "limit"))
    if len(stop_id) > 64:
        raise InvalidParameter("stop_id: at most 64 characters")
    limit = service.parse_limit(qp.get("limit"))
    given = "at" in qp
    at = service.parse_at(qp.get("at"))
    if not given:
        at = at.replace(second=0, microsecond=0)
    max_age = FIXED_SECONDS if given else max(1, NOW_SECONDS - service.now().second)

    async def build() -> Cached:
        return Cached(orjson.dumps(await service.departures(rt, stop_id, at, limit)), JSON)

    return await _answer(request, ("departures", stop_id, at.isoformat(), limit), build, max_age)


@router.get(
    "/transit/stops",
    summary="The bus stops nearest to a point (stations, and boarding points without one), with routes",
    openapi_extra=_openapi(LAT, LON, NEAR_LIMIT),
)
async def stops(request: Request) -> Response:
    """Nearest first, with the distance in metres; the feed's source and what it leaves out."""
    rt = get_runtime(request)
    qp = dict(request.query_params)
    params.only(qp, ("lat", "lon", "limit"))
    lat, lon = params.point(qp.get("lat"), qp.get("lon"))
    limit = params.integer(qp.get("limit"), "limit", 5, 1, MAX_NEAR)

    async def build() -> Cached:
        found = await service.near(rt, lat, lon, limit)
        sources = await rt.catalog.layer_sources("bus_stops")
        body = {"query": {"lat": lat, "lon": lon, "limit": limit}, "stops": found, "sources": sources,
                "caveat": service.NOT_IN_FEED}  # fmt: skip
        return Cached(orjson.dumps(body), JSON)

    return await _answer(request, ("stops", lat, lon, limit), build, FIXED_SECONDS)
