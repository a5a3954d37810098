"""The audit and the history: revisions with their counts, and every recorded row change, for staff only.

Both read the append-only history tables (migration 0013) through the staff connection; the public role cannot
read them. Times are shown in JST. Row images are as recorded (geometry as hex EWKB; an update names only the
columns it changed); changes of a private table carry `private: true` and appear only here, on staff endpoints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import psycopg

from gis.edits.tables import OPS
from gis.errors import InvalidParameter

JST_TEXT = """to_char({col} AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')"""
MAX_LIMIT = 1000

# Revisions of one layer, newest first, with the counts of their layer rows and of their private rows.
HISTORY_SQL = f"""
SELECT r.id AS revision_id, r.revision, r.kind, r.actor, r.actor_role AS role, r.request_id, r.note,
       r.rolled_back_to, {JST_TEXT.format(col="r.created_at")} AS time,
       coalesce(sum(c.rows_added) FILTER (WHERE NOT c.private), 0)::int AS rows_added,
       coalesce(sum(c.rows_changed) FILTER (WHERE NOT c.private), 0)::int AS rows_changed,
       coalesce(sum(c.rows_removed) FILTER (WHERE NOT c.private), 0)::int AS rows_removed,
       coalesce(sum(c.rows_added + c.rows_changed + c.rows_removed) FILTER (WHERE c.private), 0)::int
         AS private_rows
FROM layer_revisions r LEFT JOIN layer_revision_counts c ON c.revision_id = r.id
WHERE r.layer_id = $1
GROUP BY r.id
ORDER BY r.revision DESC
LIMIT $2 OFFSET $3
"""
CURRENT_SQL = "SELECT coalesce(max(revision), 0) FROM layer_revisions WHERE layer_id = $1"

# Every recorded change, newest first; both change logs, each filtered the same way.
_PART = """
SELECT r.id AS revision_id, r.layer_id AS layer, r.revision, r.created_at, r.actor, r.actor_role AS role, r.kind,
       r.request_id, c.id AS change_id, c.table_name, {private} AS private, c.row_id AS feature_id, c.op,
       c.before, c.after
FROM {log} c JOIN layer_revisions r ON r.id = c.revision_id
WHERE ($1::text IS NULL OR r.layer_id = $1) AND ($2::text IS NULL OR r.actor = $2)
  AND ($3::text IS NULL OR c.op = $3) AND ($4::timestamptz IS NULL OR r.created_at >= $4)
  AND ($5::timestamptz IS NULL OR r.created_at < $5) AND ($6::bigint IS NULL OR c.row_id = $6)
"""
AUDIT_SQL = f"""
SELECT revision_id, layer, revision, {JST_TEXT.format(col="created_at")} AS time, actor, role, kind, request_id,
       table_name AS "table", private, feature_id, op, before, after
FROM ({_PART.format(private="false", log="layer_row_changes")}
      UNION ALL {_PART.format(private="true", log="private.layer_row_changes_private")}) a
ORDER BY revision_id DESC, private, change_id DESC
LIMIT $7 OFFSET $8
"""


@dataclass(frozen=True)
class AuditFilter:
    """The filters of GET /admin/audit (each optional)."""

    layer: str | None = None
    actor: str | None = None
    op: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    feature: int | None = None
    limit: int = 100
    offset: int = 0

    def check(self) -> AuditFilter:
        """Raise InvalidParameter naming the first bad filter."""
        if self.op is not None and self.op not in OPS:
            raise InvalidParameter(f"op: one of {', '.join(OPS)}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidParameter(f"limit: between 1 and {MAX_LIMIT}")
        if self.offset < 0:
            raise InvalidParameter("offset: 0 or more")
        if self.since and self.until and self.until <= self.since:
            raise InvalidParameter("until: must be after since")
        return self

    def params(self) -> tuple[Any, ...]:
        """The bind parameters of AUDIT_SQL, in order."""
        return (self.layer, self.actor, self.op, self.since, self.until, self.feature, self.limit, self.offset)


def _row(record: Any) -> dict[str, Any]:
    out = dict(record)
    for k in ("before", "after"):
        if isinstance(out.get(k), str):  # asyncpg hands jsonb over as text
            out[k] = json.loads(out[k])
    return out


async def aaudit(conn: asyncpg.Connection, flt: AuditFilter) -> list[dict[str, Any]]:
    """The recorded changes matching the filter, newest first."""
    return [_row(r) for r in await conn.fetch(AUDIT_SQL, *flt.check().params())]


async def ahistory(conn: asyncpg.Connection, layer_id: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """A layer's revisions newest first with their counts, and the current revision."""
    rows = await conn.fetch(HISTORY_SQL, layer_id, limit, offset)
    current = await conn.fetchval(CURRENT_SQL, layer_id)
    return {"current_revision": current, "revisions": [dict(r) for r in rows]}


def _psycopg(query: str) -> str:
    # Each $n appears once, in order, in these statements.
    return re.sub(r"\$\d+", "%s", query)


def history(conn: psycopg.Connection, layer_id: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """ahistory for psycopg (the CLI)."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(_psycopg(HISTORY_SQL), (layer_id, limit, offset))
        rows = cur.fetchall()
        cur.execute(_psycopg(CURRENT_SQL), (layer_id,))
        current = next(iter(cur.fetchone().values()))
    return {"current_revision": current, "revisions": rows}
