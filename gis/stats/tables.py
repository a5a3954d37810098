"""The access statistics' one table (on the shared metadata, so migrations see it).

One row per JST day, kind and key with a count; workers add their deltas with an upsert, so several workers (and
several machines) share it without losing counts. Private: the public role cannot read it.
"""

from __future__ import annotations

import sqlalchemy as sa

from gis.db.tables import metadata

MAX_KEY_CHARS = 200

access_counts = sa.Table(
    "access_counts",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),  # the JST calendar day
    sa.Column("kind", sa.Text, primary_key=True),  # api | layer | page | town | geocode | dropped
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.CheckConstraint("count >= 0", name="ck_access_counts_count"),
    sa.CheckConstraint(f"char_length(key) <= {MAX_KEY_CHARS}", name="ck_access_counts_key"),
)
