"""OGC API Features: /conformance, /collections, items, single features, queryables."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from api.collections import CONFORMANCE, GEOJSON, collections_docs
from api.deps import Rt, get_runtime
from api.formats import csv_sql, csv_text, negotiate, render
from api.params import ITEMS_OPENAPI, F, items_request
from api.respond import cache_headers, cached_response, canonical_query, layer_etag, not_modified
from gis.cache import Cached
from gis.catalog import layer_or_404
from gis.errors import DatabaseUnavailable, InvalidParameter, NotFound
from gis.ogc.cql import queryables_schema
from gis.ogc.items import ItemsQuery, count_sql, features_by_id_sql, item_sql, items_sql, page_ids_sql, page_sql
from gis.ogc.params import parse_crs, parse_items, queryable_types
from gis.ogc.query_errors import client_input_errors
from layers.base import Layer

router = APIRouter(tags=["OGC API Features"])
STREAM_ABOVE = 1000  # pages larger than this are streamed in chunks (ids first, then features by id)

log = logging.getLogger("gis.api")
CollectionId = Annotated[str, Path(description="collection id, e.g. zoning", alias="collectionId")]
ASCII_ID = 18  # feature ids are ASCII digits, at most 18 of them (bigint)


def base_url(request: Request) -> str:
    """The service root as the client sees it."""
    return str(request.base_url).rstrip("/")


@router.get("/conformance", summary="Conformance classes this service implements")
async def conformance(request: Request, f: F = None) -> Response:
    """The OGC conformance classes."""
    if negotiate(request, f, ("json", "html")) == "html":
        return HTMLResponse(render("conformance.html", request, classes=CONFORMANCE))
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Every layer with title, extent, licence, data date, sample flag and count")
async def collections(request: Request, rt: Rt, f: F = None) -> Response:
    """The collections list."""
    base = base_url(request)
    docs = await collections_docs(rt.catalog, base)
    if negotiate(request, f, ("json", "html")) == "html":
        return HTMLResponse(render("collections.html", request, collections=docs))
    links = [
        {"href": f"{base}/collections", "rel": "self", "type": "application/json"},
        {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html"},
    ]
    return JSONResponse({"links": links, "collections": docs})


@router.get("/collections/{collectionId}", summary="One collection's metadata")
async def collection(request: Request, rt: Rt, collection_id: CollectionId, f: F = None) -> Response:
    """Metadata of one collection."""
    layer_or_404(collection_id)
    docs = await collections_docs(rt.catalog, base_url(request))
    doc = next(d for d in docs if d["id"] == collection_id)
    if negotiate(request, f, ("json", "html")) == "html":
        return HTMLResponse(render("collections.html", request, collections=[doc], single=True))
    return JSONResponse(doc)


@router.get("/collections/{collectionId}/queryables", summary="Queryable properties (JSON Schema)")
async def queryables(request: Request, collection_id: CollectionId) -> JSONResponse:
    """The properties usable in filter, sortby and as equality parameters."""
    return _schema(request, layer_or_404(collection_id), "queryables")


@router.get("/collections/{collectionId}/schema", summary="Every property of the features (JSON Schema)")
async def schema(request: Request, collection_id: CollectionId) -> JSONResponse:
    """The features' properties with types and defaults, also those a page leaves out (null or default)."""
    return _schema(request, layer_or_404(collection_id), "schema")


def _schema(request: Request, layer: Layer, kind: str) -> JSONResponse:
    titles = {c.name: c.title or c.name for c in layer.output_columns}
    titles.update({"id": "地物ID", "city_code": "市区町村コード", "sample": "サンプルデータ"})
    schema = queryables_schema(queryable_types(layer), titles, layer.geom_type)
    for c in layer.output_columns:
        if c.default is not None:  # left out of features when equal (README "What a feature leaves out")
            schema["properties"][c.name]["default"] = c.default
    if kind == "schema":
        # A GeoJSON Feature whose `properties` are every published property (GDAL's OAPIF driver builds its fields
        # from the `properties` of such a schema); the id is the Feature's own member.
        props = schema["properties"]
        geometry, _ = props.pop("geom"), props.pop("id", None)
        schema["properties"] = {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer", "title": "地物ID"},
            "geometry": geometry,
            "properties": {"type": "object", "properties": props, "additionalProperties": False},
        }
        schema["required"] = ["type", "geometry", "properties"]
    schema["$id"] = f"{base_url(request)}/collections/{layer.id}/{kind}"
    schema["title"] = layer.title
    return JSONResponse(schema, media_type="application/schema+json")


def _links(request: Request, q: ItemsQuery, returned: int, has_next: bool, fmt: str) -> list[dict]:
    base = f"{base_url(request)}/collections/{q.layer.id}/items"
    # The request's own parameters, encoded once; offset and f are appended per link (as urlencode would order them).
    query = urlencode([(k, v) for k, v in request.query_params.items() if k not in ("offset", "f")])

    def url(offset: int, f: str | None = None) -> str:
        extra = "&".join(([f"offset={offset}"] if offset else []) + ([f"f={f}"] if f else []))
        joined = "&".join(part for part in (query, extra) if part)
        return f"{base}?{joined}" if joined else base

    links = [
        {"href": url(q.offset), "rel": "self", "type": GEOJSON},
        {"href": url(q.offset, "html"), "rel": "alternate", "type": "text/html"},
        {"href": url(q.offset, "csv"), "rel": "alternate", "type": "text/csv"},
        {"href": f"{base_url(request)}/collections/{q.layer.id}", "rel": "collection", "type": "application/json"},
    ]
    if has_next:
        links.append({"href": url(q.offset + q.limit), "rel": "next", "type": GEOJSON})
    if q.offset > 0:
        links.append({"href": url(max(0, q.offset - q.limit)), "rel": "prev", "type": GEOJSON})
    return links


def _envelope(
    request: Request, q: ItemsQuery, returned: int, has_next: bool, matched: int | None, samples: dict[str, bool]
) -> dict:
    meta = {
        "numberReturned": returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "links": _links(request, q, returned, has_next, "json"),
        "sample": samples.get(q.layer.id, False),
    }
    if matched is not None:
        meta["numberMatched"] = matched
    return meta


async def _matched(conn: asyncpg.Connection, q: ItemsQuery, returned: int, has_next: bool, asked: bool) -> int | None:
    """numberMatched only when free (the last page) or asked for (one COUNT)."""
    if not has_next:
        return q.offset + returned
    if asked:
        sql, params = count_sql(q)
        return await conn.fetchval(sql, *params)
    return None


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection (GeoJSON, HTML or CSV)",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}, "text/csv": {}}}, 304: {"description": "not modified"}},
    openapi_extra=ITEMS_OPENAPI,
)
async def items(request: Request, collection_id: CollectionId) -> Response:
    """Query features; every parameter is validated and bound, never pasted into SQL."""
    rt = get_runtime(request)  # not a dependency: this is the hottest route (see api/params.py)
    layer = layer_or_404(collection_id)
    fmt = negotiate(request, request.query_params.get("f"))
    q = parse_items(layer, items_request(request))
    asked = (request.query_params.get("numberMatched") or "").lower() == "true"
    key = ("items", fmt, canonical_query(request, drop=("f",)))
    if fmt == "json" and q.limit > STREAM_ABOVE:
        return await _stream(request, rt, q, key, asked)

    async def build() -> Cached:
        # Only a cache miss borrows a connection: cached answers and 304s never touch the database. The catalog is
        # read first: holding a connection while the catalog borrows another would drain the pool under load.
        samples = await rt.catalog.samples()
        async with rt.public_conn() as conn:
            return await _build_items(request, conn, q, fmt, asked, samples)

    return await cached_response(request, layer, key, build)


async def _build_items(
    request: Request, conn: asyncpg.Connection, q: ItemsQuery, fmt: str, asked: bool, samples: dict[str, bool]
) -> Cached:
    """Run the items query and assemble the body (PostgreSQL built each feature's JSON)."""
    layer = q.layer
    if fmt == "csv":
        sql, params = csv_sql(layer, q)
        with client_input_errors(q):
            rows = await conn.fetch(sql, *params)
        return Cached(csv_text(layer, rows).encode(), "text/csv; charset=utf-8")
    if fmt == "html":
        sql, params = items_sql(q)
        with client_input_errors(q):
            rows = await conn.fetch(sql, *params)
            has_next = len(rows) > q.limit
            rows = rows[: q.limit]
            matched = await _matched(conn, q, len(rows), has_next, asked)
        envelope = _envelope(request, q, len(rows), has_next, matched, samples)
        features = [json.loads(r[0]) for r in rows]
        html = render("items.html", request, layer=layer, features=features, meta=envelope)
        return Cached(html.encode(), "text/html; charset=utf-8")
    sql, params = page_sql(q)
    with client_input_errors(q):
        features, found, last = await conn.fetchrow(sql, *params)
        has_next, returned = found > q.limit, min(found, q.limit)
        if has_next:  # the extra row: ",{feature}" at the end
            features = features[: len(features) - last - 1]
        matched = await _matched(conn, q, returned, has_next, asked)
    envelope = _envelope(request, q, returned, has_next, matched, samples)
    meta = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    body = b'{"type":"FeatureCollection","features":[' + features + b"]," + meta[1:].encode()
    return Cached(body, GEOJSON, (("Content-Crs", f"<{q.crs.uri}>"),))


async def _stream(request: Request, rt: Rt, q: ItemsQuery, key: tuple, asked: bool) -> Response:
    """Large pages flow to the client in chunks as PostgreSQL builds them.

    Everything the client's values take part in (filter, bbox, datetime, equality; the count when asked) runs before
    the status line is sent: first the page's ids, so a bad value is a proper 400 even when only row 9,000 trips
    over it. The features are then built by id, chunk by chunk, in the same snapshot. Only a failure of the database
    itself can still cut the body short: it then ends without its closing `]}`, so it is not valid GeoJSON, the
    connection is dropped without the last chunk, and the failure is logged.
    """
    etag, _ = layer_etag(request, q.layer, key)
    headers = {**cache_headers(q.layer, etag), "Content-Crs": f"<{q.crs.uri}>"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    samples = await rt.catalog.samples()
    conn, tx, ids, matched = await _open_page(rt, q, asked)
    has_next, ids = len(ids) > q.limit, ids[: q.limit]
    sql = features_by_id_sql(q)

    async def body() -> AsyncIterator[bytes]:
        n = 0
        try:
            yield b'{"type":"FeatureCollection","features":['
            for start in range(0, len(ids), STREAM_CHUNK):
                chunk = ids[start : start + STREAM_CHUNK]
                texts = {row[0]: row[1] for row in await conn.fetch(sql, chunk)}
                rows = [texts[i] for i in chunk if i in texts]
                if rows:
                    yield (("," if n else "") + ",".join(rows)).encode()
                    n += len(rows)
            meta = json.dumps(
                _envelope(request, q, n, has_next, matched, samples), ensure_ascii=False, separators=(",", ":")
            )
            yield ("]," + meta[1:]).encode()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            log.error("streamed page of %s failed after %d features: %s", q.layer.id, n, type(e).__name__)
            raise
        finally:
            await _close_page(rt, conn, tx)

    return StreamingResponse(body(), media_type=GEOJSON, headers=headers)


STREAM_CHUNK = 500


async def _open_page(rt: Rt, q: ItemsQuery, asked: bool) -> tuple:
    """A connection in a read-only snapshot, the page's ids (limit+1) and numberMatched; errors raise here."""
    try:
        conn = await rt.public_pool.acquire()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
        raise DatabaseUnavailable("the database is not reachable") from e
    # One snapshot for the ids and the features built from them, even if a load lands in between.
    tx = conn.transaction(isolation="repeatable_read", readonly=True)
    try:
        await tx.start()
        sql, params = page_ids_sql(q)
        with client_input_errors(q):
            ids = [row[0] for row in await conn.fetch(sql, *params)]
            matched = await _matched(conn, q, min(len(ids), q.limit), len(ids) > q.limit, asked)
    except BaseException:
        await _close_page(rt, conn, tx)
        raise
    return conn, tx, ids, matched


async def _close_page(rt: Rt, conn: asyncpg.Connection, tx: asyncpg.transaction.Transaction) -> None:
    try:
        if not conn.is_closed() and conn.is_in_transaction():
            await tx.rollback()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        pass
    finally:
        await rt.public_pool.release(conn)


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature by id")
async def item(
    request: Request,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(alias="featureId", description="feature id (integer)")],
    f: F = None,
    crs: Annotated[str | None, Query(description="output CRS (default CRS84)")] = None,
) -> Response:
    """A single feature."""
    rt = get_runtime(request)
    layer = layer_or_404(collection_id)
    fmt = negotiate(request, f, ("json", "html"))
    out_crs = parse_crs(crs, "crs")
    unknown = [k for k in request.query_params if k not in ("f", "crs")]
    if unknown:
        raise InvalidParameter(f"unknown parameter(s): {', '.join(unknown)}")
    # ASCII digits only: str.isdigit() accepts '²' and '①', which int() then refuses.
    if not (feature_id.isascii() and feature_id.isdigit()) or len(feature_id) > ASCII_ID:
        raise NotFound(f"no feature '{feature_id[:40]}' in {layer.id}")

    async def build() -> Cached:
        async with rt.public_conn() as conn:
            text = await conn.fetchval(item_sql(layer, out_crs), int(feature_id))
        if text is None:
            raise NotFound(f"no feature '{feature_id}' in {layer.id}")
        feature = json.loads(text)
        href = f"{base_url(request)}/collections/{layer.id}"
        feature["links"] = [
            {"href": f"{href}/items/{feature_id}", "rel": "self", "type": GEOJSON},
            {"href": f"{href}/items/{feature_id}?f=html", "rel": "alternate", "type": "text/html"},
            {"href": href, "rel": "collection", "type": "application/json"},
        ]
        if fmt == "html":
            html = render("items.html", request, layer=layer, features=[feature], meta={"links": feature["links"]})
            return Cached(html.encode(), "text/html; charset=utf-8")
        return Cached(json.dumps(feature, ensure_ascii=False).encode(), GEOJSON, (("Content-Crs", f"<{out_crs.uri}>"),))

    return await cached_response(request, layer, ("item", fmt, int(feature_id), out_crs.srid), build)
