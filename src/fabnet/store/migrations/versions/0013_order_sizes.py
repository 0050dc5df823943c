"""Order sizes for whole-unit plans: `moq` and `multiple` on supplier offers, `batch` on
work centers.

Rows stored before have none (any whole number); their content hashes stay as they
were (`fabnet.store.mapping.LATER_FIELDS`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the order-size columns."""
    op.add_column("scenario_offers", sa.Column("moq", sa.Double(), nullable=True))
    op.add_column("scenario_offers", sa.Column("multiple", sa.Integer(), nullable=True))
    op.add_column("scenario_work_centers", sa.Column("batch", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop the order-size columns."""
    with op.batch_alter_table("scenario_work_centers") as batch:
        batch.drop_column("batch")
    with op.batch_alter_table("scenario_offers") as batch:
        batch.drop_column("multiple")
        batch.drop_column("moq")
