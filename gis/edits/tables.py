"""The history's tables (on the shared metadata, so migrations see them) and the per-layer history triggers.

`layer_revisions` holds one row per change set of one layer; `layer_row_changes` one row per row change of a
layer table, captured by statement-level triggers with transition tables (one INSERT ... SELECT per statement,
not a function call per row); changes of a layer's private table go to `private.layer_row_changes_private`, so
personal data stays in the private schema. `layer_revision_counts` tallies each statement's changes. All four are
append-only: the owner (the API's staff role) may only SELECT and INSERT them, and a guard trigger refuses UPDATE,
DELETE and TRUNCATE even for a superuser. The public role has no privilege on any of them.

Row images (`before`, `after`): inserts and deletes keep the whole row, updates only the changed columns' old and
new values (an update that changes nothing is skipped; one that changes only `source_id` is kept, so a rollback
restores provenance too, but is not counted as a changed row). Values are `to_jsonb` of the stored columns, geometry
as hex EWKB (exact round trip: PostGIS reads hex EWKB back as geometry, so `jsonb_populate_record` restores the row
as it was); generated columns (`geom_m`) are left out.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gis.db.tables import metadata
from gis.errors import ConfigurationError
from layers import LAYERS, get_layer
from layers.base import Layer

KINDS = ("import", "edit", "rollback", "load", "derive")
OPS = ("insert", "update", "delete")
CHANGES = "layer_row_changes"
PRIVATE_CHANGES = "layer_row_changes_private"
CAPTURE_FUNCTION = "gis_history_capture"
# One trigger per event: a trigger with transition tables may name only one event.
TRIGGERS = {"INSERT": "gis_history_ins", "UPDATE": "gis_history_upd", "DELETE": "gis_history_del"}
TRUNCATE_TRIGGER = "gis_history_no_truncate"

layer_revisions = sa.Table(
    "layer_revisions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("layer_id", sa.Text, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("actor_role", sa.Text),
    sa.Column("request_id", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("rolled_back_to", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("layer_id", "revision", name="uq_layer_revisions_layer_revision"),
    sa.CheckConstraint(f"kind in {KINDS!r}", name="ck_layer_revisions_kind"),
)

# One row per statement that changed rows: the counts of the history without touching the revision row again.
layer_revision_counts = sa.Table(
    "layer_revision_counts",
    metadata,
    sa.Column("revision_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("private", sa.Boolean, nullable=False),
    sa.Column("rows_added", sa.Integer, nullable=False),
    sa.Column("rows_changed", sa.Integer, nullable=False),
    sa.Column("rows_removed", sa.Integer, nullable=False),
)


def _changes(name: str, schema: str | None) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("revision_id", sa.BigInteger, nullable=False),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("row_id", sa.BigInteger, nullable=False),
        sa.Column("op", sa.Text, nullable=False),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        sa.Index(f"ix_{name}_revision_id", "revision_id"),
        sa.Index(f"ix_{name}_row_id", "row_id"),
        sa.CheckConstraint(f"op in {OPS!r}", name=f"ck_{name}_op"),
        schema=schema,
    )


layer_row_changes = _changes(CHANGES, None)
layer_row_changes_private = _changes(PRIVATE_CHANGES, "private")

APPEND_ONLY = ("layer_revisions", "layer_revision_counts", CHANGES, f"private.{PRIVATE_CHANGES}")


def history_tables(layer: Layer) -> list[tuple[str, str, str]]:
    """(qualified table, key column, qualified change log) for a declared layer: its table and its private table."""
    out = [(f'public."{layer.id}"', "id", f"public.{CHANGES}")]
    if layer.private_table:
        out.append((f'private."{layer.private_table}"', layer.private_key, f"private.{PRIVATE_CHANGES}"))
    return out


def install_sql(layer: Layer) -> list[str]:
    """The statements that (re)install the history triggers on a layer's table and its private table."""
    if layer.derived_from:
        raise ValueError(f"layer {layer.id} is derived from {layer.derived_from}: it is re-derived, not recorded")
    stmts: list[str] = []
    for table, key, log in history_tables(layer):
        for event, name in TRIGGERS.items():
            ref = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
            stmts.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            stmts.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"REFERENCING {ref.get(event, 'OLD TABLE AS old_rows')} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {CAPTURE_FUNCTION}('{layer.id}', '{key}', '{log}')"
            )
        # TRUNCATE fires no row or transition triggers: a write that bypasses the history is refused.
        stmts.append(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {table}")
        stmts.append(
            f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gis_history_refuse()"
        )
    return stmts


def install_history(op: Any, layer_id: str) -> None:
    """Inside a migration: record every row change of this (non-derived) layer and of its private table.

    Later migrations that add a layer call it after creating the table (and its private table), e.g.
    `from gis.edits.tables import install_history; install_history(op, "farmland_ledger")`.
    """
    capture = op.get_bind().execute(sa.text(f"SELECT to_regprocedure('{CAPTURE_FUNCTION}()')")).scalar()
    if capture is None:
        return  # the layer's migration ran before 0013, which installs the history on every layer table it finds
    for stmt in install_sql(get_layer(layer_id)):
        op.execute(stmt)


# Which recorded tables lack one of the history triggers (or have it disabled).
MISSING_SQL = """
SELECT t.name FROM unnest(%(tables)s::text[]) AS t(name)
WHERE to_regclass(t.name) IS NULL
   OR (SELECT count(*) FROM pg_trigger g
       WHERE g.tgrelid = to_regclass(t.name) AND g.tgname = ANY(%(triggers)s) AND g.tgenabled <> 'D')
      < %(n)s
"""


def recorded_tables() -> list[str]:
    """Every table whose row changes must be recorded: each non-derived layer's table and private table."""
    return [t for lyr in LAYERS.values() if not lyr.derived_from for t, _, _ in history_tables(lyr)]


def missing_params() -> dict[str, Any]:
    """Parameters of MISSING_SQL (psycopg style)."""
    names = [*TRIGGERS.values(), TRUNCATE_TRIGGER]
    return {"tables": recorded_tables(), "triggers": names, "n": len(names)}


def history_problem(missing: list[str]) -> ConfigurationError | None:
    """The fail-closed error for tables that would change without a history (None when there are none)."""
    if not missing:
        return None
    return ConfigurationError(
        f"refusing to run: row changes of {', '.join(missing[:6])} would not be recorded (no history trigger). "
        "A migration that adds a layer must call gis.edits.tables.install_history(op, LAYER); run `gis migrate`."
    )


def check_history(conn: Any) -> None:
    """Raise ConfigurationError unless every non-derived layer table (psycopg/SQLAlchemy DBAPI) records its changes."""
    with conn.cursor() as cur:
        cur.execute(MISSING_SQL, missing_params())
        problem = history_problem([r[0] for r in cur.fetchall()])
    if problem:
        raise problem


async def acheck_history(conn: Any) -> None:
    """check_history for asyncpg (service start-up)."""
    p = missing_params()
    sql = MISSING_SQL.replace("%(tables)s", "$1").replace("%(triggers)s", "$2").replace("%(n)s", "$3")
    problem = history_problem([r[0] for r in await conn.fetch(sql, p["tables"], p["triggers"], p["n"])])
    if problem:
        raise problem
