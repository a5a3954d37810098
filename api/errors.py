"""Error responses: every error is JSON {code, description} with the right status, never database text."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import GisError

log = logging.getLogger("gis.api")


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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the details for staff; the client gets no internals (no SQL, no stack).
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(error_body("ServerError", "internal error; it has been logged"), status_code=500)
