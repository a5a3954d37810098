"""Address lookup: /geocode, /reverse, and the "what applies here" report at /lookup (point, address or lot)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Rt, get_runtime
from gis.errors import InvalidParameter
from gis.lookup import service

router = APIRouter(tags=["lookup"])


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get("/geocode", summary="Japanese address → point with match level, coordinates level and uncertainty")
async def geocode(request: Request, q: Annotated[str, Query(description="address, e.g. 武雄市武雄町武雄5680")]) -> dict:
    """Geocode one address of 伊万里市 or 武雄市 (大字-level points unless parcel data is loaded)."""
    return service.geocode(get_runtime(request), q)


@router.get("/reverse", summary="Point → municipality (by polygon) and nearest 大字/町 (approximate)")
async def reverse(
    rt: Rt,
    lat: Annotated[float, Query(description="latitude (JGD2011 / WGS84)")],
    lon: Annotated[float, Query(description="longitude")],
) -> dict:
    """The city containing the point and the nearest town representative points."""
    return await service.reverse(rt, lat, lon)


@router.get(
    "/lookup", summary="Every layer that applies at a point or an address, with precision and boundary warnings"
)
async def lookup(
    request: Request,
    lat: Annotated[float | None, Query(description="latitude of the point (with lon)")] = None,
    lon: Annotated[float | None, Query(description="longitude of the point (with lat)")] = None,
    address: Annotated[str | None, Query(description="address instead of a point")] = None,
    uncertainty_m: Annotated[
        float | None, Query(description="how uncertain the point is, metres (default 0: a click)")
    ] = None,
    f: Annotated[str | None, Query(description="json (default) or geojson (the report as one Feature)")] = None,
) -> Response:
    """The report for a clicked point (exact) or a geocoded address (as precise as the match)."""
    rt = get_runtime(request)
    if f not in (None, "json", "geojson"):
        raise InvalidParameter(f"f: unsupported format '{f}'; use json or geojson")
    geojson = f == "geojson"
    if address is not None:
        if lat is not None or lon is not None:
            raise InvalidParameter("give either address or lat/lon, not both")
        return _json(await service.lookup_address(rt, address, geojson))
    if lat is None or lon is None:
        raise InvalidParameter("give lat and lon, or address")
    return _json(await service.lookup_point(rt, lat, lon, uncertainty_m, geojson))


LOT_BODY = {
    "required": True,
    "description": "GeoJSON Polygon or MultiPolygon (or a Feature holding one), lon/lat; at most GIS_MAX_BODY_KIB",
    "content": {"application/json": {"schema": {"type": "object"}}, "application/geo+json": {"schema": {}}},
}
PARSE_IN_THREAD = 64 * 1024  # larger bodies are parsed off the event loop, so other requests keep flowing


@router.post(
    "/lookup",
    summary="Every layer a lot touches: area shares, majority 用途, weighted ratios, stricter fire rule",
    openapi_extra={"requestBody": LOT_BODY},
)
async def lookup_lot(rt: Rt, request: Request) -> Response:
    """The report for a lot polygon."""
    raw = await request.body()
    try:
        body = await asyncio.to_thread(orjson.loads, raw) if len(raw) > PARSE_IN_THREAD else orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidParameter("body: not valid JSON (expected a GeoJSON Polygon, MultiPolygon or Feature)") from None
    return _json(await service.lookup_lot(rt, body))
