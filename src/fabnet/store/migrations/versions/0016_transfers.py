"""Transfers between sites and their units (`fabnet.store.transfer_schema`).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the transfer tables."""
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("sent_date", sa.Date(), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.String(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_by", sa.String(), nullable=True),
        sa.CheckConstraint("origin <> destination", name=op.f("ck_transfers_two_sites")),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"],
                                name=op.f("fk_transfers_scenario_id_scenarios")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_index("ix_transfers_queue", "transfers", ["scenario_id", "status", "destination"])
    op.create_table(
        "transfer_units",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status_before", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfers.id"],
                                name=op.f("fk_transfer_units_transfer_id_transfers")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"],
                                name=op.f("fk_transfer_units_unit_id_units")),
        sa.PrimaryKeyConstraint("transfer_id", "unit_id", name=op.f("pk_transfer_units")),
    )
    op.create_index(op.f("ix_transfer_units_unit_id"), "transfer_units", ["unit_id"])


def downgrade() -> None:
    """Drop the transfer tables."""
    op.drop_index(op.f("ix_transfer_units_unit_id"), table_name="transfer_units")
    op.drop_table("transfer_units")
    op.drop_index("ix_transfers_queue", table_name="transfers")
    op.drop_table("transfers")
