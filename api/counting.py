"""Access counting as ASGI middleware: one in-memory increment per key and request, flushed by a lifespan task.

What a request counts as comes from the matched route (`scope["route"].path`, the template, and a layer id from
`path_params` that names a declared layer), the response's status class and Content-Type, and the 大字 a lookup
router noted with `note_town`. The raw path, the query string and the headers are never read.

It sits inside HeadAsGet (which runs HEAD as GET on a copy of the scope) so that it sees the route the router
matched, and outside gzip. Requests refused before it (QueryHygiene's 400/414, BodyLimit's 413) are not counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.runtime import Runtime
from gis.settings import Settings
from gis.stats.counter import AccessCounts
from gis.stats.flush import Flusher
from gis.stats.keys import RouteKeys, known_layer, route_keys

TOWN_NOTE = "gis.stats.town"  # scope key: (kind, town key) noted by the lookup routes
MAX_MEMO = 4096


def note_town(request: Request, kind: str, key: str) -> None:
    """Count this request as a lookup ('town') or geocode of one 大字 key (gis.stats.keys.lookup_town/geocode_town)."""
    request.scope[TOWN_NOTE] = (kind, key)


class CountAccess:
    """ASGI middleware: count every HTTP request by route, layer, page, family × status class and day (JST)."""

    def __init__(self, app: ASGIApp, counts: AccessCounts) -> None:
        self.app = app
        self.counts = counts
        self._memo: dict[tuple[str | None, str | None], RouteKeys] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, then count it (also when it failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        day = self.counts.today()
        seen = [0, False]  # status, an HTML body

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen[0] = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        seen[1] = value.startswith(b"text/html")
                        break
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if not seen[0]:
                seen[0] = 500  # what the server-error layer outside answers
            raise
        finally:
            self._count(scope, day, seen[0], seen[1])

    def _count(self, scope: Scope, day: Any, status: int, html: bool) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None)
        layer = known_layer(scope.get("path_params"))
        keys = self._memo.get((path, layer))
        if keys is None:
            keys = route_keys(path, layer)
            if len(self._memo) < MAX_MEMO:
                self._memo[(path, layer)] = keys
        add = self.counts.add
        add(day, "api", keys.api.get(status // 100, keys.api[5]))
        if keys.layer is not None:
            add(day, "layer", keys.layer)
        if keys.page is not None and 0 < status < 400 and (html or (status == 304 and keys.page_route)):
            add(day, "page", keys.page)
        note = scope.get(TOWN_NOTE)
        if note is not None:
            add(day, note[0], note[1])


def add_access_counting(app: FastAPI, settings: Settings) -> AccessCounts | None:
    """Add the counting middleware (at the current position of the stack) unless GIS_STATS=0."""
    if not settings.stats_enabled:
        app.state.access_counts = None
        return None
    counts = AccessCounts(max_keys=settings.stats_max_keys)
    app.state.access_counts = counts
    app.add_middleware(CountAccess, counts=counts)
    return counts


@asynccontextmanager
async def flushing(app: FastAPI, runtime: Runtime, settings: Settings) -> AsyncIterator[None]:
    """Inside the lifespan: flush this worker's counts every GIS_STATS_FLUSH_SECONDS and once more at shutdown."""
    counts = getattr(app.state, "access_counts", None)
    if counts is None:
        yield
        return
    flusher = Flusher(counts, runtime.staff_conn, settings.stats_flush_seconds)
    app.state.stats_flusher = flusher
    flusher.start()
    try:
        yield
    finally:
        await flusher.stop()
