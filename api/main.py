"""The application factory: pools in lifespan, one router per API, errors registered once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from api.cache import ByteLRU
from api.errors import install_error_handlers
from api.openapi import install_openapi
from api.routers import admin, downloads, features, health, lookup, maps, pages, tiles
from api.versions import LayerVersions
from gis.db import database_url
from gis.settings import Settings

log = logging.getLogger("gis.api")


async def _public_pool(url: str, settings: Settings) -> asyncpg.Pool:
    """Pool whose sessions run as the read-only public role (falls back with a warning if it is missing)."""
    try:
        return await asyncpg.create_pool(
            url, min_size=1, max_size=settings.pool_size, server_settings={"role": settings.public_role}
        )
    except asyncpg.PostgresError:
        log.warning("role %s is not available: public requests use the service role", settings.public_role)
        return await asyncpg.create_pool(url, min_size=1, max_size=settings.pool_size)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app for these settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        app.state.db_url = url
        read_url = settings.database_read_url or url
        app.state.public_pool = await _public_pool(read_url, settings)
        app.state.staff_pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
        app.state.versions = LayerVersions()
        await app.state.versions.start(url)
        try:
            yield
        finally:
            await app.state.versions.stop()
            await app.state.public_pool.close()
            await app.state.staff_pool.close()

    app = FastAPI(
        title="伊万里市・武雄市 地図データサービス",
        description="用途地域・公園・墓地・ごみ集積所・騒音/振動規制地域・農地・浸水センサ等のレイヤを公開する。",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api",
        docs_url="/api.html",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.response_cache = ByteLRU(settings.response_cache_mib * 1024 * 1024)
    app.state.meta_cache = {}
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(pages.router)
    app.include_router(health.router)
    app.include_router(features.router)
    app.include_router(downloads.router)
    app.include_router(lookup.router)
    app.include_router(admin.router)
    app.include_router(tiles.router)
    app.include_router(maps.router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings from the environment."""
    return create_app(Settings())
