"""Dependencies: the runtime, database connections, query-string hygiene and the staff-token check."""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from gis.db.tokens import hash_token
from gis.errors import Forbidden, Unauthorized
from gis.runtime import Runtime

# A request id a client may choose (X-Request-Id, kept in the audit); anything else gets one of ours.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def request_id(request: Request) -> str:
    """The client's X-Request-Id when it is a plain token, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def get_runtime(request: Request) -> Runtime:
    """The worker's runtime (pools, versions, the cache, catalog, geocoder), opened in the lifespan."""
    return request.app.state.runtime


# Dependencies are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop per request.
async def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


Rt = Annotated[Runtime, Depends(_runtime)]


def uses_database(endpoint: Callable[..., Any], dependencies: list[Any]) -> bool:
    """Whether a route reaches the runtime (and so the database): through Rt, or get_runtime on a hot path."""
    return _runtime in dependencies or "get_runtime(" in inspect.getsource(endpoint)


async def get_staff_conn(rt: Rt) -> AsyncIterator[asyncpg.Connection]:
    """A connection with the service's own role, for staff reads and writes."""
    async with rt.staff_conn() as conn:
        yield conn


StaffConn = Annotated[asyncpg.Connection, Depends(get_staff_conn)]


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
