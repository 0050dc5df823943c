"""Export licences as a scenario section, effectivity dates on BOM lines and routing
steps, and a revision on items.

Rows stored before have no dates (always in effect) and no revision; their content
hashes stay as they were (`fabnet.store.mapping.LATER_FIELDS`), and a version without
licences hashes as before (`LATER_SECTIONS`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_DATED = ("scenario_boms", "scenario_routings")


def upgrade() -> None:
    """Add the effectivity and revision columns and the licences section table."""
    for table in _DATED:
        op.add_column(table, sa.Column("start", sa.Date(), nullable=True))
        op.add_column(table, sa.Column("until", sa.Date(), nullable=True))
    op.add_column("scenario_items", sa.Column("revision", sa.String(), nullable=True))
    op.create_table(
        "scenario_licences",
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("euc", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("authority", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE",
                                name="fk_scenario_licences_scenario_id_scenarios"),
        sa.PrimaryKeyConstraint("row_id", name="pk_scenario_licences"),
    )
    op.create_index("ix_scenario_licences_versions", "scenario_licences",
                    ["scenario_id", "valid_from", "valid_to"])


def downgrade() -> None:
    """Drop the licences table and the new columns."""
    op.drop_index("ix_scenario_licences_versions", table_name="scenario_licences")
    op.drop_table("scenario_licences")
    with op.batch_alter_table("scenario_items") as batch:
        batch.drop_column("revision")
    for table in _DATED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("until")
            batch.drop_column("start")
