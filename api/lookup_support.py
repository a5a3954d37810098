"""Support for the lookup API: the geocoder (rebuilt when the address reference changes), sources, validation."""

from __future__ import annotations

from typing import Any

import asyncpg
import shapely
from fastapi import Request
from pyproj import Transformer
from shapely.geometry import shape

from gis.errors import InvalidParameter
from gis.geocode import Geocoder, load_reference

TO_6670 = Transformer.from_crs(6668, 6670, always_xy=True)
MAX_LOT_M2 = 100_000  # 10 ha: larger than any lot a resident asks about
MAX_VERTICES = 10_000
REFERENCE_LAYERS = ("towns", "address_points")


def geocoder(request: Request) -> Geocoder:
    """The process's geocoder, rebuilt from the database when towns or address points were re-imported."""
    state = request.app.state
    key = tuple(state.versions.get(lid) for lid in REFERENCE_LAYERS)
    if getattr(state, "geocoder_key", None) != key:
        state.geocoder = _build_geocoder(state)
        state.geocoder_key = key
    return state.geocoder


def _build_geocoder(state: Any) -> Geocoder:
    settings = state.settings
    try:
        import psycopg
        from gis.addresses import reference_from_db

        with psycopg.connect(state.db_url) as conn:
            return Geocoder(*reference_from_db(conn, settings.data_dir))
    except ImportError:
        # Without the database reference module the bundled CSVs are the reference (same 大字 points).
        return Geocoder(*load_reference(settings.data_dir))


async def sources_index(request: Request, conn: asyncpg.Connection) -> tuple[dict[int, dict], dict[str, list[dict]]]:
    """Every source by id and the current sources per layer, cached until a layer version changes."""
    key = tuple(sorted(request.app.state.versions.versions.items()))
    cached = request.app.state.meta_cache.get("sources")
    if cached and cached[0] == key:
        return cached[1]
    rows = await conn.fetch(
        "SELECT id, layer_id, title, publisher, licence, licence_url, attribution, data_date, sample, derived, note "
        "FROM sources ORDER BY id"
    )
    by_id = {r["id"]: {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(r).items()} for r in rows}
    per_layer: dict[str, list[dict]] = {}
    for s in by_id.values():
        per_layer.setdefault(s["layer_id"], []).append(s)
    result = (by_id, per_layer)
    request.app.state.meta_cache["sources"] = (key, result)
    return result


def validate_point(lat: float, lon: float) -> None:
    """Latitude and longitude in range."""
    if not -90 <= lat <= 90:
        raise InvalidParameter(f"lat: {lat} is out of range (-90..90)")
    if not -180 <= lon <= 180:
        raise InvalidParameter(f"lon: {lon} is out of range (-180..180)")


async def validate_lot(request: Request, body: Any) -> tuple[dict[str, Any], float]:
    """A lot polygon: GeoJSON (Multi)Polygon or a Feature holding one, valid, of a lot's size; returns it and m²."""
    if not isinstance(body, dict):
        raise InvalidParameter("body: expected a GeoJSON Polygon, MultiPolygon or Feature")
    geometry = body.get("geometry") if body.get("type") == "Feature" else body
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidParameter("body: the lot must be a GeoJSON Polygon or MultiPolygon (lon, lat)")
    try:
        geom = shape(geometry)
    except Exception:  # shapely raises several types for malformed coordinates
        raise InvalidParameter("body: the polygon's coordinates are malformed") from None
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise InvalidParameter(f"body: the polygon has more than {MAX_VERTICES} vertices")
    if geom.is_empty:
        raise InvalidParameter("body: the polygon is empty")
    if not geom.is_valid:
        raise InvalidParameter(f"body: the polygon is invalid ({shapely.is_valid_reason(geom)})")
    minx, miny, maxx, maxy = geom.bounds
    if not (minx >= 122 and maxx <= 154 and miny >= 20 and maxy <= 46):
        raise InvalidParameter("body: coordinates must be lon, lat in Japan (EPSG:6668 / WGS84)")
    area = shapely.transform(geom, TO_6670.transform, interleaved=False).area
    if area < 1:
        raise InvalidParameter("body: the polygon is smaller than 1 m²")
    if area > MAX_LOT_M2:
        raise InvalidParameter(f"body: the polygon is {area / 10_000:.1f} ha; a lot must be at most 10 ha")
    return geometry, round(area, 1)
