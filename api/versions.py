"""Layer versions kept current in each worker through LISTEN/NOTIFY (imports notify at commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from gis.provenance import VERSION_CHANNEL

log = logging.getLogger("gis.api")


class LayerVersions:
    """layer_id → version; a listener connection updates it the moment an import commits."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self._conn: asyncpg.Connection | None = None
        self._url = ""
        self._task: asyncio.Task | None = None

    def get(self, layer_id: str) -> int:
        """The current version (0 for a layer never loaded)."""
        return self.versions.get(layer_id, 0)

    async def refresh(self, conn: asyncpg.Connection) -> None:
        """Reload every version from layer_state."""
        rows = await conn.fetch("SELECT layer_id, version FROM layer_state")
        self.versions = {r["layer_id"]: r["version"] for r in rows}

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        layer_id, _, version = payload.partition(":")
        with contextlib.suppress(ValueError):
            self.versions[layer_id] = max(int(version), self.versions.get(layer_id, 0))

    async def start(self, url: str) -> None:
        """Open the listener connection and load the versions."""
        self._url = url
        self._conn = await asyncpg.connect(url)
        await self._conn.add_listener(VERSION_CHANNEL, self._on_notify)
        self._conn.add_termination_listener(lambda _c: self._reconnect_later())
        await self.refresh(self._conn)

    def _reconnect_later(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_event_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        # Until the listener is back, a notification may be missed: reload everything once reconnected.
        for delay in (0.5, 1, 2, 5, 10, 30):
            await asyncio.sleep(delay)
            try:
                await self.start(self._url)
                return
            except (OSError, asyncpg.PostgresError):
                log.warning("layer version listener: reconnect failed, retrying")

    async def stop(self) -> None:
        """Close the listener."""
        if self._task is not None:
            self._task.cancel()
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
