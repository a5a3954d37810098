"""Request limits as ASGI middleware: query-string hygiene and body sizes, checked before any route runs."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from api.errors import error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# The whole query string as sent (percent-encoded). Below uvicorn's own limit (httptools refuses request targets past
# about 64 KiB with a plain-text 400 the application never sees), so anything between the two gets our JSON 414.
MAX_QUERY_BYTES = 48 * 1024
MAX_PARAM_CHARS = 20_000


def query_problem(query_string: bytes) -> tuple[int, str, str] | None:
    """(status, code, description) when a query string is refused: too long, a parameter given twice, a NUL byte."""
    if len(query_string) > MAX_QUERY_BYTES:
        return (
            414,
            "URITooLong",
            f"the query string is {len(query_string)} bytes long, at most {MAX_QUERY_BYTES} (send a shorter filter)",
        )
    seen: set[str] = set()
    # The same parsing as Starlette's request.query_params, so what is checked here is what the routes read.
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        shown = name[:40].replace("\x00", "")
        if name in seen:
            return 400, "InvalidParameterValue", f"{shown}: given more than once; give each parameter once"
        seen.add(name)
        if "\x00" in name or "\x00" in value:
            return 400, "InvalidParameterValue", f"{shown}: contains a NUL character"
        if len(value) > MAX_PARAM_CHARS:
            return 400, "InvalidParameterValue", f"{shown}: longer than {MAX_PARAM_CHARS} characters"
    return None


class QueryHygiene:
    """ASGI middleware: every endpoint gets each parameter at most once, no NUL byte, no absurd length.

    A middleware rather than a global FastAPI dependency: it runs on every request, and a dependency costs a
    resolution step per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a bad query string with the one error shape; pass everything else through."""
        if scope["type"] == "http" and scope.get("query_string"):
            problem = query_problem(scope["query_string"])
            if problem is not None:
                # Browsers get the page form of the error, clients the JSON (the same negotiation as everywhere).
                await error_response(Request(scope), *problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
    text = f"the request body is larger than {limit:,} bytes, the limit for this endpoint"
    await _answer(send, 413, "PayloadTooLarge", text, close=True)


async def _answer(send: Send, status: int, code: str, description: str, *, close: bool = False) -> None:
    """Send the one error shape, {code, description}, as JSON."""
    body = json.dumps({"code": code, "description": description}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
