"""address points: ABR 町字 / 地番 and MLIT 位置参照情報 rows finer than the towns layer

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 01:55:11.088352
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

from gis.db.migrate import public_role

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The public role's name comes from the settings (GIS_PUBLIC_ROLE), handed over by gis.db.migrate.
    PUBLIC_ROLE = public_role()
    op.create_table(
        "address_points",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("city_code", sa.String(length=5), nullable=False),
        sa.Column("town", sa.Text(), nullable=False),
        sa.Column("koaza", sa.Text(), nullable=True),
        sa.Column("chiban", sa.Text(), nullable=True),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("machiaza_id", sa.Text(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=6668,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("level in ('machiaza', 'machiaza_detail', 'parcel')", name="ck_address_points_level"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_address_points_city_code"), "address_points", ["city_code"], unique=False)
    op.create_index("ix_address_points_city_town", "address_points", ["city_code", "town"], unique=False)
    op.create_index("ix_address_points_geom", "address_points", ["geom"], unique=False, postgresql_using="gist")
    # Public reads, guarded as in 0001: the role may not exist where the migrating user cannot create roles.
    op.execute(f"""
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{PUBLIC_ROLE}') THEN
        GRANT SELECT ON address_points TO {PUBLIC_ROLE};
      END IF;
    END $$;
    """)


def downgrade() -> None:
    op.drop_index("ix_address_points_geom", table_name="address_points", postgresql_using="gist")
    op.drop_index("ix_address_points_city_town", table_name="address_points")
    op.drop_index(op.f("ix_address_points_city_code"), table_name="address_points")
    op.drop_table("address_points")
