"""The floor's purchase orders (revision 0012): a plan's purchases placed with suppliers,
and the lots received against them.

A purchase order belongs to a stored scenario (suppliers, sites and items are its ids)
and remembers the version and plan run it was released from, the bucket and date it was
ordered in, and the bucket and date it is due to arrive. `qty_received` grows with every
lot booked against it, by compare-and-set (`qty_received + q <= qty`, status open), so
two receipts at once never take it over its quantity; it is closed when all of it came.
"""

from __future__ import annotations

import sqlalchemy as sa

from fabnet.store.schema import Stamp, metadata

purchase_orders = sa.Table(
    "purchase_orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey("scenarios.id"), nullable=False),
    sa.Column("version_id", sa.ForeignKey("scenario_versions.id"), nullable=False),
    sa.Column("plan_run_id", sa.ForeignKey("plan_runs.id"), nullable=True),
    sa.Column("supplier", sa.String, nullable=False),
    sa.Column("site", sa.String, nullable=False),
    sa.Column("item", sa.String, nullable=False),
    sa.Column("qty", sa.Double, nullable=False),
    sa.Column("qty_received", sa.Double, nullable=False, server_default="0"),
    sa.Column("order_bucket", sa.Integer, nullable=False),
    sa.Column("order_date", sa.Date, nullable=False),
    sa.Column("due_bucket", sa.Integer, nullable=False),  # the plan's arrival bucket
    sa.Column("due_date", sa.Date, nullable=False),  # its first day
    sa.Column("status", sa.String, nullable=False),  # open | closed | cancelled
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Column("note", sa.Text, nullable=True),  # why it was cancelled
    sa.CheckConstraint("qty > 0", name="qty_positive"),
    sa.CheckConstraint("qty_received >= 0 AND qty_received <= qty", name="received_range"),
    sa.Index("ix_purchase_orders_queue", "scenario_id", "site", "status"),
)

#: the lots booked against a purchase order, with the quantity each brought
purchase_order_receipts = sa.Table(
    "purchase_order_receipts", metadata,
    sa.Column("purchase_order_id", sa.ForeignKey("purchase_orders.id"), primary_key=True),
    sa.Column("lot_id", sa.ForeignKey("lots.id"), primary_key=True, index=True),
    sa.Column("qty", sa.Double, nullable=False),
)

PO_TABLES = (purchase_orders, purchase_order_receipts)
