"""Covering indexes for tracing down: the genealogy's edges out of a unit or a lot with
their live flag and parents (`ix_genealogy_down_unit`, `ix_genealogy_down_lot`, in place
of the one-column child indexes), and each unit's shipments (`ix_shipment_units_unit`,
in place of the one-column unit index), so a trace down reads its steps and each
unit's latest shipment from the indexes alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None

_DOWN = ["removed_at", "parent_unit_id", "parent_lot_id"]


def upgrade() -> None:
    """Replace the child and shipment-unit indexes by covering ones."""
    op.create_index("ix_genealogy_down_unit", "genealogy", ["child_unit_id", *_DOWN])
    op.create_index("ix_genealogy_down_lot", "genealogy", ["child_lot_id", *_DOWN])
    op.drop_index("ix_genealogy_child_unit", table_name="genealogy")
    op.drop_index("ix_genealogy_child_lot", table_name="genealogy")
    op.create_index("ix_shipment_units_unit", "shipment_units", ["unit_id", "shipment_id"])
    op.drop_index("ix_shipment_units_unit_id", table_name="shipment_units")


def downgrade() -> None:
    """Put the one-column indexes back."""
    op.create_index("ix_shipment_units_unit_id", "shipment_units", ["unit_id"])
    op.drop_index("ix_shipment_units_unit", table_name="shipment_units")
    op.create_index("ix_genealogy_child_lot", "genealogy", ["child_lot_id"])
    op.create_index("ix_genealogy_child_unit", "genealogy", ["child_unit_id"])
    op.drop_index("ix_genealogy_down_lot", table_name="genealogy")
    op.drop_index("ix_genealogy_down_unit", table_name="genealogy")
