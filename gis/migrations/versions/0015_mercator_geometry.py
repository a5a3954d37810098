"""Web Mercator geometry stored on the big layers, for their vector tiles

Tiles are cut in EPSG:3857; projecting every vertex of every feature on every tile request was a quarter of a
tile's database time. The big layers (farmland, zoning, flood_risk, landslide_zones) keep a generated copy in
EPSG:3857, as every layer already keeps one in EPSG:6670 (geom_m). PostgreSQL keeps it in step with geom.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 08:50:00
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIG = {
    "farmland": "MULTIPOLYGON",
    "zoning": "MULTIPOLYGON",
    "flood_risk": "MULTIPOLYGON",
    "landslide_zones": "MULTIPOLYGON",
}


def upgrade() -> None:
    for table, geom_type in BIG.items():
        op.add_column(
            table,
            sa.Column(
                "geom_3857",
                geoalchemy2.types.Geometry(geometry_type=geom_type, srid=3857, spatial_index=False),
                sa.Computed("ST_Transform(geom, 3857)", persisted=True),
                nullable=True,
            ),
        )


def downgrade() -> None:
    for table in BIG:
        op.drop_column(table, "geom_3857")
