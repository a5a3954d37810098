"""The GTFS(-JP) connector for `gis import`: a zip holding stops.txt, stop_times.txt, trips.txt and routes.txt.

It has the members of the `Connector` protocol (gis/ingest/connector_base.py) but lives in the domain: gis/ingest
never imports gis/transit; the CLI lists this object beside the national-file connectors. A run replaces the
timetables and the bus_stops / bus_routes layers in one transaction (gis/transit/store.py); a bad zip changes
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from gis.db.provenance import SourceInfo
from gis.ingest.connector_base import city_polygons
from gis.transit.feed import is_gtfs_zip
from gis.transit.store import TransitImportResult, store


class GtfsConnector:
    """GTFS-JP（標準的なバス情報フォーマット）zip → timetables, bus_stops and bus_routes."""

    name = "gtfs"
    title = "GTFS-JP（標準的なバス情報フォーマット）の zip"
    layer = "bus_stops"

    def detect(self, path: Path) -> bool:
        """A zip whose .txt files include stops, stop_times, trips and routes."""
        return is_gtfs_zip(Path(path))

    def run(self, conn: psycopg.Connection, path: Path, info: SourceInfo, **options: Any) -> TransitImportResult:
        """Read, check and cut the feed, then replace the timetables and both layers (options: force)."""
        areas = city_polygons(conn)
        return store(conn, Path(path), info, areas=areas, force=bool(options.get("force")))


CONNECTOR = GtfsConnector()

__all__ = ["CONNECTOR", "GtfsConnector"]
