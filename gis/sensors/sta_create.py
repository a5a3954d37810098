"""SensorThings create forms: `POST Observations` and the data-array `POST CreateObservations`.

Both become `Reading`s for `gis.sensors.ingest.ingest(conn, readings, provenance="sta")`, so idempotency on
(datastream, phenomenon time), validation and the state rules are those of `POST /sensors/observations`. A retry
of a stored observation answers with the stored one (see the README: 200 instead of 201, same Location).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from gis.errors import InvalidParameter, NotFound
from gis.ogc.limits import check_text, to_utc
from gis.sensors.ingest import Reading, ingest

PROVENANCE = "sta"
MAX_ROWS = 1000
OBSERVATION_KEYS = {"phenomenonTime", "resultTime", "result", "resultQuality", "Datastream"}
NOT_TAKEN = {
    "@iot.id": "ids are assigned by the service",
    "validTime": "validTime is not stored",
    "parameters": "parameters are set by the service (provenance)",
    "FeatureOfInterest": "the feature of interest is the Thing's location",
    "MultiDatastream": "MultiDatastreams are not served",
}
COMPONENTS = ("phenomenonTime", "result", "resultTime", "resultQuality")
GROUP_KEYS = {"Datastream", "components", "dataArray", "dataArray@iot.count"}
# ingest names the native fields (observations[i].phenomenon_time); an STA client sent these.
STA_FIELDS = {
    "phenomenon_time": "phenomenonTime",
    "result_time": "resultTime",
    "quality": "resultQuality",
    "datastream": "Datastream",
    "sensor_id": "Datastream",
}


@dataclass(frozen=True)
class Stream:
    """What a Datastream id means for ingest: the device's sensor id and the kind of reading."""

    id: int
    sensor_id: str
    kind: str


def instant(value: Any, name: str) -> datetime:
    """An RFC 3339 instant with an offset (intervals are refused: a reading happens at one instant)."""
    if not isinstance(value, str) or not value.isascii() or "/" in value:
        raise InvalidParameter(f"{name}: give one instant as text, e.g. 2026-12-02T05:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"{name}: '{value[:40]}' is not an RFC 3339 instant") from None
    if parsed.tzinfo is None:
        raise InvalidParameter(f"{name}: '{value[:40]}' needs an offset, e.g. Z or +09:00")
    return to_utc(parsed, name, value)


def result_number(kind: str, value: Any, name: str) -> float:
    """The stored result: wet/dry as true/false (or 1/0), the other kinds as finite numbers."""
    if kind == "wet":
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, int | float) and value in (0, 1):
            return float(value)
        raise InvalidParameter(f"{name}: a wet/dry Datastream takes true or false")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameter(f"{name}: a {kind} Datastream takes a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidParameter(f"{name}: must be a finite number")
    return number


def _quality(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"{name}: give the quality as text")
    check_text(value, name)
    return value


def _stream_id(value: Any, name: str) -> int:
    ident = value.get("@iot.id") if isinstance(value, dict) else None
    if isinstance(ident, bool) or not isinstance(ident, int) or not 0 < ident < 2**31:
        raise InvalidParameter(f'{name}: refer to an existing Datastream as {{"@iot.id": n}}')
    return ident


async def _streams(conn: asyncpg.Connection, wanted: dict[int, str]) -> dict[int, Stream]:
    """The Datastreams referred to (id → where it was named); 400 naming the first unknown one."""
    rows = await conn.fetch(
        "SELECT id, sensor_id, kind FROM sensor_datastreams WHERE id = ANY($1::int[])", list(wanted)
    )
    found = {r["id"]: Stream(r["id"], r["sensor_id"], r["kind"]) for r in rows}
    for ident, name in wanted.items():
        if ident not in found:
            raise InvalidParameter(f"{name}: no Datastream with @iot.id {ident}")
    return found


async def _ids(conn: asyncpg.Connection, keys: Sequence[tuple[int, datetime]]) -> list[int | None]:
    """The stored observation id of each (datastream, phenomenon time), None where nothing is stored."""
    rows = await conn.fetch(
        "SELECT x.i, o.id FROM unnest($1::int[], $2::timestamptz[]) WITH ORDINALITY AS x(ds, t, i) "
        "JOIN sensor_observations o ON o.datastream_id = x.ds AND o.phenomenon_time = x.t",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    by_position = {r["i"]: r["id"] for r in rows}
    return [by_position.get(i) for i in range(1, len(keys) + 1)]


async def create_observation(conn: asyncpg.Connection, body: Any, *, now: datetime | None = None) -> tuple[int, bool]:
    """Store one Observation; (its id, whether it is new). A retry finds the stored one (not new)."""
    if not isinstance(body, dict):
        raise InvalidParameter('body: an Observation object, e.g. {"phenomenonTime", "result", "Datastream"}')
    for key in body:
        if key in NOT_TAKEN:
            raise InvalidParameter(f"{key}: not accepted here ({NOT_TAKEN[key]})")
        if key not in OBSERVATION_KEYS:
            raise InvalidParameter(f"{key[:40]}: not a property of an Observation")
    ident = _stream_id(body.get("Datastream"), "Datastream")
    stream = (await _streams(conn, {ident: "Datastream"}))[ident]
    if "result" not in body:
        raise InvalidParameter("result: required")
    # Without a phenomenonTime the spec uses the server's time (such a reading cannot be retried idempotently).
    at = instant(body["phenomenonTime"], "phenomenonTime") if "phenomenonTime" in body else now or datetime.now(UTC)
    result_time = body.get("resultTime")
    reading = Reading(
        sensor_id=stream.sensor_id,
        kind=stream.kind,
        phenomenon_time=at,
        result=result_number(stream.kind, body["result"], "result"),
        result_time=None if result_time is None else instant(result_time, "resultTime"),
        quality=_quality(body.get("resultQuality"), "resultQuality"),
    )
    try:
        outcome = await ingest(conn, [reading], PROVENANCE, now=now)
    except (InvalidParameter, NotFound) as e:
        m = re.match(r"observations\[[0-9]+\]\.(\w+): (.*)", e.description, re.S)
        if m is None:
            raise InvalidParameter(e.description) from None
        raise InvalidParameter(f"{STA_FIELDS.get(m.group(1), m.group(1))}: {m.group(2)}") from None
    (oid,) = await _ids(conn, [(ident, at)])
    if oid is None:  # not stored and not there: ingest refused it without saying why
        raise InvalidParameter("phenomenonTime: the observation was not stored")
    return oid, outcome.stored > 0


def _group(group: Any, where: str) -> tuple[int, list[str], list[Any]]:
    if not isinstance(group, dict):
        raise InvalidParameter(f"{where}: an object with Datastream, components and dataArray")
    for key in group:
        if key not in GROUP_KEYS:
            raise InvalidParameter(
                f"{where}.{key[:40]}: not part of a data array (use {', '.join(sorted(GROUP_KEYS))})"
            )
    ident = _stream_id(group.get("Datastream"), f"{where}.Datastream")
    components = group.get("components")
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        raise InvalidParameter(f'{where}.components: a list of names, e.g. ["phenomenonTime", "result"]')
    for c in components:
        if c not in COMPONENTS:
            raise InvalidParameter(f"{where}.components: '{c[:40]}' is not taken here (use {', '.join(COMPONENTS)})")
    if len(set(components)) != len(components) or not {"phenomenonTime", "result"} <= set(components):
        raise InvalidParameter(f"{where}.components: phenomenonTime and result, each once, are required")
    rows = group.get("dataArray")
    if not isinstance(rows, list):
        raise InvalidParameter(f"{where}.dataArray: a list of rows")
    declared = group.get("dataArray@iot.count")
    if declared is not None and declared != len(rows):
        raise InvalidParameter(f"{where}.dataArray@iot.count: says {declared} but dataArray has {len(rows)} rows")
    return ident, components, rows


def _reading(stream: Stream, components: list[str], row: Any, where: str) -> Reading:
    if not isinstance(row, list) or len(row) != len(components):
        raise InvalidParameter(f"{where}: a row of {len(components)} values")
    values = dict(zip(components, row, strict=True))
    result_time = values.get("resultTime")
    return Reading(
        sensor_id=stream.sensor_id,
        kind=stream.kind,
        phenomenon_time=instant(values["phenomenonTime"], f"{where}.phenomenonTime"),
        result=result_number(stream.kind, values["result"], f"{where}.result"),
        result_time=None if result_time is None else instant(result_time, f"{where}.resultTime"),
        quality=_quality(values.get("resultQuality"), f"{where}.resultQuality"),
    )


async def create_observations(conn: asyncpg.Connection, body: Any, *, now: datetime | None = None) -> list[int | None]:
    """Store data arrays; per row the stored observation's id, or None for a row refused ("error" on the wire)."""
    if not isinstance(body, list) or not body:
        raise InvalidParameter("body: a non-empty array of {Datastream, components, dataArray}")
    groups = [_group(g, f"body[{i}]") for i, g in enumerate(body)]
    total = sum(len(rows) for _, _, rows in groups)
    if total > MAX_ROWS:
        raise InvalidParameter(f"body: {total} observations; send at most {MAX_ROWS} per request")
    streams = await _streams(conn, {ident: f"body[{i}].Datastream" for i, (ident, _, _) in enumerate(groups)})
    slots: list[tuple[int, Reading] | None] = []
    for i, (ident, components, rows) in enumerate(groups):
        for j, row in enumerate(rows):
            try:
                slots.append((ident, _reading(streams[ident], components, row, f"body[{i}].dataArray[{j}]")))
            except InvalidParameter:
                slots.append(None)
    good = [s for s in slots if s is not None]
    if good:
        try:
            await ingest(conn, [r for _, r in good], PROVENANCE, now=now)
        except (InvalidParameter, NotFound):
            # One row the rules refuse (too old, in the future...) must not cost the others: one by one.
            for k, (_, reading) in enumerate(good):
                try:
                    await ingest(conn, [reading], PROVENANCE, now=now)
                except (InvalidParameter, NotFound):
                    good[k] = (-1, reading)  # no datastream -1: found nowhere, answered "error"
    keys = [(ident, reading.phenomenon_time) for ident, reading in good]
    ids = iter(await _ids(conn, keys) if keys else [])
    return [None if s is None else next(ids) for s in slots]
