"""The one error hierarchy: every error a client can see carries an HTTP status and an OGC-style code."""

from __future__ import annotations


class GisError(Exception):
    """Base error: `code` and `description` are what clients and the CLI see."""

    status = 500
    code = "ServerError"
    headers: dict[str, str] = {}

    def __init__(self, description: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        if code:
            self.code = code
        if status:
            self.status = status


class InvalidParameter(GisError):
    """A request parameter is malformed or out of range."""

    status = 400
    code = "InvalidParameterValue"


class NotFound(GisError):
    """The collection, feature or resource does not exist."""

    status = 404
    code = "NotFound"


class Unauthorized(GisError):
    """Missing or invalid staff token."""

    status = 401
    code = "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="gis"'}


class Forbidden(GisError):
    """The token's role may not do this."""

    status = 403
    code = "Forbidden"


class ImportFailed(GisError):
    """An import was refused; nothing was changed."""

    status = 400
    code = "ImportFailed"


class DatabaseUnavailable(GisError):
    """The database cannot be reached or set up."""

    status = 503
    code = "DatabaseUnavailable"


class ConfigurationError(GisError):
    """The service refuses to start with these settings or this database set-up."""

    status = 500
    code = "ConfigurationError"


class Conflict(GisError):
    """The change conflicts with the resource's state (a derived layer, rows that refer to it, a busy layer)."""

    status = 409
    code = "Conflict"


class PreconditionFailed(GisError):
    """If-Match names an ETag that is no longer current (someone changed the resource since it was read)."""

    status = 412
    code = "PreconditionFailed"


class PreconditionRequired(GisError):
    """A change needs If-Match with the resource's current ETag."""

    status = 428
    code = "PreconditionRequired"


class UnsupportedMediaType(GisError):
    """The request body's Content-Type is not one this endpoint reads."""

    status = 415
    code = "UnsupportedMediaType"
