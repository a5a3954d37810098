"""`gis serve`: migrate, load the bundled data on first start, run the API."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import psycopg
import typer

from gis.cli.common import app, database, fail, out
from gis.cli.data import load_bundled
from gis.db.connect import embedded_for
from gis.errors import GisError
from gis.runtime import Runtime
from gis.settings import Settings

H11_MAX_HEAD = 96 * 1024  # uvicorn's default is 16 KiB


async def _preflight(settings: Settings) -> None:
    """Open and close the runtime once: settings, the public role's safety, the listener, the geocoder."""
    rt = await Runtime.open(settings)
    await rt.close()


def _loaded(url: str) -> bool:
    # Every load records its sources; layer versions alone are not proof (a migration may version an empty layer).
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM sources)").fetchone()[0]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    load: Annotated[bool, typer.Option(help="load the bundled data on first start")] = True,
) -> None:
    """Run the API and map pages; starts the embedded database when DATABASE_URL is unset."""
    import uvicorn

    settings = Settings()
    try:
        with database(settings) as url:
            if load and not _loaded(url):
                out.print("初回起動: 同梱データを読み込みます (gis load)")
                load_bundled(url, settings.data_dir)
            # Refuse to serve here, with one clear line, rather than in every worker.
            asyncio.run(_preflight(settings))
            # Workers are separate processes: hand them the resolved URL (and the public role's login) by environment.
            os.environ["DATABASE_URL"] = url
            if settings.embedded:
                os.environ["GIS_PUBLIC_PASSWORD"] = embedded_for(settings).public_password
            h, p = host or settings.host, port or settings.port
            out.print(f"serving http://{h}:{p}/  (Ctrl-C to stop)")
            uvicorn.run(
                "api.main:create_app_from_env",
                factory=True,
                host=h,
                port=p,
                workers=workers,
                log_level="warning",
                access_log=False,  # never shown at level warning, but built for every request
                proxy_headers=bool(settings.forwarded_allow_ips),
                forwarded_allow_ips=settings.forwarded_allow_ips,
                # With the h11 parser, request heads up to this size reach the app, which answers over-long query
                # strings with a JSON 414 (api.deps.MAX_QUERY_BYTES); httptools has its own fixed ~64 KiB limit.
                h11_max_incomplete_event_size=H11_MAX_HEAD,
            )
    except GisError as e:
        fail(e)
