"""Dependencies: the runtime, database connections, query-string hygiene and the staff-token check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from gis.db.tokens import hash_token
from gis.errors import Forbidden, GisError, InvalidParameter, Unauthorized
from gis.runtime import Runtime

MAX_PARAM_CHARS = 20_000
# The whole query string as sent (percent-encoded). Below uvicorn's own limit (httptools refuses request targets past
# about 64 KiB with a plain-text 400 the application never sees), so anything between the two gets our JSON 414.
MAX_QUERY_BYTES = 48 * 1024


def get_runtime(request: Request) -> Runtime:
    """The worker's runtime (pools, versions, the cache, catalog, geocoder), opened in the lifespan."""
    return request.app.state.runtime


Rt = Annotated[Runtime, Depends(get_runtime)]


async def get_public_conn(rt: Rt) -> AsyncIterator[asyncpg.Connection]:
    """A connection logged in as the read-only public role (cannot read the private schema)."""
    async with rt.public_conn() as conn:
        yield conn


async def get_staff_conn(rt: Rt) -> AsyncIterator[asyncpg.Connection]:
    """A connection with the service's own role, for staff reads and writes."""
    async with rt.staff_conn() as conn:
        yield conn


PublicConn = Annotated[asyncpg.Connection, Depends(get_public_conn)]
StaffConn = Annotated[asyncpg.Connection, Depends(get_staff_conn)]


def clean_query(request: Request) -> None:
    """Every endpoint: each parameter at most once, no NUL byte, no absurd length (400 naming the parameter)."""
    size = len(request.scope.get("query_string", b""))
    if size > MAX_QUERY_BYTES:
        raise GisError(
            f"the query string is {size} bytes long, at most {MAX_QUERY_BYTES} (send a shorter filter)",
            code="URITooLong",
            status=414,
        )
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        shown = name[:40]
        if name in seen:
            raise InvalidParameter(f"{shown}: given more than once; give each parameter once")
        seen.add(name)
        if "\x00" in name or "\x00" in value:
            raise InvalidParameter(f"{shown.replace(chr(0), '')}: contains a NUL character")
        if len(value) > MAX_PARAM_CHARS:
            raise InvalidParameter(f"{shown}: longer than {MAX_PARAM_CHARS} characters")


@dataclass(frozen=True)
class Staff:
    """The holder of a valid staff token."""

    id: int
    name: str
    role: str


def require_role(*roles: str) -> Callable[..., Coroutine[Any, Any, Staff]]:
    """A dependency that accepts `Authorization: Bearer <token>` of one of these roles."""

    async def check(request: Request, conn: StaffConn) -> Staff:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("this endpoint needs a staff token: Authorization: Bearer <token>")
        row = await conn.fetchrow(
            "SELECT id, name, role FROM staff_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
            hash_token(token.strip()),
        )
        if row is None:
            raise Unauthorized("unknown or revoked token")
        if row["role"] not in roles:
            raise Forbidden(f"role '{row['role']}' may not do this (needs {' or '.join(roles)})")
        return Staff(row["id"], row["name"], row["role"])

    return check
