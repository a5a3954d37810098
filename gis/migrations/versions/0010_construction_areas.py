"""construction_1go_areas: the 80 m 特定建設作業 1号区域 around the facilities that widen it (derived from facilities)

The rows are written by the facilities import (gis/ingest/derive.py); on a database that already holds facilities,
the areas are derived here once, so an upgrade does not leave the layer empty until the next import.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:40:00
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2

from gis.db.migrate import public_role

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "construction_1go_areas"


def _geometry(srid: int, **kw: bool) -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(
        geometry_type="MULTIPOLYGON",
        srid=srid,
        dimension=2,
        spatial_index=False,
        from_text="ST_GeomFromEWKT",
        name="geometry",
        **kw,
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("city_code", sa.String(length=5), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("feature_key", sa.Text(), nullable=True),
        sa.Column("facility_name", sa.Text(), nullable=False, comment="施設名"),
        sa.Column("facility_type", sa.Text(), nullable=True, comment="施設の種別"),
        sa.Column("facility_id", sa.Integer(), nullable=True, comment="施設のID（facilities）"),
        sa.Column("radius_m", sa.Integer(), nullable=True, comment="半径（m）"),
        sa.Column("geom", _geometry(6668, nullable=False), nullable=False),
        sa.Column("geom_m", _geometry(6670), sa.Computed("ST_Transform(geom, 6670)", persisted=True), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        comment="特定建設作業の1号区域（学校・病院等の周囲 約80 m）",
    )
    op.create_index(op.f(f"ix_{TABLE}_city_code"), TABLE, ["city_code"], unique=False)
    op.create_index(f"ix_{TABLE}_geom", TABLE, ["geom"], unique=False, postgresql_using="gist")
    role = public_role()
    op.execute(f"""
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        GRANT SELECT ON {TABLE} TO {role};
      END IF;
    END $$;
    """)
    # An upgraded database with facilities gets its areas now (a fresh one gets them from the first load).
    bind = op.get_bind()
    cities = [r[0] for r in bind.execute(sa.text("SELECT DISTINCT city_code FROM facilities WHERE widens_1go"))]
    if cities:
        from gis.ingest.derive import derive_buffers

        cur = bind.connection.cursor()
        derive_buffers(cur, cities)


def downgrade() -> None:
    op.execute(f"DELETE FROM layer_state WHERE layer_id = '{TABLE}'")
    op.execute(f"DELETE FROM sources WHERE layer_id = '{TABLE}'")
    op.drop_index(f"ix_{TABLE}_geom", table_name=TABLE, postgresql_using="gist")
    op.drop_index(op.f(f"ix_{TABLE}_city_code"), table_name=TABLE)
    op.drop_table(TABLE)
