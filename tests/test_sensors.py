"""Inundation sensors against a real database: the schema of migration 0006, idempotent ingest with a device token,
the state machine through HTTP, `unknown` for a silent sensor in every output, the sweeper, the webhook outbox
with retry, the vendor adapter and the read endpoints' refusals."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import math
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import asyncpg
import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from gis.db.tokens import create_token
from gis.sensors.events import jst
from gis.sensors.sweep import sweep
from gis.sensors.webhook import deliver
from gis.settings import Settings
from tests.conftest import Cluster

_dbs = itertools.count()
OBS = "/sensors/observations"


@pytest.fixture(scope="module")
def env(cluster: Cluster, loaded_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A database of this module's own, an app on it (background jobs off: the tests run them) and tokens."""
    name = f"gis_sensors_{next(_dbs)}"
    url = cluster.create(name, template=loaded_template)
    with psycopg.connect(url) as conn:
        tokens = {
            role: f"Bearer {create_token(conn, f'sensors-{role}', role)}" for role in ("device", "admin", "editor")
        }
        rows = conn.execute(
            "SELECT sensor_id, sensor_type, id, ST_X(geom), ST_Y(geom) FROM inundation_sensors ORDER BY sensor_id"
        ).fetchall()
    floats = [r for r in rows if r[1].startswith("フロート")]
    steps = [r for r in rows if r[1].startswith("段階")]
    settings = Settings(
        database_url=url, var_dir=tmp_path_factory.mktemp("sensors"), sensor_sweep_seconds=0, sensor_deliver_seconds=0
    )
    with TestClient(create_app(settings)) as client:
        yield {
            "url": url,
            "client": client,
            "tokens": tokens,
            "floats": floats,
            "steps": steps,
            "cluster": cluster,
        }
    cluster.drop(name)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _t(minutes_ago: float) -> str:
    return (_now() - timedelta(minutes=minutes_ago)).isoformat()


def post(env: dict[str, Any], body: Any, role: str = "device", path: str = OBS) -> Any:
    return env["client"].post(path, json=body, headers={"Authorization": env["tokens"][role]})


def count(env: dict[str, Any], sql: str = "SELECT count(*) FROM sensor_observations", *args: Any) -> Any:
    with psycopg.connect(env["url"]) as conn:
        return conn.execute(sql, args).fetchone()[0]


def feature(env: dict[str, Any], sensor_id: str) -> dict[str, Any]:
    r = env["client"].get("/sensors")
    assert r.status_code == 200, r.text
    return next(f for f in r.json()["features"] if f["id"] == sensor_id)


def run(coro_fn: Any, url: str, **kw: Any) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await coro_fn(conn, **kw)
        finally:
            await conn.close()

    return asyncio.run(go())


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_schema_of_0006(env: dict[str, Any]) -> None:
    with psycopg.connect(env["url"]) as conn:
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'inundation_sensors'"
            )
        }
        assert not cols & {"state", "state_since", "last_seen", "depth_cm", "battery_v"}
        assert conn.execute("SELECT to_regclass('sensor_readings')").fetchone()[0] is None
        things = conn.execute("SELECT count(*) FROM inundation_sensors").fetchone()[0]
        assert things > 0
        # Every Thing: a state row, battery + rssi and wet (float switch) or depth (step sensor).
        assert conn.execute("SELECT count(*) FROM sensor_state").fetchone()[0] == things
        per = dict(conn.execute("SELECT kind, count(*) FROM sensor_datastreams GROUP BY kind").fetchall())
        assert per["battery"] == per["rssi"] == things and per["wet"] + per["depth"] == things
        assert per["depth"] == len(env["steps"])
        # Monthly partitions for the ingest window, plus the DEFAULT one.
        parts = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'sensor_observations'::regclass"
            )
        ]
        assert "sensor_observations_default" in parts and len(parts) >= 3
        brin = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexdef ILIKE '%%USING brin (phenomenon_time)%%'",
            (parts,),
        ).fetchone()[0]
        assert brin == len(parts)  # the partitioned index reaches every partition
        role = env["cluster"].emb.public_role
        private = conn.execute(
            "SELECT has_column_privilege(%s, 'sensor_rules', 'webhook_url', 'SELECT'), "
            "has_column_privilege(%s, 'sensor_events', 'delivery', 'SELECT'), "
            "has_column_privilege(%s, 'sensor_events', 'next_attempt_at', 'SELECT'), "
            "has_column_privilege(%s, 'sensor_rules', 'wet_minutes', 'SELECT'), "
            "has_table_privilege(%s, 'sensor_observations', 'INSERT')",
            (role,) * 5,
        ).fetchone()
        assert private == (False, False, False, True, False)
        # The one silence rule, in SQL.
        assert conn.execute("SELECT sensor_state_now('dry', now() - interval '121 minutes', 60)").fetchone()[0] == (
            "unknown"
        )
        assert conn.execute("SELECT sensor_state_now('wet', now() - interval '119 minutes', 60)").fetchone()[0] == "wet"
        assert conn.execute("SELECT sensor_state_now('dry', NULL, 60)").fetchone()[0] == "unknown"


def test_sensor_tables_match_their_declarations(env: dict[str, Any]) -> None:
    """gis/sensors/tables.py and migration 0006 describe the same schema (partitions aside)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import gis.sensors.tables as tables
    from gis.db.connect import engine_for

    def ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = getattr(table, "name", name) or ""
        return table_name.startswith("sensor_") and not table_name.startswith(tables.PARTITION_PREFIX)

    engine = engine_for(env["url"])
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
            assert compare_metadata(ctx, tables.metadata) == []
    finally:
        engine.dispose()


def test_ingest_needs_a_device_or_admin_token(env: dict[str, Any]) -> None:
    sid = env["floats"][0][0]
    body = {"sensor_id": sid, "datastream": "battery", "phenomenon_time": _t(1), "result": 3.2}
    assert env["client"].post(OBS, json=body).status_code == 401
    assert env["client"].post(OBS, json=body, headers={"Authorization": "Bearer gis_nope"}).status_code == 401
    r = post(env, body, role="editor")
    assert r.status_code == 403 and r.json()["code"]
    assert count(env) == 0


@pytest.mark.parametrize(
    ("second", "status", "names"),
    [
        ({"datastream": "wet", "phenomenon_time": "now", "result": 1}, 400, "observations[1].phenomenon_time"),
        (
            {"datastream": "wet", "phenomenon_time": "2026-12-02T05:00:00", "result": 1},
            400,
            "observations[1].phenomenon_time",
        ),
        ({"datastream": "wet", "phenomenon_time": "FUTURE", "result": 1}, 400, "observations[1].phenomenon_time"),
        ({"datastream": "wet", "phenomenon_time": "PAST", "result": 1}, 400, "observations[1].phenomenon_time"),
        ({"datastream": "wet", "phenomenon_time": "NOW", "result": "wet"}, 400, "observations[1].result"),
        ({"datastream": "wet", "phenomenon_time": "NOW", "result": 3}, 400, "observations[1].result"),
        ({"datastream": "depth", "phenomenon_time": "NOW", "result": 10}, 400, "observations[1].datastream"),
        ({"datastream": "temp", "phenomenon_time": "NOW", "result": 1}, 400, "observations[1].datastream"),
        ({"datastream": "wet", "phenomenon_time": "NOW", "result": 1, "extra": 1}, 400, "observations[1].extra"),
        (
            {"sensor_id": "S-99999-999", "datastream": "wet", "phenomenon_time": "NOW", "result": 1},
            404,
            "observations[1].sensor_id",
        ),
    ],
)
def test_a_bad_reading_refuses_the_whole_batch(env: dict[str, Any], second: dict, status: int, names: str) -> None:
    sid = env["floats"][0][0]
    times = {"NOW": _t(0), "FUTURE": (_now() + timedelta(minutes=30)).isoformat(), "PAST": _t(60 * 24 * 31)}
    bad = {"sensor_id": sid, **second}
    bad["phenomenon_time"] = times.get(bad["phenomenon_time"], bad["phenomenon_time"])
    good = {"sensor_id": sid, "datastream": "battery", "phenomenon_time": _t(2), "result": 3.3}
    r = post(env, {"observations": [good, bad]})
    assert r.status_code == status, r.text
    assert r.json()["description"].startswith(names), r.json()
    assert count(env) == 0  # nothing of the batch was stored


def test_malformed_bodies(env: dict[str, Any]) -> None:
    c, h = env["client"], {"Authorization": env["tokens"]["device"], "content-type": "application/json"}
    for raw, name in (
        (b"", "body"),
        (b"{", "body"),
        (b"[1]", "body"),
        (b'{"observations": 5}', "observations"),
        (b'{"observations": []}', "observations"),
        (b'{"observations": [], "x": 1}', "x"),
    ):
        r = c.post(OBS, content=raw, headers=h)
        assert r.status_code == 400 and r.json()["description"].startswith(name), (raw, r.text)
    many = [{"sensor_id": "S", "datastream": "wet", "phenomenon_time": _t(0), "result": 0}] * 1001
    assert post(env, {"observations": many}).json()["description"].startswith("observations: give 1 to 1000")
    assert count(env) == 0


def test_flood_cycle_is_idempotent_and_never_bumps_the_layer(env: dict[str, Any]) -> None:
    sid = env["floats"][1][0]
    version = count(env, "SELECT version FROM layer_state WHERE layer_id = 'inundation_sensors'")
    wet = [{"sensor_id": sid, "datastream": "wet", "phenomenon_time": _t(m), "result": True} for m in (25, 18)]
    r = post(env, {"observations": wet})
    assert r.status_code == 200 and r.json() == {"received": 2, "stored": 2, "duplicates": 0, "events": []}
    assert feature(env, sid)["properties"]["state"] == "wet"  # wet for 7 minutes: not yet flooded
    last = {"sensor_id": sid, "datastream": "wet", "phenomenon_time": _t(5), "result": 1}
    r = post(env, {"observations": [last, last, {**wet[0]}]})  # a retry with a repeat inside the batch
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received"], body["stored"], body["duplicates"]) == (3, 1, 2)
    assert [e["kind"] for e in body["events"]] == ["flooded"]
    event = body["events"][0]
    assert event["sensor_id"] == sid and event["at"].endswith("+00:00") and event["detail"]["wet_minutes"] == 20.0
    assert event["at_jst"] == jst(datetime.fromisoformat(event["at"]))
    again = post(env, {"observations": [*wet, last]}).json()
    assert (again["stored"], again["duplicates"], again["events"]) == (0, 3, [])  # a retry: success, nothing new
    assert count(env, "SELECT count(*) FROM sensor_events WHERE sensor_id = %s", sid) == 1
    props = feature(env, sid)["properties"]
    assert props["state"] == "flooded" and props["level_cm"] == int(env["floats"][1][1][5:7])
    assert props["last_seen"] == datetime.fromisoformat(last["phenomenon_time"]).isoformat()
    assert props["last_seen_jst"] == jst(datetime.fromisoformat(last["phenomenon_time"]))
    assert props["since"].endswith("+00:00") and 4 <= props["silent_minutes"] <= 6
    # Dry again: receded.
    r = post(env, {"sensor_id": sid, "datastream": "wet", "phenomenon_time": _t(1), "result": 0})
    assert [e["kind"] for e in r.json()["events"]] == ["receded"]
    assert feature(env, sid)["properties"]["state"] == "dry"
    assert count(env, "SELECT version FROM layer_state WHERE layer_id = 'inundation_sensors'") == version
    events = env["client"].get("/sensors/events", params={"sensor_id": sid}).json()["events"]
    assert [e["kind"] for e in events] == ["receded", "flooded"]  # newest first
    assert not {"delivery", "attempts", "next_attempt_at", "delivered_at"} & set(events[0])
    hist = env["client"].get(f"/sensors/{sid}/history").json()
    streams = {d["kind"]: d for d in hist["datastreams"]}
    assert [o["result"] for o in streams["wet"]["observations"]] == [1, 1, 1, 0]
    assert hist["state"]["state"] == "dry" and hist["from_jst"] and hist["to"].endswith("+00:00")
    with psycopg.connect(env["url"]) as conn:
        prov = conn.execute(
            "SELECT DISTINCT provenance FROM sensor_observations o JOIN sensor_datastreams d ON d.id = o.datastream_id "
            "WHERE d.sensor_id = %s",
            (sid,),
        ).fetchall()
    assert prov == [("device:sensors-device",)]


def test_get_sensors_etag(env: dict[str, Any]) -> None:
    c = env["client"]
    r = c.get("/sensors")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["cache-control"] == "no-cache"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["generated_at"].endswith("+00:00") and body["generated_at_jst"]
    assert set(body["counts"]) == {"dry", "wet", "flooded", "unknown"}
    assert sum(body["counts"].values()) == len(body["features"])
    assert body["rules"] == {"wet_minutes": 10, "silence_factor": 2.0} and body["sources"] and body["sample"] is True
    assert "webhook_url" not in r.text
    etag = r.headers["etag"]
    assert c.get("/sensors", headers={"if-none-match": etag}).status_code == 304
    sid = env["floats"][2][0]
    post(env, {"sensor_id": sid, "datastream": "wet", "phenomenon_time": _t(0), "result": 0})
    changed = c.get("/sensors", headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert c.get("/sensors", params={"bbox": "1,2,3,4"}).status_code == 400


def test_a_silent_sensor_is_unknown_everywhere(env: dict[str, Any]) -> None:
    """Its stored state says dry; every output says unknown (sensor_state_now), never dry."""
    sid, _, thing, lon, lat = env["steps"][0]
    with psycopg.connect(env["url"]) as conn:
        conn.execute(
            "UPDATE sensor_state SET state = 'dry', since = now() - interval '1 day', "
            "last_seen = now() - interval '5 hours', level_cm = 0 WHERE thing_id = %s",
            (thing,),
        )
    c = env["client"]
    props = feature(env, sid)["properties"]
    assert props["state"] == "unknown" and props["level_cm"] is None and props["silent_minutes"] >= 299
    items = c.get("/collections/inundation_sensors/items", params={"sensor_id": sid}).json()["features"]
    assert [f["properties"]["state"] for f in items] == ["unknown"]
    assert items[0]["properties"]["last_seen"].endswith("+00:00") and items[0]["properties"]["last_seen_jst"]
    one = c.get(f"/collections/inundation_sensors/items/{thing}").json()
    assert one["properties"]["state"] == "unknown"
    text = c.get("/collections/inundation_sensors/items", params={"sensor_id": sid, "f": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1 and "unknown" in rows[0].values() and "dry" not in rows[0].values()
    filtered = c.get("/collections/inundation_sensors/items", params={"state": "unknown", "limit": 1000}).json()
    assert sid in {f["properties"]["sensor_id"] for f in filtered["features"]}
    x, y = _tile(lon, lat, 16)
    mvt = c.get(f"/tiles/inundation_sensors/16/{x}/{y}.mvt")
    assert mvt.status_code == 200
    decoded = mapbox_vector_tile.decode(mvt.content)
    states = {f["properties"]["sensor_id"]: f["properties"]["state"] for f in decoded["inundation_sensors"]["features"]}
    assert states[sid] == "unknown"
    report = c.get("/lookup", params={"lon": lon, "lat": lat}).json()["inundation_sensors"]
    mine = next(s for s in report["nearest"] if s["sensor_id"] == sid)
    assert mine["state"] == "unknown" and mine["last_seen_jst"]


def test_the_sweeper_issues_one_silent_event_and_a_reading_brings_it_back(env: dict[str, Any]) -> None:
    sid, _, thing, *_ = env["floats"][3]
    with psycopg.connect(env["url"]) as conn:
        conn.execute(
            "UPDATE sensor_state SET state = 'wet', since = now() - interval '4 hours', "
            "last_seen = now() - interval '3 hours' WHERE thing_id = %s",
            (thing,),
        )
    first = run(sweep, env["url"])
    assert sid in [e["sensor_id"] for e in first.events]
    assert all(e["kind"] == "silent" for e in first.events)
    assert sid not in [e["sensor_id"] for e in run(sweep, env["url"]).events]  # once, not at every sweep
    cli = subprocess.run(  # the same job from cron
        [sys.executable, "-m", "gis", "sensors", "sweep"],
        env={**os.environ, "DATABASE_URL": env["url"]},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert cli.returncode == 0 and "silent: 0" in cli.stdout, cli.stderr
    assert count(env, "SELECT count(*) FROM sensor_events WHERE sensor_id = %s AND kind = 'silent'", sid) == 1
    assert feature(env, sid)["properties"]["state"] == "unknown"
    r = post(env, {"sensor_id": sid, "datastream": "battery", "phenomenon_time": _t(0), "result": 3.0})
    assert [e["kind"] for e in r.json()["events"]] == ["back"]
    assert feature(env, sid)["properties"]["state"] == "wet"


class _Hook(BaseHTTPRequestHandler):
    answers: list[int] = []
    got: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        _Hook.got.append((self.headers["x-sensor-event-id"], body))
        self.send_response(_Hook.answers.pop(0) if _Hook.answers else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_is_retried_with_backoff_and_its_address_is_private(env: dict[str, Any]) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        c = env["client"]
        admin = {"Authorization": env["tokens"]["admin"]}
        assert c.patch("/admin/sensors/rules", json={"webhook_url": "gopher://x"}, headers=admin).status_code == 400
        assert (
            c.patch(
                "/admin/sensors/rules", json={"webhook_url": url}, headers={"Authorization": env["tokens"]["editor"]}
            ).status_code
            == 403
        )
        r = c.patch(
            "/admin/sensors/rules",
            json={"webhook_url": url, "wet_minutes": 10},
            headers={"Authorization": env["tokens"]["admin"]},
        )
        assert r.status_code == 200 and r.json()["webhook_url"] == url
        bad = c.patch(
            "/admin/sensors/rules", json={"wet_minutes": 0}, headers={"Authorization": env["tokens"]["admin"]}
        )
        assert bad.status_code == 400 and bad.json()["description"].startswith("wet_minutes")
        assert url not in c.get("/sensors").text and url not in c.get("/sensors/events").text
        sid = env["floats"][4][0]
        wet = [{"sensor_id": sid, "datastream": "wet", "phenomenon_time": _t(m), "result": 1} for m in (12, 1)]
        event_id = post(env, {"observations": wet}).json()["events"][0]["id"]
        _Hook.answers[:] = [503]
        _Hook.got.clear()
        now = datetime.now(UTC) + timedelta(seconds=1)
        first = run(deliver, env["url"], now=now)
        assert (first.delivered, first.retrying) == (0, 1)
        assert run(deliver, env["url"], now=now + timedelta(seconds=5)).retrying == 0  # not due before the backoff
        second = run(deliver, env["url"], now=now + timedelta(seconds=11))
        assert second.delivered == 1
        assert [g[0] for g in _Hook.got] == [str(event_id)] * 2 and b'"kind":"flooded"' in _Hook.got[0][1]
        with psycopg.connect(env["url"]) as conn:
            row = conn.execute("SELECT delivery, attempts FROM sensor_events WHERE id = %s", (event_id,)).fetchone()
        assert row == ("delivered", 2)
    finally:
        server.shutdown()
        with psycopg.connect(env["url"]) as conn:
            conn.execute("UPDATE sensor_rules SET webhook_url = NULL")


def test_vendor_adapter_takes_the_same_path(env: dict[str, Any]) -> None:
    sid = env["steps"][1][0]
    msgs = [
        {"device_id": sid, "time": _t(m), "level": lvl, "battery": 3.4, "rssi": -97} for m, lvl in ((14, 1), (3, 2))
    ]
    r = post(env, msgs, path="/sensors/vendor")
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 6 and [e["kind"] for e in r.json()["events"]] == ["flooded"]
    assert post(env, msgs, path="/sensors/vendor").json()["stored"] == 0
    props = feature(env, sid)["properties"]
    assert (props["state"], props["level_cm"], props["battery_v"]) == ("flooded", 20, 3.4)
    nope = post(env, {"device_id": "S-00000-000", "time": _t(0), "level": 1}, path="/sensors/vendor")
    assert nope.status_code == 404 and nope.json()["description"].startswith("[0].device_id")
    bad = post(env, [{"device_id": sid, "time": _t(0), "level": 7}], path="/sensors/vendor")
    assert bad.status_code == 400 and bad.json()["description"].startswith("[0].level")


@pytest.mark.parametrize(
    ("path", "params", "status", "names"),
    [
        ("/sensors/events", {"kind": "wet"}, 400, "kind"),
        ("/sensors/events", {"limit": "0"}, 400, "limit"),
        ("/sensors/events", {"since": "yesterday"}, 400, "since"),
        ("/sensors/events", {"foo": "1"}, 400, "foo"),
        ("/sensors/S-00000-000/history", {}, 404, "sensor_id"),
        ("/sensors/FIRST/history", {"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, 400, "to"),
        ("/sensors/FIRST/history", {"from": "2026-10-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, 400, "to"),
        ("/sensors/FIRST/history", {"from": "2026-12-01"}, 400, "from"),
    ],
)
def test_reads_refuse_bad_parameters(env: dict[str, Any], path: str, params: dict, status: int, names: str) -> None:
    r = env["client"].get(path.replace("FIRST", env["floats"][0][0]), params=params)
    assert r.status_code == status and r.json()["description"].startswith(names), r.text


def test_items_filter_and_sort_on_the_live_columns(env: dict[str, Any]) -> None:
    """The computed columns are queryable like stored ones: datetime on last_seen, equality on state."""
    c = env["client"]
    sid = env["floats"][5][0]
    post(env, {"sensor_id": sid, "datastream": "wet", "phenomenon_time": _t(0), "result": 1})
    since = (_now() - timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    recent = c.get("/collections/inundation_sensors/items", params={"datetime": f"{since}/.."}).json()["features"]
    assert sid in {f["properties"]["sensor_id"] for f in recent}
    assert all(f["properties"]["last_seen"] >= since.replace("Z", "+00:00") for f in recent)
    wet = c.get("/collections/inundation_sensors/items", params={"state": "wet"}).json()["features"]
    assert sid in {f["properties"]["sensor_id"] for f in wet} and {f["properties"]["state"] for f in wet} == {"wet"}
    q = c.get("/collections/inundation_sensors/queryables").json()["properties"]
    assert {"state", "last_seen", "level_cm"} <= set(q)


def test_downloads_carry_the_live_state(env: dict[str, Any], tmp_path: Any) -> None:
    """GeoJSON, CSV and GeoPackage of the layer: the state as of now, `unknown` for a sensor never heard from."""
    import pyogrio

    c = env["client"]
    heard, never = env["steps"][1][0], env["floats"][-1][0]
    depth = [{"sensor_id": heard, "datastream": "depth", "phenomenon_time": _t(m), "result": 20} for m in (12, 0)]
    assert post(env, {"observations": depth}).status_code == 200  # wet for 12 minutes: flooded
    url = "/collections/inundation_sensors/download"
    gj = {f["properties"]["sensor_id"]: f["properties"] for f in c.get(url, params={"f": "geojson"}).json()["features"]}
    assert gj[heard]["state"] == "flooded" and gj[never]["state"] == "unknown" and gj[never]["last_seen"] is None
    rows = list(csv.reader(io.StringIO(c.get(url, params={"f": "csv"}).text.lstrip("\ufeff"))))
    by_id = {r[rows[0].index("sensor_id")]: r for r in rows[1:]}
    state_col = rows[0].index("state")
    assert {r[state_col] for r in rows[1:]} <= {"dry", "wet", "flooded", "unknown"}
    assert by_id[never][state_col] == "unknown" and by_id[heard][state_col] == "flooded"
    r = c.get(url, params={"f": "gpkg"})
    assert r.status_code == 200
    path = tmp_path / "s.gpkg"
    path.write_bytes(r.content)
    frame = pyogrio.read_dataframe(path, layer="inundation_sensors")
    states = dict(zip(frame["sensor_id"], frame["state"], strict=True))
    assert states[heard] == "flooded" and states[never] == "unknown"
