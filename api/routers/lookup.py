"""Address lookup: /geocode, /reverse, and the "what applies here" report at /lookup (point, address or lot)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response

from api.deps import public_conn
from api.lookup_support import geocoder, sources_index, validate_lot, validate_point
from gis.errors import InvalidParameter
from gis.lookup.report import Context, build_report
from gis.lookup.sql import lot_sql, point_sql

router = APIRouter(tags=["lookup"])
CLICK_REACH_M = 10.0  # an exact point: boundaries closer than this are "near"
MAX_REACH_M = 3000.0
PRECISE_LEVELS = ("parcel",)


def _geocode(request: Request, q: str) -> dict[str, Any]:
    try:
        result = geocoder(request).geocode(q)
    except ValueError as e:
        raise InvalidParameter(f"address: {e}") from None
    return result.to_dict()


@router.get("/geocode", summary="Japanese address → point with match level, coordinates level and uncertainty")
async def geocode(request: Request, q: Annotated[str, Query(description="address, e.g. 武雄市武雄町武雄5680")]) -> dict:
    """Geocode one address of 伊万里市 or 武雄市 (大字-level points unless parcel data is loaded)."""
    return _geocode(request, q)


@router.get("/reverse", summary="Point → municipality (by polygon) and nearest 大字/町 (approximate)")
async def reverse(
    request: Request,
    lat: Annotated[float, Query(description="latitude (JGD2011 / WGS84)")],
    lon: Annotated[float, Query(description="longitude")],
) -> dict:
    """The city containing the point and the nearest town representative points."""
    validate_point(lat, lon)
    async with public_conn(request) as conn:
        raw = orjson.loads(await conn.fetchval(point_sql(), lon, lat, CLICK_REACH_M))
    city = raw["municipality"][0] if raw["municipality"] else None
    return {
        "lat": lat,
        "lon": lon,
        "municipality": (
            {"city_code": city["city_code"], "name": city["name"], "lg_code": city["lg_code"]} if city else None
        ),
        "outside_service_area": city is None,
        "town": raw["towns"][0]["name"] if raw["towns"] else None,
        "town_distance_m": raw["towns"][0]["distance_m"] if raw["towns"] else None,
        "nearest_towns": [{"name": t["name"], "distance_m": t["distance_m"]} for t in raw["towns"]],
        "approximate": True,
        "message": "町名は代表点が最も近い大字・町（おおよそ）。境界は大字の区域データがないため判定できない。",
    }


async def _report(
    request: Request,
    *,
    lat: float | None,
    lon: float | None,
    lot: dict | None,
    reach: float,
    precise: bool,
    query: dict[str, Any],
    geojson: bool = False,
) -> JSONResponse:
    async with public_conn(request) as conn:
        sources, layer_sources = await sources_index(request, conn)
        if lot is not None:
            text = await conn.fetchval(lot_sql(), json.dumps(lot))
        else:
            text = await conn.fetchval(point_sql(), lon, lat, reach)
    raw = orjson.loads(text)
    outside = not raw["municipality"]
    if outside and lot is not None:
        raise InvalidParameter("the lot is outside 伊万里市 and 武雄市 (or at sea)")
    ctx = Context(
        mode="lot" if lot else "point",
        reach_m=reach,
        precise=precise,
        sources=sources,
        layer_sources=layer_sources,
        data_dir=request.app.state.settings.data_dir,
    )
    report = build_report(raw, ctx)
    _sensor_states(report)
    precision = {
        "outside_service_area": outside,
        "mode": ctx.mode,
        "reach_m": reach,
        "single_answer_possible": precise,
        "message": (
            "敷地（区画）の範囲で判定しています。"
            if lot
            else "地図上の点で判定しています。境界から10 m 未満なら範囲内の区域をすべて示します。"
            if precise
            else "住所は大字・町レベルまでしか特定できないため、その範囲にかかる区域をすべて示します。敷地を地図上でクリックしてください。"
        ),
    }
    body = {
        "query": query,
        "precision": precision,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **report,
    }
    if geojson:
        # The report as the properties of one Feature: the point (or the lot) itself.
        geometry = lot if lot is not None else {"type": "Point", "coordinates": [lon, lat]}
        body = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": geometry, "properties": body}],
        }
    if outside:
        body["message"] = "この地点は伊万里市・武雄市の区域外（または海上）です。表示は参考です。"
    return Response(orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})


def _sensor_states(report: dict[str, Any]) -> None:
    """No heartbeat within twice the interval means 'unknown', never 'dry' (DOMAIN.md §8)."""
    now = datetime.now(UTC)
    for s in report["inundation_sensors"]["nearest"]:
        seen = datetime.fromisoformat(s["last_seen"]) if s.get("last_seen") else None
        limit = timedelta(minutes=2 * (s.get("heartbeat_minutes") or 60))
        s["stale"] = seen is None or now - seen > limit
        s["state_now"] = "unknown" if s["stale"] else s.get("state")


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
) -> JSONResponse:
    """The report for a clicked point (exact) or a geocoded address (as precise as the match)."""
    if f not in (None, "json", "geojson"):
        raise InvalidParameter(f"f: unsupported format '{f}'; use json or geojson")
    geojson = f == "geojson"
    if address is not None:
        if lat is not None or lon is not None:
            raise InvalidParameter("give either address or lat/lon, not both")
        g = _geocode(request, address)
        if g["outside_service_area"]:
            raise InvalidParameter(f"address: '{address}' is outside 伊万里市 and 武雄市")
        if g["lat"] is None or g["match_level"] in ("none", "pref", "city"):
            return JSONResponse(
                {
                    "query": {"address": address, "geocode": g},
                    "precision": {"mode": "none"},
                    "message": "住所から大字・町を特定できませんでした。候補から選ぶか、地図上で敷地をクリックしてください。",
                    "candidates": g["candidates"],
                }
            )
        reach = min(max(float(g["uncertainty_m"] or CLICK_REACH_M), CLICK_REACH_M), MAX_REACH_M)
        return await _report(
            request,
            lat=g["lat"],
            lon=g["lon"],
            lot=None,
            reach=reach,
            precise=g["coordinates_level"] in PRECISE_LEVELS,
            query={"address": address, "geocode": g},
            geojson=geojson,
        )
    if lat is None or lon is None:
        raise InvalidParameter("give lat and lon, or address")
    validate_point(lat, lon)
    if uncertainty_m is not None and not 0 <= uncertainty_m <= MAX_REACH_M:
        raise InvalidParameter(f"uncertainty_m: must be between 0 and {MAX_REACH_M:.0f}")
    reach = max(CLICK_REACH_M, uncertainty_m or 0)
    return await _report(
        request,
        lat=lat,
        lon=lon,
        lot=None,
        reach=reach,
        precise=reach <= CLICK_REACH_M,
        query={"lat": lat, "lon": lon, "uncertainty_m": uncertainty_m or 0},
        geojson=geojson,
    )


@router.post(
    "/lookup", summary="Every layer a lot touches: area shares, majority 用途, weighted ratios, stricter fire rule"
)
async def lookup_lot(
    request: Request,
    body: Annotated[dict, Body(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one), lon/lat")],
) -> JSONResponse:
    """The report for a lot polygon."""
    geometry, area = await validate_lot(request, body)
    return await _report(
        request, lat=None, lon=None, lot=geometry, reach=0.0, precise=True, query={"lot": geometry, "lot_area_m2": area}
    )
