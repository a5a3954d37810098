"""The sensors' native reads: every sensor's current state, one sensor's history, the events.

All of it reads `sensor_state` (one row per sensor) through `sensor_state_now`, never a scan for the latest
observation, and runs as the public role. Times are UTC ISO 8601 with +00:00; `*_jst` strings are for people.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson

from gis.errors import InvalidParameter, NotFound
from gis.runtime import Runtime
from gis.sensors.events import event_json, iso, jst
from gis.sensors.rules import RULES_SQL
from gis.sensors.webhook import check_url
from layers.inundation_sensors import SINCE_SQL, STATE_SQL

STATES = ("dry", "wet", "flooded", "unknown")
# The public role reads these columns of sensor_rules (not the webhook's address).
PUBLIC_RULES_SQL = "SELECT wet_minutes, silence_factor FROM sensor_rules WHERE id = 1"
SENSORS_SQL = f"""
SELECT t.id, t.sensor_id, t.name, t.vendor, t.sensor_type, t.city_code, t.heartbeat_minutes, t.sample, t.source_id,
       round(ST_X(t.geom)::numeric, 7)::float8 AS lon, round(ST_Y(t.geom)::numeric, 7)::float8 AS lat,
       {STATE_SQL} AS state, {SINCE_SQL} AS since, s.last_seen, s.level_cm, s.battery_v, s.rssi, s.silent,
       now() AS now
FROM inundation_sensors t LEFT JOIN sensor_state s ON s.thing_id = t.id
ORDER BY t.sensor_id, t.id
"""
THING_SQL = f"""
SELECT t.id, t.sensor_id, t.name, t.heartbeat_minutes, {STATE_SQL} AS state, {SINCE_SQL} AS since, s.last_seen,
       s.level_cm, s.battery_v, s.rssi
FROM inundation_sensors t LEFT JOIN sensor_state s ON s.thing_id = t.id
WHERE t.sensor_id = $1 ORDER BY t.id LIMIT 1
"""
HISTORY_SQL = """
SELECT d.id, d.kind, d.name, d.unit_symbol, o.phenomenon_time, o.result
FROM sensor_datastreams d
LEFT JOIN sensor_observations o ON o.datastream_id = d.id AND o.phenomenon_time >= $2 AND o.phenomenon_time < $3
WHERE d.thing_id = $1
ORDER BY d.kind, o.phenomenon_time
"""
EVENTS_SQL = """
SELECT e.id, e.thing_id, e.sensor_id, e.kind, e.at, e.detail, t.name
FROM sensor_events e LEFT JOIN inundation_sensors t ON t.id = e.thing_id
WHERE ($1::timestamptz IS NULL OR e.at >= $1) AND ($2::text IS NULL OR e.kind = $2)
  AND ($3::text IS NULL OR e.sensor_id = $3)
ORDER BY e.at DESC, e.id DESC
LIMIT $4
"""


def _minutes_since(last: datetime | None, now: datetime) -> int | None:
    return int((now - last).total_seconds() // 60) if last is not None else None


def _feature(r: asyncpg.Record) -> dict[str, Any]:
    props = {
        "sensor_id": r["sensor_id"],
        "name": r["name"],
        "vendor": r["vendor"],
        "sensor_type": r["sensor_type"],
        "city_code": r["city_code"],
        "state": r["state"],
        "since": iso(r["since"]),
        "since_jst": jst(r["since"]),
        "last_seen": iso(r["last_seen"]),
        "last_seen_jst": jst(r["last_seen"]),
        "level_cm": r["level_cm"] if r["state"] != "unknown" else None,
        "battery_v": r["battery_v"],
        "heartbeat_minutes": r["heartbeat_minutes"],
        "silent_minutes": _minutes_since(r["last_seen"], r["now"]),
        "sample": r["sample"],
    }
    return {
        "type": "Feature",
        "id": r["sensor_id"],
        "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
        "properties": props,
    }


async def _sources(rt: Runtime, ids: set[int]) -> list[dict[str, Any]]:
    by_id, _ = await rt.catalog.sources()
    return [by_id[i] for i in sorted(ids) if i in by_id]


async def current(rt: Runtime) -> tuple[bytes, str]:
    """GET /sensors: the FeatureCollection and a strong ETag (a digest of everything but generated_at)."""
    async with rt.public_conn() as conn:
        rows = await conn.fetch(SENSORS_SQL)
        rules = await conn.fetchrow(PUBLIC_RULES_SQL)
    features = [_feature(r) for r in rows]
    counts = dict.fromkeys(STATES, 0)
    for f in features:
        counts[f["properties"]["state"]] = counts.get(f["properties"]["state"], 0) + 1
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": features,
        "counts": counts,
        "rules": {
            "wet_minutes": rules["wet_minutes"] if rules else 10,
            "silence_factor": float(rules["silence_factor"]) if rules else 2.0,
        },
        "sources": await _sources(rt, {r["source_id"] for r in rows}),
        "sample": any(r["sample"] for r in rows),
    }
    digest = hashlib.blake2b(orjson.dumps(body), digest_size=12).hexdigest()
    now = rows[0]["now"] if rows else None
    if now is None:
        async with rt.public_conn() as conn:
            now = await conn.fetchval("SELECT now()")
    body = {"type": "FeatureCollection", "generated_at": iso(now), "generated_at_jst": jst(now), **body}
    return orjson.dumps(body), f'"sensors-{digest}"'


async def history(rt: Runtime, sensor_id: str, first: datetime, last: datetime) -> dict[str, Any]:
    """One sensor's observations per datastream from..to (half-open), with its current state."""
    async with rt.public_conn() as conn:
        thing = await conn.fetchrow(THING_SQL, sensor_id)
        if thing is None:
            raise NotFound(f"sensor_id: no sensor '{sensor_id[:100]}' is registered")
        rows = await conn.fetch(HISTORY_SQL, thing["id"], first, last)
    streams: dict[int, dict[str, Any]] = {}
    for r in rows:
        ds = streams.setdefault(
            r["id"], {"id": r["id"], "kind": r["kind"], "name": r["name"], "unit": r["unit_symbol"], "observations": []}
        )
        if r["phenomenon_time"] is not None:
            ds["observations"].append(
                {
                    "phenomenon_time": iso(r["phenomenon_time"]),
                    "phenomenon_time_jst": jst(r["phenomenon_time"]),
                    "result": r["result"],
                }
            )
    return {
        "sensor_id": thing["sensor_id"],
        "name": thing["name"],
        "from": iso(first),
        "to": iso(last),
        "from_jst": jst(first),
        "to_jst": jst(last),
        "state": {
            "state": thing["state"],
            "since": iso(thing["since"]),
            "since_jst": jst(thing["since"]),
            "last_seen": iso(thing["last_seen"]),
            "last_seen_jst": jst(thing["last_seen"]),
            "level_cm": thing["level_cm"] if thing["state"] != "unknown" else None,
            "battery_v": thing["battery_v"],
            "rssi": thing["rssi"],
        },
        "datastreams": list(streams.values()),
    }


async def events(
    rt: Runtime, since: datetime | None, kind: str | None, sensor_id: str | None, limit: int
) -> dict[str, Any]:
    """The events, newest first."""
    async with rt.public_conn() as conn:
        rows = await conn.fetch(EVENTS_SQL, since, kind, sensor_id, limit)
    return {
        "since": iso(since),
        "kind": kind,
        "sensor_id": sensor_id,
        "events": [event_json(dict(r), r["name"]) for r in rows],
    }


async def rules(conn: asyncpg.Connection) -> dict[str, Any]:
    """Every rule, the webhook's address included (staff only)."""
    row = await conn.fetchrow(RULES_SQL.replace(" FROM", ", updated_at FROM"))
    out = dict(row) if row else {}
    if "silence_factor" in out:
        out["silence_factor"] = float(out["silence_factor"])
    if "updated_at" in out:
        out["updated_at"] = iso(out["updated_at"])
    return out


# rule → (lowest, highest) allowed; the table's CHECK constraints say the same.
LIMITS: dict[str, tuple[float, float]] = {
    "wet_minutes": (1, 1440),
    "silence_factor": (1, 100),
    "max_future_minutes": (0, 1440),
    "max_past_days": (1, 3660),
}


async def set_rules(conn: asyncpg.Connection, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some rules (400 naming a bad one); returns every rule as now stored."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "webhook_url":
            values[name] = check_url(value)
            continue
        if name not in LIMITS:
            raise InvalidParameter(f"{name[:40]}: not a rule; use {', '.join([*LIMITS, 'webhook_url'])}")
        lo, hi = LIMITS[name]
        whole = name != "silence_factor"
        if isinstance(value, bool) or not isinstance(value, int | float) or (whole and value != int(value)):
            raise InvalidParameter(f"{name}: {'an integer' if whole else 'a number'} from {lo:g} to {hi:g} is required")
        if not lo <= value <= hi:
            raise InvalidParameter(f"{name}: must be from {lo:g} to {hi:g} (got {value:g})")
        values[name] = int(value) if whole else Decimal(str(value))
    if not values:
        raise InvalidParameter(f"body: give at least one of {', '.join([*LIMITS, 'webhook_url'])}")
    sets = ", ".join(f"{n} = ${i + 1}" for i, n in enumerate(values))
    async with conn.transaction():
        await conn.execute("INSERT INTO sensor_rules (id) VALUES (1) ON CONFLICT (id) DO NOTHING")
        await conn.execute(f"UPDATE sensor_rules SET {sets}, updated_at = now() WHERE id = 1", *values.values())
    return await rules(conn)
