"""OGC SensorThings API v1.1 (/sta/v1.1): reads with expected JSON, navigation, paging, $filter and refusals, the
latest observation per datastream through the primary key, the create forms, and a real STA client."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import create_app
from gis.db.tokens import create_token
from gis.settings import Settings
from tests.conftest import Cluster, _free_port, make_client

R = "/sta/v1.1"
T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
LATEST = "Datastreams/Observations($top=1;$orderby=phenomenonTime desc)"
_dbs = itertools.count()


def _iso(t: datetime) -> str:
    return t.isoformat()


def seed(url: str) -> dict[str, Any]:
    """Own the sensor tables of this database: Things A, B, C with datastreams, observations and states."""
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE sensor_observations, sensor_state, sensor_events")
        conn.execute("DELETE FROM sensor_datastreams")
        a, b, c = (r[0] for r in conn.execute("SELECT id FROM inundation_sensors ORDER BY id LIMIT 3"))
        ds: dict[str, int] = {}
        for thing, kinds in ((a, ("wet", "depth", "battery", "rssi")), (b, ("wet", "depth"))):
            for kind, otype, prop, unit in (
                ("wet", "OM_TruthObservation", "浸水有無", (None, None, None)),
                (
                    "depth",
                    "OM_CategoryObservation",
                    "浸水深区分",
                    ("centimetre", "cm", "http://qudt.org/vocab/unit/CentiM"),
                ),
                ("battery", "OM_Measurement", "電池電圧", ("volt", "V", "http://qudt.org/vocab/unit/V")),
                (
                    "rssi",
                    "OM_Measurement",
                    "電波強度",
                    ("decibel milliwatt", "dBm", "http://qudt.org/vocab/unit/DeciB_M"),
                ),
            ):
                if kind not in kinds:
                    continue
                om = f"http://www.opengis.net/def/observationType/OGC-OM/2.0/{otype}"
                ds[f"{'ab'[thing != a]}_{kind}"] = conn.execute(
                    "INSERT INTO sensor_datastreams (thing_id, sensor_id, kind, name, description, observation_type, "
                    "observed_property, unit_name, unit_symbol, unit_definition) "
                    "SELECT id, sensor_id, %s, sensor_id || ' ' || %s, %s || 'の観測', %s, %s, %s, %s, %s "
                    "FROM inundation_sensors WHERE id = %s RETURNING id",
                    (kind, prop, prop, om, prop, *unit, thing),
                ).fetchone()[0]
        rows = [
            (ds["a_wet"], T0, 0.0, None),
            (ds["a_wet"], T0 + timedelta(minutes=10), 1.0, T0 + timedelta(minutes=11)),
            (ds["a_wet"], T0 + timedelta(minutes=20), 1.0, T0 + timedelta(minutes=21)),
            (ds["a_depth"], T0 + timedelta(minutes=10), 10.0, None),
            (ds["a_depth"], T0 + timedelta(minutes=20), 20.0, None),
            (ds["a_battery"], T0, 3.04, None),
        ]
        rows += [(ds["b_wet"], T0 - timedelta(days=20, minutes=10 * k), float(k % 2), None) for k in range(250)]
        rows += [(ds["b_depth"], T0 - timedelta(days=20), 0.0, None)]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO sensor_observations (datastream_id, phenomenon_time, result, result_time, quality, "
                "provenance) VALUES (%s, %s, %s, %s, 'good', 'test')",
                rows,
            )
        conn.execute(
            "INSERT INTO sensor_state (thing_id, sensor_id, state, since, last_seen) "
            "SELECT id, sensor_id, 'flooded', now() - interval '20 minutes', now() - interval '5 minutes' "
            "FROM inundation_sensors WHERE id = %s",
            (a,),
        )
        conn.execute(  # silent for weeks: its stored state says dry, what it is now is unknown
            "INSERT INTO sensor_state (thing_id, sensor_id, state, since, last_seen) "
            "SELECT id, sensor_id, 'dry', %s, %s FROM inundation_sensors WHERE id = %s",
            (T0 - timedelta(days=21), T0 - timedelta(days=20), b),
        )
        conn.execute("ANALYZE sensor_observations")
        things = conn.execute("SELECT count(*) FROM inundation_sensors").fetchone()[0]
    return {"a": a, "b": b, "c": c, "ds": ds, "things": things, "url": url}


@pytest.fixture(scope="module")
def data(cluster: Cluster, loaded_template: str) -> Iterator[dict[str, Any]]:
    """A database of this module's own, seeded once for the read tests."""
    name = f"gis_sta_{next(_dbs)}"
    url = cluster.create(name, template=loaded_template)
    yield seed(url)
    cluster.drop(name)


@pytest.fixture(scope="module")
def sta(data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(data["url"], tmp_path_factory.mktemp("sta")) as c:
        yield c


def get(client: TestClient, path: str, **params: str) -> Any:
    r = client.get(R + path, params=params)
    assert r.status_code == 200, (path, params, r.text)
    return r.json()


def refused(client: TestClient, path: str, status: int = 400, **params: str) -> str:
    r = client.get(R + path, params=params)
    assert r.status_code == status, (path, params, r.status_code, r.text)
    assert set(r.json()) == {"code", "description"}
    return r.json()["description"]


# --- reads -------------------------------------------------------------------------------------------------------


def test_root_lists_the_entity_sets_and_conformance(sta: TestClient) -> None:
    doc = get(sta, "")
    base = "http://testserver/sta/v1.1"
    assert doc["value"] == [
        {"name": n, "url": f"{base}/{n}"} for n in ("Things", "Locations", "Datastreams", "Observations")
    ]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data" in doc["serverSettings"]["conformance"]
    assert get(sta, "/") == doc
    head = sta.head(f"{R}/Things")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"] == "application/json"


def test_a_thing_with_its_properties_and_links(sta: TestClient, data: dict[str, Any]) -> None:
    a = data["a"]
    with psycopg.connect(data["url"]) as conn:
        name, sid, vendor, kind, hb, city, sample = conn.execute(
            "SELECT name, sensor_id, vendor, sensor_type, heartbeat_minutes, city_code, sample "
            "FROM inundation_sensors WHERE id = %s",
            (a,),
        ).fetchone()
        seen = conn.execute("SELECT last_seen FROM sensor_state WHERE thing_id = %s", (a,)).fetchone()[0]
    link = f"http://testserver{R}/Things({a})"
    assert get(sta, f"/Things({a})") == {
        "@iot.id": a,
        "@iot.selfLink": link,
        "name": name,
        "description": f"浸水センサ {sid}（{kind}）",
        "properties": {
            "sensor_id": sid,
            "vendor": vendor,
            "sensor_type": kind,
            "heartbeat_minutes": hb,
            "city_code": city,
            "sample": sample,
            "state": "flooded",
            "last_seen": seen.astimezone(UTC).isoformat(),
        },
        "Datastreams@iot.navigationLink": f"{link}/Datastreams",
        "Locations@iot.navigationLink": f"{link}/Locations",
    }


def test_things_list_and_a_silent_sensor_is_unknown(sta: TestClient, data: dict[str, Any]) -> None:
    doc = get(sta, "/Things", **{"$count": "true"})
    assert doc["@iot.count"] == data["things"] == len(doc["value"]) and "@iot.nextLink" not in doc
    states = {t["@iot.id"]: t["properties"]["state"] for t in doc["value"]}
    assert states[data["a"]] == "flooded"
    assert states[data["b"]] == "unknown"  # stored 'dry', silent for 20 days
    assert states[data["c"]] == "unknown"  # never heard from
    assert [t["@iot.id"] for t in doc["value"]] == sorted(states)


def test_locations_are_the_sensor_points(sta: TestClient, data: dict[str, Any]) -> None:
    a = data["a"]
    with psycopg.connect(data["url"]) as conn:
        x, y, name = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom), name FROM inundation_sensors WHERE id = %s", (a,)
        ).fetchone()
    locations = get(sta, f"/Things({a})/Locations")["value"]
    assert len(locations) == 1
    loc = locations[0]
    assert loc["@iot.id"] == a and loc["encodingType"] == "application/geo+json" and loc["name"] == name
    assert loc["location"]["type"] == "Point"
    assert loc["location"]["coordinates"] == pytest.approx([x, y], abs=1e-6)
    assert loc["Things@iot.navigationLink"].endswith(f"/Locations({a})/Things")
    assert get(sta, f"/Locations({a})") == loc
    assert [t["@iot.id"] for t in get(sta, f"/Locations({a})/Things")["value"]] == [a]


def test_datastreams_of_a_thing(sta: TestClient, data: dict[str, Any]) -> None:
    a, ds = data["a"], data["ds"]
    streams = get(sta, f"/Things({a})/Datastreams")["value"]
    assert [s["@iot.id"] for s in streams] == [ds["a_wet"], ds["a_depth"], ds["a_battery"], ds["a_rssi"]]
    wet, depth, _, rssi = streams
    link = f"http://testserver{R}/Datastreams({ds['a_wet']})"
    assert wet["@iot.selfLink"] == link
    assert wet["observationType"] == "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation"
    assert wet["unitOfMeasurement"] == {"name": None, "symbol": None, "definition": None}
    assert wet["phenomenonTime"] == f"{_iso(T0)}/{_iso(T0 + timedelta(minutes=20))}"
    assert wet["properties"]["kind"] == "wet" and wet["properties"]["observedProperty"] == "浸水有無"
    assert wet["Thing@iot.navigationLink"] == f"{link}/Thing"
    assert wet["Observations@iot.navigationLink"] == f"{link}/Observations"
    assert depth["unitOfMeasurement"]["symbol"] == "cm"
    assert "phenomenonTime" not in rssi  # no observations yet
    assert get(sta, f"/Datastreams({ds['a_wet']})") == wet
    assert get(sta, f"/Datastreams({ds['a_wet']})/Thing")["@iot.id"] == a
    assert get(sta, f"/Things({a})/Datastreams({ds['a_depth']})") == depth


def test_observations_with_typed_results(sta: TestClient, data: dict[str, Any]) -> None:
    ds = data["ds"]
    obs = get(sta, f"/Datastreams({ds['a_wet']})/Observations")["value"]
    assert [o["result"] for o in obs] == [False, True, True]  # wet → boolean, in time order
    first = obs[1]
    oid = first["@iot.id"]
    assert first == {
        "@iot.id": oid,
        "@iot.selfLink": f"http://testserver{R}/Observations({oid})",
        "phenomenonTime": _iso(T0 + timedelta(minutes=10)),
        "resultTime": _iso(T0 + timedelta(minutes=11)),
        "result": True,
        "resultQuality": "good",
        "parameters": {"provenance": "test"},
        "Datastream@iot.navigationLink": f"http://testserver{R}/Observations({oid})/Datastream",
    }
    assert get(sta, f"/Observations({oid})") == first
    assert get(sta, f"/Observations({oid})/Datastream")["@iot.id"] == ds["a_wet"]
    depth = get(sta, f"/Datastreams({ds['a_depth']})/Observations")["value"]
    assert [o["result"] for o in depth] == [10, 20]
    battery = get(sta, f"/Datastreams({ds['a_battery']})/Observations")["value"]
    assert battery[0]["result"] == 3.04


def test_properties_and_select(sta: TestClient, data: dict[str, Any]) -> None:
    a = data["a"]
    name = get(sta, f"/Things({a})")["name"]
    assert get(sta, f"/Things({a})/name") == {"name": name}
    r = sta.get(f"{R}/Things({a})/name/$value")
    assert r.status_code == 200 and r.text == name
    page = get(sta, "/Things", **{"$select": "id,name", "$top": "2"})
    assert [set(t) for t in page["value"]] == [{"@iot.id", "@iot.selfLink", "name"}] * 2
    assert set(get(sta, f"/Things({a})", **{"$select": "properties"})) == {"properties"}


def test_latest_observation_per_datastream(sta: TestClient, data: dict[str, Any]) -> None:
    """$expand=Datastreams/Observations($top=1;$orderby=phenomenonTime desc): exactly the latest of each."""
    with psycopg.connect(data["url"]) as conn:
        latest = dict(
            conn.execute(
                "SELECT datastream_id, max(phenomenon_time) FROM sensor_observations GROUP BY datastream_id"
            ).fetchall()
        )
    doc = get(sta, "/Things", **{"$expand": LATEST})
    seen = 0
    for thing in doc["value"]:
        for stream in thing["Datastreams"]:
            obs = stream["Observations"]
            if stream["@iot.id"] in latest:
                assert len(obs) == 1 and obs[0]["phenomenonTime"] == _iso(latest[stream["@iot.id"]])
                seen += 1
                if stream["@iot.id"] in (data["ds"]["a_wet"], data["ds"]["b_wet"]):
                    assert "Observations@iot.nextLink" in stream  # more behind the one shown
            else:
                assert obs == []
    assert seen == len(latest) == 5
    nested = get(
        sta, "/Things", **{"$expand": "Datastreams($expand=Observations($top=1;$orderby=phenomenonTime desc))"}
    )
    assert nested["value"] == doc["value"]


def test_expand_datastreams_and_locations(sta: TestClient, data: dict[str, Any]) -> None:
    a, ds = data["a"], data["ds"]
    thing = get(sta, f"/Things({a})", **{"$expand": "Datastreams($select=id,name;$orderby=id desc),Locations"})
    assert [s["@iot.id"] for s in thing["Datastreams"]] == [ds["a_rssi"], ds["a_battery"], ds["a_depth"], ds["a_wet"]]
    assert set(thing["Datastreams"][0]) == {"@iot.id", "@iot.selfLink", "name"}
    assert [loc["@iot.id"] for loc in thing["Locations"]] == [a]
    obs = get(sta, f"/Datastreams({ds['a_wet']})/Observations", **{"$expand": "Datastream($expand=Thing)"})["value"]
    assert {o["Datastream"]["@iot.id"] for o in obs} == {ds["a_wet"]}
    assert {o["Datastream"]["Thing"]["@iot.id"] for o in obs} == {a}
    counted = get(sta, f"/Things({a})", **{"$expand": "Datastreams/Observations($count=true;$top=0)"})
    assert [s["Observations@iot.count"] for s in counted["Datastreams"]] == [3, 2, 1, 0]


def test_paging_follows_next_links(sta: TestClient, data: dict[str, Any]) -> None:
    path = f"/Datastreams({data['ds']['b_wet']})/Observations"
    page = get(sta, path, **{"$top": "100", "$count": "true", "$orderby": "phenomenonTime desc"})
    assert page["@iot.count"] == 250
    times, pages = [], 0
    while True:
        pages += 1
        times += [o["phenomenonTime"] for o in page["value"]]
        link = page.get("@iot.nextLink")
        if link is None:
            break
        assert link.startswith(f"http://testserver{R}{path}?")
        r = sta.get(link)
        assert r.status_code == 200, r.text
        page = r.json()
    assert pages == 3 and len(times) == len(set(times)) == 250 and times == sorted(times, reverse=True)
    assert "@iot.nextLink" not in get(sta, path, **{"$top": "50", "$skip": "200"})
    assert len(get(sta, "/Observations")["value"]) == 100  # the default $top


def test_filters(sta: TestClient, data: dict[str, Any]) -> None:
    ds = data["ds"]
    window = "phenomenonTime ge 2026-11-30T00:10:00Z and phenomenonTime lt 2026-11-30T09:20:00+09:00"
    found = get(sta, "/Observations", **{"$filter": window})["value"]
    assert sorted(o["result"] for o in found) == [True, 10]  # wet and depth at 00:10 UTC
    oid = found[0]["@iot.id"]
    assert [o["@iot.id"] for o in get(sta, "/Observations", **{"$filter": f"id eq {oid}"})["value"]] == [oid]
    late = get(sta, "/Observations", **{"$filter": "resultTime gt 2026-11-30T00:15:00Z"})["value"]
    assert [o["resultTime"] for o in late] == [_iso(T0 + timedelta(minutes=21))]
    wet = f"/Datastreams({ds['a_wet']})/Observations"
    assert [o["result"] for o in get(sta, wet, **{"$filter": "result eq true"})["value"]] == [True, True]
    assert [o["result"] for o in get(sta, wet, **{"$filter": "not (result eq true)"})["value"]] == [False]
    deep = get(sta, "/Observations", **{"$filter": "result gt 15 and Datastream/id eq " + str(ds["a_depth"])})
    assert [o["result"] for o in deep["value"]] == [20]
    assert get(sta, "/Observations", **{"$filter": "resultTime eq null and Datastream/id eq " + str(ds["a_wet"])})[
        "value"
    ][0]["phenomenonTime"] == _iso(T0)
    names = get(sta, "/Things", **{"$filter": f"id eq {data['a']} or properties/state eq 'flooded'"})["value"]
    assert [t["@iot.id"] for t in names] == [data["a"]]
    streams = get(sta, "/Datastreams", **{"$filter": f"Thing/id eq {data['b']} and properties/kind eq 'depth'"})
    assert [s["@iot.id"] for s in streams["value"]] == [ds["b_depth"]]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"$filter": "nosuch eq 1"}, "$filter"),
        ({"$filter": "substringof('a', resultQuality)"}, "$filter"),
        ({"$filter": "phenomenonTime ge 2026-12-01"}, "$filter"),
        ({"$filter": "phenomenonTime ge 2026-12-01T00:00:00"}, "$filter"),
        ({"$filter": "phenomenonTime ge 2026-13-45T00:00:00Z"}, "$filter"),
        ({"$filter": "id eq 'x'"}, "$filter"),
        ({"$filter": "id eq ２"}, "$filter"),
        ({"$filter": "result gt true"}, "$filter"),
        ({"$filter": "id eq 1 and"}, "$filter"),
        ({"$filter": "(id eq 1"}, "$filter"),
        ({"$filter": "id eq 99999999999999999999"}, "$filter"),
        ({"$filter": "result lt 1e999"}, "$filter"),
        ({"$filter": "id add 1 eq 2"}, "$filter"),
        ({"$filter": "not " * 60 + "id eq 1"}, "$filter"),
        ({"$top": "1001"}, "$top"),
        ({"$top": "-1"}, "$top"),
        ({"$skip": "x"}, "$skip"),
        ({"$count": "yes"}, "$count"),
        ({"$orderby": "bogus desc"}, "$orderby"),
        ({"$orderby": "id sideways"}, "$orderby"),
        ({"$select": "nosuch"}, "$select"),
        ({"$expand": "Sensors"}, "$expand"),
        ({"$expand": "Datastreams($top=x)"}, "$expand Datastreams: $top"),
        (
            {"$expand": "Datastreams/Observations($filter=nosuch eq 1)"},
            "$expand Datastreams: $expand Observations: $filter",
        ),
        ({"$expand": "Datastreams(($top=1)"}, "$expand"),
        ({"$resultFormat": "dataArray"}, "$resultFormat"),
        ({"limit": "5"}, "limit"),
    ],
)
def test_bad_options_are_400_naming_the_option(sta: TestClient, params: dict[str, str], named: str) -> None:
    path = "/Things" if "$expand" in params or "$select" in params else "/Observations"
    assert refused(sta, path, **params).startswith(named)


@pytest.mark.parametrize(
    "path",
    [
        "/Things(999999)",
        "/Things(999999)/Datastreams",
        "/Sensors",
        "/Things(abc)",
        "/Things(１)",
        "/Nothing",
        "/Observations(999999999)/Datastream",
        "/Things/Datastreams",
        "/Things(1)/Thing",
        "/Datastreams(1)/Thing(1)",
    ],
)
def test_unknown_entities_are_404(sta: TestClient, path: str) -> None:
    refused(sta, path, status=404)


_PROPS = ["id", "@iot.id", "phenomenonTime", "resultTime", "result", "name", "Datastream/id", "properties/state"]
_LITERAL = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False).map(repr),
    st.text(alphabet="a'é ", max_size=4).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["true", "false", "null", "2026-11-30T00:10:00Z", "2026-11-30T09:00:00+09:00", "2026-11-30"]),
    st.text(max_size=6),
)
_COMPARE = st.builds(
    lambda p, op, v: f"{p} {op} {v}",
    st.one_of(st.sampled_from(_PROPS), st.text(max_size=6)),
    st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le", "add", "="]),
    _LITERAL,
)
_FILTER = st.recursive(
    _COMPARE,
    lambda inner: st.one_of(
        st.builds(lambda a, w, b: f"{a} {w} {b}", inner, st.sampled_from(["and", "or"]), inner),
        inner.map(lambda f: f"not ({f})"),
        inner.map(lambda f: f"({f}"),
    ),
    max_leaves=4,
)
_OPTION = st.one_of(
    st.tuples(st.just("$filter"), _FILTER),
    st.tuples(st.just("$top"), st.one_of(st.integers(-5, 2000).map(str), st.text(max_size=4))),
    st.tuples(st.just("$skip"), st.one_of(st.integers(-5, 10**12).map(str), st.text(max_size=4))),
    st.tuples(st.just("$count"), st.sampled_from(["true", "false", "TRUE", "1", ""])),
    st.tuples(
        st.just("$orderby"),
        st.builds(
            lambda p, d: f"{p} {d}".strip(), st.sampled_from([*_PROPS, "x"]), st.sampled_from(["", "desc", "up"])
        ),
    ),
    st.tuples(st.just("$select"), st.sampled_from(["id", "id,name", "result,phenomenonTime", "nope", ""])),
    st.tuples(
        st.just("$expand"),
        st.one_of(
            st.sampled_from([LATEST, "Datastreams", "Locations", "Thing", "Datastream/Thing", "Observations"]),
            st.builds(lambda f: f"Datastreams/Observations($filter={f};$top=2)", _FILTER),
            st.text(alphabet="()/;=$A", max_size=10),
        ),
    ),
)
_PATH = st.one_of(
    st.sampled_from(["/Things", "/Datastreams", "/Observations", "/Locations", "/Things(1)/Datastreams"]),
    st.builds(
        lambda a, i, b: f"/{a}({i})/{b}",
        st.sampled_from(["Things", "Datastreams", "Observations", "Locations"]),
        st.integers(0, 10**18),
        st.sampled_from(["Datastreams", "Observations", "Thing", "Datastream", "Locations", "name", "id/$value", ""]),
    ),
    st.text(alphabet="Things()/0123$", max_size=16).map(lambda s: "/" + s),
)


@settings(max_examples=80, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(path=_PATH, options=st.lists(_OPTION, max_size=3, unique_by=lambda o: o[0]))
def test_no_request_answers_5xx(sta: TestClient, path: str, options: list[tuple[str, str]]) -> None:
    """Hypothesis (derandomized): any path and options give a page, an entity or a 4xx {code, description}."""
    r = sta.get(R + path, params=options)
    assert r.status_code < 500, (path, options, r.text[:300])
    if r.status_code >= 400:
        assert set(r.json()) == {"code", "description"}, r.text[:300]


def test_latest_per_datastream_reads_the_primary_key_backwards(data: dict[str, Any]) -> None:
    """The statement behind LATEST, explained on 40,000 rows: an index probe per datastream, never a scan."""
    from gis.sensors import sta

    statements: list[tuple[str, tuple]] = []

    class Recording:
        def __init__(self, conn: asyncpg.Connection) -> None:
            self.conn = conn

        async def fetch(self, sql: str, *args: Any) -> list:
            statements.append((sql, args))
            return await self.conn.fetch(sql, *args)

        async def fetchrow(self, sql: str, *args: Any) -> Any:
            return await self.conn.fetchrow(sql, *args)

        async def fetchval(self, sql: str, *args: Any) -> Any:
            return await self.conn.fetchval(sql, *args)

    async def run() -> str:
        conn = await asyncpg.connect(data["url"])
        try:
            async with conn.transaction():  # the extra rows go away afterwards
                await conn.execute(
                    "INSERT INTO sensor_observations (datastream_id, phenomenon_time, result) "
                    "SELECT d, $1::timestamptz - k * interval '1 minute', 0 FROM unnest($2::int[]) d, "
                    "generate_series(1, 10000) k ON CONFLICT DO NOTHING",
                    T0 - timedelta(days=40),
                    [data["ds"]["a_rssi"], data["ds"]["a_battery"], data["ds"]["b_depth"], data["ds"]["a_depth"]],
                )
                await conn.execute("ANALYZE sensor_observations")
                await sta.read(Recording(conn), "http://x/sta/v1.1", "Things", {"$expand": LATEST})  # type: ignore[arg-type]
                sql, args = next(
                    s for s in statements if "CROSS JOIN LATERAL" in s[0] and "sensor_observations o" in s[0]
                )
                plan = await conn.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + sql, *args)
                raise _Rollback("\n".join(r[0] for r in plan))
        except _Rollback as done:
            return str(done)
        finally:
            await conn.close()

    plan = asyncio.run(run())
    # One backward probe of the primary key per datastream (per monthly partition, merged in order), then LIMIT.
    assert re.search(r"Index (Only )?Scan Backward using \S*pkey on sensor_observations", plan), plan
    assert "Seq Scan" not in plan and not re.search(r"(^|->\s+)(Incremental )?Sort\b", plan, re.M), plan
    assert re.search(r"Limit \(actual time=\S+ rows=2 loops=6\)", plan), plan  # $top=1 (+1 for the nextLink)


class _Rollback(Exception):
    pass


# --- create forms ------------------------------------------------------------------------------------------------


@pytest.fixture
def writable(scratch_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any], dict[str, str]]]:
    info = seed(scratch_url)
    with psycopg.connect(scratch_url) as conn:
        tokens = {role: create_token(conn, f"sta-{role}", role) for role in ("device", "editor")}
    with make_client(scratch_url, tmp_path) as c:
        yield c, info, {k: f"Bearer {v}" for k, v in tokens.items()}


def test_create_an_observation_idempotently(writable: tuple[TestClient, dict[str, Any], dict[str, str]]) -> None:
    client, info, tokens = writable
    at = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    body = {
        "phenomenonTime": _iso(at),
        "result": True,
        "resultQuality": "ok",
        "Datastream": {"@iot.id": info["ds"]["a_wet"]},
    }
    assert client.post(f"{R}/Observations", json=body).status_code == 401
    assert client.post(f"{R}/Observations", json=body, headers={"Authorization": tokens["editor"]}).status_code == 403
    first = client.post(f"{R}/Observations", json=body, headers={"Authorization": tokens["device"]})
    assert first.status_code == 201, first.text
    location = first.headers["location"]
    made = first.json()
    assert location == made["@iot.selfLink"] and location.startswith(f"http://testserver{R}/Observations(")
    assert made["result"] is True and made["phenomenonTime"] == _iso(at) and made["parameters"] == {"provenance": "sta"}
    again = client.post(f"{R}/Observations", json=body, headers={"Authorization": tokens["device"]})
    assert again.status_code == 200 and again.headers["location"] == location and again.json() == made
    assert client.get(location).json() == made
    latest = client.get(
        f"{R}/Datastreams({info['ds']['a_wet']})/Observations", params={"$orderby": "phenomenonTime desc", "$top": "1"}
    )
    assert latest.json()["value"] == [made]
    last_seen = client.get(f"{R}/Things({info['a']})").json()["properties"]["last_seen"]
    assert datetime.fromisoformat(last_seen) >= at


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"result": 5}, "result"),
        ({"result": None}, "result"),
        ({"phenomenonTime": "2026-12-01T00:00:00Z/2026-12-01T01:00:00Z"}, "phenomenonTime"),
        ({"phenomenonTime": "2026-12-01T00:00:00"}, "phenomenonTime"),
        ({"Datastream": {"@iot.id": 999999}}, "Datastream"),
        ({"Datastream": {"name": "new"}}, "Datastream"),
        ({"validTime": "2026-12-01T00:00:00Z"}, "validTime"),
        ({"FeatureOfInterest": {"@iot.id": 1}}, "FeatureOfInterest"),
        ({"colour": "blue"}, "colour"),
        ({"phenomenonTime": "2025-01-01T00:00:00Z"}, "phenomenonTime"),  # outside the ingest window (the rules)
    ],
)
def test_bad_observations_are_400(
    writable: tuple[TestClient, dict[str, Any], dict[str, str]], change: dict[str, Any], named: str
) -> None:
    client, info, tokens = writable
    body = {"phenomenonTime": _iso(datetime.now(UTC)), "result": True, "Datastream": {"@iot.id": info["ds"]["a_wet"]}}
    r = client.post(f"{R}/Observations", json={**body, **change}, headers={"Authorization": tokens["device"]})
    assert r.status_code == 400 and r.json()["description"].startswith(named), r.text
    r = client.post(f"{R}/Observations", content=b"{not json", headers={"Authorization": tokens["device"]})
    assert r.status_code == 400 and r.json()["description"].startswith("body")


def test_create_observations_data_array(writable: tuple[TestClient, dict[str, Any], dict[str, str]]) -> None:
    client, info, tokens = writable
    now = datetime.now(UTC).replace(microsecond=0)
    t = [_iso(now - timedelta(minutes=m)) for m in (30, 20, 10)]
    body = [
        {
            "Datastream": {"@iot.id": info["ds"]["a_depth"]},
            "components": ["phenomenonTime", "result"],
            "dataArray@iot.count": 3,
            "dataArray": [[t[0], 10], [t[1], 20], [t[2], "deep"]],
        },
        {
            "Datastream": {"@iot.id": info["ds"]["a_battery"]},
            "components": ["result", "phenomenonTime", "resultTime"],
            "dataArray": [[3.01, t[2], t[2]], [3.0, "1999-01-01T00:00:00Z", None]],
        },
    ]
    auth = {"Authorization": tokens["device"]}
    r = client.post(f"{R}/CreateObservations", json=body, headers=auth)
    assert r.status_code == 201, r.text
    links = r.json()
    assert len(links) == 5 and links[2] == "error" and links[4] == "error"  # not a number; outside the ingest window
    made = [client.get(link).json() for link in (links[0], links[1], links[3])]
    assert [m["result"] for m in made] == [10, 20, 3.01] and made[2]["resultTime"] == t[2]
    retry = client.post(f"{R}/CreateObservations", json=body, headers=auth)
    assert retry.status_code == 201 and retry.json() == links  # idempotent: the same observations
    count = client.get(f"{R}/Datastreams({info['ds']['a_depth']})/Observations", params={"$count": "true", "$top": "0"})
    assert count.json()["@iot.count"] == 4  # 2 seeded + 2 new
    bad = client.post(f"{R}/CreateObservations", json=[{**body[0], "dataArray@iot.count": 7}], headers=auth)
    assert bad.status_code == 400 and bad.json()["description"].startswith("body[0].dataArray@iot.count")
    unknown = client.post(
        f"{R}/CreateObservations", json=[{**body[0], "Datastream": {"@iot.id": 999999}}], headers=auth
    )
    assert unknown.status_code == 400 and "999999" in unknown.json()["description"]


# --- a real SensorThings client ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sta_live(data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API on this module's database, served by a real uvicorn on a loopback port."""
    import uvicorn

    port = _free_port()
    app = create_app(Settings(database_url=data["url"], var_dir=tmp_path_factory.mktemp("sta-live")))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}{R}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
def test_frost_sta_client_reads_things_datastreams_and_latest_observations(sta_live: str, data: dict[str, Any]) -> None:
    """Fraunhofer IOSB's Python client (frost_sta_client) lists Things, their Datastreams and the latest readings."""
    import frost_sta_client as fsc

    service = fsc.SensorThingsService(sta_live)
    things = list(service.things().query().expand(LATEST).list())
    assert len(things) == data["things"]
    a = next(t for t in things if t.id == data["a"])
    assert a.properties["state"] == "flooded"
    streams = {d.id: d for d in a.datastreams}
    wet = streams[data["ds"]["a_wet"]]
    assert wet.observation_type.endswith("OM_TruthObservation")
    latest = wet.observations.entities  # the expanded page: the latest only
    assert [o.result for o in latest] == [True] and latest[0].phenomenon_time == _iso(T0 + timedelta(minutes=20))
    assert [o.result for o in wet.observations] == [True, True, False]  # iterating follows Observations@iot.nextLink
    found = service.things().find(data["b"])
    assert found.name and found.properties["state"] == "unknown"
    # Paging through nextLinks: 250 observations at 100 per page.
    query = service.datastreams().find(data["ds"]["b_wet"]).get_observations().query().top(100)
    assert len(list(query.orderby("phenomenonTime", "desc").list())) == 250
