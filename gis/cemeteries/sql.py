"""SQL of the cemetery answers: every published ledger item as JSON, built in the database from the declaration."""

from __future__ import annotations

from functools import cache

from gis.geo import METRIC_SRID, STORAGE_SRID
from gis.sql import lit, q
from layers.base import published_sql
from layers.cemeteries import LAYER

TABLE = q(LAYER.id)


def _fields(alias: str = "t") -> str:
    """json_build_object arguments: id, city, every public column, the point, provenance (popped by the service)."""
    parts = [f"'id', {alias}.id", f"'city_code', {alias}.city_code"]
    parts += [f"{lit(c.name)}, {published_sql(c, alias)}" for c in LAYER.public_columns]
    parts += [
        f"'lat', round(ST_Y({alias}.geom)::numeric, 7)",
        f"'lon', round(ST_X({alias}.geom)::numeric, 7)",
        f"'sample', {alias}.sample",
        f"'_source', {alias}.source_id",
    ]
    return ", ".join(parts)


@cache
def rows_sql() -> str:
    """Every cemetery (the search index is built from these): one JSON array text."""
    return f"SELECT coalesce(json_agg(json_build_object({_fields()}) ORDER BY t.id), '[]')::text FROM {TABLE} t"


@cache
def nearest_sql() -> str:
    """$1 lon, $2 lat, $3 limit → the nearest cemeteries with distance_m (metres, EPSG:6670), nearest first.

    The GiST index orders candidates by degrees; the metric distance then orders a few more than asked exactly.
    """
    return (
        f"WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1::double precision, $2::double precision), {STORAGE_SRID}) AS g) "
        f"SELECT coalesce(json_agg(x.j ORDER BY x.d, x.id), '[]')::text FROM ("
        f"SELECT t.id, json_build_object({_fields()}, 'distance_m', round(d::numeric, 1)) AS j, d FROM ("
        f"SELECT t.*, ST_Distance(t.geom_m, ST_Transform(p.g, {METRIC_SRID})) AS d "
        f"FROM (SELECT c.* FROM {TABLE} c, p ORDER BY c.geom <-> p.g LIMIT greatest($3::int * 3, 10)) t, p"
        ") t ORDER BY d, t.id LIMIT $3::int) x"
    )
