"""The garbage domain's tables (on the shared metadata, so migrations see them).

The calendar is stored as dated events per group and category and fiscal year; rules (weekly, nth weekday, month
lists, every other week) only author events. Exceptions (cancel, move, extra) apply on top, for one group or for
every group of a city, for one category or all. Push subscriptions hold only the push endpoint and its keys, in the
private schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from gis.db.tables import garbage_groups, metadata

# The layer-version id of everything on this page: a change to any of these tables bumps it.
VERSION_ID = "garbage"

garbage_categories = sa.Table(
    "garbage_categories",
    metadata,
    sa.Column("city_code", sa.String(5), primary_key=True),
    sa.Column("category", sa.Text, primary_key=True),
    sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
    sa.Column("color", sa.Text),  # bag colour or the 5374 bgcolor
    sa.Column("icon", sa.Text),  # the 5374 `styles` (an image path)
    sa.Column("description", sa.Text),  # how to put it out
    sa.Column("names", JSONB, nullable=False, server_default="{}"),  # {"en": ..., "zh": ..., "ko": ..., "vi": ...}
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
)

garbage_events = sa.Table(
    "garbage_events",
    metadata,
    sa.Column("group_id", sa.Text, sa.ForeignKey("garbage_groups.group_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("fiscal_year", sa.Integer, nullable=False),
    sa.Index("ix_garbage_events_day", "day"),
)

garbage_exceptions = sa.Table(
    "garbage_exceptions",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("city_code", sa.String(5), nullable=False),
    sa.Column("group_id", sa.Text, sa.ForeignKey("garbage_groups.group_id", ondelete="CASCADE")),  # NULL: all
    sa.Column("category", sa.Text),  # NULL: every category
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("new_day", sa.Date),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("kind in ('cancel', 'move', 'extra')", name="ck_garbage_exceptions_kind"),
    sa.CheckConstraint("(kind = 'move') = (new_day IS NOT NULL)", name="ck_garbage_exceptions_new_day"),
    sa.Index("ix_garbage_exceptions_city_day", "city_code", "day"),
)

garbage_notices = sa.Table(
    "garbage_notices",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("city_code", sa.String(5), nullable=False),
    sa.Column("group_id", sa.Text, sa.ForeignKey("garbage_groups.group_id", ondelete="CASCADE")),  # NULL: city
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_to", sa.DateTime(timezone=True)),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="ck_garbage_notices_validity"),
)

garbage_items = sa.Table(
    "garbage_items",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("city_code", sa.String(5), nullable=False),
    sa.Column("name", sa.Text, nullable=False),  # 品目
    sa.Column("category", sa.Text, nullable=False),  # 分別区分 (a garbage_categories.category, or e.g. 収集しないもの)
    sa.Column("notice", sa.Text),  # 注意点
    sa.Column("furigana", sa.Text),  # the 5374 heading (kana initial or a group label)
    sa.Column("reading", sa.Text),  # hiragana reading of the name, for search
    sa.Column("romaji", sa.Text),  # Hepburn romaji of the reading, for search
    sa.Column("names", JSONB, nullable=False, server_default="{}"),  # {"en": ..., "zh": ..., "ko": ..., "vi": ...}
    sa.Column("fee_type", sa.Text),  # 料金種別
    sa.Column("fee", sa.Text),  # 料金
    sa.Column("fee_note", sa.Text),  # 料金備考
    sa.Column("note", sa.Text),  # 備考
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_garbage_items_city", "city_code"),
)

# Personal data by law of the issue: only the push endpoint and its keys, never a name or an address.
push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(always=False), primary_key=True),
    sa.Column("endpoint", sa.Text, nullable=False, unique=True),
    sa.Column("p256dh", sa.Text, nullable=False),
    sa.Column("auth", sa.Text, nullable=False),
    sa.Column("group_id", sa.Text, sa.ForeignKey("garbage_groups.group_id", ondelete="CASCADE"), nullable=False),
    sa.Column("categories", ARRAY(sa.Text), nullable=False, server_default="{}"),  # empty: every category
    sa.Column("remind_hour", sa.Integer, nullable=False, server_default="19"),  # JST, the evening before
    sa.Column("removal_sha256", sa.Text, nullable=False),  # the holder's removal token, hashed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_sent_on", sa.Date),
    sa.CheckConstraint("remind_hour BETWEEN 12 AND 23", name="ck_push_subscriptions_hour"),
    sa.Index("ix_push_subscriptions_group", "group_id"),
    schema="private",
)

__all__ = [
    "VERSION_ID",
    "garbage_categories",
    "garbage_events",
    "garbage_exceptions",
    "garbage_groups",
    "garbage_items",
    "garbage_notices",
    "push_subscriptions",
]
