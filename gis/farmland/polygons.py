"""Importing MAFF 筆ポリゴン (GeoJSON as distributed, or FlatGeobuf) into the farmland layer, then links and summary.

The polygons go through the one write path (`load_frame`: staging, the inside-the-city and --replace guards,
provenance, version); polygon ids stay stable across re-imports by polygon_uuid. In the same transaction the
ledger records of the file's cities are linked again and the layer's summary rewritten.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from gis.db.provenance import SourceInfo
from gis.errors import ImportFailed
from gis.farmland.link import LinkReport, build_links, lock_domain
from gis.farmland.refresh import refresh_parcels
from gis.farmland.store import FarmlandResult
from gis.ingest.crsfit import connection_areas
from gis.ingest.importer import Progress, load_frame
from gis.ingest.mapping import map_columns
from gis.ingest.readers import read_source
from layers import get_layer

MAFF_TITLE = "筆ポリゴン（農林水産省）"
MAFF_SOURCE = SourceInfo(
    title=MAFF_TITLE,
    publisher="農林水産省",
    licence="CC BY 4.0（政府標準利用規約 第2.0版 準拠）",
    licence_url="https://creativecommons.org/licenses/by/4.0/",
    attribution="「筆ポリゴンデータ（農林水産省）」を加工して作成",
)


def link_and_refresh(cur: psycopg.Cursor, cities: list[str]) -> LinkReport:
    """Relink the cities' ledger records and rewrite the summary (after polygons change)."""
    links = build_links(cur, cities)
    refresh_parcels(cur, sorted({*cities, *links.polygon_cities}))
    return links


def after_write(cur: psycopg.Cursor, cities: list[str]) -> list[str]:
    """The layer's after-write hook: any writer of polygons (import, upload, edit, rollback) relinks and refreshes."""
    lock_domain(cur)
    return link_and_refresh(cur, cities).lines()


def import_polygons(
    conn: psycopg.Connection,
    path: Path,
    info: SourceInfo | None = None,
    *,
    crs: str | None = None,
    city: str | None = None,
    replace: bool = False,
    force: bool = False,
    allow_outside: bool = False,
    progress: Progress | None = None,
) -> FarmlandResult:
    """Load a 筆ポリゴン file, relink and refresh, all in one transaction (nothing changes when refused)."""
    path = Path(path)
    layer = get_layer("farmland")
    source = read_source(path, crs=crs, areas=connection_areas(conn))
    if "polygon_uuid" not in source.frame.columns:
        raise ImportFailed(f"{path.name}: no polygon_uuid column: not a MAFF 筆ポリゴン file")
    mapped = map_columns(source.frame, layer, city, source.report)
    with conn.transaction(), conn.cursor() as cur:
        lock_domain(cur)
        result = load_frame(
            conn, layer, mapped, info or MAFF_SOURCE, replace=replace, force=force, allow_outside=allow_outside,
            source_crs=source.crs, file=path, report=source.report, progress=progress, after_write=False,
        )  # fmt: skip
        report = [*result.report, *link_and_refresh(cur, result.cities).lines()]
    counts = {"farmland": result.rows}
    if result.replaced:
        counts["replaced"] = result.replaced
    return FarmlandResult(counts, result.cities, result.source_id, report)


__all__ = ["MAFF_SOURCE", "import_polygons", "link_and_refresh"]
