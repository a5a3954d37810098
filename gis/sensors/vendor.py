"""A vendor adapter: the payload a typical LPWA inundation sensor's cloud forwards, mapped onto readings.

    {"device_id": "S-41206-003", "time": "2026-12-02T05:05:00Z", "level": 1, "battery": 3.4, "rssi": -97}

(one object or a list). `level` is a step index 0..3 (0/10/20/30 cm) or a level in cm (10, 20, 30, 40). A step
sensor's level becomes a `depth` reading, a float switch's a `wet` reading (wet = level > 0); battery (V) and
rssi (dBm) become their own readings at the same time. The readings then take the one ingest path.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from gis.errors import InvalidParameter, NotFound
from gis.sensors.ingest import MAX_BATCH, RANGES, Reading
from gis.sensors.params import instant

KEYS = ("device_id", "time", "level", "battery", "rssi")
STEP_CM = {0: 0, 1: 10, 2: 20, 3: 30}
LEVEL_CM = (10, 20, 30, 40)
KINDS_SQL = (
    "SELECT t.sensor_id, array_agg(d.kind) AS kinds FROM inundation_sensors t "
    "JOIN sensor_datastreams d ON d.thing_id = t.id WHERE t.sensor_id = ANY($1::text[]) GROUP BY t.sensor_id"
)


def _number(item: dict[str, Any], key: str, where: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(f"{where}.{key}: a number is required")
    return float(value)


def _level_cm(value: float, where: str) -> int:
    if value == int(value) and int(value) in STEP_CM:
        return STEP_CM[int(value)]
    if value == int(value) and int(value) in LEVEL_CM:
        return int(value)
    raise InvalidParameter(f"{where}.level: a step index 0..3 or a level of 10, 20, 30 or 40 cm is required")


def items_of(body: Any) -> list[dict[str, Any]]:
    """One vendor object or a list of them (1..1000 readings in all)."""
    items = body if isinstance(body, list) else [body]
    if not 1 <= len(items) <= MAX_BATCH // 3:
        raise InvalidParameter(f"body: give 1 to {MAX_BATCH // 3} vendor messages per request (got {len(items)})")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidParameter(f"[{i}]: an object with device_id, time and level is required")
        unknown = [k for k in item if k not in KEYS]
        if unknown:
            raise InvalidParameter(f"[{i}].{str(unknown[0])[:40]}: unknown field; use {', '.join(KEYS)}")
        if not isinstance(item.get("device_id"), str) or not item["device_id"].strip():
            raise InvalidParameter(f"[{i}].device_id: required (the sensor's id)")
    return items


async def readings(conn: asyncpg.Connection, body: Any) -> list[Reading]:
    """The readings of a vendor payload (404 naming an unknown device)."""
    items = items_of(body)
    kinds = {r["sensor_id"]: set(r["kinds"]) for r in await conn.fetch(KINDS_SQL, [i["device_id"] for i in items])}
    out: list[Reading] = []
    for i, item in enumerate(items):
        where = f"[{i}]"
        device = item["device_id"]
        if device not in kinds:
            raise NotFound(f"{where}.device_id: no sensor '{device[:100]}' is registered")
        at = instant(item.get("time"), f"{where}.time")
        assert at is not None
        level = _number(item, "level", where)
        if level is not None:
            cm = _level_cm(level, where)
            if "depth" in kinds[device]:
                out.append(Reading(device, "depth", at, float(cm)))
            else:
                out.append(Reading(device, "wet", at, 1.0 if cm > 0 else 0.0))
        for key, kind in (("battery", "battery"), ("rssi", "rssi")):
            value = _number(item, key, where)
            if value is not None:
                lo, hi, unit = RANGES[kind]
                if not lo <= value <= hi:
                    raise InvalidParameter(f"{where}.{key}: must be between {lo:g} and {hi:g} {unit}; got {value:g}")
                out.append(Reading(device, kind, at, value))
        if level is None and not any(item.get(k) is not None for k in ("battery", "rssi")):
            raise InvalidParameter(f"{where}: a message needs level, battery or rssi")
    return out
