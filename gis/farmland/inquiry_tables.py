"""The farmland inquiries table: private (the public role cannot read it), written only through the staff pool.

Declared apart from gis/farmland/tables.py (the data model) so the inquiry part of the domain is one unit:
migration 0012, gis/farmland/inquiries.py and the router.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from gis.db.tables import metadata

STATUSES = ("open", "answered", "closed")

farmland_inquiries = sa.Table(
    "farmland_inquiries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("city_code", sa.String(5), nullable=False),  # the city whose 農業委員会 answers
    sa.Column("parcel_ids", ARRAY(sa.BigInteger), nullable=False),  # farmland.id (no FK: ids may be re-imported)
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("contact", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("staff_note", sa.Text),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("handled_by", sa.Text),  # the staff token's name
    # A keyed hash of the client address, for the hourly limit only; cleared once the hour has passed.
    sa.Column("client_hash", sa.Text),
    sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name="ck_farmland_inquiries_status"),
    sa.Index("ix_farmland_inquiries_client", "client_hash", "created_at"),
    sa.Index("ix_farmland_inquiries_status", "status", "created_at"),
    schema="private",
)

__all__ = ["STATUSES", "farmland_inquiries"]
