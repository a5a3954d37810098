"""`gis farmland ...`: MAFF 筆ポリゴン, the 農地台帳 CSV and the 作付 CSV; rebuilding the links and the summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis.cli.common import DataDate, Licence, Publisher, Title, app, connection, fail, out, source_info
from gis.errors import GisError, ImportFailed

if TYPE_CHECKING:
    from gis.farmland.store import FarmlandResult

farmland_app = typer.Typer(help="Farmland: 筆ポリゴン, 農地台帳 CSV, 作付 CSV, links and the public summary.")
app.add_typer(farmland_app, name="farmland")

Replace = Annotated[bool, typer.Option(help="replace the cities' rows (rows not in the file are removed)")]
CityOpt = Annotated[str | None, typer.Option("--city", help="41205 or 41206 when the file has no city code column")]


def _print(result: FarmlandResult) -> None:
    for table, n in result.counts.items():
        out.print(f"{table:<22} {n:>7} rows", highlight=False)
    out.print(f"cities {', '.join(result.cities)}, source {result.source_id}", highlight=False)
    for line in result.report:
        out.print(f"  - {line}", highlight=False)


@farmland_app.command("import-polygons")
def import_polygons(
    file: Annotated[Path, typer.Argument(help="MAFF 筆ポリゴン GeoJSON (as distributed) or FlatGeobuf")],
    replace: Replace = False,
    crs: Annotated[str | None, typer.Option(help="source CRS when the file does not declare it")] = None,
    city: CityOpt = None,
    force: Annotated[bool, typer.Option(help="let --replace drop most of a city's polygons")] = False,
    allow_outside: Annotated[bool, typer.Option(help="keep polygons outside their city")] = False,
    title: Title = None,
    publisher: Publisher = "農林水産省",
    licence: Licence = "CC BY 4.0（政府標準利用規約 第2.0版 準拠）",
    data_date: DataDate = None,
) -> None:
    """Import 筆ポリゴン, relink the ledger and refresh the layer's summary; a bad file changes nothing."""
    from gis.farmland.polygons import MAFF_SOURCE
    from gis.farmland.polygons import import_polygons as run

    try:
        info = source_info(title, publisher, licence, data_date, f"{MAFF_SOURCE.title} {file.name}")
        info.attribution, info.licence_url = MAFF_SOURCE.attribution, MAFF_SOURCE.licence_url
        with connection() as conn:
            result = run(
                conn, file, info, crs=crs, city=city, replace=replace, force=force, allow_outside=allow_outside
            )
    except GisError as e:
        fail(e)
    _print(result)


@farmland_app.command("import-ledger")
def import_ledger(
    file: Annotated[Path, typer.Argument(help="農地台帳 CSV (README 「農地台帳 CSV」)")],
    city: CityOpt = None,
    replace: Replace = False,
    title: Title = None,
    publisher: Publisher = "農業委員会（職員による取込）",
    licence: Licence = "要確認",
    data_date: DataDate = None,
) -> None:
    """Import a 農地台帳 CSV: public items to the ledger, names to the private schema; a bad file changes nothing."""
    from gis.farmland.store import import_ledger as run

    try:
        info = source_info(title, publisher, licence, data_date, f"農地台帳 {file.name}")
        with connection() as conn:
            result = run(conn, file, info, city=city, replace=replace)
    except GisError as e:
        fail(e)
    _print(result)


@farmland_app.command("import-crops")
def import_crops(
    file: Annotated[Path, typer.Argument(help="作付 CSV: polygon_uuid, 年, 作期, 作物, 時点")],
    replace: Replace = False,
    title: Title = None,
    publisher: Publisher = "不明（職員による取込）",
    licence: Licence = "要確認",
    data_date: DataDate = None,
) -> None:
    """Import cropping records keyed by polygon_uuid and refresh the summary; a bad file changes nothing."""
    from gis.farmland.store import import_crops as run

    try:
        info = source_info(title, publisher, licence, data_date, f"作付 {file.name}")
        with connection() as conn:
            result = run(conn, file, info, replace=replace)
    except GisError as e:
        fail(e)
    _print(result)


@farmland_app.command("relink")
def relink(
    city: Annotated[list[str] | None, typer.Option("--city", help="only these cities (default: both)")] = None,
) -> None:
    """Rebuild the polygon↔record links and the layer's summary (e.g. after `gis import farmland`)."""
    from gis.cities import CITIES
    from gis.farmland.polygons import link_and_refresh

    cities = city or list(CITIES)
    unknown = [c for c in cities if c not in CITIES]
    try:
        if unknown:
            raise ImportFailed(f"unknown city code {', '.join(unknown)}: this service covers {', '.join(CITIES)}")
        with connection() as conn, conn.transaction(), conn.cursor() as cur:
            lines = link_and_refresh(cur, cities).lines()
    except GisError as e:
        fail(e)
    for line in lines:
        out.print(f"  - {line}", highlight=False)
