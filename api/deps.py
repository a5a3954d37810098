"""Dependencies: database connections from the pools and the staff-token check."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request

from gis.errors import DatabaseUnavailable, Forbidden, Unauthorized
from gis.tokens import hash_token


async def _acquire(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await pool.acquire()
    except (OSError, asyncpg.PostgresError) as e:
        raise DatabaseUnavailable("the database is not reachable") from e
    try:
        yield conn
    finally:
        await pool.release(conn)


@asynccontextmanager
async def public_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """Borrow a public-role connection only when needed (cache misses)."""
    async for conn in _acquire(request.app.state.public_pool):
        yield conn


async def get_public_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A connection running as the read-only public role (cannot read the private schema)."""
    async for conn in _acquire(request.app.state.public_pool):
        yield conn


async def get_staff_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A connection with the service's own role, for staff reads and writes."""
    async for conn in _acquire(request.app.state.staff_pool):
        yield conn


PublicConn = Annotated[asyncpg.Connection, Depends(get_public_conn)]
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
