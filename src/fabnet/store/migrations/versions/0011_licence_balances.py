"""The floor's export licences: one row per licence of a stored scenario with its live
remaining quantity, which every shipment draws down (`fabnet.store.licence_schema`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the licences table."""
    op.create_table(
        "licences",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.Column("remaining", sa.Double(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("euc", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("authority", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(), nullable=False),
        sa.CheckConstraint("remaining >= 0 AND remaining <= qty",
                           name=op.f("ck_licences_remaining_range")),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"],
                                name=op.f("fk_licences_scenario_id_scenarios")),
        sa.PrimaryKeyConstraint("scenario_id", "id", name=op.f("pk_licences")),
    )
    op.create_index("ix_licences_customer", "licences", ["scenario_id", "customer"])


def downgrade() -> None:
    """Drop the licences table."""
    op.drop_index("ix_licences_customer", table_name="licences")
    op.drop_table("licences")
