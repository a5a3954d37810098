"""OGC API Features Part 4: create, replace, update and delete features (staff tokens: editor or admin).

The bodies are GeoJSON in CRS84 unless `Content-Crs` names another supported CRS. Replace, update and delete need
`If-Match` with the ETag `GET /collections/{id}/items/{fid}` sent (428 without it, 412 when the feature's layer has
changed since). The work happens in gis/edits/items.py, off the event loop; this module reads the HTTP side.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from api.collections import GEOJSON
from api.deps import Staff, get_runtime, request_id, require_role
from api.respond import live_key
from gis.catalog import layer_or_404
from gis.cities import CITIES
from gis.edits.items import Accept, Actor, EditResult, change_item, create_item, delete_item, refuse_derived
from gis.edits.validate import ACCEPTS, load_json, parse_feature, parse_patch
from gis.errors import InvalidParameter, NotFound, PreconditionRequired, UnsupportedMediaType
from gis.etag import live_bucket, make_etag
from gis.ogc.crs import CRS84, SUPPORTED, OutCrs, parse_crs
from layers.base import JSON_SCHEMA_TYPES, Layer

router = APIRouter(tags=["OGC API Features Part 4 (editing)"])
log = logging.getLogger("gis.api")
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
CollectionId = Annotated[str, Path(description="collection id, e.g. garbage_points", alias="collectionId")]
FeatureId = Annotated[str, Path(alias="featureId", description="feature id (integer)")]
ASCII_ID = 18
JSON_TYPES = ("application/json", "application/geo+json")
MERGE_PATCH = "application/merge-patch+json"
VERSION_WAIT = 2.0  # seconds a write waits for this worker to learn its new version (read-your-writes)

FEATURE_BODY = {"type": "object", "description": "a GeoJSON Feature; the per-collection paths give its properties"}
ETAG_HEADER = {"ETag": {"description": "the feature's new ETag (as GET sends it)", "schema": {"type": "string"}}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "the ETag of GET /collections/{collectionId}/items/{featureId}",
    "schema": {"type": "string"},
}
CONTENT_CRS = {
    "name": "Content-Crs",
    "in": "header",
    "required": False,
    "description": "CRS of the body's coordinates, e.g. <http://www.opengis.net/def/crs/EPSG/0/6668> (default CRS84)",
    "schema": {"type": "string"},
}
REQUEST_ID_PARAM = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "description": "an id kept with the change in the audit (generated when absent; echoed)",
    "schema": {"type": "string"},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "the layer is derived from another, the feature is referred to, or the layer is busy"},
    415: {"description": "the body is not JSON (application/geo+json, application/json)"},
}
PRECONDITIONS: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names an ETag that is no longer current: GET the feature again"},
    428: {"description": "If-Match with the feature's ETag is required"},
}


def _body(content: tuple[str, ...], description: str) -> dict[str, Any]:
    return {"required": True, "description": description, "content": {m: {"schema": FEATURE_BODY} for m in content}}


def _feature_id(layer: Layer, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > ASCII_ID:
        raise NotFound(f"no feature '{value[:40]}' in {layer.id}")
    return int(value)


def _no_query(request: Request) -> None:
    if request.query_params:
        raise InvalidParameter(f"unknown parameter(s): {', '.join(sorted(set(request.query_params)))[:200]}")


def _content_crs(request: Request) -> OutCrs:
    return parse_crs(request.headers.get("content-crs"), "Content-Crs")


async def _json_body(request: Request, allowed: tuple[str, ...]) -> bytes:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media not in allowed:
        raise UnsupportedMediaType(f"Content-Type: send {' or '.join(allowed)}, not {media[:60]}")
    return await request.body()


def _actor(request: Request, staff: Staff) -> Actor:
    return Actor(staff.name, staff.role, request_id(request))


def _item_key(fid: int, fmt: str, srid: int) -> tuple:
    return ("item", fmt, fid, srid)  # the key GET /collections/{id}/items/{fid} makes its ETag from


def _acceptor(request: Request, layer: Layer, fid: int) -> Accept:
    """A check of If-Match against the item's ETags at a layer version (428 now when If-Match is missing)."""
    header = request.headers.get("if-match", "").strip()
    if not header:
        raise PreconditionRequired(
            f"If-Match: required; send the ETag of GET /collections/{layer.id}/items/{fid} to change it"
        )
    tags = {t.strip() for t in header.split(",")}
    if "*" in tags:
        raise PreconditionRequired("If-Match: '*' is not accepted; send the feature's ETag")
    # The live bucket's key member as api.respond.live_key adds it, for the current bucket and the one just ended.
    keys = [_item_key(fid, fmt, srid) for fmt in ("json", "html") for srid in {c.srid for c in SUPPORTED.values()}]
    if layer.live:
        bucket = live_bucket(layer.cache_seconds)[0]
        keys = [(*k, ("live", b)) for k in keys for b in (bucket, bucket - 1)]

    def accept(version: int) -> bool:
        return any(make_etag(layer.id, version, k) in tags for k in keys)

    return accept


async def _caught_up(request: Request, layer: Layer, version: int) -> None:
    """Wait (briefly) until this worker serves the new version, so the client's next read here shows the change."""
    versions = get_runtime(request).versions
    loop = asyncio.get_running_loop()
    deadline = loop.time() + VERSION_WAIT
    while versions.get(layer.id) < version and loop.time() < deadline:
        await asyncio.sleep(0.01)


async def _answer(request: Request, layer: Layer, result: EditResult, actor: Actor, status: int) -> Response:
    await _caught_up(request, layer, result.version)
    headers = {"X-Request-Id": actor.request_id, "Cache-Control": "no-store"}
    if result.feature is None:
        return Response(status_code=204, headers=headers)
    href = f"{str(request.base_url).rstrip('/')}/collections/{layer.id}"
    feature = json.loads(result.feature)
    feature["links"] = [
        {"href": f"{href}/items/{result.fid}", "rel": "self", "type": GEOJSON},
        {"href": href, "rel": "collection", "type": "application/json"},
    ]
    if result.notes:  # a GeoJSON foreign member: what the checks repaired or normalised
        feature["notes"] = result.notes
    headers["ETag"] = make_etag(layer.id, result.version, live_key(layer, _item_key(result.fid, "json", 4326)))
    headers["Content-Crs"] = f"<{CRS84}>"
    if status == 201:
        headers["Location"] = f"{href}/items/{result.fid}"
    body = json.dumps(feature, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=GEOJSON, headers=headers)


def _log(op: str, layer: Layer, result: EditResult, actor: Actor) -> None:
    log.info("edit %s %s/%s by %s (%s), request %s", op, layer.id, result.fid, actor.name, actor.role, actor.request_id)


@router.post(
    "/collections/{collectionId}/items",
    summary="Add a feature (staff: editor or admin)",
    status_code=201,
    response_class=Response,
    responses={
        201: {
            "description": "created; Location names it",
            "headers": {"Location": {"schema": {"type": "string"}}, **ETAG_HEADER},
        },
        **ERRORS,
    },
    openapi_extra={"requestBody": _body(JSON_TYPES, "the new feature"), "parameters": [CONTENT_CRS, REQUEST_ID_PARAM]},
)
async def create(request: Request, staff: Editor, collection_id: CollectionId) -> Response:
    """Insert one feature; it is validated against the layer declaration and gets a new id."""
    layer = layer_or_404(collection_id)
    refuse_derived(layer)
    _no_query(request)
    crs, actor = _content_crs(request), _actor(request, staff)
    raw = await _json_body(request, JSON_TYPES)
    url = get_runtime(request).db_url

    def run() -> EditResult:
        body = parse_feature(layer, load_json(raw), crs)
        return create_item(url, layer, body, actor, crs.srid)

    result = await asyncio.to_thread(run)
    _log("create", layer, result, actor)
    return await _answer(request, layer, result, actor, 201)


ITEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the feature as it is now", "headers": ETAG_HEADER},
    **ERRORS,
    **PRECONDITIONS,
}


@router.put(
    "/collections/{collectionId}/items/{featureId}",
    summary="Replace a feature (staff: editor or admin; If-Match required)",
    response_class=Response,
    responses=ITEM_RESPONSES,
    openapi_extra={
        "requestBody": _body(JSON_TYPES, "the whole feature: properties left out become empty"),
        "parameters": [IF_MATCH, CONTENT_CRS, REQUEST_ID_PARAM],
    },
)
async def replace(request: Request, staff: Editor, collection_id: CollectionId, feature_id: FeatureId) -> Response:
    """Replace every property and the geometry of a feature."""
    return await _change(request, staff, collection_id, feature_id, partial=False)


@router.patch(
    "/collections/{collectionId}/items/{featureId}",
    summary="Update part of a feature (JSON merge patch; staff: editor or admin; If-Match required)",
    response_class=Response,
    responses=ITEM_RESPONSES,
    openapi_extra={
        "requestBody": _body((MERGE_PATCH, *JSON_TYPES), "the properties and/or geometry to change"),
        "parameters": [IF_MATCH, CONTENT_CRS, REQUEST_ID_PARAM],
    },
)
async def update(request: Request, staff: Editor, collection_id: CollectionId, feature_id: FeatureId) -> Response:
    """Change the properties named (null empties one) and/or the geometry; the rest stays."""
    return await _change(request, staff, collection_id, feature_id, partial=True)


async def _change(request: Request, staff: Staff, collection_id: str, feature_id: str, *, partial: bool) -> Response:
    layer = layer_or_404(collection_id)
    refuse_derived(layer)
    fid = _feature_id(layer, feature_id)
    accept = _acceptor(request, layer, fid)
    _no_query(request)
    crs, actor = _content_crs(request), _actor(request, staff)
    raw = await _json_body(request, (MERGE_PATCH, *JSON_TYPES) if partial else JSON_TYPES)
    url = get_runtime(request).db_url

    def run() -> EditResult:
        doc = load_json(raw)
        body = parse_patch(layer, doc, crs) if partial else parse_feature(layer, doc, crs, fid)
        return change_item(url, layer, fid, body, actor, crs.srid, accept)

    result = await asyncio.to_thread(run)
    _log("update" if partial else "replace", layer, result, actor)
    return await _answer(request, layer, result, actor, 200)


@router.delete(
    "/collections/{collectionId}/items/{featureId}",
    summary="Delete a feature (staff: editor or admin; If-Match required)",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "deleted"}, 409: ERRORS[409], **PRECONDITIONS},
    openapi_extra={"parameters": [IF_MATCH, REQUEST_ID_PARAM]},
)
async def delete(request: Request, staff: Editor, collection_id: CollectionId, feature_id: FeatureId) -> Response:
    """Remove a feature and its private data; refused (409) while other rows refer to it."""
    layer = layer_or_404(collection_id)
    refuse_derived(layer)
    fid = _feature_id(layer, feature_id)
    accept = _acceptor(request, layer, fid)
    actor = _actor(request, staff)
    _no_query(request)
    if await request.body():
        raise InvalidParameter("body: DELETE takes no body")
    url = get_runtime(request).db_url
    result = await asyncio.to_thread(delete_item, url, layer, fid, actor, accept)
    _log("delete", layer, result, actor)
    return await _answer(request, layer, result, actor, 204)


def feature_schema(layer: Layer) -> dict[str, Any]:
    """JSON Schema of a create/replace body for this layer (for the OpenAPI document)."""
    props: dict[str, Any] = {}
    for c in layer.columns:
        schema = dict(JSON_SCHEMA_TYPES[c.type])
        title = c.title or c.name
        schema["description"] = title if c.public else f"{title}: stored privately, never published"
        props[c.name] = schema
    props["city_code"] = {"type": "string", "enum": list(CITIES), "description": "taken from the geometry if absent"}
    props["sample"] = {"type": "boolean", "description": "sample data (default false)"}
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": {
                "type": "object",
                "description": f"{' or '.join(ACCEPTS[layer.geom_type])}, in the Content-Crs (default CRS84)",
                "properties": {"type": {"type": "string", "enum": list(ACCEPTS[layer.geom_type])}},
            },
            "properties": {
                "type": "object",
                "required": [c.name for c in layer.columns if c.required],
                "properties": props,
                "additionalProperties": False,
            },
        },
    }
