"""HEAD on every GET endpoint: the GET response's status and headers (ETag, Content-Type, Content-Length), no body.

FastAPI's `@router.get` routes answer HEAD with 405; running the GET and dropping its body keeps every header the
same as the GET's (including gzip's Content-Encoding and Content-Length, as this runs outside the gzip middleware).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: answer HEAD by running GET and sending its start message with an empty body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything but HEAD through; run HEAD as GET without the body."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_head(message: Message) -> None:
            nonlocal finished
            if message["type"] != "http.response.body":
                await send(message)
            elif not finished and not message.get("more_body", False):
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_head)
