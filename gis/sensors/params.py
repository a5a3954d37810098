"""Reading the sensor API's bodies and query strings before any SQL: every error names its field (a 400)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from gis.errors import InvalidParameter
from gis.ogc.limits import check_text
from gis.sensors.ingest import MAX_BATCH, Reading
from gis.sensors.tables import EVENT_KINDS

OBSERVATION_KEYS = ("sensor_id", "datastream", "phenomenon_time", "result", "result_time", "quality")
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
MAX_HISTORY = timedelta(days=31)
MAX_EVENTS = 1000


def json_body(raw: bytes) -> Any:
    """The request body as JSON (400 when it is not)."""
    if not raw.strip():
        raise InvalidParameter("body: a JSON body is required")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidParameter("body: not valid JSON (UTF-8)") from None


def instant(value: Any, where: str, *, required: bool = True) -> datetime | None:
    """An RFC 3339 date-time with its offset (Z or ±hh:mm), as an aware UTC datetime."""
    if value is None:
        if required:
            raise InvalidParameter(f"{where}: required (RFC 3339 with an offset, e.g. 2026-12-02T05:05:00Z)")
        return None
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise InvalidParameter(
            f"{where}: '{shown}' is not an RFC 3339 date-time with an offset (e.g. 2026-12-02T05:05:00Z)"
        )
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidParameter(f"{where}: '{value[:40]}' is not a valid date-time") from None


def _optional_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"{where}: text is required")
    check_text(value, where)
    return value


def observation(item: Any, i: int) -> Reading:
    """One observation object of the POST body."""
    where = f"observations[{i}]"
    if not isinstance(item, dict):
        raise InvalidParameter(f"{where}: an object with sensor_id, datastream, phenomenon_time and result is required")
    unknown = [k for k in item if k not in OBSERVATION_KEYS]
    if unknown:
        raise InvalidParameter(f"{where}.{str(unknown[0])[:40]}: unknown field; use {', '.join(OBSERVATION_KEYS)}")
    sensor_id = item.get("sensor_id")
    if not isinstance(sensor_id, str) or not sensor_id.strip():
        raise InvalidParameter(f"{where}.sensor_id: required (the device's id, e.g. S-41206-003)")
    check_text(sensor_id, f"{where}.sensor_id")
    kind = item.get("datastream")
    if not isinstance(kind, str):
        raise InvalidParameter(f"{where}.datastream: required: wet, depth, battery or rssi")
    result = item.get("result")
    if isinstance(result, bool):
        result = 1.0 if result else 0.0
    if not isinstance(result, int | float):
        raise InvalidParameter(f"{where}.result: a number (or true/false for wet) is required")
    if isinstance(result, int) and abs(result) > 1e15:
        raise InvalidParameter(f"{where}.result: out of range")
    return Reading(
        sensor_id=sensor_id,
        kind=kind,
        phenomenon_time=instant(item.get("phenomenon_time"), f"{where}.phenomenon_time"),  # type: ignore[arg-type]
        result=float(result),
        result_time=instant(item.get("result_time"), f"{where}.result_time", required=False),
        quality=_optional_text(item.get("quality"), f"{where}.quality"),
    )


def observations(body: Any) -> list[Reading]:
    """`{"observations": [...]}` or one observation object."""
    if isinstance(body, dict) and "observations" in body:
        extra = [k for k in body if k != "observations"]
        if extra:
            raise InvalidParameter(f'{str(extra[0])[:40]}: unknown field; the body is {{"observations": [...]}}')
        items = body["observations"]
        if not isinstance(items, list):
            raise InvalidParameter("observations: a list of observations is required")
    elif isinstance(body, dict):
        items = [body]
    else:
        raise InvalidParameter('body: {"observations": [...]} or one observation object is required')
    if not 1 <= len(items) <= MAX_BATCH:
        raise InvalidParameter(f"observations: give 1 to {MAX_BATCH} observations per request (got {len(items)})")
    return [observation(item, i) for i, item in enumerate(items)]


def only(given: dict[str, str], allowed: tuple[str, ...]) -> None:
    """Refuse a query parameter the endpoint does not know."""
    for key in given:
        if key not in allowed:
            raise InvalidParameter(f"{key[:40]}: unknown parameter; this endpoint takes {', '.join(allowed) or 'none'}")


def history_range(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """from..to of a history: default the last 24 hours, at most 31 days."""
    last = instant(end, "to", required=False) or now
    first = instant(start, "from", required=False) or last - timedelta(hours=24)
    if first >= last:
        raise InvalidParameter(f"to: {last.isoformat()} is not after from ({first.isoformat()})")
    if last - first > MAX_HISTORY:
        raise InvalidParameter("to: a history covers at most 31 days; narrow from/to")
    return first, last


def event_kind(value: str | None) -> str | None:
    """flooded, receded, silent or back (None: every kind)."""
    if not value:
        return None
    if value not in EVENT_KINDS:
        raise InvalidParameter(f"kind: '{value[:40]}' is not one of {', '.join(EVENT_KINDS)}")
    return value


def limit(value: str | None, default: int = 100) -> int:
    """1..1000."""
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_EVENTS:
        raise InvalidParameter(f"limit: an integer from 1 to {MAX_EVENTS} is required")
    return int(value)


def sensor_id(value: str) -> str:
    """A sensor id from the path (text PostgreSQL can take; at most 100 characters)."""
    check_text(value, "sensor_id")
    if not value or len(value) > 100:
        raise InvalidParameter("sensor_id: 1 to 100 characters")
    return value
