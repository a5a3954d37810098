"""gzip for responses: one level for the whole service, nothing on the path of clients that do not ask for it.

Starlette's GZipMiddleware compresses at level 9 (gis/packing.py says why 4) and wraps every response, also for
clients that send no Accept-Encoding (it then re-parses each response's headers to add a Vary); our own responses
already carry `Vary: Accept-Encoding` where they can differ by it.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipResponder
from starlette.types import ASGIApp, Receive, Scope, Send

from gis.packing import GZIP_LEVEL, MIN_BYTES


def accepts_gzip(headers: Mapping[str, str]) -> bool:
    """True when the request's Accept-Encoding (headers: Starlette's, case-insensitive) names gzip."""
    return "gzip" in headers.get("accept-encoding", "")


class Compress:
    """ASGI middleware: gzip bodies of 1 KiB and more for clients that accept it; pass everything else through.

    A response that already has a Content-Encoding (a tile, a cached gzipped page) goes out untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap the response in a gzip responder only when the client asked for gzip."""
        if scope["type"] != "http" or not accepts_gzip(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        await GZipResponder(self.app, MIN_BYTES, compresslevel=GZIP_LEVEL)(scope, receive, send)
