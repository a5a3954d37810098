"""Buses from the bundled 佐賀県 GTFS-JP feed: what `gis load` keeps, next departures on a weekday, a Saturday, a
祝日 and a year-end calendar_dates day (times read from the feed's own text files), the endpoint and its errors,
the lookup report's section, and the place names for the geocoder.

Expected times were read by hand from stop_times.txt / trips.txt / calendar*.txt of
data/bus/saga_pref_gtfs_jp_20260404.zip for 武雄温泉駅（北口）(station 3116700, boarding points 3116700-10/-20).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.ingest.loader import read_manifest
from gis.settings import REPO_ROOT
from gis.transit.load import load
from gis.transit.service import places

JST = ZoneInfo("Asia/Tokyo")
STATION = "3116700"  # 武雄温泉駅（北口）
DATA = REPO_ROOT / "data"


def _deps(conn: psycopg.Connection, stop: str, at: datetime, n: int = 4) -> list[tuple]:
    rows = conn.execute(
        "SELECT time_jst, trip_id, route, stop_id FROM transit_departures(%s, %s, %s)", (stop, at, n)
    ).fetchall()
    return [tuple(r) for r in rows]


def test_the_cut_keeps_the_two_cities(conn: psycopg.Connection) -> None:
    stops = conn.execute(
        "SELECT city_code, location_type, count(*) FROM bus_stops GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    assert stops == [("41205", 0, 44), ("41205", 1, 24), ("41206", 0, 165), ("41206", 1, 109)]
    routes = [r[0] for r in conn.execute("SELECT name FROM bus_routes ORDER BY route_id")]
    assert len(routes) == 10
    assert {"唐津-伊万里線", "いまり号", "武雄市内循環線", "武雄観光周遊バス「たけめぐり」"} <= set(routes)
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM transit_trips), (SELECT count(*) FROM transit_routes), "
        "(SELECT count(*) FROM transit_stop_times), (SELECT bool_and(NOT sample) FROM bus_stops)"
    ).fetchone()
    assert counts == (425, 10, 16903, True)
    # Whole trips: いまり号 runs on to 博多; its stops outside the cities are known (termini) but not published.
    outside = conn.execute("SELECT count(*) FROM transit_stops WHERE city_code IS NULL").fetchone()[0]
    assert outside > 100
    station = conn.execute(
        "SELECT name, kana, name_en, location_type, routes FROM bus_stops WHERE stop_id = %s", (STATION,)
    ).fetchone()
    assert station[0] == "武雄温泉駅（北口）" and station[3] == 1 and "武雄線" in station[4]
    assert station[1] == "たけおおんせんえき（きたぐち）"  # ja-Hrkt from translations.txt (no en for it)
    src = conn.execute(
        "SELECT s.publisher, s.licence, s.note FROM bus_stops b JOIN sources s ON s.id = b.source_id LIMIT 1"
    ).fetchone()
    assert src[0] == "佐賀県" and "CC BY 4.0" in src[1] and "西肥バス" in src[2]


def test_routes_are_lines_in_their_gtfs_or_assigned_colour(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT ST_GeometryType(geom), color, ST_Length(geom_m) FROM bus_routes ORDER BY route_id"
    ).fetchall()
    assert {r[0] for r in rows} == {"ST_MultiLineString"}
    assert all(r[1].startswith("#") and len(r[1]) == 7 for r in rows) and all(r[2] > 1000 for r in rows)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # Tuesday: 4_平日 and 3_平日.
        ("2026-11-24", [("08:04", "4_平日_07時40分_系統1807", "武雄・三間坂線", "3116700-10"),
                        ("08:04", "4_平日_07時51分_系統3205", "武雄市内循環線", "3116700-10"),
                        ("08:17", "3_平日_07時40分_系統35030", "武雄-多久線", "3116700-20"),
                        ("08:31", "4_平日_08時29分_系統1806", "武雄・三間坂線", "3116700-20")]),
        # Saturday: 3_土曜 and 4_土曜.
        ("2026-11-28", [("08:02", "3_土曜_07時25分_系統35030", "武雄-多久線", "3116700-20"),
                        ("08:04", "4_土曜_07時51分_系統3205", "武雄市内循環線", "3116700-10"),
                        ("08:07", "4_土曜_08時00分_系統1110", "武雄線", "3116700-10"),
                        ("08:21", "4_土曜_07時08分_系統1111", "武雄線", "3116700-20")]),
        # Monday 2026-11-23 勤労感謝の日: calendar_dates removes 平日 and adds 日祝.
        ("2026-11-23", [("08:07", "4_日祝_08時00分_系統1110", "武雄線", "3116700-10"),
                        ("08:21", "4_日祝_07時08分_系統1111", "武雄線", "3116700-20"),
                        ("08:31", "4_日祝_08時29分_系統1806", "武雄・三間坂線", "3116700-20"),
                        ("08:47", "4_日祝_08時00分_系統1513", "祐徳線", "3116700-20")]),
        # Thursday 2026-12-31: 祐徳 runs only its 学休ダイヤ (added by calendar_dates, no calendar row days).
        ("2026-12-31", [("08:04", "4_学休ダイヤ_07時51分_系統3205", "武雄市内循環線", "3116700-10"),
                        ("08:31", "4_学休ダイヤ_08時29分_系統1806", "武雄・三間坂線", "3116700-20"),
                        ("08:47", "4_学休ダイヤ_08時00分_系統1513", "祐徳線", "3116700-20"),
                        ("08:57", "4_学休ダイヤ_07時23分_系統1109", "武雄線", "3116700-20")]),
    ],
)  # fmt: skip
def test_departures_from_takeo_onsen_station(conn: psycopg.Connection, day: str, expected: list[tuple]) -> None:
    at = datetime.fromisoformat(f"{day}T08:00:00").replace(tzinfo=JST)
    assert _deps(conn, STATION, at) == expected
    # A boarding point alone gives only its own departures.
    assert _deps(conn, "3116700-20", at, 2) == [e for e in expected if e[3] == "3116700-20"][:2]


def test_departures_query_uses_the_indexes(conn: psycopg.Connection) -> None:
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT * FROM transit_departures(%s, %s, 10)", (STATION, datetime(2026, 11, 24, 8, tzinfo=JST))
        )
    )
    assert "ix_transit_stop_times_departures" in plan and "transit_service_days_pkey" in plan
    assert "Seq Scan on transit_stop_times" not in plan


def test_departures_endpoint(client: TestClient) -> None:
    r = client.get(f"/transit/stops/{STATION}/departures", params={"at": "2026-11-23T08:00", "limit": 2})
    assert r.status_code == 200 and r.headers["etag"]
    body = r.json()
    assert body["stop"]["name"] == "武雄温泉駅（北口）" and body["stop"]["children"] == ["3116700-10", "3116700-20"]
    assert body["at_jst"] == "2026-11-23T08:00:00+09:00" and body["service_date"] == "2026-11-23"
    first = body["departures"][0]
    assert first["time_jst"] == "08:07" and first["departure"] == "2026-11-23T08:07:00+09:00"
    assert first["route"] == "武雄線" and first["agency"] == "祐徳自動車株式会社" or first["agency"].startswith("祐徳")
    assert first["headsign"].startswith("佐賀駅バスセンター") and first["trip_id"] == "4_日祝_08時00分_系統1110"
    assert len(body["departures"]) == 2 and body["note"] is None
    src = body["source"]
    assert src["data_date"] == "2026-04-04" and src["feed_version"].startswith("20260404") and not src["sample"]
    assert src["sources"][0]["publisher"] == "佐賀県" and "西肥バス" in body["caveat"]
    # The same moment given in UTC.
    utc = client.get(f"/transit/stops/{STATION}/departures", params={"at": "2026-11-22T23:00:00Z", "limit": 2})
    assert utc.json()["departures"] == body["departures"]
    # Default: now, 10 at most.
    now = client.get(f"/transit/stops/{STATION}/departures").json()
    assert len(now["departures"]) <= 10 and now["at_jst"].endswith("+09:00")


def test_departures_after_the_feed_ends(client: TestClient) -> None:
    body = client.get(f"/transit/stops/{STATION}/departures", params={"at": "2027-04-10T08:00"}).json()
    assert body["departures"] == [] and "有効期限" in body["note"] and "2027-04" in body["note"]


def test_departures_endpoint_errors(client: TestClient) -> None:
    r = client.get("/transit/stops/nope/departures")
    assert r.status_code == 404 and "stop_id" in r.json()["description"]
    # A stop outside the two cities (佐賀駅バスセンター) is not published.
    assert client.get("/transit/stops/1001002-01/departures").status_code == 404
    for params, name in (({"at": "tomorrow"}, "at"), ({"limit": "51"}, "limit"), ({"limit": "x"}, "limit"),
                         ({"when": "1"}, "when")):  # fmt: skip
        r = client.get(f"/transit/stops/{STATION}/departures", params=params)
        assert r.status_code == 400 and r.json()["description"].startswith(name), r.text


def test_stops_near_a_point(client: TestClient) -> None:
    body = client.get("/transit/stops", params={"lat": 33.1962, "lon": 130.0222, "limit": 3}).json()
    assert body["stops"][0]["stop_id"] == STATION and body["stops"][0]["distance_m"] < 20
    assert len(body["stops"]) == 3 and body["sources"] and "西肥バス" in body["caveat"]
    assert client.get("/transit/stops", params={"lat": 33.19}).status_code == 400


def test_report_lists_nearest_stops_with_next_departures(client: TestClient, conn: psycopg.Connection) -> None:
    for _ in range(2):  # a minute may turn between the two queries: then ask again
        section = client.get("/lookup", params={"lat": 33.1962, "lon": 130.0222}).json()["bus_stops"]
        stops = section["nearest"]
        expected = [
            [r[0] for r in conn.execute("SELECT time_jst FROM transit_departures(%s, now(), 3)", (s["stop_id"],))]
            for s in stops
        ]
        if [[d["time_jst"] for d in s["departures"]] for s in stops] == expected:
            break
    assert [[d["time_jst"] for d in s["departures"]] for s in stops] == expected
    assert len(stops) == 3 and stops[0]["stop_id"] == STATION and stops[0]["distance_m"] < 20
    assert all(s["routes"] and s["location_type"] in (0, 1) and s["distance_m"] >= 0 for s in stops)
    assert [s["distance_m"] for s in stops] == sorted(s["distance_m"] for s in stops)
    assert section["times"] == "日本時間（JST）" and "西肥バス" in section["note"]
    assert not section["sample"] and section["data_date"] == "2026-04-04"


def test_places_for_the_geocoder(conn: psycopg.Connection) -> None:
    found = places(conn)
    onsen = [p for p in found if p[0].startswith("武雄温泉駅")]
    assert {p[4] for p in onsen} == {"station"} and len(onsen) == 2
    assert all(p[1] for p in onsen) and all(33.1 < p[2] < 33.3 and 129.9 < p[3] < 130.1 for p in onsen)
    assert (
        len(found)
        == 24
        + 109
        + conn.execute(
            "SELECT count(*) FROM transit_stops WHERE city_code IS NOT NULL AND location_type = 0 "
            "AND parent_station IS NULL"
        ).fetchone()[0]
    )


def test_load_is_idempotent(scratch_url: str) -> None:
    manifest = read_manifest(DATA)
    entry = next(t for t in manifest.tables if t.get("module") == "gis.transit.load")
    query = (
        "SELECT (SELECT array_agg(id ORDER BY id) FROM bus_stops), (SELECT array_agg(id ORDER BY id) FROM bus_routes), "
        "(SELECT count(*) FROM transit_stop_times), (SELECT count(*) FROM transit_service_days), "
        "(SELECT count(*) FROM transit_feeds)"
    )
    with psycopg.connect(scratch_url) as c:
        before = c.execute(query).fetchone()
        c.rollback()
        with c.transaction(), c.cursor() as cur:
            lines = load(cur, Path(DATA), entry, manifest.sources)
        assert ("bus_stops", 342, "saga_pref_gtfs_jp_20260404.zip") in lines
        assert c.execute(query).fetchone() == before


def test_a_stop_whose_operator_calendar_ended_says_so(client: TestClient, conn: psycopg.Connection) -> None:
    """祐徳's calendar ends 2027-03-31 while the feed runs to 2027-04-04: a stop whose last service day is past says
    the timetable expired, though the feed as a whole has not."""
    stop, valid_to, day_after = conn.execute(
        "SELECT stop_id, valid_to::text, (valid_to + 1)::text FROM transit_stops WHERE city_code IS NOT NULL "
        "AND parent_station IS NULL AND valid_to < '2027-04-03' ORDER BY valid_to DESC, stop_id LIMIT 1"
    ).fetchone()
    assert valid_to == "2027-03-31"
    body = client.get(f"/transit/stops/{stop}/departures", params={"at": f"{day_after}T08:00"}).json()
    assert body["departures"] == [] and f"有効期限（{valid_to}）" in body["note"]
