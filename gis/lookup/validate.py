"""Checking what a lookup asks about: a point in range, a lot polygon of a lot's size in Japan."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape

from gis.errors import InvalidParameter
from gis.geo import METRIC_SRID, STORAGE_SRID, in_japan, transformer

MAX_LOT_M2 = 100_000  # 10 ha: larger than any lot a resident asks about
MAX_VERTICES = 10_000


def validate_point(lat: float, lon: float) -> None:
    """Latitude and longitude in range."""
    if not -90 <= lat <= 90:
        raise InvalidParameter(f"lat: {lat} is out of range (-90..90)")
    if not -180 <= lon <= 180:
        raise InvalidParameter(f"lon: {lon} is out of range (-180..180)")


def validate_lot(body: Any) -> tuple[dict[str, Any], float]:
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
    if not in_japan(*geom.bounds):
        raise InvalidParameter("body: coordinates must be lon, lat in Japan (EPSG:6668 / WGS84)")
    area = shapely.transform(geom, transformer(STORAGE_SRID, METRIC_SRID).transform, interleaved=False).area
    if area < 1:
        raise InvalidParameter("body: the polygon is smaller than 1 m²")
    if area > MAX_LOT_M2:
        raise InvalidParameter(f"body: the polygon is {area / 10_000:.1f} ha; a lot must be at most 10 ha")
    return geometry, round(area, 1)
