"""access statistics: counts per JST day, kind and key

One table, access_counts (day, kind, key, count): workers add their in-memory deltas with an upsert. Counts only,
no personal data; still private (no grant to the public role): staff read it through /admin/stats.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("count >= 0", name="ck_access_counts_count"),
        sa.CheckConstraint("char_length(key) <= 200", name="ck_access_counts_key"),
        sa.PrimaryKeyConstraint("day", "kind", "key"),
    )


def downgrade() -> None:
    op.drop_table("access_counts")
