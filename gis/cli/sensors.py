"""`gis sensors sweep|deliver`: the sensor jobs once, from cron or a systemd timer (the API's workers also run them
in the background unless GIS_SENSOR_SWEEP_SECONDS / GIS_SENSOR_DELIVER_SECONDS are 0)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import typer

from gis.cli.common import app, database, fail, out
from gis.errors import DatabaseUnavailable, GisError
from gis.settings import Settings

sensors_app = typer.Typer(help="Inundation sensors: silence sweep, webhook delivery.")
app.add_typer(sensors_app, name="sensors")


def _run(job: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async def go(url: str) -> Any:
        try:
            conn = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError) as e:
            raise DatabaseUnavailable(f"cannot connect to the database ({type(e).__name__})") from None
        try:
            return await job(conn)
        finally:
            await conn.close()

    try:
        with database(Settings()) as url:
            return asyncio.run(go(url))
    except GisError as e:
        fail(e)


@sensors_app.command("sweep")
def sweep_command() -> None:
    """Issue one 'silent' event per sensor quiet for longer than heartbeat × silence_factor; make partitions."""
    from gis.sensors.sweep import sweep

    for line in _run(sweep).lines():
        out.print(line, highlight=False)


@sensors_app.command("deliver")
def deliver_command() -> None:
    """Send the due sensor events to the configured webhook (retries back off; gives up after 12 attempts)."""
    from gis.sensors.webhook import deliver

    result = _run(deliver)
    for line in result.lines():
        out.print(line, highlight=False)
    if result.failed:
        raise typer.Exit(1)
