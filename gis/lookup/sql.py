"""The lookup report in one SQL statement: every layer at a point (with a reach radius) or over a lot polygon.

Distances and areas are computed in EPSG:6670 (平面直角座標系 第II系); candidate rows are found with the GiST
index on the stored EPSG:6668 geometry (the query geometry is expanded, the column is never transformed for the
index test).
"""

from __future__ import annotations

from functools import cache

from api.features_sql import q
from layers import LAYERS

# Area layers answered with every zone in reach (point) or every zone touched (lot).
ZONE_LAYERS = ("planning_areas", "zoning", "fire_districts", "special_use_districts", "noise_zones", "vibration_zones")
# Degrees per metre, generously (1° of longitude at 33.4°N is ~93 km): boxes never miss a candidate.
DEG_PER_M = 1 / 80_000
NEAREST = {"garbage_points": 3, "parks": 3, "inundation_sensors": 3, "towns": 2}
CEMETERY_RADIUS_M = 500
FACILITY_BUFFER_M = 80


def _cols(layer_id: str, alias: str = "t") -> str:
    cols = [c.name for c in LAYERS[layer_id].public_columns]
    return ", ".join(f"{alias}.{q(c)}" for c in ["id", "city_code", "sample", "source_id", *cols])


def _agg(select: str) -> str:
    return f"(SELECT coalesce(json_agg(x), '[]'::json) FROM ({select}) x)"


def _zone_point(layer_id: str) -> str:
    """Zones within reach of the point, with containment, distance and distance to the zone boundary."""
    return _agg(
        f"SELECT {_cols(layer_id)}, ST_Intersects(t.geom, p.g) AS contains, "
        f"round(ST_Distance(t.geom_m, p.m)::numeric, 1) AS distance_m, "
        f"round(ST_Distance(ST_Boundary(t.geom_m), p.m)::numeric, 1) AS boundary_distance_m "
        f"FROM {q(layer_id)} t, p WHERE t.geom && p.box AND ST_DWithin(t.geom_m, p.m, p.r) "
        f"ORDER BY contains DESC, distance_m, t.id"
    )


def _zone_lot(layer_id: str) -> str:
    """Zones a lot touches, with the overlapping area (m²) and its share of the lot."""
    return _agg(
        f"SELECT {_cols(layer_id)}, true AS contains, 0 AS distance_m, "
        f"round(ST_Area(ST_Intersection(t.geom_m, p.m))::numeric, 1) AS area_m2, "
        f"round((ST_Area(ST_Intersection(t.geom_m, p.m)) / p.area)::numeric, 4) AS share "
        f"FROM {q(layer_id)} t, p WHERE t.geom && p.box AND ST_Intersects(t.geom, p.g) ORDER BY area_m2 DESC"
    )


def _nearest(layer_id: str, n: int) -> str:
    return _agg(
        f"SELECT {_cols(layer_id)}, round(ST_Distance(t.geom_m, p.m)::numeric, 1) AS distance_m "
        f"FROM (SELECT t.* FROM {q(layer_id)} t, p ORDER BY t.geom <-> ST_Centroid(p.g) LIMIT {n * 3}) t, p "
        f"ORDER BY distance_m LIMIT {n}"
    )


def _within(layer_id: str, metres: str, extra: str = "") -> str:
    return _agg(
        f"SELECT {_cols(layer_id)}, round(ST_Distance(t.geom_m, p.m)::numeric, 1) AS distance_m "
        f"FROM {q(layer_id)} t, p WHERE t.geom && ST_Expand(p.box, {metres} * {DEG_PER_M}) "
        f"AND ST_DWithin(t.geom_m, p.m, {metres}) {extra} ORDER BY distance_m"
    )


def _sections(lot: bool) -> str:
    zones = {lid: (_zone_lot(lid) if lot else _zone_point(lid)) for lid in ZONE_LAYERS}
    parts = [f"'{lid}', {sql}" for lid, sql in zones.items()]
    parts += [f"'{lid}', {_nearest(lid, n)}" for lid, n in NEAREST.items()]
    parts.append(f"'cemeteries', {_within('cemeteries', str(CEMETERY_RADIUS_M))}")
    # Facilities that widen the 1号区域: within 80 m of the site (plus the answer's own uncertainty).
    parts.append(f"'facilities', {_within('facilities', f'({FACILITY_BUFFER_M} + p.r)', 'AND t.widens_1go')}")
    parts.append(
        "'farmland', "
        + _agg(
            f"SELECT {_cols('farmland')}, round(ST_Distance(t.geom_m, p.m)::numeric, 1) "
            f"AS distance_m FROM farmland t, p WHERE t.geom && p.box AND ST_DWithin(t.geom_m, p.m, "
            f"least(p.r, 50)) ORDER BY distance_m, t.id LIMIT 20"
        )
    )
    parts.append(
        "'municipality', "
        + _agg(
            "SELECT t.city_code, t.name, t.lg_code, t.sample, t.source_id FROM municipalities t, p "
            "WHERE ST_Intersects(t.geom, ST_Centroid(p.g))"
        )
    )
    # json_build_object takes at most 100 arguments: two objects merged keep room for more sections.
    half = len(parts) // 2
    return (
        f"(json_build_object({', '.join(parts[:half])})::jsonb || "
        f"json_build_object({', '.join(parts[half:])})::jsonb)::text"
    )


@cache
def point_sql() -> str:
    """$1 lon, $2 lat (EPSG:6668), $3 reach radius in metres → one JSON text with every section."""
    return (
        "WITH p AS (SELECT g, ST_Transform(g, 6670) AS m, ST_Expand(g, $3 * " + str(DEG_PER_M) + ") AS box, "
        "$3::double precision AS r, 0::double precision AS area "
        "FROM (SELECT ST_SetSRID(ST_MakePoint($1::double precision, $2::double precision), 6668) AS g) s) "
        f"SELECT {_sections(lot=False)}"
    )


@cache
def lot_sql() -> str:
    """$1 GeoJSON polygon text (lon/lat, EPSG:6668) → one JSON text with every section, zones with area shares."""
    return (
        "WITH p AS (SELECT g, ST_Transform(g, 6670) AS m, ST_Envelope(g) AS box, 0::double precision AS r, "
        "ST_Area(ST_Transform(g, 6670)) AS area "
        "FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1::text), 6668) AS g) s) "
        f"SELECT {_sections(lot=True)}"
    )
