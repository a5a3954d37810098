"""The lookup report in one SQL statement, built from each layer's `lookup` declaration.

Distances and areas are computed in EPSG:6670 (平面直角座標系 第II系); candidate rows are found with the GiST
index on the stored EPSG:6668 geometry (the query geometry is expanded, the column is never transformed for the
index test). The result is one JSON object keyed by layer id; gis.lookup.report turns it into sections.
"""

from __future__ import annotations

from functools import cache

from gis.geo import DEG_PER_M, METRIC_SRID, STORAGE_SRID
from gis.sql import lit, q
from layers import LAYERS
from layers.base import Layer, Lookup


def lookup_layers() -> list[Layer]:
    """The layers that take part in the report, in declaration order."""
    return [layer for layer in LAYERS.values() if layer.lookup is not None]


def _cols(layer: Layer, lk: Lookup) -> str:
    names = list(lk.columns) if lk.columns is not None else ["id", *(c.name for c in layer.public_columns)]
    if lk.columns is None:
        names[1:1] = ["city_code"]
    return ", ".join(f"t.{q(c)}" for c in [*dict.fromkeys([*names, "sample", "source_id"])])


def _agg(select: str, lk: Lookup, join: str | None = None) -> str:
    order = ""
    if lk.computed:
        # Evaluated on the kept rows only (after ORDER BY/LIMIT), over the columns the section selected and the
        # layer's join (a sensor's live state). A join may reorder rows: they are numbered first (`_n`, dropped
        # from the report) and aggregated in that order.
        extra = ", ".join(f"{expr} AS {q(name)}" for name, expr in lk.computed)
        if join:
            select = f"SELECT row_number() OVER () AS _n, x.* FROM ({select}) x"
            order = " ORDER BY x._n"
        select = f"SELECT t.*, {extra} FROM ({select}) t {join or ''}"
    return f"(SELECT coalesce(json_agg(x{order}), '[]'::json) FROM ({select}) x)"


def _distance() -> str:
    return "round(ST_Distance(t.geom_m, p.m)::numeric, 1) AS distance_m"


def _zones(layer: Layer, lk: Lookup, lot: bool) -> str:
    """Zones within reach of a point (containment, distance, distance to the boundary), or touched by a lot."""
    table = q(layer.id)
    if lot:
        return _agg(
            f"SELECT {_cols(layer, lk)}, true AS contains, 0 AS distance_m, "
            f"round(ST_Area(ST_Intersection(t.geom_m, p.m))::numeric, 1) AS area_m2, "
            f"round((ST_Area(ST_Intersection(t.geom_m, p.m)) / p.area)::numeric, 4) AS share "
            f"FROM {table} t, p WHERE t.geom && p.box AND ST_Intersects(t.geom, p.g) ORDER BY area_m2 DESC",
            lk,
            layer.join,
        )
    return _agg(
        f"SELECT {_cols(layer, lk)}, ST_Intersects(t.geom, p.g) AS contains, {_distance()}, "
        f"round(ST_Distance(ST_Boundary(t.geom_m), p.m)::numeric, 1) AS boundary_distance_m "
        f"FROM {table} t, p WHERE t.geom && p.box AND ST_DWithin(t.geom_m, p.m, p.r) "
        f"ORDER BY contains DESC, distance_m, t.id",
        lk,
        layer.join,
    )


def _nearest(layer: Layer, lk: Lookup) -> str:
    # The index finds a few more than needed by degrees; the metric distance then orders them exactly.
    if lk.per:
        return _agg(" UNION ALL ".join(_nearest_one(layer, lk, cond, name) for name, cond in lk.per), lk, layer.join)
    where = f" WHERE {lk.where}" if lk.where else ""
    return _agg(
        f"SELECT {_cols(layer, lk)}, {_distance()} "
        f"FROM (SELECT t.* FROM {q(layer.id)} t, p{where} ORDER BY t.geom <-> ST_Centroid(p.g) "
        f"LIMIT {lk.count * 3}) t, p "
        f"ORDER BY distance_m LIMIT {lk.count}",
        lk,
        layer.join,
    )


def _nearest_one(layer: Layer, lk: Lookup, cond: str, group: str) -> str:
    """The `count` nearest rows meeting `cond` (and `where`), tagged with their group (Lookup.per)."""
    where = f" AND ({lk.where})" if lk.where else ""
    return (
        f'(SELECT {_cols(layer, lk)}, {_distance()}, {lit(group)} AS "group" '
        f"FROM (SELECT t.* FROM {q(layer.id)} t, p WHERE ({cond}){where} ORDER BY t.geom <-> ST_Centroid(p.g) "
        f"LIMIT {lk.count * 3}) t, p ORDER BY distance_m LIMIT {lk.count})"
    )


def _near(layer: Layer, lk: Lookup, metres: str, box: str) -> str:
    """Rows within `metres` of the point or lot (the index test on `box`), nearest first."""
    extra = f" AND ({lk.where})" if lk.where else ""
    limit = f" LIMIT {lk.limit}" if lk.limit else ""
    return _agg(
        f"SELECT {_cols(layer, lk)}, {_distance()} FROM {q(layer.id)} t, p "
        f"WHERE t.geom && {box} AND ST_DWithin(t.geom_m, p.m, {metres}){extra} ORDER BY distance_m, t.id{limit}",
        lk,
        layer.join,
    )


def _within(layer: Layer, lk: Lookup) -> str:
    metres = f"({lk.radius_m!r} + p.r)" if lk.add_reach else repr(lk.radius_m)
    return _near(layer, lk, metres, f"ST_Expand(p.box, {metres} * {DEG_PER_M})")


def _parcels(layer: Layer, lk: Lookup) -> str:
    # Within the answer's own uncertainty (p.box already covers it), but never further than radius_m.
    return _near(layer, lk, f"least(p.r, {lk.radius_m!r})", "p.box")


def _containing(layer: Layer, lk: Lookup) -> str:
    return _agg(
        f"SELECT {_cols(layer, lk)} FROM {q(layer.id)} t, p WHERE ST_Intersects(t.geom, ST_Centroid(p.g))",
        lk,
        layer.join,
    )


def layer_sql(layer: Layer, lot: bool) -> str:
    """The JSON array of one layer's rows for the report."""
    lk = layer.lookup
    assert lk is not None
    if lk.kind == "zones":
        return _zones(layer, lk, lot)
    if lk.kind == "nearest":
        return _nearest(layer, lk)
    if lk.kind == "within":
        return _within(layer, lk)
    if lk.kind == "parcels":
        return _parcels(layer, lk)
    return _containing(layer, lk)


def _sections(lot: bool) -> str:
    parts = [f"{lit(layer.id)}, {layer_sql(layer, lot)}" for layer in lookup_layers()]
    # json_build_object takes at most 100 arguments: objects of 40 sections each merged keep room for more.
    chunks = [parts[i : i + 40] for i in range(0, len(parts), 40)]
    if len(chunks) == 1:  # no merge: the json text as built (a jsonb round trip re-parses the whole report)
        return f"json_build_object({', '.join(chunks[0])})::text"
    return "(" + " || ".join(f"json_build_object({', '.join(c)})::jsonb" for c in chunks) + ")::text"


@cache
def point_sql() -> str:
    """$1 lon, $2 lat (EPSG:6668), $3 reach radius in metres → one JSON text with every layer's rows."""
    return (
        f"WITH p AS (SELECT g, ST_Transform(g, {METRIC_SRID}) AS m, ST_Expand(g, $3 * {DEG_PER_M}) AS box, "
        "$3::double precision AS r, 0::double precision AS area "
        f"FROM (SELECT ST_SetSRID(ST_MakePoint($1::double precision, $2::double precision), {STORAGE_SRID}) AS g) s) "
        f"SELECT {_sections(lot=False)}"
    )


@cache
def lot_sql() -> str:
    """$1 GeoJSON polygon text (lon/lat, EPSG:6668) → one JSON text, zones with area shares."""
    return (
        f"WITH p AS (SELECT g, ST_Transform(g, {METRIC_SRID}) AS m, ST_Envelope(g) AS box, 0::double precision AS r, "
        f"ST_Area(ST_Transform(g, {METRIC_SRID})) AS area "
        f"FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1::text), {STORAGE_SRID}) AS g) s) "
        f"SELECT {_sections(lot=True)}"
    )
