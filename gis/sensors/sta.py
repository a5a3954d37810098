"""OGC SensorThings API v1.1 reads: resource paths, collections with paging, `$expand` without N+1 or scans.

Every expanded collection is one statement for all parents: `unnest(parent ids) CROSS JOIN LATERAL (... ORDER BY ...
LIMIT n)`, so `Things?$expand=Datastreams/Observations($top=1;$orderby=phenomenonTime desc)` ("the latest
observation of every datastream", which times out on FROST-Server) reads one row per datastream backwards along
the primary key (datastream_id, phenomenon_time). Pages carry `@iot.nextLink`; `@iot.count` only when asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from gis.errors import NotFound
from gis.sensors.sta_filter import Binds
from gis.sensors.sta_model import IN_DATASTREAM_UNIQUE, SETS, EntitySet, entity_json
from gis.sensors.sta_query import Options, order_sql, parse_options

VERSION = "v1.1"
SEGMENT = re.compile(r"([A-Za-z]+)(?:\(([0-9]{1,18})\))?")
CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
]
NOT_SERVED = ("Sensors", "ObservedProperties", "FeaturesOfInterest", "HistoricalLocations", "MultiDatastreams")


def root_document(root: str) -> dict[str, Any]:
    """The service root: the entity sets and the server settings."""
    return {
        "value": [{"name": name, "url": f"{root}/{name}"} for name in SETS],
        "serverSettings": {
            "conformance": CONFORMANCE,
            "x-subset": {
                "entitySets": list(SETS),
                "create": ["Observations", "CreateObservations"],
                "queryOptions": ["$top", "$skip", "$count", "$orderby", "$filter", "$select", "$expand"],
                "filter": "comparisons (eq ne gt ge lt le) of properties with literals, and/or/not; no functions",
            },
        },
    }


@dataclass
class Scope:
    """What a resource path addresses: an entity set restricted by conditions, one entity or a collection."""

    es: EntitySet
    conds: list[str]
    binds: Binds
    single: bool
    unique: frozenset[str]
    path: str


def _segments(path: str) -> list[tuple[str, int | None]]:
    out = []
    for part in path.strip("/").split("/"):
        m = SEGMENT.fullmatch(part)
        if m is None:
            raise NotFound(f"no such resource: {path[:120]}")
        out.append((m.group(1), int(m.group(2)) if m.group(2) else None))
    return out


async def resolve(conn: asyncpg.Connection, path: str) -> tuple[Scope, str | None, bool]:
    """The scope of a resource path, plus a property name and `$value` when the path ends in one."""
    parts = path.strip("/").split("/")
    raw_value = parts[-1] == "$value"
    if raw_value:
        parts = parts[:-1]
    segments = _segments("/".join(parts))
    name, ident = segments[0]
    es = SETS.get(name)
    if es is None:
        served = f"; {name} are not served here" if name in NOT_SERVED else ""
        raise NotFound(f"no entity set '{name[:60]}'{served} (use {', '.join(SETS)})")
    binds = Binds()
    scope = Scope(es, [], binds, False, es.unique, name)
    if ident is not None:
        scope = Scope(es, [f"{es.id_sql} = {binds.add(ident, 'bigint')}"], binds, True, es.unique, f"{name}({ident})")
    for i, (seg, ident) in enumerate(segments[1:], start=1):
        if not scope.single:
            raise NotFound(f"{scope.path}: address one entity, e.g. {scope.path}(1), before /{seg}")
        if seg in ("id", *scope.es.fields) and ident is None and i == len(segments) - 1:
            return scope, seg, raw_value
        nav = scope.es.navs.get(seg)
        if nav is None:
            raise NotFound(f"{scope.path}: {scope.es.name} has no navigation property or property '{seg[:60]}'")
        parent = await _one_id(conn, scope)
        target = SETS[nav.target]
        binds = Binds()
        here = f"{scope.path}/{seg}"
        if nav.many:
            conds = [f"{nav.key} = {binds.add(parent, 'bigint')}"]
            unique = IN_DATASTREAM_UNIQUE if nav.key == "o.datastream_id" else target.unique
            scope = Scope(target, conds, binds, False, unique, here)
            if ident is not None:
                conds.append(f"{target.id_sql} = {binds.add(ident, 'bigint')}")
                scope.single, scope.path = True, f"{here}({ident})"
        else:
            if ident is not None:
                raise NotFound(f"{here}({ident}): {seg} is a single entity; drop the ({ident})")
            cond = f"{target.id_sql} = {nav.lookup.format(p=binds.add(parent, 'bigint'))}"
            scope = Scope(target, [cond], binds, True, target.unique, here)
    if raw_value:
        raise NotFound(f"{path[:120]}: $value follows a property, e.g. Things(1)/name/$value")
    return scope, None, False


async def _one_id(conn: asyncpg.Connection, scope: Scope) -> int:
    sql = f"SELECT {scope.es.id_sql} FROM {scope.es.source} WHERE {' AND '.join(scope.conds)} LIMIT 1"
    value = await conn.fetchval(sql, *scope.binds.values)
    if value is None:
        raise NotFound(f"{scope.path}: no such entity")
    return value


async def fetch_one(conn: asyncpg.Connection, scope: Scope) -> asyncpg.Record:
    """The single entity a scope addresses, or 404."""
    es = scope.es
    sql = f"SELECT {es.select} FROM {es.source} WHERE {' AND '.join(scope.conds)} LIMIT 1"
    row = await conn.fetchrow(sql, *scope.binds.values)
    if row is None:
        raise NotFound(f"{scope.path}: no such entity")
    return row


async def read(conn: asyncpg.Connection, root: str, path: str, query: dict[str, str]) -> Any:
    """The JSON answer to GET {root}/{path}?{query}: one entity, a property, or a page of a collection."""
    scope, prop, raw_value = await resolve(conn, path)
    es = scope.es
    opts = parse_options(es, query)
    if prop is not None:
        row = await fetch_one(conn, scope)
        value = entity_json(es, row, root, None)["@iot.id" if prop == "id" else prop]
        return ("" if value is None else str(value)) if raw_value else {prop: value}
    if scope.single:
        row = await fetch_one(conn, scope)
        out = entity_json(es, row, root, opts.select)
        await expand(conn, es, [row], [out], opts.expand, root)
        return out
    binds = Binds(list(scope.binds.values))
    conds = list(scope.conds)
    extra = opts.filter_sql(binds)
    if extra:
        conds.append(extra)
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    order = order_sql(es, opts, scope.unique)
    limit, offset = binds.add(opts.top + 1, "bigint"), binds.add(opts.skip, "bigint")
    sql = f"SELECT {es.select} FROM {es.source}{where} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    rows = await conn.fetch(sql, *binds.values)
    doc: dict[str, Any] = {}
    if opts.count:
        doc["@iot.count"] = await conn.fetchval(f"SELECT count(*) FROM {es.source}{where}", *binds.values[:-2])
    if len(rows) > opts.top:
        rows = rows[: opts.top]
        doc["@iot.nextLink"] = f"{root}/{scope.path}?" + opts.query_string(
            **{"$top": str(opts.top), "$skip": str(opts.skip + opts.top)}
        )
    value = [entity_json(es, r, root, opts.select) for r in rows]
    await expand(conn, es, rows, value, opts.expand, root)
    doc["value"] = value
    return doc


async def expand(
    conn: asyncpg.Connection,
    es: EntitySet,
    rows: list[Mapping[str, Any]],
    outs: list[dict[str, Any]],
    wanted: dict[str, Options],
    root: str,
) -> None:
    """Add the expanded navigation properties to `outs` (parallel to `rows`): one statement per navigation."""
    for name, opts in wanted.items():
        if not rows:
            return
        nav = es.navs[name]
        target = SETS[nav.target]
        if nav.many:
            await _expand_many(conn, es, name, rows, outs, opts, root)
            continue
        ids = sorted({r[nav.key] for r in rows if r[nav.key] is not None})
        found = await conn.fetch(
            f"SELECT {target.select} FROM {target.source} WHERE {target.id_sql} = ANY($1::bigint[])", ids
        )
        by_id = {r["id"]: r for r in found}
        kids, kid_outs = [], []
        for r, out in zip(rows, outs, strict=True):
            row = by_id.get(r[nav.key])
            out[name] = None if row is None else entity_json(target, row, root, opts.select)
            if row is not None:
                kids.append(row)
                kid_outs.append(out[name])
        await expand(conn, target, kids, kid_outs, opts.expand, root)


async def _expand_many(
    conn: asyncpg.Connection,
    es: EntitySet,
    name: str,
    rows: list[Mapping[str, Any]],
    outs: list[dict[str, Any]],
    opts: Options,
    root: str,
) -> None:
    nav = es.navs[name]
    target = SETS[nav.target]
    parents = sorted({r["id"] for r in rows})
    binds = Binds([parents])
    conds = [f"{nav.key} = p.pid"]
    extra = opts.filter_sql(binds)
    if extra:
        conds.append(extra)
    unique = IN_DATASTREAM_UNIQUE if nav.key == "o.datastream_id" else target.unique
    where = " AND ".join(conds)
    limit, offset = binds.add(opts.top + 1, "bigint"), binds.add(opts.skip, "bigint")
    # Per parent: an index probe ordered by the index when the order is phenomenonTime (the primary key's).
    sql = (
        f"SELECT p.pid AS _parent, x.* FROM unnest($1::bigint[]) AS p(pid) CROSS JOIN LATERAL ("
        f"SELECT {target.select} FROM {target.source} WHERE {where} "
        f"ORDER BY {order_sql(target, opts, unique)} LIMIT {limit} OFFSET {offset}) x"
    )
    found = await conn.fetch(sql, *binds.values)
    counts: dict[int, int] = {}
    if opts.count:
        count_sql = (
            f"SELECT p.pid, (SELECT count(*) FROM {target.source} WHERE {where}) AS n "
            "FROM unnest($1::bigint[]) AS p(pid)"
        )
        counts = {r["pid"]: r["n"] for r in await conn.fetch(count_sql, *binds.values[:-2])}
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for r in found:
        grouped.setdefault(r["_parent"], []).append(r)
    kids, kid_outs = [], []
    for r, out in zip(rows, outs, strict=True):
        mine = grouped.get(r["id"], [])
        if opts.count:
            out[f"{name}@iot.count"] = counts.get(r["id"], 0)
        if len(mine) > opts.top:
            mine = mine[: opts.top]
            query = opts.query_string(**{"$top": str(opts.top), "$skip": str(opts.skip + opts.top)})
            out[f"{name}@iot.nextLink"] = f"{root}/{es.name}({r['id']})/{name}?{query}"
        out[name] = [entity_json(target, k, root, opts.select) for k in mine]
        kids.extend(mine)
        kid_outs.extend(out[name])
    await expand(conn, target, kids, kid_outs, opts.expand, root)
