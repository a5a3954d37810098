"""Writing a worker's pending counts: one upsert every N seconds and once more at shutdown.

The upsert adds (`count = access_counts.count + EXCLUDED.count`), so every worker writes its own deltas and none
overwrites another's. A flush that fails (the database away, a timeout) puts its counts back for the next round;
requests never wait for it. The one way to count twice is a commit whose acknowledgement is lost: the counts come
back and are written again next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import asyncpg

from gis.stats.counter import AccessCounts, Key

log = logging.getLogger("gis.stats")
UPSERT = (
    "INSERT INTO access_counts (day, kind, key, count) "
    "SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::bigint[]) "
    "ON CONFLICT (day, kind, key) DO UPDATE SET count = access_counts.count + EXCLUDED.count"
)
FLUSH_TIMEOUT_S = 10.0
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


async def write(conn: asyncpg.Connection, counts: dict[Key, int], timeout: float = FLUSH_TIMEOUT_S) -> None:
    """Add these counts to access_counts in one statement."""
    keys = list(counts)
    await conn.execute(
        UPSERT,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [counts[k] for k in keys],
        timeout=timeout,
    )


class Flusher:
    """The background task of one worker: flush every `interval_s`, and at stop."""

    def __init__(self, counts: AccessCounts, connect: Connect, interval_s: float) -> None:
        self.counts = counts
        self.connect = connect  # a staff connection (the public role cannot write)
        self.interval_s = interval_s
        self.failures = 0  # flush rounds that failed in a row
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the periodic flush."""
        self._task = asyncio.create_task(self._loop(), name="access-counts-flush")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()

    async def flush(self) -> int:
        """Write what is pending; the number of keys written (0 when there was nothing, or it failed)."""
        counts = self.counts.take()
        if not counts:
            return 0
        try:
            async with self.connect() as conn:
                await write(conn, counts)
        except Exception as e:  # any failure keeps the counts for the next round
            self.counts.restore(counts)
            self.failures += 1
            log.warning(
                "access counts not written (%s); %d keys kept for the next round", type(e).__name__, len(counts)
            )
            return 0
        self.failures = 0
        return len(counts)

    async def stop(self) -> None:
        """Stop the loop and write what is left (what cannot be written now is lost, and logged as a number)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self.counts.pending:
            log.warning("access counts lost at shutdown: %d counts not written", self.counts.total())
