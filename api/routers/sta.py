"""OGC SensorThings API v1.1 under /sta/v1.1: Things, Locations, Datastreams, Observations (reads), and the create
forms `POST Observations` and `POST CreateObservations` (device or admin token, the same ingest as
`POST /sensors/observations`).

Reads go through the public role; answers are live (no ETag, `Cache-Control: no-cache`).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.deps import Staff, StaffConn, get_runtime, require_role
from gis.errors import InvalidParameter
from gis.sensors import sta, sta_create

router = APIRouter(tags=["sensorthings"])
PREFIX = f"/sta/{sta.VERSION}"
JSON = "application/json"
Device = Annotated[Staff, Depends(require_role("device", "admin"))]
OPTIONS = [
    ("$top", "page size, 0–1000 (default 100); follow @iot.nextLink for the next page", "integer"),
    ("$skip", "entities to skip", "integer"),
    ("$count", "true: add @iot.count (one COUNT)", "boolean"),
    ("$orderby", "e.g. phenomenonTime desc,id", "string"),
    ("$filter", "e.g. phenomenonTime ge 2026-12-01T00:00:00Z and result eq true; id eq 5", "string"),
    ("$select", "e.g. id,name", "string"),
    ("$expand", "e.g. Datastreams/Observations($top=1;$orderby=phenomenonTime desc)", "string"),
]
READ_OPENAPI = {
    "parameters": [
        {"name": n, "in": "query", "required": False, "description": d, "schema": {"type": t}} for n, d, t in OPTIONS
    ]
}


def _body_doc(example: Any) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {JSON: {"schema": {"type": "object"}, "example": example}}}}


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=JSON,
        headers={"Cache-Control": "no-cache", **(headers or {})},
    )


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidParameter("body: not valid JSON") from None


@router.get(PREFIX, summary="SensorThings service root: the entity sets and the conformance classes")
async def service_root(request: Request) -> Response:
    """The entity sets served (Things, Locations, Datastreams, Observations) and serverSettings."""
    return _json(sta.root_document(_root(request)))


@router.get(
    PREFIX + "/{resource:path}",
    summary="SensorThings resources: Things, Locations, Datastreams, Observations, by id and by navigation",
    description=(
        "Paths: `Things`, `Things(1)`, `Things(1)/Datastreams`, `Things(1)/Locations`, `Locations(1)/Things`, "
        "`Datastreams(5)`, `Datastreams(5)/Observations`, `Datastreams(5)/Thing`, `Observations(9)`, "
        "`Observations(9)/Datastream`, a property such as `Things(1)/name` (and `/$value`). Things and Locations "
        "are the inundation sensors (the same @iot.id); a Thing's properties.state is dry, wet, flooded or unknown "
        "(no message within the heartbeat interval × the silence factor)."
    ),
    openapi_extra=READ_OPENAPI,
)
async def resource(request: Request, resource: str) -> Response:
    """One entity, a property, or a page of a collection with @iot.nextLink."""
    rt = get_runtime(request)
    root = _root(request)
    if not resource.strip("/"):
        return _json(sta.root_document(root))
    async with rt.public_conn() as conn:
        body = await sta.read(conn, root, resource, dict(request.query_params))
    if isinstance(body, str):
        return Response(body, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})
    return _json(body)


@router.post(
    PREFIX + "/Observations",
    summary="Create an Observation (device or admin token); idempotent on (Datastream, phenomenonTime)",
    status_code=201,
    responses={200: {"description": "already stored: the stored Observation, Location pointing to it"}},
    openapi_extra=_body_doc(
        {"phenomenonTime": "2026-12-02T05:00:00Z", "result": True, "Datastream": {"@iot.id": 1}},
    ),
)
async def create_observation(request: Request, staff: Device, conn: StaffConn) -> Response:
    """201 with the Observation and its Location; a retry of a stored one answers 200 with the stored one."""
    body = await _body(request)
    oid, new = await sta_create.create_observation(conn, body)
    entity = await sta.read(conn, _root(request), f"Observations({oid})", {})
    return _json(entity, 201 if new else 200, {"Location": entity["@iot.selfLink"]})


@router.post(
    PREFIX + "/CreateObservations",
    summary='Create Observations as data arrays (device or admin token): one selfLink or "error" per row',
    status_code=201,
    openapi_extra=_body_doc(
        [
            {
                "Datastream": {"@iot.id": 2},
                "components": ["phenomenonTime", "result"],
                "dataArray@iot.count": 2,
                "dataArray": [["2026-12-02T05:00:00Z", 20], ["2026-12-02T05:10:00Z", 30]],
            }
        ]
    ),
)
async def create_observations(request: Request, staff: Device, conn: StaffConn) -> Response:
    """201 with a list: the selfLink of each row's Observation (new or already stored), or "error"."""
    body = await _body(request)
    ids = await sta_create.create_observations(conn, body)
    root = _root(request)
    return _json([f"{root}/Observations({i})" if i is not None else "error" for i in ids], 201)
