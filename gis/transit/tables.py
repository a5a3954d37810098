"""The transit domain's tables (on the shared metadata, so migrations see them): one GTFS(-JP) feed cut to the
stops of 伊万里市 and 武雄市, the routes serving them and those routes' whole trips.

Departure times are seconds after the service day's midnight (GTFS times run past 24:00). The service days are the
feed's calendar expanded with calendar_dates (exception 1 adds a day, 2 removes it), so "which services run on
this day" is one index lookup. Everything here is public timetable data; the public role reads it.
"""

from __future__ import annotations

import sqlalchemy as sa

from gis.db.tables import metadata

# The version id of the timetables: every import bumps it (answers and caches follow it).
VERSION_ID = "transit"

transit_feeds = sa.Table(
    "transit_feeds",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("publisher", sa.Text, nullable=False),  # feed_info.feed_publisher_name
    sa.Column("publisher_url", sa.Text),
    sa.Column("version", sa.Text),  # feed_info.feed_version
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("first_service_day", sa.Date),  # the calendar's own first and last days (may differ from feed_info)
    sa.Column("last_service_day", sa.Date),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

transit_agencies = sa.Table(
    "transit_agencies",
    metadata,
    sa.Column("agency_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("phone", sa.Text),  # the operator's public enquiry number
    sa.Column("fare_url", sa.Text),
)

transit_routes = sa.Table(
    "transit_routes",
    metadata,
    sa.Column("route_id", sa.Text, primary_key=True),
    sa.Column("agency_id", sa.Text, nullable=False),
    sa.Column("short_name", sa.Text),
    sa.Column("long_name", sa.Text),
    sa.Column("name", sa.Text, nullable=False),  # long name, else short name, else the id
    sa.Column("route_type", sa.Integer),
    sa.Column("route_color", sa.Text),  # as the feed gives it (#RRGGBB), NULL when absent
    sa.Column("color", sa.Text, nullable=False),  # what maps draw: the feed's colour, else an assigned one
    sa.Column("text_color", sa.Text),
)

transit_stops = sa.Table(
    "transit_stops",
    metadata,
    sa.Column("stop_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kana", sa.Text),  # translations.txt ja-Hrkt
    sa.Column("name_en", sa.Text),  # translations.txt en
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("location_type", sa.Integer, nullable=False, server_default="0"),
    sa.Column("parent_station", sa.Text),
    sa.Column("wheelchair_boarding", sa.Integer),
    # The city the stop lies in; NULL for the stops outside both cities that the kept trips also call at (their
    # timetables are incomplete here: only the routes serving the two cities are kept).
    sa.Column("city_code", sa.String(5)),
    # The first and last service day of the trips calling here (a station: at its children); later is "expired".
    sa.Column("valid_from", sa.Date),
    sa.Column("valid_to", sa.Date),
    sa.Index("ix_transit_stops_parent", "parent_station"),
)

transit_trips = sa.Table(
    "transit_trips",
    metadata,
    sa.Column("trip_id", sa.Text, primary_key=True),
    sa.Column("route_id", sa.Text, nullable=False),
    sa.Column("service_id", sa.Text, nullable=False),
    sa.Column("headsign", sa.Text),
    sa.Column("direction_id", sa.Integer),
    sa.Column("shape_id", sa.Text),
    sa.Column("wheelchair_accessible", sa.Integer),
    sa.Index("ix_transit_trips_route", "route_id"),
)

transit_stop_times = sa.Table(
    "transit_stop_times",
    metadata,
    sa.Column("trip_id", sa.Text, primary_key=True),
    sa.Column("stop_sequence", sa.Integer, primary_key=True),
    sa.Column("stop_id", sa.Text, nullable=False),
    sa.Column("service_id", sa.Text, nullable=False),  # the trip's, so one index answers "from here on this day"
    sa.Column("arrival", sa.Integer),  # seconds after the service day's midnight
    sa.Column("departure", sa.Integer),
    sa.Column("headsign", sa.Text),  # stop_headsign
    # False where nobody may board (pickup_type 1: a terminus or set-down only) or the time is not given.
    sa.Column("pickup", sa.Boolean, nullable=False),
    sa.Index(
        "ix_transit_stop_times_departures",
        "stop_id",
        "service_id",
        "departure",
        postgresql_where=sa.text("pickup"),
    ),
)

transit_calendar = sa.Table(
    "transit_calendar",
    metadata,
    sa.Column("service_id", sa.Text, primary_key=True),
    sa.Column("days", sa.Text, nullable=False),  # '1111100': Monday … Sunday
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
)

transit_calendar_dates = sa.Table(
    "transit_calendar_dates",
    metadata,
    sa.Column("service_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("exception_type", sa.Integer, nullable=False),  # 1 added, 2 removed
)

# calendar + calendar_dates expanded: one row per service and day it runs.
transit_service_days = sa.Table(
    "transit_service_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("service_id", sa.Text, primary_key=True),
)

TABLES = (
    transit_feeds,
    transit_agencies,
    transit_routes,
    transit_stops,
    transit_trips,
    transit_stop_times,
    transit_calendar,
    transit_calendar_dates,
    transit_service_days,
)

__all__ = ["TABLES", "VERSION_ID", *(t.name for t in TABLES)]
