"""The API's idempotency keys get their table in the schema.

Servers before this revision created `api_idempotency_keys` themselves on first use;
where it exists already it is kept as it is.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create `api_idempotency_keys` unless an older server already did."""
    if sa.inspect(op.get_bind()).has_table("api_idempotency_keys"):
        return
    op.create_table(
        "api_idempotency_keys",
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key", name="pk_api_idempotency_keys"),
    )


def downgrade() -> None:
    """Drop `api_idempotency_keys`."""
    op.drop_table("api_idempotency_keys")
