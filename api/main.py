"""The application factory: the runtime in lifespan, one router per API, errors registered once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.compress import Compress
from api.counting import add_access_counting, flushing
from api.errors import install_error_handlers
from api.head import HeadAsGet
from api.limits import BodyLimit, QueryHygiene
from api.openapi import install_openapi
from api.routers import (
    admin,
    admin_history,
    admin_pages,
    admin_upload,
    cemeteries,
    downloads,
    edit,
    farmland,
    features,
    garbage,
    garbage_push,
    health,
    lookup,
    maps,
    pages,
    sensors,
    sta,
    stats,
    tiles,
    transit,
)
from gis import heap
from gis.runtime import Runtime
from gis.sensors.jobs import SensorJobs
from gis.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app for these settings (nothing connects until the lifespan starts)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Refuses to start (ConfigurationError) when the public role is missing or can read private data.
        rt = app.state.runtime = await Runtime.open(settings)
        heap.settle()  # what start-up built lives as long as the process: out of the collector's sight
        # API workers run the sensor jobs (one-shot commands do not); the runtime stops them on close.
        rt.jobs = SensorJobs(rt.staff_conn, settings.sensor_sweep_seconds, settings.sensor_deliver_seconds)
        rt.jobs.start()
        try:
            async with flushing(app, app.state.runtime, settings):
                yield
        finally:
            await app.state.runtime.close()

    app = FastAPI(
        title="伊万里市・武雄市 地図データサービス",
        description="用途地域・公園・墓地・ごみ集積所・騒音/振動規制地域・農地・浸水センサ等のレイヤを公開する。",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api",
        docs_url=None,  # /api.html is served by the pages router with vendored Swagger UI (offline)
        redoc_url=None,
    )
    app.add_middleware(Compress)
    add_access_counting(app, settings)  # inside HeadAsGet: it sees the route matched for a HEAD too
    app.add_middleware(HeadAsGet)  # outside gzip: HEAD sees the same (gzipped) headers as GET
    # Outermost: an over-large body is refused before any other layer reads it.
    upload = settings.max_upload_mib * 1024 * 1024
    app.add_middleware(BodyLimit, default=settings.max_body_kib * 1024, larger={"/admin/": upload})
    app.add_middleware(QueryHygiene)
    install_error_handlers(app)
    install_openapi(app)
    # Features and tiles first: a request is matched against the included routers in order, and these two carry
    # most of the traffic (no path of the others overlaps theirs).
    routers = (features, tiles, pages, health, downloads, lookup, admin, maps, garbage_push, garbage, sta, sensors)
    for module in (*routers, stats, transit, cemeteries, edit, admin_upload, admin_pages, farmland, admin_history):
        app.include_router(module.router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings from the environment."""
    return create_app(Settings())
