"""farmland: ledger records, private names, polygon↔record links, crops; the layer's summary columns

The 筆ポリゴン stay the `farmland` layer; the 農地台帳 items it carried become ledger records (one per 大字 + 地番)
linked to their polygon, the names move from private.farmland_owners to private.farmland_persons, and the layer
gains the summary columns the refresh writes (gis/farmland/refresh.py). Public reads get SELECT on the ledger, the
links and the crops (public items only); the names stay private.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:10:00
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

from gis.db.migrate import public_role

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    sa.Column("intention", sa.Text(), nullable=True, comment="意向（lend 貸したい, sell 売りたい）"),
    sa.Column("crop", sa.Text(), nullable=True, comment="作物（直近の作期）"),
    sa.Column("crop_year", sa.Integer(), nullable=True, comment="作付の年"),
    sa.Column("crop_date", sa.Date(), nullable=True, comment="作付の時点"),
    sa.Column("ledger_count", sa.Integer(), nullable=True, comment="対応する台帳筆の数"),
    sa.Column("link_confidence", sa.Float(), nullable=True, comment="対応の確からしさ（0〜1, 最小値）"),
    sa.Column("available_from", sa.Date(), nullable=True, comment="利用可能日（空欄は現在）"),
    sa.Column("urbanised", sa.Boolean(), nullable=True, comment="市街化区域内"),
)
COMMENTS = {
    "chiban": ("地番", "地番（対応する台帳筆、読点区切り）"),
    "area_m2": ("面積（登記, m²）", "面積（対応する台帳筆の登記面積の合計, m²）"),
    "lend_intention": ("貸付・売渡の意向（同意があるもののみ）", "貸付・売渡の意向（貸付希望・売渡希望, 同意があるもののみ）"),
    "data_date": ("台帳の時点", "台帳の時点（所在・地目・面積）"),
}  # fmt: skip
BROWSE_INDEXES = (
    ("ix_farmland_oaza", ["city_code", "oaza"]),
    ("ix_farmland_land_type", ["land_type"]),
    ("ix_farmland_intention", ["intention"]),
    ("ix_farmland_area_m2", ["area_m2"]),
)

# An upgraded database keeps its parcels' 台帳 items: each parcel with a 地番 becomes a ledger record at its
# polygon (position = a point on its surface, so the link is a `position` link), its names move with it.
CARRY_OVER = """
INSERT INTO farmland_ledger (city_code, oaza, chiban, area_m2, noushin_kubun, toshi_kubun, intention,
    cultivator_no, lease_type, lease_end, chukan_kanri, idle_measure, position, ledger_date, kubun_date,
    intention_date, lease_date, idle_date, sample, source_id)
SELECT DISTINCT ON (f.city_code, f.oaza, f.chiban) f.city_code, f.oaza, f.chiban, f.area_m2, f.noushin_kubun,
    f.toshi_kubun, CASE f.lend_intention WHEN '貸付希望' THEN 'lend' WHEN '売渡希望' THEN 'sell' END,
    f.cultivator_no, f.lease_type, f.lease_end, f.chukan_kanri, f.idle_measure, ST_PointOnSurface(f.geom),
    f.data_date, f.data_date, f.data_date, f.data_date, f.data_date, f.sample, f.source_id
FROM farmland f WHERE f.oaza IS NOT NULL AND f.chiban IS NOT NULL
ORDER BY f.city_code, f.oaza, f.chiban, f.id;
INSERT INTO private.farmland_persons (ledger_id, owner_name, cultivator_name, sample)
SELECT DISTINCT ON (r.id) r.id, o.owner_name, o.cultivator_name, o.sample
FROM farmland_ledger r
JOIN farmland f ON f.city_code = r.city_code AND f.oaza = r.oaza AND f.chiban = r.chiban
JOIN private.farmland_owners o ON o.farmland_id = f.id
ORDER BY r.id, f.id;
"""


def _geometry(kind: str) -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(
        geometry_type=kind, srid=6668, dimension=2, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"
    )


def _grant(sql: str) -> None:
    role = public_role()
    op.execute(f"""
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
        {sql.format(role=role)}
      END IF;
    END $$;
    """)


def upgrade() -> None:
    for col in NEW_COLUMNS:
        op.add_column("farmland", col)
    for name, (old, new) in COMMENTS.items():
        op.alter_column("farmland", name, comment=new, existing_comment=old)
    for name, cols in BROWSE_INDEXES:
        op.create_index(name, "farmland", cols, unique=False)
    op.create_table(
        "farmland_ledger",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("city_code", sa.String(length=5), nullable=False),
        sa.Column("oaza", sa.Text(), nullable=False, comment="所在（大字）"),
        sa.Column("chiban", sa.Text(), nullable=False, comment="地番"),
        sa.Column("chimoku", sa.Text(), nullable=True, comment="登記地目"),
        sa.Column("area_m2", sa.Float(), nullable=True, comment="面積（登記, m²）"),
        sa.Column("noushin_kubun", sa.Text(), nullable=True, comment="農振法の区分"),
        sa.Column("toshi_kubun", sa.Text(), nullable=True, comment="都市計画法の区分"),
        sa.Column("intention", sa.Text(), nullable=True, comment="貸付・売渡の意向（lend/sell, 同意があるもののみ）"),
        sa.Column("cultivator_no", sa.Text(), nullable=True, comment="耕作者整理番号"),
        sa.Column("lease_type", sa.Text(), nullable=True, comment="権利の種類"),
        sa.Column("lease_end", sa.Date(), nullable=True, comment="存続期間の満了日"),
        sa.Column("chukan_kanri", sa.Boolean(), nullable=True, comment="中間管理権の有無"),
        sa.Column("idle_measure", sa.Text(), nullable=True, comment="遊休農地の措置"),
        sa.Column("position", _geometry("POINT"), nullable=True, comment="地番の代表点"),
        sa.Column("geom", _geometry("MULTIPOLYGON"), nullable=True, comment="登記筆の形状"),
        sa.Column("ledger_date", sa.Date(), nullable=True, comment="所在・地目・面積の時点"),
        sa.Column("kubun_date", sa.Date(), nullable=True, comment="区分の時点"),
        sa.Column("intention_date", sa.Date(), nullable=True, comment="意向の時点"),
        sa.Column("lease_date", sa.Date(), nullable=True, comment="権利の時点"),
        sa.Column("idle_date", sa.Date(), nullable=True, comment="遊休農地の措置の時点"),
        sa.Column("sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("intention IN ('lend', 'sell')", name="ck_farmland_ledger_intention"),
        sa.CheckConstraint("area_m2 >= 0", name="ck_farmland_ledger_area"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city_code", "oaza", "chiban", name="uq_farmland_ledger_chiban"),
        comment="農地台帳（公開項目のみ）",
    )
    op.create_index("ix_farmland_ledger_position", "farmland_ledger", ["position"], postgresql_using="gist")
    op.create_index("ix_farmland_ledger_geom", "farmland_ledger", ["geom"], postgresql_using="gist")
    op.create_table(
        "farmland_persons",
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("cultivator_name", sa.Text(), nullable=True),
        sa.Column("lessee_name", sa.Text(), nullable=True),
        sa.Column("sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(["ledger_id"], ["farmland_ledger.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ledger_id"),
        schema="private",
    )
    op.create_table(
        "farmland_links",
        sa.Column("polygon_id", sa.BigInteger(), nullable=False),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("confidence", sa.REAL(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="ck_farmland_links_confidence"),
        sa.CheckConstraint("method IN ('position', 'overlap')", name="ck_farmland_links_method"),
        sa.ForeignKeyConstraint(["ledger_id"], ["farmland_ledger.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["polygon_id"], ["farmland.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("polygon_id", "ledger_id"),
        comment="筆ポリゴンと台帳筆の対応（多対多, 確からしさ付き）",
    )
    op.create_index("ix_farmland_links_ledger", "farmland_links", ["ledger_id"], unique=False)
    op.create_table(
        "farmland_crops",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("polygon_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("season", sa.Text(), nullable=False),
        sa.Column("crop", sa.Text(), nullable=False),
        sa.Column("data_date", sa.Date(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("season IN ('夏作', '冬作')", name="ck_farmland_crops_season"),
        sa.ForeignKeyConstraint(["polygon_id"], ["farmland.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("polygon_id", "year", "season", name="uq_farmland_crops_season"),
        comment="作付（筆ポリゴン・作期ごと）",
    )
    _grant("GRANT SELECT ON farmland_ledger, farmland_links, farmland_crops TO {role};")

    op.execute(CARRY_OVER)
    op.drop_table("farmland_owners", schema="private")
    bind = op.get_bind()
    cities = [r[0] for r in bind.execute(sa.text("SELECT DISTINCT city_code FROM farmland_ledger"))]
    if cities:
        from gis.farmland.link import build_links
        from gis.farmland.refresh import refresh_parcels

        cur = bind.connection.cursor()
        build_links(cur, cities)
        refresh_parcels(cur, cities)


def downgrade() -> None:
    op.create_table(
        "farmland_owners",
        sa.Column("farmland_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("cultivator_name", sa.Text(), nullable=True),
        sa.Column("sample", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("farmland_id"),
        schema="private",
    )
    # A polygon's names come back from its best-linked record (the layer held one set of names per polygon).
    op.execute("""
    INSERT INTO private.farmland_owners (farmland_id, owner_name, cultivator_name, sample)
    SELECT DISTINCT ON (l.polygon_id) l.polygon_id, p.owner_name, p.cultivator_name, p.sample
    FROM farmland_links l JOIN private.farmland_persons p USING (ledger_id)
    ORDER BY l.polygon_id, l.confidence DESC, l.ledger_id
    """)
    op.drop_table("farmland_crops")
    op.drop_index("ix_farmland_links_ledger", table_name="farmland_links")
    op.drop_table("farmland_links")
    op.drop_table("farmland_persons", schema="private")
    op.drop_index("ix_farmland_ledger_geom", table_name="farmland_ledger", postgresql_using="gist")
    op.drop_index("ix_farmland_ledger_position", table_name="farmland_ledger", postgresql_using="gist")
    op.drop_table("farmland_ledger")
    op.execute("DELETE FROM sources WHERE layer_id IN ('farmland_ledger', 'farmland_crops')")
    for name, _ in BROWSE_INDEXES:
        op.drop_index(name, table_name="farmland")
    for name, (old, new) in COMMENTS.items():
        op.alter_column("farmland", name, comment=old, existing_comment=new)
    for col in reversed(NEW_COLUMNS):
        op.drop_column("farmland", col.name)
