"""The floor's purchase orders and the lots received against them
(`fabnet.store.po_schema`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the purchase order tables."""
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=True),
        sa.Column("supplier", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.Column("qty_received", sa.Double(), server_default="0", nullable=False),
        sa.Column("order_bucket", sa.Integer(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("due_bucket", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("qty > 0", name=op.f("ck_purchase_orders_qty_positive")),
        sa.CheckConstraint("qty_received >= 0 AND qty_received <= qty",
                           name=op.f("ck_purchase_orders_received_range")),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"],
                                name=op.f("fk_purchase_orders_scenario_id_scenarios")),
        sa.ForeignKeyConstraint(["version_id"], ["scenario_versions.id"],
                                name=op.f("fk_purchase_orders_version_id_scenario_versions")),
        sa.ForeignKeyConstraint(["plan_run_id"], ["plan_runs.id"],
                                name=op.f("fk_purchase_orders_plan_run_id_plan_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
    )
    op.create_index("ix_purchase_orders_queue", "purchase_orders",
                    ["scenario_id", "site", "status"])
    op.create_table(
        "purchase_order_receipts",
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"], ["purchase_orders.id"],
            name=op.f("fk_purchase_order_receipts_purchase_order_id_purchase_orders")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"],
                                name=op.f("fk_purchase_order_receipts_lot_id_lots")),
        sa.PrimaryKeyConstraint("purchase_order_id", "lot_id",
                                name=op.f("pk_purchase_order_receipts")),
    )
    op.create_index(op.f("ix_purchase_order_receipts_lot_id"), "purchase_order_receipts",
                    ["lot_id"])


def downgrade() -> None:
    """Drop the purchase order tables."""
    op.drop_index(op.f("ix_purchase_order_receipts_lot_id"),
                  table_name="purchase_order_receipts")
    op.drop_table("purchase_order_receipts")
    op.drop_index("ix_purchase_orders_queue", table_name="purchase_orders")
    op.drop_table("purchase_orders")
