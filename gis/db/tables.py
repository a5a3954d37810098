"""Shared SQLAlchemy metadata: the non-layer tables (provenance, versions, tokens, rules, private data)."""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# Provenance: one row per load of a file into a layer.
sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("layer_id", sa.Text, nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("publisher", sa.Text, nullable=False),
    sa.Column("licence", sa.Text, nullable=False),
    sa.Column("licence_url", sa.Text),
    sa.Column("attribution", sa.Text, nullable=False),
    sa.Column("data_date", sa.Date),
    sa.Column("origin", sa.Text),
    sa.Column("file_name", sa.Text),
    sa.Column("file_sha256", sa.Text),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("derived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("note", sa.Text),
    sa.Column("city_codes", sa.ARRAY(sa.String(5)), nullable=False, server_default="{}"),
    sa.Column("row_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("report", JSONB),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

layer_version_seq = sa.Sequence("layer_version_seq", metadata=metadata)

# One row per layer; version changes on every load (ETags and tile caches key on it).
layer_state = sa.Table(
    "layer_state",
    metadata,
    sa.Column("layer_id", sa.Text, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

staff_tokens = sa.Table(
    "staff_tokens",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("role in ('admin', 'editor', 'device')", name="ck_staff_tokens_role"),
)

# Rules as data: 用途地域 → 騒音/振動 区域 (DOMAIN.md §4), each with its legal reference.
zone_rules = sa.Table(
    "zone_rules",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # noise | vibration
    sa.Column("city_code", sa.String(5)),  # NULL: applies to every city
    sa.Column("youto_name", sa.Text, nullable=False),
    sa.Column("zone_class", sa.Text),  # 第1種 … 第4種, NULL: not designated
    sa.Column("legal_ref", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date),
    sa.Column("valid_to", sa.Date),
    sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("note", sa.Text),
)

# Address points finer than the towns layer (gis/addresses.py): ABR 町字 / 地番 and MLIT 位置参照情報 rows.
# `town` uses the towns table's spelling (武雄町大字武雄, 山代町楠久); `chiban` is normalised like the geocoder
# parses it (360-1, 甲13350-1).
address_points = sa.Table(
    "address_points",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("city_code", sa.String(5), nullable=False, index=True),
    sa.Column("town", sa.Text, nullable=False),
    sa.Column("koaza", sa.Text),
    sa.Column("chiban", sa.Text),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("machiaza_id", sa.Text),  # ABR 町字ID (7 digits)
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("geom", Geometry("POINT", srid=6668, spatial_index=False), nullable=False),
    sa.CheckConstraint("level in ('machiaza', 'machiaza_detail', 'parcel')", name="ck_address_points_level"),
    sa.Index("ix_address_points_geom", "geom", postgresql_using="gist"),
    sa.Index("ix_address_points_city_town", "city_code", "town"),
)

# Garbage collection groups (地区): the chain point → group → calendar. The rest of the domain's tables are in
# gis/garbage/tables.py; this one is shared because the garbage_points layer names it.
garbage_groups = sa.Table(
    "garbage_groups",
    metadata,
    sa.Column("group_id", sa.Text, primary_key=True),
    sa.Column("city_code", sa.String(5), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("schedule", JSONB, nullable=False),  # category → 5374 day rule ("月 木", "金1 金3"): authoring only
    sa.Column("code", sa.Text),  # the 5374 group code (area_days.csv's last column)
    sa.Column("areas", sa.ARRAY(sa.Text), nullable=False, server_default="{}"),  # the 大字/町 (5374 地名) it covers
    sa.Column("area_master", sa.Text),  # the 5374 マスター's 区名
    sa.Column("center", sa.Text),  # the 5374 センター (center.csv closures apply to its groups)
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Personal data: a separate schema that the public database role cannot read (the farmland names are in
# gis/farmland/tables.py).
cemetery_managers = sa.Table(
    "cemetery_managers",
    metadata,
    sa.Column("cemetery_id", sa.BigInteger, primary_key=True),
    sa.Column("manager_name", sa.Text),
    sa.Column("manager_address", sa.Text),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    schema="private",
)

inquiries = sa.Table(
    "inquiries",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("layer_id", sa.Text, nullable=False),
    sa.Column("feature_id", sa.BigInteger),
    sa.Column("name", sa.Text),
    sa.Column("contact", sa.Text),
    sa.Column("message", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    schema="private",
)
