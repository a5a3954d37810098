"""OGC API Features: /conformance, /collections, items, single features, queryables."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from api.cache import Cached
from api.collections import CONFORMANCE, GEOJSON, collections_docs, sample_flags
from api.deps import PublicConn, public_conn
from api.features_sql import ItemsQuery, count_sql, item_sql, items_sql
from api.formats import csv_sql, csv_text, negotiate, render
from api.params import parse_crs, parse_items, queryable_types
from api.respond import cache_headers, cached_response, canonical_query, make_etag, not_modified
from gis.errors import NotFound
from layers import layer_or_404

router = APIRouter(tags=["OGC API Features"])
STREAM_ABOVE = 1000  # pages larger than this are streamed row by row from a server-side cursor

CollectionId = Annotated[str, Path(description="collection id, e.g. zoning", alias="collectionId")]
F = Annotated[str | None, Query(description="output format: json (GeoJSON), html or csv")]
# The items parameters, documented once; their descriptions are the OpenAPI docs.
Opt = str | None
BboxQ = Annotated[Opt, Query(description="minx,miny,maxx,maxy in bbox-crs (default CRS84 lon/lat)")]
BboxCrsQ = Annotated[Opt, Query(alias="bbox-crs", description="CRS of bbox: CRS84, EPSG:6668, 6670, 3857")]
LimitQ = Annotated[Opt, Query(description="page size, 1–10000 (default 100)")]
OffsetQ = Annotated[Opt, Query(description="items to skip (follow the next/prev links)")]
PropertiesQ = Annotated[Opt, Query(description="comma-separated properties to return")]
SortbyQ = Annotated[Opt, Query(description="e.g. +youto_name,-id (default id ascending)")]
DatetimeQ = Annotated[Opt, Query(alias="datetime", description="RFC 3339 instant or interval (layers with time)")]
FilterQ = Annotated[Opt, Query(alias="filter", description="CQL2 filter, e.g. youto_name = '商業地域'")]
FilterLangQ = Annotated[Opt, Query(alias="filter-lang", description="cql2-text (default) or cql2-json")]
FilterCrsQ = Annotated[Opt, Query(alias="filter-crs", description="CRS of filter geometries (default CRS84)")]
CrsQ = Annotated[Opt, Query(description="output CRS: CRS84 (default), EPSG:6668, EPSG:6670, EPSG:3857")]
NumberMatchedQ = Annotated[Opt, Query(alias="numberMatched", description="true: also count every match")]


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
async def collections(request: Request, conn: PublicConn, f: F = None) -> Response:
    """The collections list."""
    base = base_url(request)
    docs = await collections_docs(request, conn, base)
    if negotiate(request, f, ("json", "html")) == "html":
        return HTMLResponse(render("collections.html", request, collections=docs))
    links = [
        {"href": f"{base}/collections", "rel": "self", "type": "application/json"},
        {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html"},
    ]
    return JSONResponse({"links": links, "collections": docs})


@router.get("/collections/{collectionId}", summary="One collection's metadata")
async def collection(request: Request, conn: PublicConn, collection_id: CollectionId, f: F = None) -> Response:
    """Metadata of one collection."""
    layer_or_404(collection_id)
    docs = await collections_docs(request, conn, base_url(request))
    doc = next(d for d in docs if d["id"] == collection_id)
    if negotiate(request, f, ("json", "html")) == "html":
        return HTMLResponse(render("collections.html", request, collections=[doc], single=True))
    return JSONResponse(doc)


@router.get("/collections/{collectionId}/queryables", summary="Queryable properties (JSON Schema)")
async def queryables(request: Request, collection_id: CollectionId) -> JSONResponse:
    """The properties usable in filter, sortby and as equality parameters."""
    from gis.cql import queryables_schema

    layer = layer_or_404(collection_id)
    titles = {c.name: c.title or c.name for c in layer.public_columns}
    titles.update({"id": "地物ID", "city_code": "市区町村コード", "sample": "サンプルデータ"})
    schema = queryables_schema(queryable_types(layer), titles, layer.geom_type)
    schema["$id"] = f"{base_url(request)}/collections/{layer.id}/queryables"
    schema["title"] = layer.title
    return JSONResponse(schema, media_type="application/schema+json")


def _links(request: Request, q: ItemsQuery, returned: int, has_next: bool, fmt: str) -> list[dict]:
    base = f"{base_url(request)}/collections/{q.layer.id}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "f")}

    def url(offset: int, f: str | None = None) -> str:
        p = dict(params)
        if offset:
            p["offset"] = str(offset)
        if f:
            p["f"] = f
        return f"{base}?{urlencode(p)}" if p else base

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


async def _matched(conn: PublicConn, q: ItemsQuery, returned: int, has_next: bool, asked: bool) -> int | None:
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
)
async def items(
    request: Request,
    collection_id: CollectionId,
    f: F = None,
    bbox: BboxQ = None,
    bbox_crs: BboxCrsQ = None,
    limit: LimitQ = None,
    offset: OffsetQ = None,
    properties: PropertiesQ = None,
    sortby: SortbyQ = None,
    datetime_: DatetimeQ = None,
    filter_: FilterQ = None,
    filter_lang: FilterLangQ = None,
    filter_crs: FilterCrsQ = None,
    crs: CrsQ = None,
    number_matched: NumberMatchedQ = None,
) -> Response:
    """Query features; every parameter is validated and bound, never pasted into SQL."""
    layer = layer_or_404(collection_id)
    fmt = negotiate(request, f)
    q = parse_items(layer, dict(request.query_params))
    asked = (number_matched or "").lower() == "true"
    key = f"items:{fmt}:{canonical_query(request, drop=('f',))}"
    if fmt == "json" and q.limit > STREAM_ABOVE:
        return await _stream(request, q, key, asked)

    async def build() -> Cached:
        # Only a cache miss borrows a connection: cached answers and 304s never touch the database.
        async with public_conn(request) as conn:
            return await _build_items(request, conn, q, fmt, asked)

    return await cached_response(request, layer, key, build)


async def _build_items(request: Request, conn: asyncpg.Connection, q: ItemsQuery, fmt: str, asked: bool) -> Cached:
    """Run the items query and assemble the body (PostgreSQL built each feature's JSON)."""
    layer = q.layer
    if fmt == "csv":
        sql, params = csv_sql(layer, q)
        rows = await conn.fetch(sql, *params)
        return Cached(csv_text(layer, rows).encode(), "text/csv; charset=utf-8")
    sql, params = items_sql(q)
    rows = await conn.fetch(sql, *params)
    has_next = len(rows) > q.limit
    rows = rows[: q.limit]
    matched = await _matched(conn, q, len(rows), has_next, asked)
    envelope = _envelope(request, q, len(rows), has_next, matched, await sample_flags(request, conn))
    if fmt == "html":
        features = [json.loads(r[0]) for r in rows]
        html = render("items.html", request, layer=layer, features=features, meta=envelope)
        return Cached(html.encode(), "text/html; charset=utf-8")
    meta = json.dumps(envelope, ensure_ascii=False)
    body = '{"type":"FeatureCollection","features":[' + ",".join(r[0] for r in rows) + "]," + meta[1:]
    return Cached(body.encode(), GEOJSON, (("Content-Crs", f"<{q.crs.uri}>"),))


async def _stream(request: Request, q: ItemsQuery, key: str, asked: bool) -> Response:
    """Large pages: features flow from a server-side cursor to the client as they come."""
    etag = make_etag(q.layer.id, request.app.state.versions.get(q.layer.id), key)
    headers = {**cache_headers(q.layer, etag), "Content-Crs": f"<{q.crs.uri}>"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    pool = request.app.state.public_pool
    sql, params = items_sql(q)

    async def body() -> AsyncIterator[bytes]:
        yield b'{"type":"FeatureCollection","features":['
        n = 0
        has_next = False
        async with pool.acquire() as conn, conn.transaction():
            chunk: list[str] = []
            async for row in conn.cursor(sql, *params, prefetch=500):
                if n == q.limit:  # the query asks for one row more than the page: it means there is a next page
                    has_next = True
                    break
                chunk.append(row[0])
                n += 1
                if len(chunk) == 500:
                    yield (("," if n > 500 else "") + ",".join(chunk)).encode()
                    chunk = []
            if chunk:
                yield (("," if n > len(chunk) else "") + ",".join(chunk)).encode()
            matched = await _matched(conn, q, n, has_next, asked)
            samples = await sample_flags(request, conn)
        meta = json.dumps(_envelope(request, q, n, has_next, matched, samples), ensure_ascii=False)
        yield ("]," + meta[1:]).encode()

    return StreamingResponse(body(), media_type=GEOJSON, headers=headers)


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature by id")
async def item(
    request: Request,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(alias="featureId", description="feature id (integer)")],
    f: F = None,
    crs: Annotated[str | None, Query(description="output CRS (default CRS84)")] = None,
) -> Response:
    """A single feature."""
    layer = layer_or_404(collection_id)
    fmt = negotiate(request, f, ("json", "html"))
    out_crs = parse_crs(crs, "crs")
    unknown = [k for k in request.query_params if k not in ("f", "crs")]
    if unknown:
        from gis.errors import InvalidParameter

        raise InvalidParameter(f"unknown parameter(s): {', '.join(unknown)}")
    if not feature_id.isdigit() or len(feature_id) > 18:
        raise NotFound(f"no feature '{feature_id}' in {layer.id}")

    async def build() -> Cached:
        async with public_conn(request) as conn:
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

    return await cached_response(request, layer, f"item:{fmt}:{feature_id}:{out_crs.srid}", build)
