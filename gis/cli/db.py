"""`gis db ...` and `gis migrate`: the embedded PostgreSQL+PostGIS cluster and the schema."""

from __future__ import annotations

from typing import Annotated

import typer

from gis.cli.common import app, database, err, fail, out
from gis.db.connect import database_url, embedded_for
from gis.db.migrate import upgrade
from gis.db.replica import EmbeddedReplica
from gis.errors import GisError
from gis.settings import Settings

db_app = typer.Typer(help="The embedded PostgreSQL+PostGIS cluster (used when DATABASE_URL is unset).")
app.add_typer(db_app, name="db")
replica_app = typer.Typer(help="A local streaming hot-standby replica of the embedded cluster (public reads).")
db_app.add_typer(replica_app, name="replica")


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


def _replica(settings: Settings) -> EmbeddedReplica:
    if settings.database_url:
        err.print("DATABASE_URL is set: the local replica follows the embedded cluster only")
        raise typer.Exit(2)
    port = settings.embedded_port + 1 if settings.embedded_port else 0
    return EmbeddedReplica(embedded_for(settings), preferred_port=port)


@replica_app.command("start")
def replica_start() -> None:
    """Start the replica (base backup on first use; the primary is started first) and print its read URL."""
    settings = Settings()
    replica = _replica(settings)
    try:
        replica.primary.start()
        upgrade(replica.primary.url())
        started = replica.start()
    except GisError as e:
        fail(e)
    state = "started" if started else "already running"
    err.print(f"replica {state} on 127.0.0.1:{replica.port} ({replica.data}), streaming from the embedded cluster")
    # With DATABASE_READ_URL set, public logins use GIS_PUBLIC_PASSWORD (not the URL's), also for the embedded cluster.
    err.print(
        f"serve from it: DATABASE_READ_URL=<this URL> GIS_PUBLIC_PASSWORD={replica.primary.public_password} gis serve",
        highlight=False,
    )
    print(replica.public_url())


@replica_app.command("stop")
def replica_stop(
    remove: Annotated[bool, typer.Option(help="also delete its data and its replication slot on the primary")] = False,
) -> None:
    """Stop the replica (the primary keeps WAL for it, up to 1 GB, unless --remove)."""
    replica = _replica(Settings())
    stopped = replica.stop()
    if remove:
        replica.destroy()
    out.print(("stopped" if stopped else "not running") + (", removed" if remove else ""))


@replica_app.command("status")
def replica_status() -> None:
    """Show whether the replica runs, its port, and how far its replay is behind the primary."""
    for k, v in _replica(Settings()).status().items():
        out.print(f"{k}: {v}", highlight=False)


@app.command()
def migrate() -> None:
    """Apply the Alembic migrations."""
    try:
        with database(Settings()):
            out.print("schema at head")
    except GisError as e:
        fail(e)
