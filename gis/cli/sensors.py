"""`gis sensors sweep|deliver`: the sensor jobs once, from cron or a systemd timer (the API's workers also run them
in the background unless GIS_SENSOR_SWEEP_SECONDS / GIS_SENSOR_DELIVER_SECONDS are 0). `gis sensors simulate`:
realistic readings posted to a running service (gis/sensors/simulate.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
import typer

from gis.cli.common import app, database, fail, out
from gis.errors import DatabaseUnavailable, GisError
from gis.settings import Settings

sensors_app = typer.Typer(help="Inundation sensors: silence sweep, webhook delivery, simulator.")
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


@sensors_app.command("simulate")
def simulate_command(
    token: Annotated[str, typer.Option(envvar="GIS_SENSOR_TOKEN", help="a device token (gis token create)")],
    url: Annotated[str, typer.Option(help="the running service")] = "http://127.0.0.1:8000",
    sensors: Annotated[int | None, typer.Option(help="use the first N sensors of GET /sensors (default all)")] = None,
    minutes: Annotated[int, typer.Option(help="simulated minutes")] = 120,
    rain_event: Annotated[
        str | None, typer.Option(help="START_MIN:DURATION_MIN, e.g. 30:90: the sensors nearest a centre flood")
    ] = None,
    rain_fraction: Annotated[float, typer.Option(help="share of the sensors the rain reaches")] = 0.3,
    silent: Annotated[int, typer.Option(help="K sensors fall silent part way")] = 0,
    duplicates: Annotated[float, typer.Option(help="share of readings sent twice")] = 0.0,
    out_of_order: Annotated[float, typer.Option(help="share of messages that arrive late")] = 0.0,
    lost_answers: Annotated[float, typer.Option(help="share of batches whose answer is lost and resent")] = 0.02,
    speed: Annotated[float, typer.Option(help="simulated minutes per real minute (60: one per second; 0: no wait)")] = (
        60.0
    ),
    seed: Annotated[int | None, typer.Option(help="reproducible runs")] = None,
    batch: Annotated[int, typer.Option(help="readings per request, at most 1000")] = 1000,
    quiet: Annotated[bool, typer.Option(help="no line per event, only the summary")] = False,
) -> None:
    """Post realistic readings of the registered sensors (rain event, silence, duplicates, retries, late readings)."""
    from gis.sensors.simulate import Options, simulate
    from gis.sensors.simulate import rain_event as parse_rain

    try:
        opts = Options(
            minutes=minutes,
            sensors=sensors,
            rain=parse_rain(rain_event),
            rain_fraction=rain_fraction,
            silent=silent,
            duplicates=duplicates,
            out_of_order=out_of_order,
            lost_answers=lost_answers,
            speed=speed,
            seed=seed,
            batch=batch,
        )
        summary = simulate(url, token, opts, log=None if quiet else lambda line: out.print(line, highlight=False))
    except GisError as e:
        fail(e)
    for line in summary.lines():
        out.print(line, highlight=False)
    if summary.errors:
        raise typer.Exit(1)
