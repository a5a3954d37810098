"""The sensor jobs every API worker runs in the background: the sweeper (silence, partitions) and the webhook
outbox. Started by the runtime; both are safe with any number of workers (see gis/sensors/sweep.py, webhook.py).

`GIS_SENSOR_SWEEP_SECONDS` (default 30; 0: off, e.g. when `gis sensors sweep` runs from cron) and
`GIS_SENSOR_DELIVER_SECONDS` (default 5; 0: off) set how often. An ingest that created events wakes the outbox at
once (`kick`), so a webhook hears of a flood within moments, not at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import asyncpg

from gis.sensors.sweep import sweep
from gis.sensors.webhook import deliver

log = logging.getLogger("gis.sensors.jobs")
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


class SensorJobs:
    """Two loops on the staff pool; errors are logged and the loops go on (the database may come back)."""

    def __init__(self, connect: Connect, sweep_seconds: float, deliver_seconds: float) -> None:
        self._connect = connect
        self._sweep_seconds = sweep_seconds
        self._deliver_seconds = deliver_seconds
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.runs = {"sweep": 0, "deliver": 0}
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the loops that are switched on."""
        if self._sweep_seconds > 0:
            self._tasks.append(asyncio.create_task(self._loop("sweep", self._sweep_seconds, self._sweep)))
        if self._deliver_seconds > 0:
            self._tasks.append(asyncio.create_task(self._loop("deliver", self._deliver_seconds, self._deliver)))

    def kick(self) -> None:
        """New events are waiting: run the outbox now."""
        self._wake.set()

    async def stop(self) -> None:
        """Cancel the loops and wait for them."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _sweep(self, conn: asyncpg.Connection) -> None:
        result = await sweep(conn)
        if result.events:
            log.warning("sensors gone silent: %s", ", ".join(e["sensor_id"] for e in result.events))
            self.kick()

    async def _deliver(self, conn: asyncpg.Connection) -> None:
        await deliver(conn)

    async def _loop(self, name: str, seconds: float, job: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            try:
                async with self._connect() as conn:
                    await job(conn)
                self.runs[name] += 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a loop that died would leave silence unreported until the next restart
                failures += 1
                self.last_error = f"{name}: {type(e).__name__}"
                if failures % 20 == 1:
                    log.warning("sensor %s job failed (%s); retrying", name, type(e).__name__)
            wait = max(0.0, seconds - (time.monotonic() - started))
            if name == "deliver":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                self._wake.clear()
            else:
                await asyncio.sleep(wait)
