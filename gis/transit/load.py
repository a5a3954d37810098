"""`gis load` for the transit domain: the bundled GTFS-JP zip cut to the two cities.

The manifest entry names this module, the zip and its source:

    [[table]]
    name = "transit"
    module = "gis.transit.load"
    source = "saga_gtfs"
    file = "bus/saga_pref_gtfs_jp_20260404.zip"

Manifest tables load before the layers, so the cities are cut with the municipalities layer when it already holds
both cities and with the bundled N03 polygons otherwise (the same polygons the layer is loaded from). The timetables
and both layers are replaced whole: loading twice gives the same rows, and the layers keep their ids (feature_key).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.ingest.crsfit import BUNDLED_BOUNDARIES
from gis.transit.store import db_areas, file_areas, store


def load(
    cur: psycopg.Cursor, data_dir: Path, entry: Mapping[str, Any], sources: Mapping[str, SourceInfo]
) -> list[tuple[str, int, str]]:
    """Load the transit entry of the manifest; returns (table, rows, file) per table and layer."""
    if "file" not in entry or "source" not in entry:
        raise ImportFailed("manifest: the transit entry needs `file` and `source`")
    path = Path(data_dir) / entry["file"]
    conn = cur.connection
    areas = db_areas(conn)
    if areas is None:
        areas = file_areas(Path(BUNDLED_BOUNDARIES))
    result = store(conn, path, sources[entry["source"]], areas=areas)
    name = Path(entry["file"]).name
    lines = [(f"transit_{k}", n, name) for k, n in result.counts.items()]
    lines += [(r.layer, r.rows, name) for r in result.layers]
    return lines


__all__ = ["load"]
