"""What every command group shares: the typer app, the consoles, error exit and the migrated database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Annotated

import psycopg
import typer
from rich.console import Console

from gis.db.connect import database_url, embedded_for
from gis.db.provenance import SourceInfo
from gis.errors import GisError, ImportFailed
from gis.settings import Settings

# The provenance options every import command takes.
Title = Annotated[str | None, typer.Option(help="source title (default: the file name)")]
Publisher = Annotated[str, typer.Option(help="publisher")]
Licence = Annotated[str, typer.Option(help="licence")]
DataDate = Annotated[str | None, typer.Option(help="data date YYYY-MM-DD (the file's as a whole)")]

app = typer.Typer(help="伊万里市・武雄市 地図データサービス", no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(e: GisError) -> None:
    """Print the error in one line and exit with status 2."""
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
            from gis.db.migrate import upgrade

            upgrade(url)
        yield url
    finally:
        if started and emb is not None:
            emb.stop()


@contextlib.contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """A psycopg connection to the migrated database of the current settings."""
    with database(Settings()) as url, psycopg.connect(url) as conn:
        yield conn


def source_info(title: str | None, publisher: str, licence: str, data_date: str | None, default: str) -> SourceInfo:
    """The provenance given on a command line (`--data-date` checked), titled `default` when no title is given."""
    try:
        when = date.fromisoformat(data_date) if data_date else None
    except ValueError:
        raise ImportFailed(f"--data-date must be YYYY-MM-DD, got {data_date}") from None
    return SourceInfo(title=title or default, publisher=publisher, licence=licence, data_date=when)
