"""cemetery ledger (墓地台帳): reading, ledger listing, confirmation status, data date; no named individual operator

The cemeteries layer gains the 墓地台帳 items it lacked (名称_カナ, 台帳記載の有無, 確認状況, データ時点), 許可年月日 is
called 経営許可年月日, and the table refuses a row whose 経営主体区分 is 個人 but names its operator: that name
belongs in private.cemetery_managers (the importer moves it there). Existing rows keep their values; the old
operator types are written as the ledger writes them (市 → 地方公共団体, みなし墓地・地元管理 → 共同墓地（集落）).

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02 05:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "cemeteries"
CHECK = "ck_cemeteries_individual_unnamed"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("name_kana", sa.Text(), nullable=True, comment="名称_カナ"))
    op.add_column(TABLE, sa.Column("ledger_listed", sa.Boolean(), nullable=True, comment="台帳記載の有無"))
    op.add_column(TABLE, sa.Column("status", sa.Text(), nullable=True, comment="確認状況"))
    op.add_column(TABLE, sa.Column("data_date", sa.Date(), nullable=True, comment="データ時点"))
    op.alter_column(
        TABLE, "permit_date", existing_type=sa.Date(), comment="経営許可年月日", existing_comment="許可年月日"
    )
    op.execute(
        f"""UPDATE {TABLE} SET operator_type = CASE operator_type WHEN '市' THEN '地方公共団体'
            WHEN 'みなし墓地・地元管理' THEN '共同墓地（集落）' ELSE operator_type END
            WHERE operator_type IN ('市', 'みなし墓地・地元管理')"""
    )
    # A 個人 row that names its operator would publish a person's name: move it to the private table first.
    op.execute(
        f"""INSERT INTO private.cemetery_managers (cemetery_id, manager_name, sample)
            SELECT id, operator_name, sample FROM {TABLE} WHERE operator_type = '個人' AND operator_name IS NOT NULL
            ON CONFLICT (cemetery_id) DO UPDATE
            SET manager_name = coalesce(private.cemetery_managers.manager_name, EXCLUDED.manager_name)"""
    )
    op.execute(f"UPDATE {TABLE} SET operator_name = NULL WHERE operator_type = '個人' AND operator_name IS NOT NULL")
    op.create_check_constraint(CHECK, TABLE, "operator_type IS DISTINCT FROM '個人' OR operator_name IS NULL")
    # New columns and rewritten values: every cached answer of the layer is stale.
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {TABLE}) THEN PERFORM gis_bump_version('{TABLE}'); END IF; END $$"
    )


def downgrade() -> None:
    op.drop_constraint(CHECK, TABLE, type_="check")
    op.alter_column(
        TABLE, "permit_date", existing_type=sa.Date(), comment="許可年月日", existing_comment="経営許可年月日"
    )
    for column in ("data_date", "status", "ledger_listed", "name_kana"):
        op.drop_column(TABLE, column)
