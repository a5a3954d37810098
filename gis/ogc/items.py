"""SQL for OGC API Features items: PostGIS builds each Feature's JSON text; values only as bind parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gis.geo import GEOGRAPHIC_SRIDS as GEOGRAPHIC
from gis.geo import STORAGE_SRID
from gis.ogc.crs import OutCrs
from gis.sql import lit, q
from layers.base import Col, Layer, published_sql


@dataclass
class ItemsQuery:
    """A parsed, validated items request."""

    layer: Layer
    crs: OutCrs
    limit: int = 100
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: OutCrs | None = None
    properties: list[str] | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    interval: tuple[datetime | None, datetime | None] | None = None
    equals: dict[str, Any] = field(default_factory=dict)
    filter_sql: str | None = None
    filter_params: list[Any] = field(default_factory=list)


def property_columns(layer: Layer, only: list[str] | None = None) -> list[Col | str]:
    """The published properties: the declared public (and computed) columns plus city_code and sample."""
    cols: list[Col | str] = [*layer.output_columns, "city_code", "sample"]
    if only is not None:
        cols = [c for c in cols if (c if isinstance(c, str) else c.name) in only]
    return cols


def _name(c: Col | str) -> str:
    return c if isinstance(c, str) else c.name


def geometry_sql(crs: OutCrs, column: str = "geom") -> str:
    """The geometry expression in the output CRS and axis order."""
    expr = q(column) if crs.srid in GEOGRAPHIC else f"ST_Transform({q(column)}, {crs.srid})"
    if crs.north_first:
        expr = f"ST_FlipCoordinates({expr})"
    return expr


def _sql_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return lit(str(value))


def _property_sql(c: Col | str, alias: str, compact: bool) -> str:
    if isinstance(c, str):
        return f"{alias}.{q(c)}"
    value = published_sql(c, alias)
    if compact and c.default is not None:
        return f"NULLIF({value}, {_sql_value(c.default)})"
    return value


def feature_sql(
    layer: Layer, crs: OutCrs, only: list[str] | None = None, alias: str = "t", *, compact: bool = True
) -> str:
    """Text of one GeoJSON Feature per row, built by PostgreSQL.

    compact (pages and single features): properties that are null or equal to their declared default are left out
    (README "What a feature leaves out"); the queryables keep the whole schema. A download (compact=False) carries
    every property, so a reader that infers fields from the features sees them all.
    """
    cols = property_columns(layer, only)
    if compact:
        # `'"name":' || NULL` is NULL and concat_ws skips NULLs: the object is built without its empty members,
        # in one pass (json_strip_nulls would re-parse the text; this is 2.7x cheaper and byte-identical).
        members = [f"""'"{_name(c)}":' || to_json({_property_sql(c, alias, True)})::text""" for c in cols]
        # A function takes at most 100 arguments: wider layers join groups, each NULL when all of it is.
        parts = [f"NULLIF(concat_ws(',', {', '.join(members[i : i + 90])}), '')" for i in range(0, len(members), 90)]
        obj = f"('{{' || concat_ws(',', {', '.join(parts)}) || '}}')" if parts else "'{}'"
    else:
        obj = "json_build_object(" + ", ".join(f"'{_name(c)}', {_property_sql(c, alias, False)}" for c in cols) + ")"
    geom = geometry_sql(crs, "geom").replace('"geom"', f'{alias}."geom"')
    decimals = min(crs.decimals, layer.degree_decimals) if crs.srid in GEOGRAPHIC else crs.decimals
    return (
        f"""'{{"type":"Feature","id":' || {alias}.id || ',"geometry":' || ST_AsGeoJSON({geom}, {decimals}, 0) """
        f"""|| ',"properties":' || {obj}::text || '}}'"""
    )


def envelope_sql(crs: OutCrs, first: int) -> str:
    """A bbox envelope from four parameters, in the storage SRID (the column is never transformed)."""
    a, b, c, d = (f"${first + i}::double precision" for i in range(4))
    if crs.north_first:  # bbox values follow the CRS axis order: (minlat, minlon, maxlat, maxlon)
        a, b, c, d = b, a, d, c
    if crs.srid in GEOGRAPHIC:
        return f"ST_MakeEnvelope({a}, {b}, {c}, {d}, {STORAGE_SRID})"
    return f"ST_Transform(ST_MakeEnvelope({a}, {b}, {c}, {d}, {crs.srid}), {STORAGE_SRID})"


def where_sql(query: ItemsQuery, params: list[Any]) -> str:
    """The WHERE clause; appends its values to params (filter values come first, numbered from $1)."""
    params.extend(query.filter_params)
    clauses = [f"({query.filter_sql})"] if query.filter_sql else []
    if query.bbox is not None:
        env = envelope_sql(query.bbox_crs or query.crs, len(params) + 1)
        params.extend(query.bbox)
        clauses.append(f'"geom" && {env} AND ST_Intersects("geom", {env})')
    if query.interval is not None and query.layer.time_column:
        start, end = query.interval
        col = q(query.layer.time_column)
        if start is not None:
            params.append(start)
            clauses.append(f"{col} >= ${len(params)}::timestamptz")
        if end is not None:
            params.append(end)
            clauses.append(f"{col} <= ${len(params)}::timestamptz")
    for name, value in query.equals.items():
        params.append(value)
        clauses.append(f"{q(name)}::text = ${len(params)}::text")
    return " AND ".join(clauses) if clauses else "TRUE"


def param_sources(query: ItemsQuery) -> list[str]:
    """The client parameter behind each value where_sql binds, in the same order ($1 first)."""
    names = ["filter"] * len(query.filter_params)
    if query.bbox is not None:
        names += ["bbox"] * 4
    if query.interval is not None and query.layer.time_column:
        names += ["datetime"] * sum(v is not None for v in query.interval)
    return names + list(query.equals)


def order_sql(query: ItemsQuery) -> str:
    """ORDER BY from sortby, always ending with id so pages are stable."""
    parts = [f"{q(c)} {'DESC' if desc else 'ASC'} NULLS LAST" for c, desc in query.sortby if c != "id"]
    id_desc = any(c == "id" and desc for c, desc in query.sortby)
    parts.append(f"id {'DESC' if id_desc else 'ASC'}")
    return ", ".join(parts)


def items_sql(query: ItemsQuery) -> tuple[str, list[Any]]:
    """One row of feature text per item, limit+1 rows so the caller knows whether a next page exists."""
    params: list[Any] = []
    where = where_sql(query, params)
    params.extend([query.limit + 1, query.offset])
    n = len(params)
    sql = (
        f"SELECT {feature_sql(query.layer, query.crs, query.properties)} "
        f"FROM {query.layer.relation()} t WHERE {where} ORDER BY {order_sql(query)} LIMIT ${n - 1} OFFSET ${n}"
    )
    return sql, params


def page_sql(query: ItemsQuery) -> tuple[str, list[Any]]:
    """One row: the features of limit+1 rows joined by commas (UTF-8 bytea), how many, the last one's length in bytes.

    One value instead of a row per feature: the driver builds no record per feature and the text never passes through
    a Python str (half the server time of a page of 1,000 parcels, bench/results-speed-profile.md). The caller cuts the
    extra row off (it only tells that a next page exists). The aggregates read the sorted subquery in its order.
    """
    sql, params = items_sql(query)
    return (
        "SELECT convert_to(coalesce(string_agg(p.f, ','), ''), 'UTF8'), count(*), "
        f"(array_agg(octet_length(p.f)))[count(*)] FROM ({sql}) p(f)",
        params,
    )


def page_ids_sql(query: ItemsQuery) -> tuple[str, list[Any]]:
    """The ids of one page in page order (limit+1 rows): every expression built from client input runs here."""
    params: list[Any] = []
    where = where_sql(query, params)
    params.extend([query.limit + 1, query.offset])
    n = len(params)
    order = order_sql(query)
    sql = f"SELECT id FROM {query.layer.relation()} t WHERE {where} ORDER BY {order} LIMIT ${n - 1} OFFSET ${n}"
    return sql, params


def features_by_id_sql(query: ItemsQuery) -> str:
    """(id, feature text) for the ids in $1, in no particular order; nothing in it depends on client values."""
    feature = feature_sql(query.layer, query.crs, query.properties)
    return f"SELECT t.id, {feature} FROM {query.layer.relation()} t WHERE t.id = ANY($1::bigint[])"


def count_sql(query: ItemsQuery) -> tuple[str, list[Any]]:
    """COUNT(*) of the matching rows (run only when asked for)."""
    params: list[Any] = []
    where = where_sql(query, params)
    return f"SELECT count(*) FROM {query.layer.relation()} t WHERE {where}", params


def item_sql(layer: Layer, crs: OutCrs) -> str:
    """One feature by id ($1)."""
    return f"SELECT {feature_sql(layer, crs)} FROM {layer.relation()} t WHERE t.id = $1"
