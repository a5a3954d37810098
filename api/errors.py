"""Error responses: every error is JSON {code, description} with the right status, never database text."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import GisError

log = logging.getLogger("gis.api")
# What a request meets when the database stops or restarts under it (SQLSTATE classes 08 and 57P, a connection
# closed mid-operation, a pool that cannot connect).
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InternalClientError,
    ConnectionError,
    TimeoutError,
)


def caused_by_outage(exc: BaseException) -> bool:
    """True when the database going away is anywhere in the exception's cause or context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DATABASE_DOWN):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


# What a person reading the page in a browser is told, per status (the technical description follows it).
HEADLINES = {
    400: ("入力内容に誤りがあります", "指定された値を確かめて、もう一度お試しください。"),
    401: ("職員用の認証が必要です", "このページは職員用です。"),
    403: ("この操作は許可されていません", "この操作には別の権限が必要です。"),
    404: ("ページが見つかりません", "URLが正しいか確かめてください。地図やトップページから探すこともできます。"),
    405: ("この方法ではアクセスできません", "リンクからもう一度開いてください。"),
    413: ("送信データが大きすぎます", "ファイルやデータを小さくして送ってください。"),
    414: ("URLが長すぎます", "条件を減らしてもう一度お試しください。"),
    503: ("ただいま一時的に利用できません", "しばらくしてから、もう一度お試しください。"),
}
FALLBACK = ("エラーが発生しました", "しばらくしてから、もう一度お試しください。")
_templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


def error_body(code: str, description: str) -> dict[str, str]:
    """The one error shape."""
    return {"code": code, "description": description}


def wants_html(request: Request) -> bool:
    """A browser asking for a page (Accept: text/html before any JSON, or ?f=html) gets the error as HTML."""
    given = request.query_params.getlist("f")
    f = given[0].lower() if len(given) == 1 else ""  # a repeated f is refused as such, in the client's format
    if f in ("html", "text/html"):
        return True
    if f in ("json", "geojson", "csv", "application/json", "application/geo+json"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def error_response(
    request: Request, status: int, code: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    """The error as JSON {code, description} for clients, or as a Japanese page for browsers (same status)."""
    if not wants_html(request):
        return JSONResponse(error_body(code, description), status_code=status, headers=headers)
    title, advice = HEADLINES.get(status, FALLBACK)
    html = _templates.get_template("error.html").render(
        request=request, status=status, title=title, advice=advice, code=code, description=description
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else e.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers in one place."""

    @app.exception_handler(GisError)
    async def gis_error(request: Request, exc: GisError) -> Response:
        return error_response(request, exc.status, exc.code, exc.description, exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 400, "InvalidParameterValue", _validation_text(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "Forbidden"}.get(
            exc.status_code, "HTTPError"
        )
        text = exc.detail if isinstance(exc.detail, str) else "error"
        return error_response(request, exc.status_code, code, text, exc.headers)

    async def database_down(request: Request, exc: Exception) -> Response:
        # The database went away mid-request (a restart, an outage): a 503 the client may retry, not a 500.
        log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
        text = "the database is not reachable right now; try again shortly"
        return error_response(request, 503, "DatabaseUnavailable", text, {"Retry-After": "5"})

    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, database_down)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # A shutdown that cuts a transaction surfaces as the error of closing it (asyncpg InterfaceError), caused by
        # the outage: judge by the chain, so only an error *caused* by the database going away becomes a 503.
        if caused_by_outage(exc):
            return await database_down(request, exc)
        # Log the details for staff; the client gets no internals (no SQL, no stack).
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, 500, "ServerError", "internal error; it has been logged")
