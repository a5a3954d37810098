"""The `gis` command: serve, db, migrate, load, import, token, sample."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gis.db import database_url, embedded_for
from gis.errors import GisError
from gis.settings import Settings

app = typer.Typer(help="伊万里市・武雄市 地図データサービス", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The embedded PostgreSQL+PostGIS cluster (used when DATABASE_URL is unset).")
token_app = typer.Typer(help="Staff bearer tokens (roles: admin, editor, device).")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(e: GisError) -> None:
    err.print(f"[red]error:[/red] {e.description}", highlight=False)
    raise typer.Exit(2)


@contextlib.contextmanager
def database(settings: Settings, *, migrate: bool = True) -> Iterator[str]:
    """A migrated database URL; an embedded cluster started here is stopped again afterwards."""
    emb = None if settings.database_url else embedded_for(settings)
    started = emb.start() if emb else False
    try:
        url = database_url(settings)
        if migrate:
            from gis.migrate import upgrade

            upgrade(url)
        yield url
    finally:
        if started and emb is not None:
            emb.stop()


def _loaded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM layer_state").fetchone()[0] > 0


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    load: Annotated[bool, typer.Option(help="load the bundled data on first start")] = True,
) -> None:
    """Run the API and map pages; starts the embedded database when DATABASE_URL is unset."""
    import uvicorn

    settings = Settings()
    try:
        with database(settings) as url:
            if load and not _loaded(url):
                out.print("初回起動: 同梱データを読み込みます (gis load)")
                _load(url, settings.data_dir)
            # Workers are separate processes: hand them the resolved URL through the environment.
            os.environ["DATABASE_URL"] = url
            h, p = host or settings.host, port or settings.port
            out.print(f"serving http://{h}:{p}/  (Ctrl-C to stop)")
            uvicorn.run(
                "api.main:create_app_from_env",
                factory=True,
                host=h,
                port=p,
                workers=workers,
                log_level="warning",
                proxy_headers=False,
            )
    except GisError as e:
        _fail(e)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded cluster (initialising it on first use) and migrate."""
    settings = Settings()
    if settings.database_url:
        out.print("DATABASE_URL is set: the embedded cluster is not used")
        return
    try:
        emb = embedded_for(settings)
        started = emb.start()
        from gis.migrate import upgrade

        upgrade(emb.url())
        out.print(("started" if started else "already running") + f" on 127.0.0.1:{emb.port} ({emb.data})")
    except GisError as e:
        _fail(e)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    out.print("stopped" if embedded_for(Settings()).stop() else "not running")


@db_app.command("status")
def db_status() -> None:
    """Show whether the embedded cluster runs, where, and the schema revision."""
    settings = Settings()
    if settings.database_url:
        out.print("external database (DATABASE_URL)")
        return
    for k, v in embedded_for(settings).status().items():
        out.print(f"{k}: {v}")


@db_app.command("url")
def db_url() -> None:
    """Print the connection URL (starting the embedded cluster if needed)."""
    try:
        print(database_url(Settings(), start=True))
    except GisError as e:
        _fail(e)


@app.command()
def migrate() -> None:
    """Apply the Alembic migrations."""
    try:
        with database(Settings()):
            out.print("schema at head")
    except GisError as e:
        _fail(e)


def _load(url: str, data_dir: Path) -> None:
    from gis.loader import load_all

    with psycopg.connect(url) as conn:
        load_all(conn, data_dir, log=lambda s: out.print(s, highlight=False))


@app.command()
def load(data_dir: Annotated[Path | None, typer.Option(help="data directory (default: bundled data/)")] = None) -> None:
    """Load every bundled layer (idempotent: each file replaces its cities' rows)."""
    settings = Settings()
    try:
        with database(settings) as url:
            _load(url, data_dir or settings.data_dir)
    except GisError as e:
        _fail(e)


@app.command("import")
def import_(
    layer: Annotated[str, typer.Argument(help="collection id, e.g. zoning")],
    file: Annotated[Path, typer.Argument(help="GeoJSON, Shapefile (.shp or .zip), GeoPackage or CSV")],
    crs: Annotated[str | None, typer.Option(help="source CRS when the file has none or a wrong one")] = None,
    city: Annotated[str | None, typer.Option(help="city code 41205|41206 when the file has none")] = None,
    replace: Annotated[bool, typer.Option(help="replace this layer's rows of the file's cities")] = False,
    layer_name: Annotated[str | None, typer.Option(help="layer inside a GeoPackage")] = None,
    title: Annotated[str | None, typer.Option(help="source title")] = None,
    publisher: Annotated[str, typer.Option(help="publisher")] = "不明（職員による取込）",
    licence: Annotated[str, typer.Option(help="licence")] = "要確認",
    attribution: Annotated[str, typer.Option(help="attribution text")] = "",
    data_date: Annotated[str | None, typer.Option(help="data date YYYY-MM-DD")] = None,
    sample: Annotated[bool, typer.Option(help="mark every row as sample data")] = False,
) -> None:
    """Import one file into a layer; a bad file changes nothing."""
    from gis.importer import import_file
    from gis.provenance import SourceInfo

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
            task = bar.add_task(f"COPY → {layer}", total=None)
            result = import_file(
                conn,
                layer,
                file,
                info,
                crs=crs,
                city=city,
                replace=replace,
                layer_name=layer_name,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except GisError as e:
        _fail(e)
    verb = f"replaced {result.replaced} rows with" if replace else "added"
    out.print(
        f"{result.layer}: {verb} {result.rows} rows for {', '.join(result.cities)} "
        f"(source {result.source_id}, version {result.version})",
        highlight=False,
    )
    for line in result.report:
        out.print(f"  - {line}", highlight=False)


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin | editor | device")],
    name: Annotated[str, typer.Option(help="who or what holds the token")],
) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from gis.tokens import create_token

    try:
        with database(Settings()) as url, psycopg.connect(url) as conn:
            token = create_token(conn, name, role)
    except GisError as e:
        _fail(e)
    print(token)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their values)."""
    from gis.tokens import list_tokens

    with database(Settings()) as url, psycopg.connect(url) as conn:
        rows = list_tokens(conn)
    table = Table("id", "name", "role", "created", "revoked")
    for r in rows:
        table.add_row(*(str(v) if v is not None else "" for v in r))
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="token id from `gis token list`")]) -> None:
    """Revoke a token."""
    from gis.tokens import revoke_token

    with database(Settings()) as url, psycopg.connect(url) as conn:
        ok = revoke_token(conn, token_id)
    out.print("revoked" if ok else "no such active token")
    if not ok:
        raise typer.Exit(1)


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


# Commands defined in their own modules register themselves on `app`.
from gis import cli_lookup  # noqa: E402, F401
