"""The SensorThings entity sets served here: their SQL, properties, navigation and JSON.

Things and Locations are the rows of the `inundation_sensors` layer (the same `@iot.id`); Datastreams and
Observations are `sensor_datastreams` and `sensor_observations`. A Thing's state is `sensor_state_now(...)`, so a
silent sensor is `unknown`, never `dry`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from gis.sensors.sta_filter import Prop

OBSERVATION_SQL = (
    "o.id, o.datastream_id, d.kind, o.phenomenon_time, o.result_time, o.result, o.quality, o.provenance",
    "sensor_observations o JOIN sensor_datastreams d ON d.id = o.datastream_id",
)


@dataclass(frozen=True)
class Nav:
    """A navigation property: its target set; for a collection the SQL (on the target) of the parent's id, for a
    single entity the column of the parent's row holding the target's id and the SQL that looks it up."""

    target: str
    many: bool
    key: str
    lookup: str = ""


@dataclass(frozen=True)
class EntitySet:
    """One entity set: SELECT list, FROM clause, id, properties for $filter/$orderby, navigation, JSON."""

    name: str
    select: str
    source: str
    id_sql: str
    props: dict[str, Prop]
    navs: dict[str, Nav]
    fields: tuple[str, ...]
    render: Callable[[Mapping[str, Any]], dict[str, Any]]
    unique: frozenset[str] = field(default_factory=lambda: frozenset({"id"}))


def when(value: datetime | None) -> str | None:
    """An instant as RFC 3339 in UTC (`+00:00`), or None."""
    return value.isoformat() if value is not None else None


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _thing(r: Mapping[str, Any]) -> dict[str, Any]:
    kind = r["sensor_type"] or "浸水センサ"
    return {
        "name": r["name"],
        "description": f"浸水センサ {r['sensor_id']}（{kind}）",
        "properties": {
            "sensor_id": r["sensor_id"],
            "vendor": r["vendor"],
            "sensor_type": r["sensor_type"],
            "heartbeat_minutes": r["heartbeat_minutes"],
            "city_code": r["city_code"],
            "sample": r["sample"],
            "state": r["state"],
            "last_seen": when(r["last_seen"]),
        },
    }


def _location(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": r["name"],
        "description": f"{r['name']} の設置点（{r['sensor_id']}）",
        "encodingType": "application/geo+json",
        "location": orjson.loads(r["geojson"]) if r["geojson"] else None,
    }


def _datastream(r: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        "name": r["name"],
        "description": r["description"],
        "observationType": r["observation_type"],
        "unitOfMeasurement": {
            "name": r["unit_name"],
            "symbol": r["unit_symbol"],
            "definition": r["unit_definition"],
        },
        "properties": {"sensor_id": r["sensor_id"], "kind": r["kind"], "observedProperty": r["observed_property"]},
    }
    if r["first_time"] is not None:
        out["phenomenonTime"] = f"{when(r['first_time'])}/{when(r['last_time'])}"
    return out


def result_value(kind: str, result: float) -> bool | float | int:
    """The JSON result of a stored reading: wet → boolean, the measured kinds → number."""
    return result >= 0.5 if kind == "wet" else _number(result)


def _observation(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "phenomenonTime": when(r["phenomenon_time"]),
        "resultTime": when(r["result_time"]),
        "result": result_value(r["kind"], r["result"]),
        "resultQuality": r["quality"],
        "parameters": {"provenance": r["provenance"]},
    }


def _common(prefix: str) -> dict[str, Prop]:
    return {
        "id": Prop(f"{prefix}.id", "int"),
        "@iot.id": Prop(f"{prefix}.id", "int"),
        "name": Prop(f"{prefix}.name", "text", nullable=True),
    }


STATE_SQL = "sensor_state_now(s.state, s.last_seen, t.heartbeat_minutes)"
SETS: dict[str, EntitySet] = {
    "Things": EntitySet(
        name="Things",
        select=(
            "t.id, t.name, t.sensor_id, t.vendor, t.sensor_type, t.heartbeat_minutes, t.city_code, t.sample, "
            f"{STATE_SQL} AS state, s.last_seen"
        ),
        source="inundation_sensors t LEFT JOIN sensor_state s ON s.thing_id = t.id",
        id_sql="t.id",
        props={
            **_common("t"),
            "properties/sensor_id": Prop("t.sensor_id", "text"),
            "properties/vendor": Prop("t.vendor", "text", nullable=True),
            "properties/sensor_type": Prop("t.sensor_type", "text", nullable=True),
            "properties/city_code": Prop("t.city_code", "text"),
            "properties/heartbeat_minutes": Prop("t.heartbeat_minutes", "int", nullable=True),
            "properties/sample": Prop("t.sample", "bool"),
            "properties/state": Prop(STATE_SQL, "text"),
            "properties/last_seen": Prop("s.last_seen", "time", nullable=True),
        },
        navs={"Datastreams": Nav("Datastreams", True, "d.thing_id"), "Locations": Nav("Locations", True, "t.id")},
        fields=("name", "description", "properties"),
        render=_thing,
    ),
    "Locations": EntitySet(
        name="Locations",
        select="t.id, t.name, t.sensor_id, ST_AsGeoJSON(ST_Transform(t.geom, 4326), 7) AS geojson",
        source="inundation_sensors t",
        id_sql="t.id",
        props=_common("t"),
        navs={"Things": Nav("Things", True, "t.id")},
        fields=("name", "description", "encodingType", "location"),
        render=_location,
    ),
    "Datastreams": EntitySet(
        name="Datastreams",
        select=(
            "d.id, d.thing_id, d.sensor_id, d.kind, d.name, d.description, d.observation_type, "
            "d.observed_property, d.unit_name, d.unit_symbol, d.unit_definition, "
            # min/max per datastream: two probes of the primary key (datastream_id, phenomenon_time)
            "(SELECT min(m.phenomenon_time) FROM sensor_observations m WHERE m.datastream_id = d.id) AS first_time, "
            "(SELECT max(m.phenomenon_time) FROM sensor_observations m WHERE m.datastream_id = d.id) AS last_time"
        ),
        source="sensor_datastreams d",
        id_sql="d.id",
        props={
            **_common("d"),
            "description": Prop("d.description", "text", nullable=True),
            "observationType": Prop("d.observation_type", "text", nullable=True),
            "unitOfMeasurement/name": Prop("d.unit_name", "text", nullable=True),
            "unitOfMeasurement/symbol": Prop("d.unit_symbol", "text", nullable=True),
            "properties/kind": Prop("d.kind", "text"),
            "properties/sensor_id": Prop("d.sensor_id", "text"),
            "Thing/id": Prop("d.thing_id", "int"),
            "Thing/@iot.id": Prop("d.thing_id", "int"),
        },
        navs={
            "Thing": Nav("Things", False, "thing_id", "(SELECT thing_id FROM sensor_datastreams WHERE id = {p})"),
            "Observations": Nav("Observations", True, "o.datastream_id"),
        },
        fields=("name", "description", "observationType", "unitOfMeasurement", "phenomenonTime", "properties"),
        render=_datastream,
    ),
    "Observations": EntitySet(
        name="Observations",
        select=OBSERVATION_SQL[0],
        source=OBSERVATION_SQL[1],
        id_sql="o.id",
        props={
            "id": Prop("o.id", "int"),
            "@iot.id": Prop("o.id", "int"),
            "phenomenonTime": Prop("o.phenomenon_time", "time"),
            "resultTime": Prop("o.result_time", "time", nullable=True),
            "result": Prop("o.result", "result", guard="d.kind"),
            "resultQuality": Prop("o.quality", "text", nullable=True),
            "parameters/provenance": Prop("o.provenance", "text", nullable=True),
            "Datastream/id": Prop("o.datastream_id", "int"),
            "Datastream/@iot.id": Prop("o.datastream_id", "int"),
        },
        navs={
            "Datastream": Nav(
                "Datastreams", False, "datastream_id", "(SELECT datastream_id FROM sensor_observations WHERE id = {p})"
            )
        },
        fields=("phenomenonTime", "resultTime", "result", "resultQuality", "parameters"),
        render=_observation,
    ),
}
# Within one datastream the phenomenon time is unique (the primary key): no tie-break needed after it.
IN_DATASTREAM_UNIQUE = frozenset({"id", "phenomenonTime"})


def entity_json(es: EntitySet, row: Mapping[str, Any], root: str, select: tuple[str, ...] | None) -> dict[str, Any]:
    """One entity: @iot.id, @iot.selfLink, its properties and navigation links (only the selected ones)."""
    link = f"{root}/{es.name}({row['id']})"
    out: dict[str, Any] = {}
    if select is None or "id" in select:
        out["@iot.id"] = row["id"]
        out["@iot.selfLink"] = link
    body = es.render(row)
    for name in es.fields:
        if name in body and (select is None or name in select):
            out[name] = body[name]
    for nav in es.navs:
        if select is None or nav in select:
            out[f"{nav}@iot.navigationLink"] = f"{link}/{nav}"
    return out
