"""The process's geocoder: built at start-up, rebuilt in the background when the address reference changes.

Requests read `current` and never wait for a database: a re-import of towns or address points starts a rebuild
(rows read through the public role, matcher tables built in a worker thread) and the new geocoder replaces the old
one when it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import asyncpg

from gis.cache import Cache
from gis.db.versions import LayerVersions
from gis.geocode.addresses import POINTS_SQL, TOWNS_SQL, reference_from_rows
from gis.geocode.matcher import Geocoder

log = logging.getLogger("gis.geocode")
REFERENCE_LAYERS = ("towns", "address_points")
BYTES_PER_TOWN = 3_000  # matcher tables per reference entry (names, keys, aliases), measured roughly
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


def _cost(geocoder: Geocoder) -> int:
    return (len(geocoder.index.primary_key) + len(geocoder.index.parcels)) * BYTES_PER_TOWN


class GeocoderService:
    """Holds the current Geocoder; `on_version` is subscribed to the layer versions."""

    def __init__(self, data_dir: Path, cache: Cache, versions: LayerVersions, connect: Connect) -> None:
        self.data_dir = data_dir
        self.cache = cache
        self.versions = versions
        self.connect = connect
        self._current: Geocoder | None = None
        self._task: asyncio.Task | None = None
        self.rebuilds = 0

    @property
    def current(self) -> Geocoder:
        """The geocoder to use now."""
        if self._current is None:
            raise RuntimeError("the geocoder is built at start-up: call start() first")
        return self._current

    async def start(self) -> None:
        """Build the first geocoder (start-up waits for it; requests never do)."""
        await self._refresh()

    def on_version(self, layer_id: str, _version: int) -> None:
        """Rebuild in the background when the address reference changed."""
        if layer_id in REFERENCE_LAYERS and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._refresh_logged())

    async def _refresh_logged(self) -> None:
        try:
            await self._refresh()
        except Exception:  # the old geocoder keeps answering; the next version change tries again
            log.exception("geocoder rebuild failed; the previous reference stays in use")

    async def _refresh(self) -> None:
        while True:
            tag = self.versions.snapshot(REFERENCE_LAYERS)
            self._current = await self.cache.get_or_build(
                ("meta", "geocoder", tag),
                self._build,
                tag=tag,
                cost=_cost,
            )
            self.rebuilds += 1
            if self.versions.snapshot(REFERENCE_LAYERS) == tag:  # no newer reference arrived meanwhile
                return

    async def _build(self) -> Geocoder:
        async with self.connect() as conn:
            towns = await conn.fetch(TOWNS_SQL)
            points = await conn.fetch(POINTS_SQL)
        triple = reference_from_rows(towns, points, self.data_dir)
        return await asyncio.to_thread(Geocoder, *triple)

    async def stop(self) -> None:
        """Cancel a rebuild in progress."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
