"""Rollback: restore a layer's rows (and its private rows) exactly as they were after revision N.

The recorded changes of the later revisions say it all: for each row they touched, the first of those changes
tells its state after N (an `insert` first: the row did not exist; otherwise its `before` image). Rows are
deleted, re-inserted with their ids or set back to that image, in one transaction that is itself a `rollback`
revision (so it can be rolled back too); identity sequences stay ahead, derived layers re-derive, the version is
bumped. Only the net state is written: a row changed five times is restored once, and rows already equal to
their image are not touched (the history trigger skips no-op updates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from gis.db.provenance import bump_version
from gis.db.revisions import begin_revision
from gis.edits.tables import PRIVATE_CHANGES, history_tables
from gis.errors import Conflict, InvalidParameter, NotFound, PreconditionFailed
from gis.ingest.derive import derive_from
from layers import LAYERS
from layers.base import Layer

# The state after revision n of every row the later revisions touched. The first later change says whether it
# existed (an `insert` first: it did not). If it did: its whole row at the first later `delete` (else the row as it
# is now: `base` NULL), patched with the old values of the updates before that delete, the earliest value of a
# column winning (`patch`).
TARGET_SQL = """
CREATE TEMP TABLE {target} ON COMMIT DROP AS
WITH ch AS (
  SELECT c.id, c.row_id, c.op, c.before
  FROM {log} c JOIN layer_revisions r ON r.id = c.revision_id
  WHERE r.layer_id = %(layer)s AND r.revision > %(n)s AND c.table_name = %(table)s
),
first AS (SELECT DISTINCT ON (row_id) row_id, op FROM ch ORDER BY row_id, id),
del AS (SELECT DISTINCT ON (row_id) row_id, id, before FROM ch WHERE op = 'delete' ORDER BY row_id, id),
cols AS (
  SELECT DISTINCT ON (c.row_id, e.key) c.row_id, e.key, e.value
  FROM ch c LEFT JOIN del d USING (row_id), jsonb_each(c.before) e
  WHERE c.op = 'update' AND (d.id IS NULL OR c.id < d.id)
  ORDER BY c.row_id, e.key, c.id
),
patch AS (SELECT row_id, jsonb_object_agg(key, value) AS patch FROM cols GROUP BY row_id)
SELECT f.row_id, f.op = 'insert' AS absent, CASE WHEN f.op <> 'insert' THEN d.before END AS base,
       CASE WHEN f.op <> 'insert' THEN coalesce(p.patch, '{{}}') ELSE '{{}}' END AS patch
FROM first f LEFT JOIN del d USING (row_id) LEFT JOIN patch p USING (row_id)
"""
COLUMNS_SQL = """
SELECT a.attname, a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AS required
FROM pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum
"""


@dataclass
class RollbackResult:
    """What a rollback did."""

    layer: str
    to_revision: int
    revision: int
    revision_id: int
    version: int
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    report: list[str] = field(default_factory=list)


def rollback_layer(layer_id: str) -> Layer:
    """The layer a rollback may restore (404 unknown, 409 derived)."""
    layer = LAYERS.get(layer_id)
    if layer is None:
        raise NotFound(f"collection '{layer_id}' not found")
    if layer.derived_from:
        raise Conflict(
            f"{layer_id} is derived from {layer.derived_from}: roll back {layer.derived_from} and it is re-derived"
        )
    return layer


def rollback(
    conn: psycopg.Connection,
    layer_id: str,
    to_revision: int,
    *,
    actor: str = "cli",
    actor_role: str | None = None,
    request_id: str | None = None,
    if_version: int | None = None,
) -> RollbackResult:
    """Restore `layer_id` as it was after revision `to_revision`, in one transaction recorded as a new revision.

    `if_version`: the layer version the caller saw (412 when it is no longer current). 404 for an unknown
    revision, 400 for the current one, 409 when a later schema change or a row that refers to a removed one makes
    the restore impossible.
    """
    layer = rollback_layer(layer_id)
    tables = history_tables(layer)
    with conn.transaction(), conn.cursor() as cur:
        # One writer per layer: imports and edits wait until the rollback has committed.
        for table, _, _ in tables:
            cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.SQL(table)))
        current = _check(cur, layer.id, to_revision, if_version)
        revision_id = begin_revision(
            cur,
            layer.id,
            "rollback",
            actor,
            actor_role,
            request_id,
            f"revision {current} → {to_revision}",
            rolled_back_to=to_revision,
        )
        cities: set[str] = set()
        try:
            for table, key, log in tables:
                cities |= _restore(cur, layer.id, to_revision, table, key, log)
        except psycopg.errors.ForeignKeyViolation:
            raise Conflict(
                f"{layer.id}: rows that other tables refer to would be removed; the rollback to revision "
                f"{to_revision} cannot be applied"
            ) from None
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError):
            raise Conflict(
                f"{layer.id}: the rows of revision {to_revision} no longer fit the layer's columns (a later schema "
                "change); the rollback cannot be applied"
            ) from None
        version = bump_version(cur, layer.id)
        report: list[str] = []
        if cities:
            report.extend(derive_from(cur, layer.id, sorted(cities)))
        cur.execute(
            "SELECT r.revision, coalesce(sum(c.rows_added), 0), coalesce(sum(c.rows_changed), 0), "
            "coalesce(sum(c.rows_removed), 0) FROM layer_revisions r "
            "LEFT JOIN layer_revision_counts c ON c.revision_id = r.id AND NOT c.private WHERE r.id = %s "
            "GROUP BY r.revision",
            (revision_id,),
        )
        number, added, changed, removed = cur.fetchone()
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(layer.id)))
    if idle:
        conn.commit()
    return RollbackResult(layer.id, to_revision, number, revision_id, version, added, changed, removed, report)


def _check(cur: psycopg.Cursor, layer_id: str, to_revision: int, if_version: int | None) -> int:
    """The layer's current revision, once the target revision and the caller's version are known to be good."""
    if if_version is not None:
        cur.execute("SELECT version FROM layer_state WHERE layer_id = %s", (layer_id,))
        row = cur.fetchone()
        if row is None or row[0] != if_version:
            now = row[0] if row else "none"
            raise PreconditionFailed(f"If-Match: {layer_id} is now at version {now}, not {if_version}; reload it")
    cur.execute("SELECT coalesce(max(revision), 0) FROM layer_revisions WHERE layer_id = %s", (layer_id,))
    current = cur.fetchone()[0]
    cur.execute("SELECT 1 FROM layer_revisions WHERE layer_id = %s AND revision = %s", (layer_id, to_revision))
    if cur.fetchone() is None:
        raise NotFound(f"revision: {layer_id} has no revision {to_revision} (its revisions are 1 to {current})")
    if to_revision == current:
        raise InvalidParameter(f"revision: {layer_id} is at revision {to_revision} already; nothing to roll back")
    return current


def _restore(cur: psycopg.Cursor, layer_id: str, n: int, table: str, key: str, log: str) -> set[str]:
    """Bring one table (the layer's or its private one) back to its state after revision n; the cities touched."""
    bare = table.split(".", 1)[1].strip('"')
    target = sql.Identifier(f"rollback_{'private' if log.endswith(PRIVATE_CHANGES) else 'layer'}")
    log_ident = sql.Identifier(*log.split("."))
    cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(target))
    cur.execute(
        sql.SQL(TARGET_SQL).format(target=target, log=log_ident),
        {"layer": layer_id, "n": n, "table": bare, "key": key},
    )
    cur.execute(COLUMNS_SQL, (table,))
    columns = cur.fetchall()
    names = [c for c, _ in columns]
    cur.execute(
        sql.SQL(
            "SELECT DISTINCT k FROM {} x, jsonb_object_keys(coalesce(x.base, '{{}}') || x.patch) k WHERE NOT absent"
        ).format(target)
    )
    keys = {r[0] for r in cur.fetchall()}
    if gone := sorted(keys - set(names)):
        raise Conflict(
            f"{layer_id}: column {', '.join(gone)} of revision {n} no longer exists in {bare} (a later schema "
            "change); the rollback cannot be applied"
        )
    cur.execute(sql.SQL("SELECT DISTINCT k FROM {} x, jsonb_object_keys(x.base) k").format(target))
    whole = {r[0] for r in cur.fetchall()}
    if whole and (missing := [c for c, required in columns if required and c not in whole]):
        raise Conflict(
            f"{layer_id}: {bare} now requires {', '.join(missing)}, which revision {n} did not have (a later schema "
            "change); the rollback cannot be applied"
        )
    t, k = sql.SQL(table), sql.Identifier(key)
    cur.execute(
        sql.SQL("DELETE FROM {t} WHERE {k} IN (SELECT row_id FROM {target} WHERE absent)").format(
            t=t, k=k, target=target
        )
    )
    # Rows deleted later: back with their ids, as they were (upsert: a row of that id may exist again).
    restored = [c for c in names if c in whole]
    if restored:
        cur.execute(
            sql.SQL(
                "INSERT INTO {t} ({cols}) SELECT {rcols} FROM {target} x, "
                "jsonb_populate_record(NULL::{t}, x.base || x.patch) r "
                "WHERE x.base IS NOT NULL ON CONFLICT ({k}) DO UPDATE SET {sets}"
            ).format(
                t=t,
                cols=sql.SQL(", ").join(map(sql.Identifier, restored)),
                rcols=sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(c)) for c in restored),
                target=target,
                k=k,
                sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in restored),
            )
        )
    # Rows only updated later: their changed columns set back (the rest of the row is as it was).
    patched = [c for c in names if c in keys and c != key]
    if patched:
        cur.execute(
            sql.SQL(
                "UPDATE {t} t SET ({cols}) = (SELECT {rcols} FROM jsonb_populate_record(t, x.patch) r) "
                "FROM {target} x WHERE t.{k} = x.row_id AND x.base IS NULL AND NOT x.absent AND x.patch <> '{{}}'"
            ).format(
                t=t,
                cols=sql.SQL(", ").join(map(sql.Identifier, patched)),
                rcols=sql.SQL(", ").join(sql.SQL("r.{}").format(sql.Identifier(c)) for c in patched),
                target=target,
                k=k,
            )
        )
    if key == "id":
        _keep_sequence_ahead(cur, table)
    if "city_code" not in names:
        return set()
    # The cities whose rows changed after n, from both images (a row may have moved between cities).
    cur.execute(
        sql.SQL(
            "SELECT DISTINCT v.city FROM {log} c JOIN layer_revisions r ON r.id = c.revision_id, "
            "LATERAL (VALUES (c.before ->> 'city_code'), (c.after ->> 'city_code')) v(city) "
            "WHERE r.layer_id = %s AND r.revision > %s AND c.table_name = %s AND v.city IS NOT NULL"
        ).format(log=log_ident),
        (layer_id, n, bare),
    )
    return {r[0] for r in cur.fetchall()}


def _keep_sequence_ahead(cur: psycopg.Cursor, table: str) -> None:
    """Re-inserted ids came from the sequence, so it is ahead already; keep it so even for a hand-made id."""
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
    seq = cur.fetchone()[0]
    if seq is None:
        return
    cur.execute(
        sql.SQL("SELECT (SELECT max(id) FROM {t}), last_value FROM {s}").format(t=sql.SQL(table), s=sql.SQL(seq))
    )
    top, last = cur.fetchone()
    if top is not None and top > last:
        cur.execute("SELECT setval(%s, %s)", (seq, top))
