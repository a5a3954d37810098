"""`gis load`, `gis import`, `gis sample`, `gis layers`: getting data into the layers."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gis.cli.common import app, database, err, fail, out
from gis.errors import GisError
from gis.settings import Settings


def load_bundled(url: str, data_dir: Path) -> None:
    """Load every file of the bundled manifest, printing one line per file."""
    from gis.ingest.loader import load_all

    with psycopg.connect(url) as conn:
        load_all(conn, data_dir, log=lambda s: out.print(s, highlight=False))


@app.command()
def load(data_dir: Annotated[Path | None, typer.Option(help="data directory (default: bundled data/)")] = None) -> None:
    """Load every bundled layer (idempotent: each file replaces its cities' rows)."""
    settings = Settings()
    try:
        with database(settings) as url:
            load_bundled(url, data_dir or settings.data_dir)
    except GisError as e:
        fail(e)


def connectors() -> list:
    """The file connectors `gis import FILE` chooses from: the national formats, plus the GTFS one when present."""
    from gis.ingest.connectors import CONNECTORS

    found = list(CONNECTORS)
    try:
        from gis.transit.connector import CONNECTOR as GTFS  # the transit domain's connector, same protocol
    except ImportError:
        pass
    else:
        found.insert(0, GTFS)
    return found


def pick_connector(file: Path, layer: str | None):  # noqa: ANN201
    """The connector recognising the file (for that layer when one is given); None: no connector (a layer import).

    Without a layer and no connector recognising the file: ImportFailed listing the connectors."""
    from gis.errors import ImportFailed

    if not file.is_file():
        raise ImportFailed(f"{file}: no such file")
    found = connectors()
    for c in found:
        if (layer is None or getattr(c, "layer", None) == layer) and c.detect(file):
            return c
    if layer is None:
        names = "; ".join(f"{c.name}: {getattr(c, 'title', c.name)} → {getattr(c, 'layer', '?')}" for c in found)
        raise ImportFailed(
            f"{file.name}: no connector recognises this file; give the layer (gis import LAYER FILE). "
            f"Connectors: {names}"
        )
    return None


@app.command("import")
def import_(
    first: Annotated[str, typer.Argument(help="the file (its format is detected), or a collection id, e.g. zoning")],
    second: Annotated[Path | None, typer.Argument(help="the file, when the first argument is a collection id")] = None,
    crs: Annotated[str | None, typer.Option(help="source CRS when the file has none or a wrong one")] = None,
    city: Annotated[str | None, typer.Option(help="city code 41205|41206 when the file has none")] = None,
    replace: Annotated[bool, typer.Option(help="replace this layer's rows of the file's cities")] = False,
    force: Annotated[
        bool, typer.Option(help="let --replace drop most of a city's rows or move its extent (refused otherwise)")
    ] = False,
    allow_outside: Annotated[
        bool, typer.Option(help="keep features lying outside their city (refused otherwise; counted in the report)")
    ] = False,
    layer_name: Annotated[str | None, typer.Option(help="layer inside a GeoPackage")] = None,
    title: Annotated[str | None, typer.Option(help="source title")] = None,
    publisher: Annotated[str, typer.Option(help="publisher")] = "不明（職員による取込）",
    licence: Annotated[str, typer.Option(help="licence")] = "要確認",
    attribution: Annotated[str, typer.Option(help="attribution text")] = "",
    data_date: Annotated[str | None, typer.Option(help="data date YYYY-MM-DD")] = None,
    sample: Annotated[bool, typer.Option(help="mark every row as sample data")] = False,
) -> None:
    """Import one file into a layer (`gis import FILE`: the connector is picked from the file); a bad file changes
    nothing."""
    from gis.db.provenance import SourceInfo
    from gis.ingest.importer import import_file

    layer, file = (None, Path(first)) if second is None else (first, second)
    settings = Settings()
    try:
        when = date.fromisoformat(data_date) if data_date else None
    except ValueError:
        err.print(f"[red]error:[/red] --data-date must be YYYY-MM-DD, got {data_date}")
        raise typer.Exit(2) from None
    info = SourceInfo(
        title=title or file.name,
        publisher=publisher,
        licence=licence,
        attribution=attribution,
        data_date=when,
        sample=sample,
    )
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    try:
        with (
            database(settings) as url,
            psycopg.connect(url) as conn,
            Progress(*columns, console=err, transient=True, disable=not sys.stderr.isatty()) as bar,
        ):
            connector = pick_connector(file, layer)
            task = bar.add_task(f"COPY → {getattr(connector, 'layer', None) or layer}", total=None)
            options = {
                "crs": crs,
                "city": city,
                "replace": replace,
                "force": force,
                "allow_outside": allow_outside,
                "layer_name": layer_name,
                "progress": lambda done, total: bar.update(task, completed=done, total=total),
            }
            if connector is not None:
                result = connector.run(conn, file, info, **options)
            else:
                result = import_file(conn, layer, file, info, **options)
    except GisError as e:
        fail(e)
    verb = f"replaced {result.replaced} rows with" if replace else "added"
    out.print(
        f"{result.layer}: {verb} {result.rows} rows for {', '.join(result.cities)} "
        f"(source {result.source_id}, version {result.version})",
        highlight=False,
    )
    for line in result.report:
        out.print(f"  - {line}", highlight=False)


@app.command("sample")
def sample(out_dir: Annotated[Path | None, typer.Option(help="output directory (default data/sample)")] = None) -> None:
    """Regenerate the deterministic sample data files."""
    from gis.sample import generate

    settings = Settings()
    for name, path in generate(settings.data_dir, out_dir or settings.data_dir / "sample").items():
        out.print(f"{name}: {path}")


@app.command()
def layers() -> None:
    """List the declared layers (collection ids)."""
    from layers import LAYERS

    for layer in LAYERS.values():
        out.print(f"{layer.id:<24} {layer.title}", highlight=False)
