"""Farmland for farm seekers: browse parcels with filters, one parcel in full, statistics, and inquiries.

Public GETs answer from the one cache with strong ETags; their entries carry the farmland version (the polygons,
the ledger, the links and the crops all bump it), so a new import replaces every answer at once. Inquiries are
private: the POST stores through the staff pool, and only editor/admin tokens read and change them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from api.deps import Rt, Staff, StaffConn, get_runtime, require_role
from api.params import Param
from api.respond import not_modified
from gis.cache import Cached
from gis.errors import InvalidParameter, NotFound
from gis.etag import make_etag
from gis.farmland import browse, detail, inquiries, params, stats
from gis.farmland.tables import VERSION_ID
from gis.garbage.params import city as city_param
from gis.garbage.params import integer, only

router = APIRouter(tags=["farmland"])
Editor = Annotated[Staff, Depends(require_role("admin", "editor"))]
GEOJSON = "application/geo+json"
JSON = "application/json"
MAX_AGE = 300
PRIVATE = {"Cache-Control": "no-store"}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "not modified (If-None-Match)"}}
ID_DIGITS = 18


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _answer(
    request: Request, key: tuple[Hashable, ...], build: Callable[[], Awaitable[Cached]], media_type: str = JSON
) -> Response:
    """304, a cached body, or one build shared by concurrent callers; the ETag follows the farmland version."""
    rt = get_runtime(request)
    tag = rt.versions.snapshot((VERSION_ID,))
    etag = make_etag(VERSION_ID, rt.versions.get(VERSION_ID), (tag, key))
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={MAX_AGE}, stale-while-revalidate={MAX_AGE}",
        "Vary": "Accept-Encoding",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    item = await rt.cache.get_or_build(("response", VERSION_ID, tag, key), build, tag=tag)
    return Response(item.body, media_type=item.media_type, headers=headers)


def _openapi(*names: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {"parameters": [Param(n, d, s).openapi() for n, d, s in names]}


NUMBER = {"type": "number", "minimum": 0}
BROWSE_DOC = _openapi(
    ("city", "41205 (伊万里市) or 41206 (武雄市)", {"type": "string", "enum": ["41205", "41206"]}),
    ("oaza", "大字, e.g. 武雄町大字富岡 (Takeo's 大字 may be omitted)", {"type": "string"}),
    ("chiban", "地番 with oaza, e.g. 1451 (also its branches 1451-1 …) or 1451-2", {"type": "string"}),
    ("land_type", "100 田, 200 畑", {"type": "integer", "enum": [100, 200]}),
    ("area_min", "registered area at least (m²)", NUMBER),
    ("area_max", "registered area at most (m²)", NUMBER),
    ("intention", "lend 貸したい / sell 売りたい", {"type": "string", "enum": ["lend", "sell"]}),
    ("available_from", "available on or before this date (YYYY-MM-DD; lease ended or none)", {"type": "string"}),
    ("crop", "latest season's crop, e.g. 水稲, 大豆", {"type": "string"}),
    ("noshin", "nouyouchi 農用地区域内, noushin 農振地域内（農用地区域外）, outside 農振地域外", {"type": "string"}),
    ("lat", "latitude of the point to measure from (with lon)", {"type": "number"}),
    ("lon", "longitude of the point", {"type": "number"}),
    ("address", "an address instead of lat/lon (placed by this service's geocoder; see `location`)", {}),
    ("within_m", "distance from the point, 1–20000 m (default 2000)", {"type": "integer"}),
    ("sortby", "area_m2, -area_m2, distance, available_from, oaza (default distance with a point, else oaza)", {}),
    ("limit", "page size 1–500 (default 50)", {"type": "integer", "minimum": 1, "maximum": 500}),
    ("offset", "parcels to skip (follow the next/prev links)", {"type": "integer", "minimum": 0}),
)


@router.get(
    "/farmland/parcels",
    summary="Farmland parcels filtered by city, 大字/地番, land type, area, intention, availability, crop, 農振区分 "
    "and distance (市街化区域 excluded)",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}, **NOT_MODIFIED},
    openapi_extra=BROWSE_DOC,
)
async def parcels(request: Request) -> Response:
    """A page of parcels as GeoJSON, with numberMatched (exact up to 10,000), paging links and sources."""
    rt = get_runtime(request)
    q = params.browse(dict(request.query_params))
    q, location = browse.locate(rt, q)
    base = _base(request)

    async def build() -> Cached:
        return Cached(orjson.dumps(await browse.parcels(rt, q, location, base)), GEOJSON)

    key = ("farmland-parcels", q, orjson.dumps(location) if location else None, base)
    return await _answer(request, key, build, GEOJSON)


@router.get(
    "/farmland/parcels/{parcel_id}",
    summary="One parcel: MAFF items, the linked ledger records with their dates and link confidence, crops, "
    "who answers",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}, 404: {"description": "no such public parcel"}, **NOT_MODIFIED},
)
async def parcel(
    request: Request, parcel_id: Annotated[str, Path(description="the parcel id (feature id of /farmland/parcels)")]
) -> Response:
    """The parcel as a GeoJSON Feature with `records`, `crops`, `contact` and sources."""
    rt = get_runtime(request)
    only(dict(request.query_params), ())
    if not (parcel_id.isascii() and parcel_id.isdigit() and len(parcel_id) <= ID_DIGITS):
        raise NotFound(f"id: no public farmland parcel '{parcel_id[:40]}'")
    pid = int(parcel_id)

    async def build() -> Cached:
        return Cached(orjson.dumps(await detail.parcel(rt, pid)), GEOJSON)

    return await _answer(request, ("farmland-parcel", pid), build, GEOJSON)


@router.get(
    "/farmland/stats",
    summary="Parcels and registered areas by 大字 × land type × intention, and per-city totals",
    responses=NOT_MODIFIED,
    openapi_extra=_openapi(("city", "41205 or 41206 (default both)", {"type": "string"})),
)
async def farmland_stats(request: Request) -> Response:
    """Counts and areas (市街化区域 excluded) with sources."""
    rt = get_runtime(request)
    city = params.stats_city(dict(request.query_params))

    async def build() -> Cached:
        return Cached(orjson.dumps(await stats.stats(rt, city)), JSON)

    return await _answer(request, ("farmland-stats", city), build)


# -- inquiries -----------------------------------------------------------------------------------------------------


@router.get("/farmland/inquiries/form", summary="A form token for an inquiry (send it with the inquiry)")
async def inquiry_form(rt: Rt) -> JSONResponse:
    """A signed token of the time the form was opened, and the form's rules."""
    return JSONResponse(inquiries.form(rt.settings), headers=PRIVATE)


INQUIRY_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": inquiries.InquiryIn.model_json_schema()}},
    }
}


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > inquiries.MAX_BODY_BYTES:
        raise _too_large()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > inquiries.MAX_BODY_BYTES:
            raise _too_large()
    return body


def _too_large() -> InvalidParameter:
    return InvalidParameter(
        f"body: larger than {inquiries.MAX_BODY_BYTES:,} bytes, the limit for an inquiry",
        code="PayloadTooLarge",
        status=413,
    )


@router.post(
    "/farmland/inquiries",
    status_code=201,
    summary="Send an inquiry about parcels to the city's 農業委員会 (stored privately; never published)",
    responses={
        400: {"description": "a field is missing or wrong (named), an unknown parcel, a bad or too quick form token"},
        413: {"description": "body over 16 KiB"},
        429: {"description": "more than 5 inquiries from this client in an hour (Retry-After)"},
    },
    openapi_extra=INQUIRY_BODY,
)
async def send_inquiry(request: Request, rt: Rt) -> JSONResponse:
    """Validate, check the form token and the honeypot, the hourly limit and the parcels; store; 201."""
    only(dict(request.query_params), ())
    inquiry = inquiries.parse(await _body(request))
    inquiries.check_bots(rt.settings, inquiry)
    client = request.client.host if request.client else "unknown"
    async with rt.staff_conn() as conn:
        body = await inquiries.store(conn, rt.settings, inquiry, client)
    return JSONResponse(body, status_code=201, headers=PRIVATE)


@router.get(
    "/farmland/inquiries",
    summary="Inquiries, newest first (staff: editor or admin token)",
    openapi_extra=_openapi(
        (
            "status",
            "open, answered or closed (default all)",
            {"type": "string", "enum": ["open", "answered", "closed"]},
        ),
        ("city", "41205 or 41206: the city whose 農業委員会 answers (default both)", {"type": "string"}),
        ("limit", "page size 1–500 (default 50)", {"type": "integer", "minimum": 1, "maximum": 500}),
        ("offset", "inquiries to skip", {"type": "integer", "minimum": 0}),
    ),
)
async def list_inquiries(request: Request, staff: Editor, conn: StaffConn) -> JSONResponse:
    """Staff read the inquiries with their parcels; filter by status and city."""
    qp = dict(request.query_params)
    only(qp, ("status", "city", "limit", "offset"))
    body = await inquiries.listing(
        conn,
        inquiries.status(qp.get("status")),
        city_param(qp.get("city")),
        integer(qp.get("limit"), "limit", 50, 1, 500),
        integer(qp.get("offset"), "offset", 0, 0, 1_000_000),
    )
    return JSONResponse(body, headers=PRIVATE)


PATCH_BODY = {
    "requestBody": {"required": True, "content": {JSON: {"schema": inquiries.InquiryPatch.model_json_schema()}}}
}


@router.patch(
    "/farmland/inquiries/{inquiry_id}",
    summary="Mark an inquiry answered or closed (or reopen it), with a staff note (editor or admin token)",
    responses={404: {"description": "no such inquiry"}},
    openapi_extra=PATCH_BODY,
)
async def patch_inquiry(
    request: Request,
    staff: Editor,
    conn: StaffConn,
    inquiry_id: Annotated[int, Path(description="the inquiry's id", ge=1, le=2**63 - 1)],
) -> JSONResponse:
    """Change status and/or staff_note; the token's name is recorded as handled_by."""
    patch = inquiries.parse_patch(await _body(request))
    return JSONResponse(await inquiries.update(conn, inquiry_id, patch, staff.name), headers=PRIVATE)
