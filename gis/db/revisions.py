"""Revisions: one per change set of one layer, opened by the writer inside its transaction.

`gis_begin_revision(layer, kind, actor, actor_role, request_id, note)` (migration 0013) inserts the
`layer_revisions` row and sets the transaction-local settings the history triggers read; a write with no open
revision gets an automatic `load` revision (actor `session_user`), so no row change is ever unrecorded. The
importer (psycopg) and the API (asyncpg) call the same SQL function through the wrappers below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg
import psycopg


@dataclass(frozen=True)
class Actor:
    """Who changes a layer through the API: the token's holder and role, and the request id the audit keeps."""

    name: str
    role: str
    request_id: str


Kind = Literal["import", "edit", "rollback", "load", "derive"]
KINDS: tuple[str, ...] = ("import", "edit", "rollback", "load", "derive")

BEGIN_SQL = "SELECT gis_begin_revision($1, $2, $3, $4, $5, $6)"


def begin_revision(
    cur: psycopg.Cursor,
    layer: str,
    kind: Kind,
    actor: str,
    actor_role: str | None = None,
    request_id: str | None = None,
    note: str | None = None,
    *,
    rolled_back_to: int | None = None,
) -> int:
    """Open a revision of `layer` in the cursor's transaction; every row change until commit belongs to it.

    Returns the revision's id (`layer_revisions.id`). Calling it again in the same transaction for the same layer
    opens a further revision (the later one receives the changes that follow). `rolled_back_to`: the revision a
    `rollback` restores.
    """
    cur.execute(
        "SELECT gis_begin_revision(%s, %s, %s, %s, %s, %s, %s)",
        (layer, kind, actor, actor_role, request_id, note, rolled_back_to),
    )
    return cur.fetchone()[0]


async def abegin_revision(
    conn: asyncpg.Connection,
    layer: str,
    kind: Kind,
    actor: str,
    actor_role: str | None = None,
    request_id: str | None = None,
    note: str | None = None,
) -> int:
    """begin_revision for asyncpg (API writes); call it inside the write's transaction."""
    return await conn.fetchval(BEGIN_SQL, layer, kind, actor, actor_role, request_id, note)
