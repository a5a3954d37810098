"""The lookup service: geocode, reverse and the "what applies here" report, for the API router and `gis lookup`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import orjson

from gis.errors import InvalidParameter
from gis.lookup.contacts import city_contacts
from gis.lookup.report import Context, build_report
from gis.lookup.sql import lot_sql, point_sql
from gis.lookup.summary import build_summary
from gis.lookup.validate import validate_lot, validate_point
from gis.runtime import Runtime

CLICK_REACH_M = 10.0  # an exact point: boundaries closer than this are "near"
MAX_REACH_M = 3000.0
PRECISE_LEVELS = ("parcel",)
OUTSIDE = "この地点は伊万里市・武雄市の区域外（または海上）です。表示は参考です。"


def geocode(rt: Runtime, q: str) -> dict[str, Any]:
    """Geocode one address with the process's current geocoder (never waits for the database)."""
    try:
        result = rt.geocoder.geocode(q)
    except ValueError as e:
        raise InvalidParameter(f"address: {e}") from None
    return result.to_dict()


async def reverse(rt: Runtime, lat: float, lon: float) -> dict[str, Any]:
    """The city containing the point (by polygon) and the nearest town representative points."""
    validate_point(lat, lon)
    async with rt.public_conn() as conn:
        raw = orjson.loads(await conn.fetchval(point_sql(), lon, lat, CLICK_REACH_M))
    report = build_report(raw, await _context(rt, "point", CLICK_REACH_M, True))
    city = report["municipality"]["municipalities"][0] if report["municipality"]["municipalities"] else None
    towns = report["town"]["nearest"]
    return {
        "lat": lat,
        "lon": lon,
        "municipality": (
            {"city_code": city["city_code"], "name": city["name"], "lg_code": city["lg_code"]} if city else None
        ),
        "outside_service_area": city is None,
        "town": towns[0]["name"] if towns else None,
        "town_distance_m": towns[0]["distance_m"] if towns else None,
        "nearest_towns": [{"name": t["name"], "distance_m": t["distance_m"]} for t in towns],
        "approximate": True,
        "message": "町名は代表点が最も近い大字・町（おおよそ）。境界は大字の区域データがないため判定できない。",
    }


async def _context(rt: Runtime, mode: str, reach: float, precise: bool) -> Context:
    sources, layer_sources = await rt.catalog.sources()
    return Context(
        mode=mode,
        reach_m=reach,
        precise=precise,
        sources=sources,
        layer_sources=layer_sources,
        data_dir=rt.settings.data_dir,
        coverage=await rt.catalog.coverage(),
    )


def _contact(rt: Runtime, report: dict[str, Any]) -> dict[str, Any] | None:
    """Who to ask in the point's city: its main office and the kind of department per topic."""
    cities = report["municipality"]["municipalities"]
    contacts = city_contacts(rt.settings.data_dir)
    city = contacts["cities"].get(cities[0]["city_code"]) if cities else None
    if city is None:
        return None
    return {**city, "topics": contacts["topics"], "source": contacts["source"], "data_date": contacts["data_date"]}


async def _report(
    rt: Runtime,
    *,
    lat: float | None,
    lon: float | None,
    lot: dict | None,
    reach: float,
    precise: bool,
    query: dict[str, Any],
    geojson: bool = False,
) -> dict[str, Any]:
    ctx = await _context(rt, "lot" if lot else "point", reach, precise)
    async with rt.public_conn() as conn:
        if lot is not None:
            text = await conn.fetchval(lot_sql(), json.dumps(lot))
        else:
            text = await conn.fetchval(point_sql(), lon, lat, reach)
    raw = orjson.loads(text)
    report = build_report(raw, ctx)
    place = (query.get("geocode") or {}).get("place")
    outside = not report["municipality"]["municipalities"]
    if outside and lot is not None:
        raise InvalidParameter("the lot is outside 伊万里市 and 武雄市 (or at sea)")
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
            else f"「{place['name']}」（{place['layer_title']}）の範囲（約 {reach:,.0f} m）にかかる区域をすべて示します。"
            "敷地を地図上でクリックしてください。"
            if place
            else "住所は大字・町レベルまでしか特定できないため、その範囲にかかる区域をすべて示します。"
            "敷地を地図上でクリックしてください。"
        ),
    }
    body: dict[str, Any] = {
        "query": query,
        "precision": precision,
        "summary": build_summary(report, precision),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **report,
    }
    body["contact"] = _contact(rt, report)
    if geojson:
        # The report as the properties of one Feature: the point (or the lot) itself.
        geometry = lot if lot is not None else {"type": "Point", "coordinates": [lon, lat]}
        body = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": geometry, "properties": body}],
        }
    if outside:
        body["message"] = OUTSIDE
    return body


async def lookup_point(rt: Runtime, lat: float, lon: float, uncertainty_m: float | None, geojson: bool) -> dict:
    """The report for a point: a click (exact) or a point with a stated uncertainty."""
    validate_point(lat, lon)
    if uncertainty_m is not None and not 0 <= uncertainty_m <= MAX_REACH_M:
        raise InvalidParameter(f"uncertainty_m: must be between 0 and {MAX_REACH_M:.0f}")
    reach = max(CLICK_REACH_M, uncertainty_m or 0)
    query = {"lat": lat, "lon": lon, "uncertainty_m": uncertainty_m or 0}
    return await _report(
        rt, lat=lat, lon=lon, lot=None, reach=reach, precise=reach <= CLICK_REACH_M, query=query, geojson=geojson
    )


async def lookup_address(rt: Runtime, address: str, geojson: bool) -> dict:
    """The report for a geocoded address, as precise as the match (大字 level never gets a single-zone answer)."""
    g = geocode(rt, address)
    if g["outside_service_area"]:
        raise InvalidParameter(f"address: '{address}' is outside 伊万里市 and 武雄市")
    if g["lat"] is None or g["match_level"] in ("none", "pref", "city"):
        return {
            "query": {"address": address, "geocode": g},
            "precision": {"mode": "none"},
            "message": "住所から大字・町を特定できませんでした。候補から選ぶか、地図上で敷地をクリックしてください。",
            "candidates": g["candidates"],
        }
    reach = min(max(float(g["uncertainty_m"] or CLICK_REACH_M), CLICK_REACH_M), MAX_REACH_M)
    return await _report(
        rt,
        lat=g["lat"],
        lon=g["lon"],
        lot=None,
        reach=reach,
        precise=g["coordinates_level"] in PRECISE_LEVELS,
        query={"address": address, "geocode": g},
        geojson=geojson,
    )


async def lookup_lot(rt: Runtime, body: Any) -> dict:
    """The report for a lot polygon (GeoJSON Polygon/MultiPolygon or a Feature holding one)."""
    # Up to 10,000 vertices are parsed, repaired and projected: off the event loop.
    geometry, area = await asyncio.to_thread(validate_lot, body)
    query = {"lot": geometry, "lot_area_m2": area}
    return await _report(rt, lat=None, lon=None, lot=geometry, reach=0.0, precise=True, query=query)
