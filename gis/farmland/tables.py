"""The farmland domain's tables (on the shared metadata, so migrations see them).

Polygons are the `farmland` layer (MAFF 筆ポリゴン plus a public summary the refresh writes). Ledger records
(農地台帳, one per 大字 + 地番) hold only the items 農地法 §52の3 lets us publish, each group with its data date;
owner, cultivator and lessee names live in the private schema. Polygons and records are linked many-to-many
with a confidence; cropping records hang off the polygons.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

import layers.farmland  # noqa: F401  (the polygons' table, which the links and crops reference)
from gis.db.tables import metadata

# The layer-version id of the whole domain: a change to any of these tables bumps it.
VERSION_ID = "farmland"
INTENTIONS = ("lend", "sell")
SEASONS = ("夏作", "冬作")
LINK_METHODS = ("position", "overlap")

farmland_ledger = sa.Table(
    "farmland_ledger",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("city_code", sa.String(5), nullable=False),
    sa.Column("oaza", sa.Text, nullable=False, comment="所在（大字）"),
    sa.Column("chiban", sa.Text, nullable=False, comment="地番"),
    sa.Column("chimoku", sa.Text, comment="登記地目"),
    sa.Column("area_m2", sa.Float, comment="面積（登記, m²）"),
    sa.Column("noushin_kubun", sa.Text, comment="農振法の区分"),
    sa.Column("toshi_kubun", sa.Text, comment="都市計画法の区分"),
    sa.Column("intention", sa.Text, comment="貸付・売渡の意向（lend/sell, 同意があるもののみ）"),
    sa.Column("cultivator_no", sa.Text, comment="耕作者整理番号"),
    sa.Column("lease_type", sa.Text, comment="権利の種類"),
    sa.Column("lease_end", sa.Date, comment="存続期間の満了日"),
    sa.Column("chukan_kanri", sa.Boolean, comment="中間管理権の有無"),
    sa.Column("idle_measure", sa.Text, comment="遊休農地の措置"),
    sa.Column("position", Geometry("POINT", srid=6668, spatial_index=False), comment="地番の代表点"),
    sa.Column("geom", Geometry("MULTIPOLYGON", srid=6668, spatial_index=False), comment="登記筆の形状"),
    sa.Column("ledger_date", sa.Date, comment="所在・地目・面積の時点"),
    sa.Column("kubun_date", sa.Date, comment="区分の時点"),
    sa.Column("intention_date", sa.Date, comment="意向の時点"),
    sa.Column("lease_date", sa.Date, comment="権利の時点"),
    sa.Column("idle_date", sa.Date, comment="遊休農地の措置の時点"),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.CheckConstraint("intention IN ('lend', 'sell')", name="ck_farmland_ledger_intention"),
    sa.CheckConstraint("area_m2 >= 0", name="ck_farmland_ledger_area"),
    sa.UniqueConstraint("city_code", "oaza", "chiban", name="uq_farmland_ledger_chiban"),
    sa.Index("ix_farmland_ledger_position", "position", postgresql_using="gist"),
    sa.Index("ix_farmland_ledger_geom", "geom", postgresql_using="gist"),
    comment="農地台帳（公開項目のみ）",
)

# Personal data: never readable by the public role.
farmland_persons = sa.Table(
    "farmland_persons",
    metadata,
    sa.Column("ledger_id", sa.BigInteger, sa.ForeignKey("farmland_ledger.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("owner_name", sa.Text),
    sa.Column("cultivator_name", sa.Text),
    sa.Column("lessee_name", sa.Text),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    schema="private",
)

farmland_links = sa.Table(
    "farmland_links",
    metadata,
    sa.Column("polygon_id", sa.BigInteger, sa.ForeignKey("farmland.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("ledger_id", sa.BigInteger, sa.ForeignKey("farmland_ledger.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("confidence", sa.REAL, nullable=False),
    sa.Column("method", sa.Text, nullable=False),
    sa.CheckConstraint("confidence BETWEEN 0 AND 1", name="ck_farmland_links_confidence"),
    sa.CheckConstraint("method IN ('position', 'overlap')", name="ck_farmland_links_method"),
    sa.Index("ix_farmland_links_ledger", "ledger_id"),
    comment="筆ポリゴンと台帳筆の対応（多対多, 確からしさ付き）",
)

farmland_crops = sa.Table(
    "farmland_crops",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("polygon_id", sa.BigInteger, sa.ForeignKey("farmland.id", ondelete="CASCADE"), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("season", sa.Text, nullable=False),
    sa.Column("crop", sa.Text, nullable=False),
    sa.Column("data_date", sa.Date),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("season IN ('夏作', '冬作')", name="ck_farmland_crops_season"),
    sa.UniqueConstraint("polygon_id", "year", "season", name="uq_farmland_crops_season"),
    comment="作付（筆ポリゴン・作期ごと）",
)

__all__ = [
    "INTENTIONS",
    "LINK_METHODS",
    "SEASONS",
    "VERSION_ID",
    "farmland_crops",
    "farmland_ledger",
    "farmland_links",
    "farmland_persons",
]
