"""Request-body limits: an over-large body is a 413 at once, before anything reads or parses it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: bodies over the limit for their path get 413 (JSON) without being read.

    A declared Content-Length over the limit is refused before the first byte is read; a chunked body is counted
    as it arrives and refused the moment it passes the limit (the application then sees a disconnect and
    whatever it tries to send is dropped).
    """

    def __init__(self, app: ASGIApp, default: int, larger: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = sorted(larger.items(), key=lambda kv: -len(kv[0]))  # path prefix → limit

    def limit_for(self, path: str) -> int:
        """The byte limit of a request body on this path."""
        return next((n for prefix, n in self.larger if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass requests through, refusing over-large bodies."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        state = {"received": 0, "refused": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit and not state["started"]:
                    state["refused"] = True
                    await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if state["refused"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not state["refused"]:
                raise


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "code": "PayloadTooLarge",
            "description": f"the request body is larger than {limit:,} bytes, the limit for this endpoint",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
