"""What a running service holds: pools, layer versions, the one cache, the catalog and the geocoder.

`Runtime.open(settings)` is the whole start-up (the API's lifespan and `gis lookup` both use it): settings
checked, the public pool logged in as the public role and checked to be blind to private data (else the service
refuses to start), the staff pool, the version listener, the cache subscribed to it, the first geocoder.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from gis.cache import Cache
from gis.catalog import Catalog
from gis.db.connect import database_url, public_url
from gis.db.roles import check_public_role, login_error
from gis.db.versions import VERSIONS_SQL, LayerVersions
from gis.edits.tables import acheck_history
from gis.errors import DatabaseUnavailable
from gis.geocode.service import GeocoderService
from gis.settings import Settings

log = logging.getLogger("gis.runtime")
MIB = 1024 * 1024
STAFF_POOL_SIZE = 4
ACQUIRE_TIMEOUT_S = 15


async def _acquire(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    try:
        # Bounded: a pool that stays exhausted is a 503 the client can retry, never a request that hangs.
        conn = await pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
        raise DatabaseUnavailable("the database is not reachable") from e
    try:
        yield conn
    finally:
        # A connection the server closed mid-query cannot be reset; the pool drops it either way, and the
        # query's own error (not the release's) is what the caller should see.
        try:
            await pool.release(conn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            log.debug("a broken connection was not returned to the pool")


class BackgroundJobs(Protocol):
    """Loops started with the app and stopped with the runtime; `kick` wakes them for work that just arrived."""

    def start(self) -> None: ...
    def kick(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class Runtime:
    """The running service's shared state (one per worker process)."""

    settings: Settings
    db_url: str
    public_pool: asyncpg.Pool
    staff_pool: asyncpg.Pool
    versions: LayerVersions
    cache: Cache
    catalog: Catalog
    geocoder: GeocoderService
    # Background loops a domain runs in API workers (the sensors' sweeper and outbox): set by the app, stopped here.
    jobs: BackgroundJobs | None = None

    @asynccontextmanager
    async def public_conn(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection logged in as the read-only public role (cannot read the private schema)."""
        async for conn in _acquire(self.public_pool):
            yield conn

    @asynccontextmanager
    async def staff_conn(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection as the service's own role, for staff reads and writes."""
        async for conn in _acquire(self.staff_pool):
            yield conn

    @classmethod
    async def open(cls, settings: Settings) -> Runtime:
        """Start everything, or raise ConfigurationError / DatabaseUnavailable naming why the service cannot run."""
        settings.check()
        url = database_url(settings)
        public = await _public_pool(settings, url)
        staff = versions = None
        try:
            staff = await asyncpg.create_pool(url, min_size=1, max_size=STAFF_POOL_SIZE)
            async with staff.acquire() as conn:
                await acheck_history(conn)
            replica = bool(settings.database_read_url)
            versions = LayerVersions(url, read_versions=_reader(public) if replica else None)
            await versions.start()
            cache = Cache(
                {
                    "response": settings.response_cache_mib * MIB,
                    "tile": settings.tile_cache_mib * MIB,
                    "meta": settings.meta_cache_mib * MIB,
                }
            )
            cache.sync(versions.versions)
            versions.subscribe(cache.set_version)
            runtime = cls(settings, url, public, staff, versions, cache, None, None)  # type: ignore[arg-type]
            runtime.catalog = Catalog(cache, versions, runtime.public_conn)
            runtime.geocoder = GeocoderService(settings.data_dir, cache, versions, runtime.public_conn)
            versions.subscribe(runtime.geocoder.on_version)
            await runtime.geocoder.start()
            return runtime
        except BaseException:
            if versions is not None:
                await versions.stop()
            for pool in (public, staff):
                if pool is not None:
                    await pool.close()
            raise

    async def close(self) -> None:
        """Stop the background jobs, the listener and the geocoder's rebuilds, close the pools."""
        if self.jobs is not None:
            await self.jobs.stop()
        await self.geocoder.stop()
        await self.versions.stop()
        await self.public_pool.close()
        await self.staff_pool.close()


async def _public_pool(settings: Settings, url: str) -> asyncpg.Pool:
    """The pool of public reads: its own login role (never SET ROLE on the owner's session), checked to be safe."""
    target = public_url(settings, url)
    try:
        pool = await asyncpg.create_pool(target, min_size=1, max_size=settings.pool_size, reset=_keep_session)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as e:
        raise login_error(settings.public_role, e) from None
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        raise DatabaseUnavailable(f"the database is not reachable ({type(e).__name__})") from None
    try:
        async with pool.acquire() as conn:
            await check_public_role(conn, settings.public_role)
    except BaseException:
        await pool.close()
        raise
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Public connections are released as they are: asyncpg still rolls back an open transaction first.

    The default reset sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` after every request, one
    more round trip than the request's own query: a quarter of a point query's database CPU
    (bench/results-speed-profile.md).
    Public reads leave nothing behind to reset: no session SET (only SET LOCAL), no LISTEN, no cursor, no session
    advisory lock (tests/test_speed_paths.py checks the public pool's connections after every kind of public read).
    """


def _reader(pool: asyncpg.Pool):  # noqa: ANN202
    """Versions as the replica has them (what public reads see)."""

    async def read() -> dict[str, int]:
        async with pool.acquire() as conn:
            return {r["layer_id"]: r["version"] for r in await conn.fetch(VERSIONS_SQL, timeout=5)}

    return read
