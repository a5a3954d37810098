"""The rules of a sensor's state (DOMAIN.md §8), as one pure function over its new readings.

- Wet starts `wet_since`; wet for at least `wet_minutes` (measured between readings, so never on one sample) makes
  the sensor `flooded` and issues a `flooded` event. Before that it is `wet`.
- A dry reading after `flooded` issues `receded`; any dry reading makes the sensor `dry` again.
- Readings older than the latest one seen are stored but never move the state backwards (`last_seen` only grows).
- A message after a `silent` event issues `back`. A gap between two messages longer than heartbeat × silence_factor
  is a silence even when no sweeper saw it: `silent` (at the end of the allowed gap) and `back` are issued then.
- Events are one per transition: `flooded`, `receded`, `silent`, `back`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from gis.sensors.events import iso

DEFAULT_HEARTBEAT = 60  # minutes, for a sensor without a declared interval (sensor_silence_after does the same)
_FLOAT_CM = re.compile(r"([0-9]{1,3})\s*cm")


@dataclass(frozen=True)
class Rules:
    """The one row of sensor_rules."""

    wet_minutes: int = 10
    silence_factor: float = 2.0
    max_future_minutes: int = 10
    max_past_days: int = 30
    webhook_url: str | None = None

    def silence_after(self, heartbeat_minutes: int | None) -> timedelta:
        """How long a sensor may stay quiet before it is `unknown`."""
        return timedelta(minutes=(heartbeat_minutes or DEFAULT_HEARTBEAT) * self.silence_factor)


RULES_SQL = (
    "SELECT wet_minutes, silence_factor, max_future_minutes, max_past_days, webhook_url FROM sensor_rules WHERE id = 1"
)


def rules_of(row: Any) -> Rules:
    """Rules from a sensor_rules row (the defaults when the row is missing)."""
    if row is None:
        return Rules()
    factor = row["silence_factor"]
    return Rules(
        wet_minutes=row["wet_minutes"],
        silence_factor=float(factor) if isinstance(factor, Decimal | int | float) else 2.0,
        max_future_minutes=row["max_future_minutes"],
        max_past_days=row["max_past_days"],
        webhook_url=row["webhook_url"],
    )


def float_level_cm(sensor_type: str | None) -> int | None:
    """The water level a float switch stands for (フロート式40cm → 40); None when the type does not say."""
    m = _FLOAT_CM.search(sensor_type or "")
    return int(m.group(1)) if m else None


@dataclass
class State:
    """A sensor_state row while it is advanced."""

    thing_id: int
    sensor_id: str
    state: str = "dry"
    since: datetime | None = None
    wet_since: datetime | None = None
    last_seen: datetime | None = None
    level_cm: int | None = None
    battery_v: float | None = None
    rssi: int | None = None
    silent: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, row: Any) -> State:
        """From a fetched sensor_state row."""
        names = ("state", "since", "wet_since", "last_seen", "level_cm", "battery_v", "rssi", "silent")
        return cls(row["thing_id"], row["sensor_id"], **{n: row[n] for n in names})

    def event(self, kind: str, at: datetime, **detail: Any) -> None:
        """Record a transition."""
        self.events.append({"kind": kind, "at": at, "detail": {k: v for k, v in detail.items() if v is not None}})


def _arrive(s: State, at: datetime, rules: Rules, heartbeat: int | None) -> None:
    """A message at `at` (not older than the last one): silence ends, or a gap nobody swept is recorded."""
    if s.silent:
        s.event("back", at, silent_since=iso(s.last_seen), gap_minutes=_minutes(s.last_seen, at))
        s.silent = False
    elif s.last_seen is not None and at - s.last_seen > rules.silence_after(heartbeat):
        gone = s.last_seen + rules.silence_after(heartbeat)
        s.event("silent", gone, last_seen=iso(s.last_seen), found_by="ingest")
        s.event("back", at, silent_since=iso(s.last_seen), gap_minutes=_minutes(s.last_seen, at))
    if s.since is None:
        s.since = at
    s.last_seen = at if s.last_seen is None else max(s.last_seen, at)


def _minutes(a: datetime | None, b: datetime) -> float | None:
    return round((b - a).total_seconds() / 60, 1) if a is not None else None


def _water(s: State, at: datetime, wet: bool, level: int | None, rules: Rules) -> None:
    s.level_cm = level
    if not wet:
        if s.state == "flooded":
            s.event("receded", at, flooded_since=iso(s.since), wet_since=iso(s.wet_since))
        if s.state != "dry":
            s.state, s.since = "dry", at
        s.wet_since = None
        return
    if s.state == "dry" or s.wet_since is None:
        s.wet_since = at
        if s.state == "dry":
            s.state, s.since = "wet", at
    if s.state == "wet" and at - s.wet_since >= timedelta(minutes=rules.wet_minutes):
        s.state, s.since = "flooded", at
        minutes = _minutes(s.wet_since, at)
        s.event("flooded", at, wet_since=iso(s.wet_since), wet_minutes=minutes, level_cm=level)


def advance(
    state: State,
    readings: list[tuple[datetime, str, float]],
    rules: Rules,
    *,
    heartbeat: int | None,
    float_cm: int | None,
) -> State:
    """The state after these newly stored readings (phenomenon time, kind, result), taken in time order."""
    s = replace(state, events=[])
    for at, kind, result in sorted(readings, key=lambda r: (r[0], r[1])):
        if s.last_seen is not None and at < s.last_seen:
            continue  # late: stored, but the state only moves forward
        _arrive(s, at, rules, heartbeat)
        if kind == "battery":
            s.battery_v = result
        elif kind == "rssi":
            s.rssi = round(result)
        elif kind == "depth":
            _water(s, at, result > 0, round(result), rules)
        else:
            wet = result > 0
            _water(s, at, wet, (float_cm if wet else 0), rules)
    return s
