"""`gis garbage ...`: 5374 and standard 「ごみの分別方法」 imports and exports, and next year's events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis.cli.common import DataDate, Licence, Publisher, Title, app, connection, fail, out, source_info
from gis.errors import GisError

if TYPE_CHECKING:
    from gis.garbage.imports import GarbageResult

garbage_app = typer.Typer(help="Garbage calendars: 5374 and 「ごみの分別方法」 files, events per fiscal year.")
app.add_typer(garbage_app, name="garbage")

CityOpt = Annotated[str, typer.Option("--city", help="5-digit city code, e.g. 41205 (any 佐賀県 41xxx)")]


def _print(result: GarbageResult) -> None:
    for table, n in result.counts:
        out.print(f"{table:<26} {n:>7} rows", highlight=False)
    out.print(f"source {result.source_id}, version {result.version}", highlight=False)
    for line in result.report:
        out.print(f"  - {line}", highlight=False)


@garbage_app.command("import-5374")
def import_5374(
    folder: Annotated[Path, typer.Argument(help="directory of the 5374 CSVs (or its area_days.csv)")],
    city: CityOpt,
    fiscal_years: Annotated[
        list[int] | None, typer.Option("--fiscal-years", help="fiscal years (年度) to author events for, e.g. 2026")
    ] = None,
    extra_years: Annotated[
        list[int] | None, typer.Argument(help="more fiscal years: --fiscal-years 2026 2027 works too")
    ] = None,
    replace: Annotated[bool, typer.Option(help="replace the city's garbage calendar")] = False,
    title: Title = None,
    publisher: Publisher = "不明（職員による取込）",
    licence: Licence = "要確認",
    data_date: DataDate = None,
) -> None:
    """Import a 5374 file set for one city; a bad file changes nothing."""
    from gis.garbage.imports import import_5374 as run

    try:
        info = source_info(title, publisher, licence, data_date, f"5374 {folder.name}")
        with connection() as conn:
            years = [*(fiscal_years or []), *(extra_years or [])]
            result = run(conn, folder, city, fiscal_years=years, replace=replace, info=info)
    except GisError as e:
        fail(e)
    _print(result)


@garbage_app.command("export-5374")
def export_5374(
    folder: Annotated[Path, typer.Argument(help="directory to write area_days.csv … target.csv into")],
    city: CityOpt,
    prefix: Annotated[str, typer.Option(help="file name prefix, e.g. imari_5374_")] = "",
) -> None:
    """Write one city's calendar as a 5374 file set."""
    from gis.garbage.imports import export_5374 as run

    try:
        with connection() as conn:
            files = run(conn, folder, city, prefix)
    except GisError as e:
        fail(e)
    for name, n in files:
        out.print(f"{name:<26} {n:>7} rows  {folder / (prefix + name)}", highlight=False)


@garbage_app.command("import-items")
def import_items(
    file: Annotated[Path, typer.Argument(help="a 「ごみの分別方法」 CSV (standard columns)")],
    city: Annotated[str | None, typer.Option(help="city code for rows without 全国地方公共団体コード")] = None,
    replace: Annotated[bool, typer.Option(help="replace the items of the file's cities (default: add)")] = False,
    swap_columns: Annotated[bool, typer.Option(help="read 品目 and 分別区分 the other way round")] = False,
    title: Title = None,
    publisher: Publisher = "不明（職員による取込）",
    licence: Licence = "要確認",
    data_date: DataDate = None,
) -> None:
    """Import a standard 「ごみの分別方法」 CSV into the garbage items; a bad file changes nothing."""
    from gis.garbage.imports import import_items as run

    try:
        info = source_info(title, publisher, licence, data_date, f"ごみの分別方法 {file.name}")
        with connection() as conn:
            result = run(conn, file, city, replace=replace, swap=swap_columns, info=info)
    except GisError as e:
        fail(e)
    _print(result)


@garbage_app.command("export-items")
def export_items(
    file: Annotated[Path, typer.Argument(help="CSV to write")],
    city: CityOpt,
) -> None:
    """Write one city's items as a standard 「ごみの分別方法」 CSV."""
    from gis.garbage.imports import export_items as run

    try:
        with connection() as conn:
            n = run(conn, file, city)
    except GisError as e:
        fail(e)
    out.print(f"{'garbage_items':<26} {n:>7} rows  {file}", highlight=False)


@garbage_app.command("generate")
def generate(
    fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="the fiscal year (年度) to author, e.g. 2027")],
    city: Annotated[str | None, typer.Option(help="only this city (default: every city with groups)")] = None,
) -> None:
    """Author a fiscal year's collection events from the groups' stored rules (replaces that year's events)."""
    from gis.garbage.imports import generate as run

    try:
        with connection() as conn:
            result = run(conn, fiscal_year, city)
    except GisError as e:
        fail(e)
    _print(result)
