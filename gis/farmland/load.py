"""`gis load` for the farmland domain: the bundled 筆ポリゴン, 農地台帳 CSV and 作付 CSV, then links and summary.

The manifest entry names this module and its files; it loads after the layers (`after_layers`), so the
polygons are checked against the municipalities like any layer import:

    [[table]]
    name = "farmland"
    module = "gis.farmland.load"
    after_layers = true
    source = "sample"
    polygons = "sample/farmland_sample.geojson"        # MAFF 筆ポリゴン GeoJSON
    ledger = "sample/farmland_ledger_sample.csv"       # README 「農地台帳 CSV」
    crops = "sample/farmland_crops_sample.csv"         # polygon_uuid, 年, 作期, 作物, 時点

Each file replaces its cities' rows (--replace semantics), in the loader's one transaction: loading twice gives
the same rows with the same ids (polygons by polygon_uuid, records by 大字 + 地番, crops by polygon + season).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.farmland.crops import read_crops
from gis.farmland.ledger import read_ledger
from gis.farmland.link import lock_domain
from gis.farmland.polygons import link_and_refresh
from gis.farmland.store import store_crops, store_ledger
from gis.ingest.importer import load_frame
from gis.ingest.mapping import map_columns
from gis.ingest.readers import read_source
from layers import get_layer


def load(
    cur: psycopg.Cursor, data_dir: Path, entry: Mapping[str, Any], sources: Mapping[str, SourceInfo]
) -> list[tuple[str, int, str]]:
    """Load the farmland entry of the manifest; returns (table, rows, file) per table."""
    if "source" not in entry or not any(k in entry for k in ("polygons", "ledger", "crops")):
        raise ImportFailed("manifest: the farmland entry needs `source` and polygons, ledger or crops files")
    info = sources[entry["source"]]
    data_dir = Path(data_dir)
    lines: list[tuple[str, int, str]] = []
    cities: set[str] = set()
    lock_domain(cur)
    if "polygons" in entry:
        path = data_dir / entry["polygons"]
        source = read_source(path)
        mapped = map_columns(source.frame, get_layer("farmland"), entry.get("city"), source.report)
        result = load_frame(
            cur.connection, get_layer("farmland"), mapped, info, replace=True, source_crs=source.crs, file=path,
            report=source.report, after_write=False,
        )  # fmt: skip
        cities.update(result.cities)
        lines.append(("farmland", result.rows, path.name))
    if "ledger" in entry:
        path = data_dir / entry["ledger"]
        res = store_ledger(cur, read_ledger(path, entry.get("city")), info, file=path, replace=True, finish=False)
        cities.update(res.cities)
        lines += [(table, n, path.name) for table, n in res.counts.items()]
    if "crops" in entry:
        path = data_dir / entry["crops"]
        res = store_crops(cur, read_crops(path), info, file=path, replace=True, finish=False)
        cities.update(res.cities)
        lines += [(table, n, path.name) for table, n in res.counts.items()]
    # One relink and one summary for the whole bundle (each file alone would do its own).
    report = link_and_refresh(cur, sorted(cities))
    lines.append(("farmland_links", report.links, "; ".join(report.lines())))
    return lines


__all__ = ["load"]
