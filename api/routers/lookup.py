"""Address lookup: /geocode, /reverse, and the "what applies here" report at /lookup (point, address or lot)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.counting import note_town
from api.deps import Rt, get_runtime
from gis.errors import InvalidParameter
from gis.lookup import service
from gis.maps.printview import print_view
from gis.stats.keys import geocode_town, lookup_town

router = APIRouter(tags=["lookup"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get("/geocode", summary="Japanese address → point with match level, coordinates level and uncertainty")
async def geocode(request: Request, q: Annotated[str, Query(description="address, e.g. 武雄市武雄町武雄5680")]) -> dict:
    """Geocode one address of 伊万里市 or 武雄市 (大字-level points unless parcel data is loaded)."""
    result = service.geocode(get_runtime(request), q)
    note_town(request, "geocode", geocode_town(result))  # the 大字 it resolved to, never the text
    return result


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
        body = await service.lookup_address(rt, address, geojson)
    elif lat is None or lon is None:
        raise InvalidParameter("give lat and lon, or address")
    else:
        body = await service.lookup_point(rt, lat, lon, uncertainty_m, geojson)
    note_town(request, "town", lookup_town(body))  # the 大字 it resolved to, never the address or the point
    return _json(body)


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
    report = await service.lookup_lot(rt, body)
    note_town(request, "town", lookup_town(report))
    return _json(report)


@router.get("/report", summary="The report as a printable A4 page (HTML): a place, or an address", tags=["pages"])
async def report_page(
    request: Request,
    lat: Annotated[float | None, Query(description="latitude of the point (with lon)")] = None,
    lon: Annotated[float | None, Query(description="longitude of the point (with lat)")] = None,
    address: Annotated[str | None, Query(description="address instead of a point")] = None,
    uncertainty_m: Annotated[float | None, Query(description="how uncertain the point is, metres")] = None,
) -> HTMLResponse:
    """Every section with its source and data date, the departments to confirm with and a disclaimer, for print."""
    rt = get_runtime(request)
    if address is not None and (lat is not None or lon is not None):
        raise InvalidParameter("give either address or lat/lon, not both")
    if address is not None:
        body = await service.lookup_address(rt, address, False)
    elif lat is None or lon is None:
        raise InvalidParameter("give lat and lon, or address")
    else:
        body = await service.lookup_point(rt, lat, lon, uncertainty_m, False)
    html = templates.get_template("report.html").render(
        request=request, report=body, page=print_view(body, rt.settings.data_dir, request.scope.get("root_path", ""))
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
