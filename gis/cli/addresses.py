"""`gis geocode` and `gis lookup`: the address tools from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from gis.cli.common import app, database, err, fail, out
from gis.errors import GisError, InvalidParameter
from gis.geocode import Geocoder
from gis.settings import Settings


def _geocoder(url: str, settings: Settings) -> Geocoder:
    """The geocoder over the database's address reference (towns + imported address points)."""
    from gis.geocode.addresses import reference_from_db

    with psycopg.connect(url) as conn:
        return Geocoder(*reference_from_db(conn, settings.data_dir))


@app.command()
def geocode(
    address: Annotated[str | None, typer.Argument(help="one address, e.g. 武雄市武雄町武雄5680")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="one address per line → JSON lines on stdout")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the full JSON result")] = False,
) -> None:
    """Geocode an address (or a file of them) of 伊万里市 / 武雄市."""
    settings = Settings()
    try:
        with database(settings) as url:
            coder = _geocoder(url, settings)
    except GisError as e:
        fail(e)
    if file is not None:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
        start = time.perf_counter()
        n = 0
        for result in coder.geocode_many(lines):
            sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            n += 1
        elapsed = time.perf_counter() - start
        err.print(f"{n} addresses in {elapsed:.2f} s = {n / elapsed if elapsed else 0:,.0f} addresses/s")
        return
    if not address:
        err.print("error: give an ADDRESS or --file F")
        raise typer.Exit(2)
    try:
        result = coder.geocode(address).to_dict()
    except ValueError as e:
        fail(InvalidParameter(str(e)))
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        out.print(
            f"{result['city'] or '-'} / {result['town'] or '-'} / rest={result['rest']!r} "
            f"match={result['match_level']} coords={result['coordinates_level']} "
            f"±{result['uncertainty_m'] or '-'} m",
            highlight=False,
        )


@app.command()
def lookup(
    address: Annotated[str | None, typer.Option(help="address")] = None,
    lat: Annotated[float | None, typer.Option(help="latitude")] = None,
    lon: Annotated[float | None, typer.Option(help="longitude")] = None,
    lot: Annotated[Path | None, typer.Option(help="GeoJSON file with the lot polygon")] = None,
) -> None:
    """Print the "what applies here" report as JSON (the same service the API runs)."""
    from gis.lookup import service
    from gis.runtime import Runtime

    async def run() -> dict:
        rt = await Runtime.open(settings)
        try:
            if lot is not None:
                return await service.lookup_lot(rt, json.loads(lot.read_text(encoding="utf-8")))
            if address:
                return await service.lookup_address(rt, address, geojson=False)
            if lat is None or lon is None:
                raise InvalidParameter("give --address, --lat and --lon, or --lot")
            return await service.lookup_point(rt, lat, lon, None, geojson=False)
        finally:
            await rt.close()

    settings = Settings()
    try:
        with database(settings):
            report = asyncio.run(run())
    except GisError as e:
        fail(e)
    except (OSError, ValueError) as e:
        fail(InvalidParameter(f"--lot: {e}"))
    print(json.dumps(report, ensure_ascii=False, indent=2))


@app.command("import-addresses")
def import_addresses_cmd(
    file: Annotated[Path, typer.Argument(help="ABR mt_town / mt_parcel CSV, or MLIT 位置参照情報 CSV")],
    layout: Annotated[
        str | None, typer.Option(help="abr-town | abr-parcel | mlit-oaza | mlit-gaiku (default: detect)")
    ] = None,
    pos: Annotated[Path | None, typer.Option(help="the matching ABR 位置参照拡張 CSV (mt_*_pos_*)")] = None,
    town_file: Annotated[Path | None, typer.Option(help="ABR mt_town CSV resolving the parcels' 町字ID")] = None,
    city: Annotated[str | None, typer.Option(help="only this city (41205 | 41206)")] = None,
    replace: Annotated[bool, typer.Option(help="replace this layout's rows of the same cities")] = True,
) -> None:
    """Load finer address reference points (町字, 小字, 地番) so parcel-level matches appear."""
    from gis.geocode.addresses import import_addresses

    try:
        with database(Settings()) as url, psycopg.connect(url) as conn:
            result = import_addresses(
                conn, file, layout=layout, city=city, replace=replace, pos_path=pos, town_path=town_file
            )
    except GisError as e:
        fail(e)
    out.print(f"address_points: {result.rows} rows ({result.layout}) for {', '.join(result.cities)}", highlight=False)
    for line in result.report:
        out.print(f"  - {line}", highlight=False)
