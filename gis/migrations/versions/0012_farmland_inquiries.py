"""farmland inquiries (private): what a farm seeker sends to the 農業委員会 about parcels

The table lives in the private schema and is granted to no one: the public role cannot read it (the service
refuses to start if it could); the API writes and staff read it through the service's own role.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 05:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "farmland_inquiries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("city_code", sa.String(length=5), nullable=False),
        sa.Column("parcel_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("staff_note", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.Text(), nullable=True),
        sa.Column("client_hash", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name="ck_farmland_inquiries_status"),
        sa.PrimaryKeyConstraint("id"),
        schema="private",
    )
    op.create_index(
        "ix_farmland_inquiries_client", "farmland_inquiries", ["client_hash", "created_at"], schema="private"
    )
    op.create_index("ix_farmland_inquiries_status", "farmland_inquiries", ["status", "created_at"], schema="private")


def downgrade() -> None:
    op.drop_index("ix_farmland_inquiries_status", table_name="farmland_inquiries", schema="private")
    op.drop_index("ix_farmland_inquiries_client", table_name="farmland_inquiries", schema="private")
    op.drop_table("farmland_inquiries", schema="private")
