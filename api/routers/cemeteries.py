"""Cemeteries for residents (墓地台帳): find one by name, or list the nearest to a point or an address.

The route reads its query string itself (documented through `openapi_extra`, as api/params.py explains) and answers
from the one cache with a strong ETag that follows the cemeteries layer's version (and, for an address, the
geocoder's answer, which changes with the address reference).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.params import Param
from api.respond import not_modified
from gis.cache import Cached
from gis.cemeteries import service
from gis.errors import InvalidParameter
from gis.etag import make_etag
from gis.garbage import params
from layers.cemeteries import LAYER

router = APIRouter(tags=["cemeteries"])
JSON = "application/json"
MAX_LIMIT = 20
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "not modified (If-None-Match)"}}

Q = Param("q", "a cemetery's name or reading: kanji, hiragana, katakana or romaji; small typos are tolerated")
ADDRESS = Param("address", "an address of 伊万里市 or 武雄市: the nearest cemeteries, e.g. 武雄市武雄町昭和")
LAT = Param("lat", "latitude (JGD2011 / WGS84), with lon: the nearest cemeteries", {"type": "number"})
LON = Param("lon", "longitude of the point", {"type": "number"})
CITY = Param("city", "with q: 41205 (伊万里市) or 41206 (武雄市); default both", {"enum": ["41205", "41206"]})
LIMIT = Param("limit", "how many cemeteries, 1–20 (default 5)", {"type": "integer", "minimum": 1, "maximum": 20})


async def _answer(request: Request, key: tuple[Hashable, ...], build: Callable[[], Awaitable[Cached]]) -> Response:
    """304, a cached body, or one build shared by concurrent callers; the ETag follows the layer's version."""
    rt = get_runtime(request)
    version = rt.versions.get(LAYER.id)
    etag = make_etag(LAYER.id, version, key)
    seconds = LAYER.cache_seconds
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={seconds}, stale-while-revalidate={seconds}",
        "Vary": "Accept-Encoding",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    tag = ((LAYER.id, version),)
    item = await rt.cache.get_or_build(("response", LAYER.id, "cemeteries", version, key), build, tag=tag)
    return Response(item.body, media_type=item.media_type, headers=headers)


def _json(body: dict[str, Any]) -> Cached:
    return Cached(orjson.dumps(body), JSON)


@router.get(
    "/cemeteries",
    summary="Find a cemetery (墓地) by name, or the nearest to a point or an address, with its ledger items",
    responses=NOT_MODIFIED,
    openapi_extra={"parameters": [p.openapi() for p in (Q, ADDRESS, LAT, LON, CITY, LIMIT)]},
)
async def cemeteries(request: Request) -> Response:
    """Give exactly one of q, address or lat+lon. Every answer carries sources, data_date, sample and precision."""
    rt = get_runtime(request)
    qp = dict(request.query_params)
    params.only(qp, ("q", "address", "lat", "lon", "city", "limit"))
    limit = params.integer(qp.get("limit"), "limit", 5, 1, MAX_LIMIT)
    given = [name for name in ("q", "address") if name in qp] + (["lat/lon"] if "lat" in qp or "lon" in qp else [])
    if len(given) != 1:
        raise InvalidParameter("q: give exactly one of q (a name), address, or lat and lon" + _given(given))
    if "city" in qp and "q" not in qp:
        raise InvalidParameter("city: only with q (the nearest cemeteries may lie across the city line)")
    if "q" in qp:
        q = params.text(qp["q"], "q")
        city = params.city(qp.get("city"))

        async def by_name() -> Cached:
            return _json(await service.by_name(rt, q, city, limit))

        return await _answer(request, ("q", q, city, limit), by_name)
    if "address" in qp:
        address = params.text(qp["address"], "address")
        g, precision = service.address_point(rt, address)
        if g["lat"] is None or g["match_level"] in service.UNPLACED_LEVELS:
            body = service.unplaced({"address": address, "geocode": g}, precision, g["candidates"])
            return Response(orjson.dumps(body), media_type=JSON, headers={"Cache-Control": "no-store"})
        lat, lon = g["lat"], g["lon"]
        query: dict[str, Any] = {"address": address, "lat": lat, "lon": lon, "limit": limit, "geocode": g}
        key: tuple[Hashable, ...] = ("address", address, orjson.dumps(g), limit)
    else:
        lat, lon = params.point(qp.get("lat"), qp.get("lon"))
        query = {"lat": lat, "lon": lon, "limit": limit}
        precision = service.POINT_PRECISION
        key = ("point", lat, lon, limit)

    async def near() -> Cached:
        return _json(await service.nearest(rt, lat, lon, limit, query, precision))

    return await _answer(request, key, near)


def _given(names: list[str]) -> str:
    return f" (given: {', '.join(names)})" if names else " (none given)"
