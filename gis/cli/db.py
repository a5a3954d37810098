"""`gis db ...` and `gis migrate`: the embedded PostgreSQL+PostGIS cluster and the schema."""

from __future__ import annotations

import typer

from gis.cli.common import app, database, fail, out
from gis.db.connect import database_url, embedded_for
from gis.db.migrate import upgrade
from gis.errors import GisError
from gis.settings import Settings

db_app = typer.Typer(help="The embedded PostgreSQL+PostGIS cluster (used when DATABASE_URL is unset).")
app.add_typer(db_app, name="db")


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
        upgrade(emb.url())
        out.print(("started" if started else "already running") + f" on 127.0.0.1:{emb.port} ({emb.data})")
    except GisError as e:
        fail(e)


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
        fail(e)


@app.command()
def migrate() -> None:
    """Apply the Alembic migrations."""
    try:
        with database(Settings()):
            out.print("schema at head")
    except GisError as e:
        fail(e)
