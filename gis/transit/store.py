"""Writing a cut feed: the timetable tables replaced whole, and the bus_stops / bus_routes layers through the one
layer write path (gis.ingest.importer.load_frame), all in one transaction. A refusal anywhere changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS

from gis.cities import CITIES
from gis.db.provenance import SourceInfo, bump_version, insert_source
from gis.errors import ImportFailed
from gis.geo import STORAGE_SRID
from gis.ingest.importer import ImportResult, load_frame
from gis.ingest.mapping import map_columns
from gis.transit.cut import Cut, cut_feed
from gis.transit.feed import Feed, read_feed
from gis.transit.tables import TABLES, VERSION_ID
from layers import get_layer


@dataclass
class TransitImportResult:
    """What a GTFS import did; printing it gives the report staff read.

    It also answers like gis.ingest.importer.ImportResult (layer, rows, cities, replaced, version, report), with
    the bus_stops layer's figures, so `gis import FILE` prints it like any connector's result.
    """

    publisher: str | None
    version_label: str | None
    start_date: Any
    end_date: Any
    first_day: Any
    last_day: Any
    counts: dict[str, int]
    layers: list[ImportResult]
    source_id: int
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report, one line each."""
        out = [
            f"GTFS {self.publisher or '(公開者不明)'} 版 {self.version_label or '-'}、"
            f"有効期間 {self.start_date or '-'} – {self.end_date or '-'}（運行日 {self.first_day} – {self.last_day}）",
            "時刻表: " + "、".join(f"{k} {v:,}" for k, v in self.counts.items()),
        ]
        for r in self.layers:
            cities = "、".join(CITIES[c].name if c in CITIES else c for c in r.cities)
            out.append(f"{r.layer}: {r.rows:,} 件（{cities}）")
        out += self.notes
        return out

    @property
    def layer(self) -> str:
        """The layer a staff import is listed under."""
        return self.layers[0].layer

    @property
    def rows(self) -> int:
        """Stops loaded."""
        return self.layers[0].rows

    @property
    def cities(self) -> list[str]:
        """The cities the stops are in."""
        return self.layers[0].cities

    @property
    def replaced(self) -> int:
        """Stops replaced."""
        return self.layers[0].replaced

    @property
    def version(self) -> int:
        """The bus_stops layer's new version."""
        return self.layers[0].version

    @property
    def report(self) -> list[str]:
        """The whole report (feed, timetables, both layers, notes)."""
        return self.lines()

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def db_areas(conn: psycopg.Connection) -> gpd.GeoDataFrame | None:
    """The municipalities layer's polygons of the two cities, or None while one of them is missing."""
    rows = conn.execute(
        "SELECT city_code, ST_AsBinary(geom) FROM municipalities WHERE city_code = ANY(%s)", (list(CITIES),)
    ).fetchall()
    if {r[0] for r in rows} != set(CITIES):
        return None
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    return gpd.GeoDataFrame({"city_code": [r[0] for r in rows]}, geometry=geoms, crs=STORAGE_SRID)


def file_areas(path: Path) -> gpd.GeoDataFrame:
    """The two cities' polygons from an N03 GeoJSON (the bundled one, while the layer is not loaded yet)."""
    frame = gpd.read_file(path)
    code = next(c for c in ("N03_007", "city_code") if c in frame.columns)
    frame = frame[frame[code].isin(list(CITIES))].dissolve(by=code, as_index=False)
    return frame.rename(columns={code: "city_code"})[["city_code", "geometry"]]


def _copy(cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    target = sql.SQL("COPY {t} ({c}) FROM STDIN").format(
        t=sql.Identifier(table), c=sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(target) as copy:
        for row in rows:
            copy.write_row(row)


def _values(frame: pd.DataFrame, columns: Sequence[str]) -> Iterable[tuple]:
    """Rows with NA as None (COPY writes \\N)."""
    part = frame[list(columns)].astype(object)
    return part.where(part.notna(), None).itertuples(index=False, name=None)


# (table, its columns, the Cut frame, that frame's columns in the same order)
_TABLE_ROWS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    ("transit_agencies", ("agency_id", "name", "url", "phone", "fare_url"),
     "agencies", ("agency_id", "agency_name", "agency_url", "agency_phone", "agency_fare_url")),
    ("transit_routes",
     ("route_id", "agency_id", "short_name", "long_name", "name", "route_type", "route_color", "color", "text_color"),
     "routes", ("route_id", "agency_id", "route_short_name", "route_long_name", "name", "route_type",
                "route_color", "color", "route_text_color")),
    ("transit_stops",
     ("stop_id", "name", "kana", "name_en", "lat", "lon", "location_type", "parent_station",
      "wheelchair_boarding", "city_code", "valid_from", "valid_to"),
     "stops", ("stop_id", "stop_name", "kana", "name_en", "stop_lat", "stop_lon", "location_type",
               "parent_station", "wheelchair_boarding", "city_code", "valid_from", "valid_to")),
    ("transit_trips",
     ("trip_id", "route_id", "service_id", "headsign", "direction_id", "shape_id", "wheelchair_accessible"),
     "trips", ("trip_id", "route_id", "service_id", "trip_headsign", "direction_id", "shape_id",
               "wheelchair_accessible")),
    ("transit_stop_times",
     ("trip_id", "stop_sequence", "stop_id", "service_id", "arrival", "departure", "headsign", "pickup"),
     "stop_times", ("trip_id", "stop_sequence", "stop_id", "service_id", "arrival", "departure", "headsign",
                    "pickup")),
    ("transit_calendar", ("service_id", "days", "start_date", "end_date"),
     "calendar", ("service_id", "days", "start_date", "end_date")),
    ("transit_calendar_dates", ("service_id", "day", "exception_type"),
     "calendar_dates", ("service_id", "day", "exception_type")),
    ("transit_service_days", ("day", "service_id"), "service_days", ("day", "service_id")),
)  # fmt: skip


def _write_tables(cur: psycopg.Cursor, c: Cut) -> dict[str, int]:
    for t in reversed(TABLES):
        if t.name != "transit_feeds":
            cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(t.name)))
    for table, columns, attr, source in _TABLE_ROWS:
        frame = getattr(c, attr).reindex(columns=list(source))
        _copy(cur, table, columns, _values(frame, source))
    return {
        "routes": len(c.routes),
        "stops": len(c.stops),
        "trips": len(c.trips),
        "stop_times": len(c.stop_times),
        "service_days": len(c.service_days),
    }


def _load_layer(
    conn: psycopg.Connection, layer_id: str, frame: gpd.GeoDataFrame, info: SourceInfo, path: Path, force: bool
) -> ImportResult:
    """One layer's rows through the one write path; rows of a city the new feed no longer reaches go too."""
    layer = get_layer(layer_id)
    report: list[str] = []
    mapped = map_columns(frame, layer, None, report)
    cities = sorted(set(mapped["city_code"]))
    conn.execute(sql.SQL("DELETE FROM {} WHERE NOT (city_code = ANY(%s))").format(sql.Identifier(layer_id)), (cities,))
    # Routes run on beyond the cities (kept whole); stops are inside by construction.
    return load_frame(
        conn,
        layer,
        mapped,
        info,
        replace=True,
        force=force,
        allow_outside=True,
        source_crs=CRS.from_epsg(STORAGE_SRID),
        file=path,
        report=report,
    )


def store(
    conn: psycopg.Connection,
    path: Path,
    info: SourceInfo,
    *,
    areas: gpd.GeoDataFrame | None = None,
    force: bool = False,
) -> TransitImportResult:
    """Read, check and cut the zip, then replace the timetables and both layers in one transaction."""
    feed: Feed = read_feed(Path(path))
    areas = areas if areas is not None else db_areas(conn)
    if areas is None:
        raise ImportFailed("the municipalities layer does not hold both cities yet: run `gis load` first")
    c = cut_feed(feed, areas)
    if c.layer_routes.empty:
        raise ImportFailed("none of the routes serving the cities can be drawn (no shapes and no stop sequence)")
    report = [*feed.notes, *c.report]
    with conn.transaction(), conn.cursor() as cur:
        names = ", ".join(t.name for t in TABLES)
        cur.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        counts = _write_tables(cur, c)
        source_id = insert_source(
            cur,
            VERSION_ID,
            info,
            file_name=Path(path).name,
            file_sha256=_sha256(Path(path)),
            city_codes=sorted(set(c.layer_stops["city_code"])),
            row_count=counts["trips"],
            report=json.dumps(report, ensure_ascii=False),
        )
        cur.execute(
            "INSERT INTO transit_feeds (publisher, publisher_url, version, start_date, end_date, first_service_day, "
            "last_service_day, source_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (feed.publisher or info.publisher, feed.publisher_url, feed.version, feed.start_date, feed.end_date,
             c.first_day, c.last_day, source_id),
        )  # fmt: skip
        cur.execute("DELETE FROM transit_feeds WHERE id <> currval(pg_get_serial_sequence('transit_feeds', 'id'))")
        bump_version(cur, VERSION_ID)
        for t in TABLES:
            cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(t.name)))
        layers = [
            _load_layer(conn, "bus_stops", c.layer_stops, info, Path(path), force),
            _load_layer(conn, "bus_routes", c.layer_routes, info, Path(path), force),
        ]
    return TransitImportResult(
        feed.publisher, feed.version, feed.start_date, feed.end_date, c.first_day, c.last_day,
        counts, layers, source_id, report,
    )  # fmt: skip
