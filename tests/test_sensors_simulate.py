"""The sensor simulator (`gis sensors simulate`) against a real service: a rain event turns the nearest sensors wet
then flooded in GET /sensors, the silent ones turn `unknown`, and duplicates, lost answers and late readings store
nothing twice. Plus the plan itself without a service: readings per sensor type, heartbeat, nothing in the future."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from gis.cli import app
from gis.db.tokens import create_token
from gis.errors import InvalidParameter
from gis.sensors.simulate import Options, Plan, Sensor, rain_event, simulate
from tests.conftest import Cluster
from tests.test_reliability import _live

_dbs = itertools.count()


def _sensor(sid: str, kind: str, hb: int = 60, x: float = 130.0) -> Sensor:
    feature = {
        "properties": {"sensor_id": sid, "sensor_type": kind, "heartbeat_minutes": hb},
        "geometry": {"type": "Point", "coordinates": [x, 33.19]},
    }
    return Sensor.of(feature)


def test_sensor_types_read_water_as_their_devices_do() -> None:
    f10, f40, step = _sensor("a", "フロート式10cm"), _sensor("b", "フロート式40cm"), _sensor("c", "段階式10-20-30cm")
    assert (f10.kind, f10.wet_cm, f40.wet_cm, step.kind, step.max_cm) == ("wet", 10, 40, "depth", 30)
    assert [f10.reading(d) for d in (0, 9, 10, 45)] == [0, 0, 1, 1]
    assert [f40.reading(d) for d in (10, 39, 40)] == [0, 0, 1]
    assert [step.reading(d) for d in (5, 12, 29, 45)] == [0, 10, 20, 30]


def test_the_plan_reports_on_heartbeat_on_change_and_often_while_wet() -> None:
    sensors = [_sensor(f"s{i}", "フロート式10cm", x=130 + i / 100) for i in range(10)]
    opts = Options(minutes=300, rain=(100, 60), rain_fraction=0.3, silent=2, seed=3)
    plan = Plan.make(sensors, opts)
    assert len(plan.floods) == 3 and len(plan.silent_at) == 2 and not set(plan.floods) & set(plan.silent_at)
    t0 = datetime(2026, 12, 2, tzinfo=UTC)
    msgs = plan.messages(t0)
    assert [m for m, _ in msgs] == sorted(m for m, _ in msgs)
    for s in sensors:
        mine = [(m, r) for m, rs in msgs for r in rs if r["sensor_id"] == s.sensor_id and r["datastream"] == "wet"]
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(mine)]
        assert gaps and max(gaps) <= s.heartbeat  # never quieter than its heartbeat while it lives
        if s.sensor_id in plan.silent_at:
            assert mine[-1][0] < plan.silent_at[s.sensor_id]
        if s.sensor_id in plan.floods:
            wet = [m for m, r in mine if r["result"] == 1]
            assert wet and max(b - a for a, b in itertools.pairwise(wet)) <= opts.wet_every
            assert mine[-1][1]["result"] == 0  # receded before the end
        else:
            assert {r["result"] for _, r in mine} == {0}
    times = {r["phenomenon_time"] for _, rs in msgs for r in rs}
    assert max(times) < (t0 + timedelta(minutes=opts.minutes)).isoformat()
    volts = [r["result"] for _, rs in msgs for r in rs if r["datastream"] == "battery" and r["sensor_id"] == "s0"]
    assert 2.9 < volts[-1] < volts[0] + 0.02  # falls slowly
    assert plan.expect_flooded(10) == sorted(plan.floods, key=lambda sid: int(sid[1:]))


def test_bad_options_name_the_option() -> None:
    assert rain_event("30:90") == (30.0, 90.0) and rain_event(None) is None
    for text in ("30", "a:b", "30:"):
        with pytest.raises(InvalidParameter, match="--rain-event"):
            rain_event(text)
    for opts, named in ((Options(minutes=0), "--minutes"), (Options(speed=0.5), "--speed")):
        with pytest.raises(InvalidParameter, match=named):
            opts.check()


@pytest.fixture
def served(cluster: Cluster, loaded_template: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The API on a scratch copy of the loaded database (the readings never reach the shared one), a device token."""
    name = f"gis_simulate_{next(_dbs)}"
    url = cluster.create(name, template=loaded_template)
    with psycopg.connect(url) as conn:
        token = create_token(conn, "simulator test", "device")
    with contextlib.contextmanager(_live)(url, tmp_path) as base:
        yield {"base": base, "url": url, "token": token}
    cluster.drop(name)


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM sensor_observations").fetchone()[0]


def _states(base: str) -> dict[str, str]:
    body = httpx.get(f"{base}/sensors", timeout=30).json()
    return {f["id"]: f["properties"]["state"] for f in body["features"]}


def test_rain_floods_the_nearest_sensors_and_the_silent_ones_turn_unknown(served: dict[str, Any]) -> None:
    base = served["base"]
    assert set(_states(base).values()) == {"unknown"}  # no message yet from any sensor
    # 300 simulated minutes in about 15 s; the rain starts 60 minutes before the end and lasts past it.
    opts = Options(
        minutes=300,
        rain=(240, 100),
        rain_fraction=0.4,
        silent=3,
        duplicates=0.1,
        out_of_order=0.05,
        lost_answers=0.1,
        speed=1200,
        seed=11,
    )
    done: dict[str, Any] = {}
    run = threading.Thread(target=lambda: done.setdefault("s", simulate(base, served["token"], opts)))
    run.start()
    seen: dict[str, list[str]] = {}
    while run.is_alive():
        for sid, state in _states(base).items():
            if not seen.get(sid) or seen[sid][-1] != state:
                seen.setdefault(sid, []).append(state)
        time.sleep(0.03)
    run.join()
    s = done["s"]
    assert not s.errors, s.errors
    flooded = set(s.flooded_expected)
    assert flooded and flooded <= set(s.rain) and not flooded & set(s.silent)

    # Idempotency: every unique reading stored once; duplicates, lost answers and late ones stored nothing more.
    assert s.duplicates > 0 and s.retries > 0 and s.posted == s.stored + s.duplicates
    assert s.stored == s.unique == _count(served["url"])

    # The end state in GET /sensors: rain sensors flooded, the silent ones unknown, every other one dry.
    end = _states(base)
    assert {sid for sid, st in end.items() if st == "flooded"} == flooded
    assert {sid for sid, st in end.items() if st == "unknown"} == set(s.silent)
    assert {st for sid, st in end.items() if sid not in flooded | set(s.silent)} == {"dry"}
    # Seen live while it ran: wet before flooded (never flooded on one sample), never flooded for a dry sensor.
    assert any("wet" in seen[sid] and seen[sid].index("wet") < seen[sid].index("flooded") for sid in flooded)
    assert not any("flooded" in seen[sid] for sid in set(end) - flooded)

    # One flooded event per flooded sensor, wet for at least wet_minutes first: retries issued no second event.
    events = httpx.get(f"{base}/sensors/events", params={"kind": "flooded", "limit": 1000}, timeout=30).json()
    by_sensor = Counter(e["sensor_id"] for e in events["events"])
    assert set(by_sensor) == flooded and set(by_sensor.values()) == {1}
    assert all(e["detail"]["wet_minutes"] >= 10 for e in events["events"])
    assert s.events["flooded"] == len(flooded)

    # Nothing was ever stamped ahead of the server's clock.
    with psycopg.connect(served["url"]) as conn:
        ahead = conn.execute("SELECT count(*) FROM sensor_observations WHERE phenomenon_time > received_at")
        assert ahead.fetchone()[0] == 0


def test_the_cli_posts_and_summarises(served: dict[str, Any]) -> None:
    r = CliRunner().invoke(
        app,
        ["sensors", "simulate", "--url", served["base"], "--token", served["token"], "--sensors", "5"]
        + ["--minutes", "90", "--speed", "0", "--duplicates", "0.2", "--seed", "1", "--quiet"],
    )
    assert r.exit_code == 0, r.output
    assert "sensors 5, 90 simulated minutes" in r.output and "errors 0" in r.output
    unique = int(r.output.split("readings: ")[1].split(" unique")[0])
    assert unique == _count(served["url"]) > 0
    bad = CliRunner().invoke(app, ["sensors", "simulate", "--url", served["base"], "--token", "nope", "--speed", "0"])
    assert bad.exit_code == 2 and "401" in bad.output
