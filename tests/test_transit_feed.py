"""The GTFS import on a small fixture feed: bad zips refused with nothing changed, trips past midnight, the feed's
end, a calendar_dates exception, the connector's detection and report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.transit.connector import CONNECTOR
from gis.transit.feed import read_feed
from tests.transit_feed import make_zip

JST = ZoneInfo("Asia/Tokyo")
INFO = SourceInfo(title="試験フィード", publisher="試験", licence="CC0", data_date=None)
COUNTS = (
    "SELECT (SELECT count(*) FROM transit_trips), (SELECT count(*) FROM transit_stop_times), "
    "(SELECT count(*) FROM bus_stops), (SELECT count(*) FROM bus_routes), (SELECT count(*) FROM transit_feeds), "
    "(SELECT max(version) FROM layer_state WHERE layer_id = 'transit')"
)


def _departures(conn: psycopg.Connection, stop: str, at: datetime, n: int = 5) -> list[tuple]:
    rows = conn.execute(
        "SELECT time_jst, trip_id, service_day::text, headsign FROM transit_departures(%s, %s, %s)", (stop, at, n)
    ).fetchall()
    return [tuple(r) for r in rows]


BAD = [
    ({"drop": ("stop_times.txt",)}, "missing stop_times.txt"),
    ({"drop": ("calendar.txt", "calendar_dates.txt")}, "calendar.txt or calendar_dates.txt"),
    ({"stop_times_txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,7:3,7:3,S1-1,1\n"},
     "stop_times.txt line 2: arrival_time '7:3' is not a time"),
    ({"stop_times_txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:30:00,07:30:00,S9,1\n"},
     "stop_times.txt line 2: stop_id 'S9' is not in stops.txt"),
    ({"calendar_dates_txt": "service_id,date,exception_type\nWK,2026-11-23,2\n"},
     "calendar_dates.txt line 2: date: '2026-11-23' is not a date (YYYYMMDD)"),
    ({"calendar_dates_txt": "service_id,date,exception_type\nWK,20261123,3\n"}, "exception_type '3' is not 1 or 2"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_feed_is_refused_naming_the_problem(tmp_path: Path, change: dict, message: str) -> None:
    path = make_zip(tmp_path / "bad.zip", **change)
    with pytest.raises(ImportFailed) as e:
        read_feed(path)
    assert message in e.value.description


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("stop_id,stop_name\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="not a zip file"):
        read_feed(path)
    assert not CONNECTOR.detect(path)


def test_connector_detects_gtfs_zips_only(tmp_path: Path) -> None:
    assert CONNECTOR.detect(make_zip(tmp_path / "ok.zip"))
    assert not CONNECTOR.detect(make_zip(tmp_path / "no_trips.zip", drop=("trips.txt",)))
    assert CONNECTOR.name == "gtfs" and CONNECTOR.layer == "bus_stops" and CONNECTOR.title


def test_bad_zip_changes_nothing(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url) as conn:
        before = conn.execute(COUNTS).fetchone()
        conn.rollback()
        for i, (change, _) in enumerate(BAD):
            with pytest.raises(ImportFailed):
                CONNECTOR.run(conn, make_zip(tmp_path / f"bad{i}.zip", **change), INFO)
        # A feed that reads well but whose stops all lie outside the two cities.
        far = "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\nS1,x,33.26,130.30,1,\n"
        far += "S1-1,x,33.26,130.30,0,S1\nS2,y,33.27,130.31,0,\n"
        with pytest.raises(ImportFailed, match="no stop of the feed lies in"):
            CONNECTOR.run(conn, make_zip(tmp_path / "far.zip", stops_txt=far), INFO)
        assert conn.execute(COUNTS).fetchone() == before


def test_fixture_feed_departures(scratch_url: str, tmp_path: Path) -> None:
    with psycopg.connect(scratch_url) as conn:
        result = CONNECTOR.run(conn, make_zip(tmp_path / "ok.zip"), INFO, force=True)
        text = str(result)
        assert "試験" in text and "test-1" in text and "bus_stops: 3 件" in text
        assert result.counts["trips"] == 3 and result.counts["stops"] == 3
        # Tuesday 2026-11-24 07:00: the station gives its boarding point's departures; S2 is set-down only at 07:45.
        tue = datetime(2026, 11, 24, 7, 0, tzinfo=JST)
        assert _departures(conn, "S1", tue) == [
            ("07:30", "T1", "2026-11-24", "試験公園前"),
            ("23:50", "T2", "2026-11-24", "試験公園前"),
        ]
        assert _departures(conn, "S2", tue) == [("00:30", "T2", "2026-11-24", "試験公園前")]
        # Past midnight: at 00:10 on Wednesday, Tuesday's 24:30 trip still departs from S2 (at 00:30), before
        # Wednesday's own (Thursday 00:30).
        assert _departures(conn, "S2", datetime(2026, 11, 25, 0, 10, tzinfo=JST)) == [
            ("00:30", "T2", "2026-11-24", "試験公園前"),
            ("00:30", "T2", "2026-11-25", "試験公園前"),
        ]
        # ...and not at 00:31.
        assert _departures(conn, "S2", datetime(2026, 11, 25, 0, 31, tzinfo=JST)) == [
            ("00:30", "T2", "2026-11-25", "試験公園前")
        ]
        # Monday 2026-11-23 is a holiday: calendar_dates removes WK and adds HOL.
        assert _departures(conn, "S1", datetime(2026, 11, 23, 6, 0, tzinfo=JST)) == [
            ("09:15", "T3", "2026-11-23", "試験公園前（休日）")
        ]
        # Sunday: HOL by the calendar; Saturday: nothing runs.
        assert [r[1] for r in _departures(conn, "S1", datetime(2026, 11, 29, 6, 0, tzinfo=JST))] == ["T3"]
        assert _departures(conn, "S1", datetime(2026, 11, 28, 6, 0, tzinfo=JST)) == []
        # Names and routes reach the layers; the route is drawn from the stop sequence (no shapes.txt).
        stop = conn.execute("SELECT name, routes, agencies FROM bus_stops WHERE stop_id = 'S1'").fetchone()
        assert stop == ("試験駅", "試験線", "試験バス")
        route = conn.execute(
            "SELECT name, color, route_color, ST_NumGeometries(geom), ST_GeometryType(geom) FROM bus_routes"
        ).fetchone()
        assert route == ("試験線", "#ff0000", "#ff0000", 1, "ST_MultiLineString")
        feed = conn.execute("SELECT version, end_date::text, last_service_day::text FROM transit_feeds").fetchone()
        assert feed == ("test-1", "2026-12-31", "2026-12-31")


def test_gis_import_picks_the_gtfs_connector(tmp_path: Path) -> None:
    from gis.cli.data import pick_connector

    assert pick_connector(make_zip(tmp_path / "feed.zip"), None) is CONNECTOR
