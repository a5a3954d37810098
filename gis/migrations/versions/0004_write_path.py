"""one write path as SQL functions; the public role fails closed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00

- gis_bump_version(layer) and gis_record_source(layer, info jsonb): version bump (+ NOTIFY at commit) and
  provenance, callable from psycopg (imports) and asyncpg (API writes) alike.
- New tables, sequences and functions are private unless a later migration grants them.
- The public role reads only the columns of `sources` that describe a source, not the import file names,
  hashes and reports (server-side details).
"""

from alembic import op

from gis.db.migrate import public_role

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE OR REPLACE FUNCTION gis_bump_version(p_layer text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  INSERT INTO layer_state (layer_id, version, updated_at) VALUES (p_layer, nextval('layer_version_seq'), now())
  ON CONFLICT (layer_id) DO UPDATE SET version = EXCLUDED.version, updated_at = now()
  RETURNING version INTO v;
  -- Delivered at commit: every API worker updates its versions (ETags, caches, tiles) at once.
  PERFORM pg_notify('layer_version', p_layer || ':' || v);
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION gis_record_source(p_layer text, p_info jsonb) RETURNS integer
LANGUAGE sql AS $$
  INSERT INTO sources (layer_id, title, publisher, licence, licence_url, attribution, data_date, origin,
                       file_name, file_sha256, sample, derived, note, city_codes, row_count, report)
  SELECT p_layer, r.title, coalesce(r.publisher, '不明'), coalesce(r.licence, '要確認'), r.licence_url,
         coalesce(nullif(r.attribution, ''), r.title), r.data_date, r.origin, r.file_name, r.file_sha256,
         coalesce(r.sample, false), coalesce(r.derived, false), r.note, coalesce(r.city_codes, '{}'),
         coalesce(r.row_count, 0), r.report
  FROM jsonb_populate_record(NULL::sources, p_info) r
  RETURNING id
$$;
"""
PUBLIC_SOURCE_COLUMNS = (
    "id, layer_id, title, publisher, licence, licence_url, attribution, data_date, origin, sample, derived, "
    "note, city_codes, row_count, loaded_at"
)


def upgrade() -> None:
    role = public_role()
    op.execute(FUNCTIONS)
    op.execute("REVOKE ALL ON FUNCTION gis_bump_version(text), gis_record_source(text, jsonb) FROM PUBLIC")
    for kind in ("TABLES", "SEQUENCES", "FUNCTIONS"):
        op.execute(f"ALTER DEFAULT PRIVILEGES REVOKE ALL ON {kind} FROM PUBLIC")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON {kind} FROM PUBLIC")
    op.execute(f"""
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM {role};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role};
        REVOKE ALL ON sources FROM {role};
        GRANT SELECT ({PUBLIC_SOURCE_COLUMNS}) ON sources TO {role};
      END IF;
    END $$;
    """)


def downgrade() -> None:
    role = public_role()
    op.execute(f"""
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        GRANT SELECT ON sources TO {role};
      END IF;
    END $$;
    """)
    op.execute("DROP FUNCTION IF EXISTS gis_record_source(text, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS gis_bump_version(text)")
