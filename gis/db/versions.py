"""Layer versions in each worker, kept current by LISTEN/NOTIFY; the listener reconnects forever.

Every write bumps a layer's version through `gis_bump_version`, which notifies channel `layer_version` at commit.
The listener holds one connection to the primary. When it drops (an outage, a restart), it reconnects with backoff
for as long as it takes and then re-reads every version, because notifications sent while it was away are lost.
When public reads go to a replica, a notified version is applied only once the replica shows it, so no response
pairs the new version's ETag with the old rows. On (re)connect the primary's versions are read too: a version the
replica has not replayed yet is awaited like a notified one, since no notification will announce it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from gis.db.provenance import VERSION_CHANNEL

log = logging.getLogger("gis.versions")
Fetch = Callable[[], Awaitable[dict[str, int]]]
Listener = Callable[[str, int], None]
VERSIONS_SQL = "SELECT layer_id, version FROM layer_state"
BACKOFF = (0.1, 0.2, 0.4, 0.5)  # then every half second: a change shows within a second of a restart
PING_SECONDS = 5.0  # a silently dead connection (no RST) is noticed within this
REPLICA_WAIT = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)  # then every 0.5 s until the replica has replayed


class LayerVersions:
    """layer_id → version, updated the moment a write commits; `listening` tells whether that holds right now."""

    def __init__(self, listen_url: str, read_versions: Fetch | None = None) -> None:
        self.versions: dict[str, int] = {}
        self.listening = False
        self.reconnects = 0
        self.down_since: float | None = None
        self._url = listen_url
        # With a replica the versions come from the replica (what readers see); else from the listener itself.
        self._read_versions = read_versions
        self._listeners: list[Listener] = []
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._confirm: dict[str, asyncio.Task] = {}
        self._targets: dict[str, int] = {}

    def get(self, layer_id: str) -> int:
        """The current version (0 for a layer never loaded)."""
        return self.versions.get(layer_id, 0)

    def snapshot(self, layer_ids: tuple[str, ...] | None = None) -> tuple[tuple[str, int], ...]:
        """(layer, version) pairs: for these layers, or every known layer sorted by id."""
        if layer_ids is None:
            return tuple(sorted(self.versions.items()))
        return tuple((lid, self.versions.get(lid, 0)) for lid in layer_ids)

    def subscribe(self, listener: Listener) -> None:
        """Call listener(layer_id, version) whenever a layer's version advances."""
        self._listeners.append(listener)

    def _apply(self, layer_id: str, version: int) -> None:
        if version <= self.versions.get(layer_id, 0):
            return
        self.versions[layer_id] = version
        for listener in self._listeners:
            listener(layer_id, version)

    def _apply_all(self, found: dict[str, int]) -> None:
        for layer_id, version in found.items():
            self._apply(layer_id, version)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and read every version (raises when the database cannot be reached), then supervise."""
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="layer-version-listener")

    async def stop(self) -> None:
        """Stop listening."""
        for task in [self._task, *self._confirm.values()]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._close()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._url, timeout=5)
        try:
            await conn.add_listener(VERSION_CHANNEL, self._on_notify)
            conn.add_termination_listener(lambda _c: self._lost.set())
            self._lost.clear()
            self._conn = conn
            # Notifications sent while nobody listened are lost: re-read every version once listening again.
            primary = await self._fetch(conn)
            found = await self._read_versions() if self._read_versions else primary
        except BaseException:
            self._conn = None
            await conn.close(timeout=1)
            raise
        self._apply_all(found)
        for layer_id, version in primary.items():
            if version > found.get(layer_id, 0):
                self._expect(layer_id, version)
        self.listening = True
        self.down_since = None

    @staticmethod
    async def _fetch(conn: asyncpg.Connection) -> dict[str, int]:
        return {r["layer_id"]: r["version"] for r in await conn.fetch(VERSIONS_SQL)}

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close(timeout=1)

    async def _supervise(self) -> None:
        while True:
            await self._watch()
            self.listening = False
            self.down_since = self.down_since or time.time()
            log.warning("layer version listener lost its connection; reconnecting")
            await self._close()
            attempt = 0
            while True:
                await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1
                try:
                    await self._connect()
                except (TimeoutError, OSError, asyncpg.PostgresError) as e:
                    if attempt % 30 == 1:
                        log.warning("layer version listener: reconnect failed (%s); retrying", type(e).__name__)
                    continue
                self.reconnects += 1
                log.warning("layer version listener reconnected; versions re-read")
                break

    async def _watch(self) -> None:
        """Return when the connection is gone (closed by the server, or not answering a ping)."""
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._lost.wait(), PING_SECONDS)
                return
            conn = self._conn
            if conn is None or conn.is_closed():
                return
            try:
                await conn.fetchval("SELECT 1", timeout=PING_SECONDS)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return

    # -- notifications ---------------------------------------------------------------------------
    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        layer_id, _, text = payload.partition(":")
        try:
            version = int(text)
        except ValueError:
            return
        if self._read_versions is None:
            self._apply(layer_id, version)
        else:
            self._expect(layer_id, version)

    def _expect(self, layer_id: str, version: int) -> None:
        """Apply `version` of a layer once the replica has replayed it (one waiting task per layer)."""
        self._targets[layer_id] = max(version, self._targets.get(layer_id, 0))
        task = self._confirm.get(layer_id)
        if task is None or task.done():
            self._confirm[layer_id] = asyncio.create_task(self._await_replica(layer_id))

    async def _await_replica(self, layer_id: str) -> None:
        """Apply a notified version once the replica has replayed it (readers then see the new rows)."""
        attempt = 0
        assert self._read_versions is not None
        while True:
            try:
                found = await self._read_versions()
            except Exception as e:  # a waiter that died would leave the old version up until the next write
                if attempt % 60 == 0:
                    log.warning("layer version of %s: replica not readable (%s); retrying", layer_id, type(e).__name__)
                found = {}
            self._apply_all(found)
            if found.get(layer_id, 0) >= self._targets.get(layer_id, 0):
                return
            await asyncio.sleep(REPLICA_WAIT[min(attempt, len(REPLICA_WAIT) - 1)])
            attempt += 1

    def status(self) -> dict[str, object]:
        """For /health: listening or not, since when down, reconnect count."""
        return {
            "listening": self.listening,
            "down_since": self.down_since,
            "reconnects": self.reconnects,
            "replica_confirmed": self._read_versions is not None,
        }
