"""Audit entries and the audit head get a MAC and the id of the key that made it.

Existing entries stay unsigned; `fabnet db init` then creates the store's key file and
appends a signed `audit.key.create` entry that vouches for the chain before it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add `key_id` and `mac` to `audit` and `audit_head` (null: not signed)."""
    for table in ("audit", "audit_head"):
        op.add_column(table, sa.Column("key_id", sa.String(16), nullable=True))
        op.add_column(table, sa.Column("mac", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the MAC columns (the trail is then only hash-chained again)."""
    for table in ("audit_head", "audit"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("mac")
            batch.drop_column("key_id")
