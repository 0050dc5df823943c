"""Sites get a `location` (where the site is): a restricted field.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `scenario_sites.location`, empty for the sites stored before."""
    op.add_column("scenario_sites", sa.Column("location", sa.String(), nullable=False,
                                     server_default=""))


def downgrade() -> None:
    """Drop `scenario_sites.location`."""
    with op.batch_alter_table("scenario_sites") as batch:
        batch.drop_column("location")
