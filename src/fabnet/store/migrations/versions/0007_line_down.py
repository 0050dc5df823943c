"""Disruptions can cut one work center of a site (a line down): `work_center`.

Disruptions stored before have none and cut their whole target, as they did; their
content hashes stay as they were (`fabnet.store.mapping.LATER_FIELDS`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `scenario_disruptions.work_center`, empty for the disruptions stored before."""
    op.add_column("scenario_disruptions", sa.Column("work_center", sa.String(), nullable=True))


def downgrade() -> None:
    """Drop `scenario_disruptions.work_center`."""
    with op.batch_alter_table("scenario_disruptions") as batch:
        batch.drop_column("work_center")
