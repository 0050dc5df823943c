"""Engineering change orders: the `eco` and `eco_lines` tables.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the ECO tables."""
    op.create_table(
        "eco",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("effective_serial", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=True),
        sa.CheckConstraint("effective IS NOT NULL OR effective_serial IS NOT NULL",
                           name=op.f("ck_eco_has_effectivity")),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"],
                                name=op.f("fk_eco_scenario_id_scenarios")),
        sa.ForeignKeyConstraint(["version_id"], ["scenario_versions.id"],
                                name=op.f("fk_eco_version_id_scenario_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eco")),
    )
    op.create_index("ix_eco_queue", "eco", ["scenario_id", "status"])
    op.create_table(
        "eco_lines",
        sa.Column("eco_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("op", sa.String(), nullable=False),
        sa.Column("parent", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=True),
        sa.CheckConstraint("op = 'remove' OR qty IS NOT NULL",
                           name=op.f("ck_eco_lines_qty_given")),
        sa.ForeignKeyConstraint(["eco_id"], ["eco.id"], ondelete="CASCADE",
                                name=op.f("fk_eco_lines_eco_id_eco")),
        sa.PrimaryKeyConstraint("eco_id", "seq", name=op.f("pk_eco_lines")),
    )


def downgrade() -> None:
    """Drop the ECO tables."""
    op.drop_table("eco_lines")
    op.drop_index("ix_eco_queue", table_name="eco")
    op.drop_table("eco")
