"""Inundation sensors: ingest (devices, a vendor adapter), every sensor's current state, history, events, rules.

Ingest runs on the staff connection of the token check, in one transaction (gis/sensors/ingest.py). Reads run as
the public role and read `sensor_state` through `sensor_state_now`: a silent sensor is `unknown`, never `dry`.
GET /sensors is never kept by a shared cache without asking (`no-cache`); its strong ETag is a digest of what it
serves, so a poll that changed nothing is a 304 without a body.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from api.deps import Staff, StaffConn, get_runtime, require_role
from api.params import Param
from api.respond import not_modified
from gis.errors import InvalidParameter
from gis.sensors import params, service, vendor
from gis.sensors.ingest import ingest
from gis.sensors.tables import EVENT_KINDS

router = APIRouter(tags=["inundation sensors"])
Device = Annotated[Staff, Depends(require_role("device", "admin"))]
Admin = Annotated[Staff, Depends(require_role("admin"))]
JSON = "application/json"
SensorId = Annotated[str, Path(description="the sensor's id, e.g. S-41206-003")]

OBSERVATION_SCHEMA = {
    "type": "object",
    "required": ["sensor_id", "datastream", "phenomenon_time", "result"],
    "properties": {
        "sensor_id": {"type": "string", "example": "S-41206-003"},
        "datastream": {"type": "string", "enum": ["wet", "depth", "battery", "rssi"]},
        "phenomenon_time": {"type": "string", "format": "date-time", "example": "2026-12-02T05:05:00Z"},
        "result": {
            "description": "wet: 1/0 or true/false; depth: 0, 10, 20, 30 or 40 (cm); battery: 0–10 (V); "
            "rssi: -150–0 (dBm)",
            "oneOf": [{"type": "number"}, {"type": "boolean"}],
        },
        "result_time": {"type": "string", "format": "date-time"},
        "quality": {"type": "string"},
    },
}
OBSERVATIONS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            JSON: {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["observations"],
                            "properties": {
                                "observations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 1000,
                                    "items": OBSERVATION_SCHEMA,
                                }
                            },
                        },
                        OBSERVATION_SCHEMA,
                    ]
                }
            }
        },
    }
}
VENDOR_MESSAGE = {
    "type": "object",
    "required": ["device_id", "time"],
    "properties": {
        "device_id": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "level": {"type": "number", "description": "step index 0..3 (0/10/20/30 cm) or cm (10, 20, 30, 40)"},
        "battery": {"type": "number", "description": "V"},
        "rssi": {"type": "number", "description": "dBm"},
    },
}
VENDOR_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"oneOf": [VENDOR_MESSAGE, {"type": "array", "items": VENDOR_MESSAGE}]}}},
    }
}
INGESTED: dict[int | str, dict[str, Any]] = {
    200: {"description": "received, stored, duplicates (already stored: a retry is safe), the events it caused"},
    404: {"description": "a sensor_id that is not registered (named in the description)"},
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


async def _ingest(request: Request, conn: Any, readings: list, provenance: str) -> Response:
    rt = get_runtime(request)
    result = await ingest(conn, readings, provenance)
    if result.events and rt.jobs is not None:
        rt.jobs.kick()  # the webhook hears of it now, not at the next tick
    return _json(result.json(), headers={"Cache-Control": "no-store"})


@router.post(
    "/sensors/observations",
    summary="Post sensor readings (device or admin token): 1–1000 per request, idempotent",
    responses=INGESTED,
    openapi_extra=OBSERVATIONS_BODY,
)
async def post_observations(request: Request, staff: Device, conn: StaffConn) -> Response:
    """Store readings once per (sensor, datastream, phenomenon time) and advance each sensor's state."""
    readings = params.observations(params.json_body(await request.body()))
    return await _ingest(request, conn, readings, f"device:{staff.name}")


@router.post(
    "/sensors/vendor",
    summary="Post vendor-style messages {device_id, time, level, battery, rssi} (device or admin token)",
    responses=INGESTED,
    openapi_extra=VENDOR_BODY,
)
async def post_vendor(request: Request, staff: Device, conn: StaffConn) -> Response:
    """The vendor adapter: each message becomes readings of the same ingest path."""
    readings = await vendor.readings(conn, params.json_body(await request.body()))
    return await _ingest(request, conn, readings, f"vendor:{staff.name}")


@router.get(
    "/sensors",
    summary="Every sensor's current state (dry, wet, flooded, unknown) as GeoJSON, with counts and rules",
    responses={304: {"description": "not modified (If-None-Match)"}},
)
async def sensors(request: Request) -> Response:
    """The live state of every sensor; `unknown` when silent for longer than heartbeat × silence_factor."""
    params.only(dict(request.query_params), ())
    body, etag = await service.current(get_runtime(request))
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)


SINCE = Param("since", "only events at or after this time (RFC 3339 with an offset)", {"type": "string"})
KIND = Param("kind", "flooded, receded, silent or back", {"type": "string", "enum": list(EVENT_KINDS)})
SENSOR = Param("sensor_id", "only this sensor's events")
LIMIT = Param("limit", "how many, 1–1000 (default 100)", {"type": "integer", "minimum": 1, "maximum": 1000})


@router.get(
    "/sensors/events",
    summary="Sensor events, newest first: flooded, receded, silent, back",
    openapi_extra={"parameters": [p.openapi() for p in (SINCE, KIND, SENSOR, LIMIT)]},
)
async def events(request: Request) -> Response:
    """Transitions as they happened (`at`, `at_jst`), with what led to them (`detail`)."""
    qp = dict(request.query_params)
    params.only(qp, ("since", "kind", "sensor_id", "limit"))
    since = params.instant(qp.get("since"), "since", required=False)
    sensor = params.sensor_id(qp["sensor_id"]) if qp.get("sensor_id") else None
    kind, limit = params.event_kind(qp.get("kind")), params.limit(qp.get("limit"))
    body = await service.events(get_runtime(request), since, kind, sensor, limit)
    return _json(body, headers={"Cache-Control": "no-cache"})


FROM = Param("from", "start (RFC 3339 with an offset; default: 24 hours before `to`)", {"type": "string"})
TO = Param("to", "end, exclusive (default: now); at most 31 days after `from`", {"type": "string"})


@router.get(
    "/sensors/{sensor_id}/history",
    summary="One sensor's readings per datastream over a time range (default the last 24 hours, at most 31 days)",
    openapi_extra={"parameters": [p.openapi() for p in (FROM, TO)]},
)
async def history(request: Request, sensor_id: SensorId) -> Response:
    """Observations of every datastream of the sensor, oldest first, with its current state."""
    qp = dict(request.query_params)
    params.only(qp, ("from", "to"))
    rt = get_runtime(request)
    async with rt.public_conn() as conn:
        now = await conn.fetchval("SELECT now()")
    first, last = params.history_range(qp.get("from"), qp.get("to"), now)
    body = await service.history(rt, params.sensor_id(sensor_id), first, last)
    return _json(body, headers={"Cache-Control": "no-cache"})


RULES_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "wet_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
                        "silence_factor": {"type": "number", "minimum": 1, "maximum": 100},
                        "max_future_minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
                        "max_past_days": {"type": "integer", "minimum": 1, "maximum": 3660},
                        "webhook_url": {"type": ["string", "null"], "description": "http(s) URL; null or '': off"},
                    },
                }
            }
        },
    }
}


@router.get("/admin/sensors/rules", summary="The sensor rules, the webhook address included (admin token)")
async def get_rules(staff: Admin, conn: StaffConn) -> Response:
    """Every rule as stored."""
    return _json(await service.rules(conn), headers={"Cache-Control": "no-store"})


@router.patch(
    "/admin/sensors/rules",
    summary="Change the sensor rules: wet_minutes, silence_factor, ingest window, webhook_url (admin token)",
    openapi_extra=RULES_BODY,
)
async def patch_rules(request: Request, staff: Admin, conn: StaffConn) -> Response:
    """Change the rules given; every output applies them at once (they are read in SQL on every request)."""
    body = params.json_body(await request.body())
    if not isinstance(body, dict):
        raise InvalidParameter("body: an object of rules is required")
    rules = await service.set_rules(conn, body)
    return _json({**rules, "changed_by": staff.name}, headers={"Cache-Control": "no-store"})
