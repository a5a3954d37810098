"""Idempotent ingest: validate a whole batch, store it once, advance every sensor's state in the same transaction.

The idempotency key is (datastream, phenomenon time), the observations' primary key: a retried or duplicated
reading is skipped by `ON CONFLICT DO NOTHING` and counted as a duplicate. Only the readings this call really
stored advance the state (gis/sensors/rules.py), so a retry can never issue an event twice. The state rows of the
batch's sensors are locked first, in id order: concurrent batches of one sensor take turns, and never deadlock.
Events are only inserted here (the webhook outbox); delivery happens elsewhere and never blocks ingest.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from gis.errors import InvalidParameter, NotFound
from gis.sensors.events import event_json
from gis.sensors.rules import RULES_SQL, Rules, State, advance, float_level_cm, rules_of
from gis.sensors.tables import KINDS

MAX_BATCH = 1000
MAX_TEXT = 200
DEPTH_STEPS = (0.0, 10.0, 20.0, 30.0, 40.0)  # cm: step sensors (10/20/30) and float switches (10/40)
RANGES = {"battery": (0.0, 10.0, "V"), "rssi": (-150.0, 0.0, "dBm")}

STREAMS_SQL = """
SELECT t.id AS thing_id, t.sensor_id, t.name, t.sensor_type, t.heartbeat_minutes, d.kind, d.id AS datastream_id
FROM inundation_sensors t JOIN sensor_datastreams d ON d.thing_id = t.id
WHERE t.sensor_id = ANY($1::text[])
"""
LOCK_SQL = "SELECT * FROM sensor_state WHERE thing_id = ANY($1::bigint[]) ORDER BY thing_id FOR UPDATE"
INSERT_SQL = """
INSERT INTO sensor_observations (datastream_id, phenomenon_time, result_time, result, quality, provenance)
SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::timestamptz[], $4::float8[], $5::text[], $6::text[])
ON CONFLICT (datastream_id, phenomenon_time) DO NOTHING
RETURNING datastream_id, phenomenon_time
"""
UPDATE_SQL = """
UPDATE sensor_state s SET state = u.state, since = u.since, wet_since = u.wet_since, last_seen = u.last_seen,
  level_cm = u.level_cm, battery_v = u.battery_v, rssi = u.rssi, silent = u.silent, updated_at = $10
FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::int[],
            $7::float8[], $8::int[], $9::bool[])
  AS u(thing_id, state, since, wet_since, last_seen, level_cm, battery_v, rssi, silent)
WHERE s.thing_id = u.thing_id
"""
EVENTS_SQL = """
INSERT INTO sensor_events (thing_id, sensor_id, kind, at, detail, delivery, next_attempt_at)
SELECT e.thing_id, e.sensor_id, e.kind, e.at, e.detail::jsonb, CASE WHEN $6 THEN 'pending' ELSE 'none' END, $7
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
  AS e(thing_id, sensor_id, kind, at, detail)
RETURNING id, thing_id, sensor_id, kind, at, detail
"""


@dataclass(frozen=True)
class Reading:
    """One observation of one datastream (kind) of one sensor."""

    sensor_id: str
    kind: str
    phenomenon_time: datetime
    result: float
    result_time: datetime | None = None
    quality: str | None = None


@dataclass
class IngestResult:
    """What a batch did: received, stored, duplicates (already stored or repeated in the batch), new events."""

    received: int
    stored: int
    duplicates: int
    events: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        """The HTTP answer."""
        return {"received": self.received, "stored": self.stored, "duplicates": self.duplicates, "events": self.events}


@dataclass
class _Sensor:
    thing_id: int
    name: str
    sensor_type: str | None
    heartbeat: int | None
    streams: dict[str, int] = field(default_factory=dict)


def _aware(value: datetime | None, where: str, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidParameter(f"{where}.{name}: a date-time with a UTC offset is required (e.g. 2026-12-02T05:05:00Z)")
    return value.astimezone(UTC)


def _result(r: Reading, where: str) -> float:
    value = r.result
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameter(f"{where}.result: a finite number is required")
    value = float(value)
    if r.kind == "wet" and value not in (0.0, 1.0):
        raise InvalidParameter(f"{where}.result: wet is 1 (wet) or 0 (dry), or true/false; got {value:g}")
    if r.kind == "depth" and value not in DEPTH_STEPS:
        raise InvalidParameter(f"{where}.result: depth is a step in cm, one of 0, 10, 20, 30, 40; got {value:g}")
    if r.kind in RANGES:
        lo, hi, unit = RANGES[r.kind]
        if not lo <= value <= hi:
            raise InvalidParameter(f"{where}.result: {r.kind} must be between {lo:g} and {hi:g} {unit}; got {value:g}")
    return value


def _text(value: str | None, where: str, name: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > MAX_TEXT or any(ch < " " for ch in value):
        raise InvalidParameter(f"{where}.{name}: text of at most {MAX_TEXT} printable characters")


def validate(readings: list[Reading], rules: Rules, now: datetime) -> list[Reading]:
    """Every reading checked (400 naming observations[i].field); times normalised to UTC."""
    if not 1 <= len(readings) <= MAX_BATCH:
        raise InvalidParameter(f"observations: give 1 to {MAX_BATCH} observations per request (got {len(readings)})")
    earliest = now - timedelta(days=rules.max_past_days)
    latest = now + timedelta(minutes=rules.max_future_minutes)
    out = []
    for i, r in enumerate(readings):
        where = f"observations[{i}]"
        if not isinstance(r.sensor_id, str) or not r.sensor_id.strip():
            raise InvalidParameter(f"{where}.sensor_id: required (the device's id, e.g. S-41206-003)")
        _text(r.sensor_id, where, "sensor_id")
        if r.kind not in KINDS:
            raise InvalidParameter(f"{where}.datastream: '{str(r.kind)[:40]}' is not one of {', '.join(KINDS)}")
        at = _aware(r.phenomenon_time, where, "phenomenon_time")
        if at is None:
            raise InvalidParameter(f"{where}.phenomenon_time: required")
        if at > latest:
            raise InvalidParameter(
                f"{where}.phenomenon_time: {at.isoformat()} is more than {rules.max_future_minutes} minutes ahead of "
                "the server's clock (check the device's clock)"
            )
        if at < earliest:
            raise InvalidParameter(
                f"{where}.phenomenon_time: {at.isoformat()} is more than {rules.max_past_days} days in the past"
            )
        _text(r.quality, where, "quality")
        result_time = _aware(r.result_time, where, "result_time")
        out.append(Reading(r.sensor_id, r.kind, at, _result(r, where), result_time, r.quality))
    return out


async def _sensors(conn: asyncpg.Connection, readings: list[Reading]) -> dict[str, _Sensor]:
    """The sensors the batch names with their datastreams; 404 for an unknown one, 400 for a missing datastream."""
    found: dict[str, _Sensor] = {}
    for row in await conn.fetch(STREAMS_SQL, sorted({r.sensor_id for r in readings})):
        s = found.get(row["sensor_id"])
        if s is not None and s.thing_id != row["thing_id"]:
            raise InvalidParameter(f"sensor_id: '{row['sensor_id']}' names two installations; fix the sensor register")
        s = s or _Sensor(row["thing_id"], row["name"], row["sensor_type"], row["heartbeat_minutes"])
        s.streams[row["kind"]] = row["datastream_id"]
        found[row["sensor_id"]] = s
    for i, r in enumerate(readings):
        s = found.get(r.sensor_id)
        if s is None:
            raise NotFound(f"observations[{i}].sensor_id: no sensor '{r.sensor_id[:100]}' is registered")
        if r.kind not in s.streams:
            raise InvalidParameter(
                f"observations[{i}].datastream: sensor {r.sensor_id} has no '{r.kind}' datastream "
                f"(it has {', '.join(sorted(s.streams))})"
            )
    return found


async def load_rules(conn: asyncpg.Connection) -> Rules:
    """The current rules."""
    return rules_of(await conn.fetchrow(RULES_SQL))


async def ingest(
    conn: asyncpg.Connection, readings: list[Reading], provenance: str, *, now: datetime | None = None
) -> IngestResult:
    """Validate the whole batch, then in one transaction store it (duplicates skipped), advance states, add events."""
    now = now or datetime.now(UTC)
    rules = await load_rules(conn)
    checked = validate(readings, rules, now)
    sensors = await _sensors(conn, checked)
    unique: dict[tuple[int, datetime], Reading] = {}
    for r in checked:
        unique.setdefault((sensors[r.sensor_id].streams[r.kind], r.phenomenon_time), r)
    keys = list(unique)
    async with conn.transaction():
        locked = await conn.fetch(LOCK_SQL, sorted({s.thing_id for s in sensors.values()}))
        stored = await conn.fetch(
            INSERT_SQL,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [unique[k].result_time for k in keys],
            [unique[k].result for k in keys],
            [unique[k].quality for k in keys],
            [provenance] * len(keys),
        )
        new: dict[int, list[tuple[datetime, str, float]]] = {}
        by_thing = {s.thing_id: s for s in sensors.values()}
        for row in stored:
            r = unique[(row["datastream_id"], row["phenomenon_time"])]
            new.setdefault(sensors[r.sensor_id].thing_id, []).append((r.phenomenon_time, r.kind, r.result))
        states = [
            advance(
                State.of(row),
                new[row["thing_id"]],
                rules,
                heartbeat=by_thing[row["thing_id"]].heartbeat,
                float_cm=float_level_cm(by_thing[row["thing_id"]].sensor_type),
            )
            for row in locked
            if row["thing_id"] in new
        ]
        await _save(conn, states, now)
        events = await _events(conn, states, rules, now, {t: s.name for t, s in by_thing.items()})
    return IngestResult(len(readings), len(stored), len(readings) - len(stored), events)


async def _save(conn: asyncpg.Connection, states: list[State], now: datetime) -> None:
    if not states:
        return
    names = ("thing_id", "state", "since", "wet_since", "last_seen", "level_cm", "battery_v", "rssi", "silent")
    await conn.execute(UPDATE_SQL, *([getattr(s, n) for s in states] for n in names), now)


async def _events(
    conn: asyncpg.Connection, states: list[State], rules: Rules, now: datetime, names: dict[int, str]
) -> list[dict[str, Any]]:
    """Insert the transitions (pending delivery when a webhook is configured) and return them as served."""
    rows = [(s.thing_id, s.sensor_id, e) for s in states for e in s.events]
    if not rows:
        return []
    inserted = await conn.fetch(
        EVENTS_SQL,
        [t for t, _, _ in rows],
        [sid for _, sid, _ in rows],
        [e["kind"] for _, _, e in rows],
        [e["at"] for _, _, e in rows],
        [json.dumps(e["detail"], ensure_ascii=False) for _, _, e in rows],
        bool(rules.webhook_url),
        now,
    )
    return [event_json(dict(r), names.get(r["thing_id"])) for r in inserted]
