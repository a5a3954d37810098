"""Error responses: every error is JSON {code, description} with the right status, never database text."""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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


def error_body(code: str, description: str) -> dict[str, str]:
    """The one error shape."""
    return {"code": code, "description": description}


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path"))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else e.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers in one place."""

    @app.exception_handler(GisError)
    async def gis_error(_: Request, exc: GisError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.description), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("InvalidParameterValue", _validation_text(exc)), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized", 403: "Forbidden"}.get(
            exc.status_code, "HTTPError"
        )
        text = exc.detail if isinstance(exc.detail, str) else "error"
        return JSONResponse(error_body(code, text), status_code=exc.status_code, headers=exc.headers)

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        # The database went away mid-request (a restart, an outage): a 503 the client may retry, not a 500.
        log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
        return JSONResponse(
            error_body("DatabaseUnavailable", "the database is not reachable right now; try again shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    for kind in DATABASE_DOWN:
        app.add_exception_handler(kind, database_down)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the details for staff; the client gets no internals (no SQL, no stack).
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(error_body("ServerError", "internal error; it has been logged"), status_code=500)
