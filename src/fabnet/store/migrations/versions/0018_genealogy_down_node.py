"""One index for tracing down: the genealogy's edges by their child node, a unit's id or
a lot's id negated (`coalesce(child_unit_id, -child_lot_id)`), with the live flag, the
parents and the child columns (`ix_genealogy_down`, in place of `ix_genealogy_down_unit`
and `ix_genealogy_down_lot` of revision 0014), so each step of a trace down is one
lookup that reads only the index, whatever kind of node it starts from. The child
columns are in it because neither database counts an index on an expression as covering
unless the columns in the expression are in it too.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None

_DOWN = ["removed_at", "parent_unit_id", "parent_lot_id"]


def upgrade() -> None:
    """Replace the two per-kind down indexes by one on the child node."""
    op.create_index("ix_genealogy_down", "genealogy",
                    [sa.text("coalesce(child_unit_id, -child_lot_id)"), *_DOWN,
                     "child_unit_id", "child_lot_id"])
    op.drop_index("ix_genealogy_down_unit", table_name="genealogy")
    op.drop_index("ix_genealogy_down_lot", table_name="genealogy")


def downgrade() -> None:
    """Put revision 0014's down indexes back."""
    op.create_index("ix_genealogy_down_lot", "genealogy", ["child_lot_id", *_DOWN])
    op.create_index("ix_genealogy_down_unit", "genealogy", ["child_unit_id", *_DOWN])
    op.drop_index("ix_genealogy_down", table_name="genealogy")
