"""revisions, row history by trigger, the audit: every change of a non-derived layer is recorded

- `layer_revisions` (one per change set of one layer), `layer_row_changes` (one per row change: whole rows for
  inserts and deletes, the changed columns for updates, as jsonb with geometry as hex EWKB), `private.layer_row_changes_private` (the same for the private tables),
  `layer_revision_counts` (each statement's tally). Append-only: the owner keeps SELECT/INSERT only, and a guard
  trigger refuses UPDATE, DELETE and TRUNCATE to anyone; the public role gets nothing.
- `gis_begin_revision(layer, kind, actor, actor_role, request_id, note[, rolled_back_to])` opens a revision in the
  caller's transaction; statement-level triggers with transition tables write the row changes (a write with no
  open revision gets an automatic `load` revision, so nothing is unrecorded). Updates that change nothing are
  skipped; an update keeps only the changed columns' old and new values (geometry compared as bytes and encoded
  only when it changed), so a refresh of summary columns costs bytes, not polygons; a change of `source_id` alone
  is kept too, so a rollback restores the provenance.
- No foreign keys to layer_revisions: the checks would need UPDATE on it (row locks) and cost a lookup per
  recorded row; the only writer is the trigger, which takes the id from gis_begin_revision.
- The triggers are installed on every non-derived layer table that exists now and its private table; a later
  migration that adds a layer calls `gis.edits.tables.install_history(op, LAYER)`.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 05:10:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gis.db.migrate import public_role

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KINDS = "('import', 'edit', 'rollback', 'load', 'derive')"
TABLES = ("layer_revisions", "layer_revision_counts", "layer_row_changes", "private.layer_row_changes_private")

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION gis_begin_revision(p_layer text, p_kind text, p_actor text, p_actor_role text,
                                              p_request_id text, p_note text, p_rolled_back_to int DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE v_id bigint; v_rev int;
BEGIN
  IF to_regclass(format('public.%I', p_layer)) IS NULL THEN
    RAISE EXCEPTION 'unknown layer %', p_layer USING ERRCODE = 'undefined_table';
  END IF;
  -- The table's lock before the revision counter's: imports lock the table first, so no two writers deadlock.
  EXECUTE format('LOCK TABLE public.%I IN ROW EXCLUSIVE MODE', p_layer);
  -- Writers of one layer take their revision numbers in commit order (held until commit).
  PERFORM pg_advisory_xact_lock(hashtext('gis_begin_revision'), hashtext(p_layer));
  SELECT coalesce(max(revision), 0) + 1 INTO v_rev FROM layer_revisions WHERE layer_id = p_layer;
  INSERT INTO layer_revisions (layer_id, revision, kind, actor, actor_role, request_id, note, rolled_back_to)
  VALUES (p_layer, v_rev, p_kind, coalesce(p_actor, session_user), p_actor_role, p_request_id, p_note,
          p_rolled_back_to)
  RETURNING id INTO v_id;
  PERFORM set_config('gis.revision', v_id::text, true);
  PERFORM set_config('gis.revision.' || p_layer, v_id::text, true);
  RETURN v_id;
END $$;

-- A fixed search path: a session's own (say, one without public) cannot change what the history writes.
CREATE OR REPLACE FUNCTION gis_history_capture() RETURNS trigger LANGUAGE plpgsql
SET search_path = public, pg_temp AS $$
DECLARE
  v_layer text := TG_ARGV[0];
  v_key text := TG_ARGV[1];
  v_log text := TG_ARGV[2];
  v_rev bigint := nullif(current_setting('gis.revision.' || TG_ARGV[0], true), '')::bigint;
  v_full text;   -- every stored column, geometry as hex EWKB
  v_plain text;  -- the non-geometry columns
  v_graw text := '';
  v_gold text := '';
  v_gnew text := '';
  v_gdiff text := 'false';
  v_gwo text := '';
  v_gwn text := '';
  v_src text;
  v_any boolean;
  c record;
  i int := 0;
BEGIN
  -- Read per statement, so a column added later is recorded without touching the trigger.
  v_full := '';
  v_plain := '';
  FOR c IN SELECT a.attname, a.atttypid = 'geometry'::regtype AS geo FROM pg_attribute a
           WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           ORDER BY a.attnum LOOP
    IF c.geo THEN
      i := i + 1;
      v_full := v_full || format(', encode(ST_AsEWKB(r.%1$I), ''hex'') AS %1$I', c.attname);
      v_graw := v_graw || format(', r.%I AS g%s', c.attname, i);
      -- Geometry is compared as bytes and encoded only when it changed.
      v_gold := v_gold || format(' || CASE WHEN ST_AsEWKB(o.g%1$s) IS DISTINCT FROM ST_AsEWKB(n.g%1$s) THEN '
                                 'jsonb_build_object(%2$L, encode(ST_AsEWKB(o.g%1$s), ''hex'')) ELSE ''{}'' END',
                                 i, c.attname);
      v_gnew := v_gnew || format(' || CASE WHEN ST_AsEWKB(o.g%1$s) IS DISTINCT FROM ST_AsEWKB(n.g%1$s) THEN '
                                 'jsonb_build_object(%2$L, encode(ST_AsEWKB(n.g%1$s), ''hex'')) ELSE ''{}'' END',
                                 i, c.attname);
      v_gdiff := v_gdiff || format(' OR ST_AsEWKB(o.g%1$s) IS DISTINCT FROM ST_AsEWKB(n.g%1$s)', i);
      v_gwo := v_gwo || format(' || jsonb_build_object(%L, encode(ST_AsEWKB(o.g%s), ''hex''))', c.attname, i);
      v_gwn := v_gwn || format(' || jsonb_build_object(%L, encode(ST_AsEWKB(n.g%s), ''hex''))', c.attname, i);
    ELSE
      v_full := v_full || format(', r.%I', c.attname);
      v_plain := v_plain || format(', r.%I', c.attname);
    END IF;
  END LOOP;
  v_full := substr(v_full, 3);
  v_plain := substr(v_plain, 3);
  IF TG_OP = 'INSERT' THEN
    v_src := format('SELECT i.%1$I AS k, NULL::jsonb AS o, to_jsonb(i) AS n FROM (SELECT %2$s FROM new_rows r) i',
                    v_key, v_full);
  ELSIF TG_OP = 'DELETE' THEN
    v_src := format('SELECT i.%1$I AS k, to_jsonb(i) AS o, NULL::jsonb AS n FROM (SELECT %2$s FROM old_rows r) i',
                    v_key, v_full);
  ELSE
    -- An update keeps only what changed: the old and new values of the changed columns (source_id included).
    -- A key change (never made here) is recorded as a delete and an insert with whole rows.
    v_src := format($q$
      SELECT coalesce(n._k, o._k) AS k,
             CASE WHEN n._k IS NULL THEN o.j %6$s WHEN o._k IS NOT NULL THEN
               coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(o.j) e
                         WHERE n.j -> e.key IS DISTINCT FROM e.value), '{}') %4$s END AS o,
             CASE WHEN o._k IS NULL THEN n.j %7$s WHEN n._k IS NOT NULL THEN
               coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(n.j) e
                         WHERE o.j -> e.key IS DISTINCT FROM e.value), '{}') %5$s END AS n
      FROM (SELECT i._k, to_jsonb(i) - '_k' AS j %3$s
            FROM old_rows r, LATERAL (SELECT r.%1$I AS _k, %2$s) i) o
      FULL JOIN (SELECT i._k, to_jsonb(i) - '_k' AS j %3$s
                 FROM new_rows r, LATERAL (SELECT r.%1$I AS _k, %2$s) i) n ON n._k = o._k
      WHERE o._k IS NULL OR n._k IS NULL OR o.j <> n.j OR %8$s$q$,
      v_key, v_plain, v_graw, v_gold, v_gnew, v_gwo, v_gwn, v_gdiff);
  END IF;
  IF v_rev IS NULL THEN
    EXECUTE format('SELECT EXISTS (%s)', v_src) INTO v_any;
    IF NOT v_any THEN
      RETURN NULL;
    END IF;
    v_rev := gis_begin_revision(v_layer, 'load', session_user, NULL, NULL, 'automatic: a write without a revision');
  END IF;
  EXECUTE format($q$
    WITH c AS (
      INSERT INTO %1$s (revision_id, table_name, row_id, op, before, after)
      SELECT $1, $2, s.k, CASE WHEN s.o IS NULL THEN 'insert' WHEN s.n IS NULL THEN 'delete' ELSE 'update' END,
             s.o, s.n
      FROM (%2$s) s
      RETURNING op, before
    )
    INSERT INTO layer_revision_counts (revision_id, private, rows_added, rows_changed, rows_removed)
    SELECT $1, $3, count(*) FILTER (WHERE op = 'insert'),
           count(*) FILTER (WHERE op = 'update' AND before - 'source_id' <> '{}'),
           count(*) FILTER (WHERE op = 'delete')
    FROM c HAVING count(*) > 0$q$, v_log, v_src)
  USING v_rev, TG_TABLE_NAME::text, TG_TABLE_SCHEMA = 'private';
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gis_history_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'TRUNCATE of %.% would bypass its history: delete the rows instead', TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION gis_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the layer history is append-only: % on %.% is not allowed', TG_OP, TG_TABLE_SCHEMA,
    TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
"""
FUNCTION_SIGNATURES = (
    "gis_begin_revision(text, text, text, text, text, text, integer)",
    "gis_history_capture()",
    "gis_history_refuse()",
    "gis_history_append_only()",
)


def _changes(name: str, schema: str | None) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("revision_id", sa.BigInteger(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("op in ('insert', 'update', 'delete')", name=f"ck_{name}_op"),
        sa.PrimaryKeyConstraint("id"),
        schema=schema,
    )
    op.create_index(f"ix_{name}_revision_id", name, ["revision_id"], unique=False, schema=schema)
    op.create_index(f"ix_{name}_row_id", name, ["row_id"], unique=False, schema=schema)


def upgrade() -> None:
    op.create_table(
        "layer_revisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer_id", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rolled_back_to", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"kind in {KINDS}", name="ck_layer_revisions_kind"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layer_id", "revision", name="uq_layer_revisions_layer_revision"),
    )
    op.create_table(
        "layer_revision_counts",
        sa.Column("revision_id", sa.BigInteger(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("rows_removed", sa.Integer(), nullable=False),
    )
    op.create_index(
        op.f("ix_layer_revision_counts_revision_id"), "layer_revision_counts", ["revision_id"], unique=False
    )
    _changes("layer_row_changes", None)
    _changes("layer_row_changes_private", "private")
    op.execute(FUNCTIONS)
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    role = public_role()
    for table in TABLES:
        # Append-only for everyone, the owner (the API's staff connection) included; the public role gets nothing.
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM CURRENT_USER")
        op.execute(f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            REVOKE ALL ON {table} FROM {role};
          END IF;
        END $$;
        """)
        op.execute(
            f"CREATE TRIGGER gis_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION gis_history_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER gis_append_only_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gis_history_append_only()"
        )
    from gis.edits.tables import install_sql
    from layers import LAYERS

    bind = op.get_bind()
    for layer in LAYERS.values():
        if layer.derived_from or bind.execute(sa.text("SELECT to_regclass(:t)"), {"t": layer.id}).scalar() is None:
            continue  # a layer whose table a later migration creates: that migration installs its history
        for stmt in install_sql(layer):
            op.execute(stmt)


def downgrade() -> None:
    op.execute("""
    DO $$ DECLARE t record; BEGIN
      FOR t IN SELECT g.tgname, g.tgrelid::regclass AS rel FROM pg_trigger g
               WHERE g.tgname IN ('gis_history_ins', 'gis_history_upd', 'gis_history_del', 'gis_history_no_truncate')
      LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
      END LOOP;
    END $$;
    """)
    op.drop_table("layer_row_changes_private", schema="private")
    op.drop_table("layer_row_changes")
    op.drop_table("layer_revision_counts")
    op.drop_table("layer_revisions")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
