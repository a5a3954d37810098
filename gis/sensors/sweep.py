"""Silence and storage upkeep: the sweeper issues ONE `silent` event per sensor that went quiet, and keeps the
observations' monthly partitions made ahead.

Every API worker runs it (gis/sensors/jobs.py), and `gis sensors sweep` runs it from cron; any number may run at
once. A sensor is claimed with `FOR UPDATE SKIP LOCKED` and flagged by a conditional UPDATE (`NOT silent`) in the
same statement that inserts its event, so two sweepers never both issue it; a reading that arrives meanwhile
holds the row lock (ingest locks state rows first) and is simply skipped this round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from gis.sensors.events import event_json
from gis.sensors.ingest import load_rules

SWEEP_SQL = """
WITH due AS (
  SELECT s.thing_id, t.heartbeat_minutes
  FROM sensor_state s JOIN inundation_sensors t ON t.id = s.thing_id
  WHERE NOT s.silent AND s.last_seen IS NOT NULL
    AND s.last_seen < $1::timestamptz - sensor_silence_after(t.heartbeat_minutes)
  ORDER BY s.thing_id
  FOR UPDATE OF s SKIP LOCKED
), gone AS (
  UPDATE sensor_state s SET silent = true, updated_at = $1::timestamptz
  FROM due WHERE s.thing_id = due.thing_id AND NOT s.silent
  RETURNING s.thing_id, s.sensor_id, s.last_seen, due.heartbeat_minutes
)
INSERT INTO sensor_events (thing_id, sensor_id, kind, at, detail, delivery, next_attempt_at)
SELECT g.thing_id, g.sensor_id, 'silent', g.last_seen + sensor_silence_after(g.heartbeat_minutes),
       jsonb_build_object(
         'last_seen', to_char(g.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
         'heartbeat_minutes', g.heartbeat_minutes, 'found_by', 'sweeper'),
       CASE WHEN $2 THEN 'pending' ELSE 'none' END, $1
FROM gone g
RETURNING id, thing_id, sensor_id, kind, at, detail
"""
NAMES_SQL = "SELECT id, name FROM inundation_sensors WHERE id = ANY($1::bigint[])"
PARTITIONS_SQL = "SELECT sensor_observations_prepare($1, $2)"
AHEAD = timedelta(days=40)  # next month's partition exists well before the month starts


@dataclass
class SweepResult:
    """Sensors found silent (their events) and partitions made."""

    events: list[dict[str, Any]] = field(default_factory=list)
    partitions: int = 0

    def lines(self) -> list[str]:
        """What `gis sensors sweep` prints."""
        out = [f"silent: {len(self.events)}", f"partitions made: {self.partitions}"]
        out += [f"  {e['sensor_id']} {e['name'] or ''} 最終受信から途絶 ({e['at_jst']} JST)" for e in self.events]
        return out


async def with_names(conn: asyncpg.Connection, rows: list[Any]) -> list[dict[str, Any]]:
    """Events as served, with the sensor's name."""
    names = {r["id"]: r["name"] for r in await conn.fetch(NAMES_SQL, [r["thing_id"] for r in rows])} if rows else {}
    return [event_json(dict(r), names.get(r["thing_id"])) for r in rows]


async def sweep(conn: asyncpg.Connection, *, now: datetime | None = None, partitions: bool = True) -> SweepResult:
    """Flag every sensor silent for longer than heartbeat × silence_factor (one event each); make partitions."""
    now = now or datetime.now(UTC)
    rules = await load_rules(conn)
    async with conn.transaction():
        rows = await conn.fetch(SWEEP_SQL, now, bool(rules.webhook_url))
    result = SweepResult(await with_names(conn, rows))
    if partitions:
        # Months from the ingest window's start to next month; older readings are refused, later ones wait in
        # the DEFAULT partition until their month is made (and are moved then).
        result.partitions = await conn.fetchval(PARTITIONS_SQL, now - timedelta(days=rules.max_past_days), now + AHEAD)
    return result
