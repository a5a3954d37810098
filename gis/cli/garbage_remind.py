"""`gis garbage remind`: send tomorrow's collection reminders (run every hour from cron or a systemd timer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from gis.cli.common import database, fail, out
from gis.cli.garbage import garbage_app
from gis.errors import GisError
from gis.settings import Settings


@garbage_app.command("remind")
def remind_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count what would be sent; send and change nothing")
    ] = False,
    at: Annotated[
        str | None, typer.Option(help="act as if it were this time (ISO 8601; no offset: JST), e.g. 2026-12-02T19:00")
    ] = None,
) -> None:
    """Push tomorrow's categories to the subscriptions whose hour (JST) is now; each gets one message a day."""
    from gis.garbage.push import remind

    try:
        now = datetime.fromisoformat(at) if at else None
    except ValueError:
        fail(GisError(f"--at: '{at}' is not an ISO 8601 date and time"))
    settings = Settings()
    try:
        with database(settings) as url:
            outcome = remind(url, now=now, dry_run=dry_run, settings=settings)
    except GisError as e:
        fail(e)
    for line in outcome.lines():
        out.print(line, highlight=False)
    if outcome.failed:
        raise typer.Exit(1)
