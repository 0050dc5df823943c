"""The store's export licences (revision 0011): the live balance of each licence, the
floor's source of truth for shipping.

A scenario's `licences:` section says what the plan may assume; this table says what the
floor may still ship: `remaining` starts at `qty` and every shipment draws on it in its
own transaction, by compare-and-set (`remaining = remaining - q WHERE remaining >= q AND
status = 'valid'`), so two shipments at once never overdraw it. Licences belong to a
stored scenario (customers are its ids), keyed by their own id within it.
"""

from __future__ import annotations

import sqlalchemy as sa

from fabnet.store.schema import Stamp, metadata

licences = sa.Table(
    "licences", metadata,
    sa.Column("scenario_id", sa.ForeignKey("scenarios.id"), primary_key=True),
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("customer", sa.String, nullable=False),
    sa.Column("country", sa.String, nullable=False),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("qty", sa.Double, nullable=False),
    sa.Column("remaining", sa.Double, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("euc", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("authority", sa.String, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("changed_at", Stamp, nullable=False),
    sa.Column("changed_by", sa.String, nullable=False),
    sa.CheckConstraint("remaining >= 0 AND remaining <= qty", name="remaining_range"),
    sa.Index("ix_licences_customer", "scenario_id", "customer"),
)
