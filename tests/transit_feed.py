"""A small GTFS(-JP) zip for the transit tests: two stops in 武雄市 (one a station with a boarding point), trips
past 24:00, a calendar_dates exception and a feed that ends on 2026-12-31. `make_zip` writes it with changes."""

from __future__ import annotations

import zipfile
from pathlib import Path

FILES: dict[str, str] = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA1,試験バス,https://example.jp,Asia/Tokyo\n",
    "stops.txt": (
        "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
        "S1,試験駅,33.19621,130.022189,1,\n"
        "S1-1,試験駅(1),33.196307,130.022233,0,S1\n"
        "S2,試験公園前,33.18,130.01,0,\n"
    ),
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type,route_color\n"
    "R1,A1,1,試験線,3,FF0000\n",
    "trips.txt": (
        "route_id,service_id,trip_id,trip_headsign,shape_id\n"
        "R1,WK,T1,試験公園前,\n"
        "R1,WK,T2,試験公園前,\n"
        "R1,HOL,T3,試験公園前（休日）,\n"
    ),
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type\n"
        "T1,07:30:00,07:30:00,S1-1,1,0\n"
        "T1,07:45:00,07:45:00,S2,2,1\n"
        "T2,23:50:00,23:50:00,S1-1,1,0\n"
        "T2,24:30:00,24:30:00,S2,2,0\n"
        "T3,09:15:00,09:15:00,S1-1,1,0\n"
        "T3,09:30:00,09:30:00,S2,2,1\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WK,1,1,1,1,1,0,0,20261101,20261231\n"
        "HOL,0,0,0,0,0,0,1,20261101,20261231\n"
    ),
    "calendar_dates.txt": "service_id,date,exception_type\nWK,20261123,2\nHOL,20261123,1\n",
    "feed_info.txt": (
        "feed_publisher_name,feed_publisher_url,feed_lang,feed_start_date,feed_end_date,feed_version\n"
        "試験,https://example.jp,ja,20261101,20261231,test-1\n"
    ),
}


def make_zip(path: Path, drop: tuple[str, ...] = (), **replace: str) -> Path:
    """The fixture feed as a zip at `path`, without the files in `drop` and with files replaced (name_txt=...)."""
    files = {**FILES, **{k.replace("_txt", ".txt"): v for k, v in replace.items()}}
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            if name not in drop:
                zf.writestr(name, text)
    return path
