"""The floor's tables (revision 0006): work orders and their operations, lots, serialized
units, genealogy, operation records, test results, holds, shipments, and room for repairs,
service records and operator qualifications.

Floor records belong to a stored scenario (the network they run in), not to one of its
versions: a work order remembers the version and plan run it was released from. Sites,
items, work centers, suppliers and customers are the scenario's ids, as text.

Genealogy is one edge per component put into a unit (or into a lot a non-serialized
build made): the parent is a unit or a lot, the child a unit or a supplier's lot, with
the quantity, when it went in and, after a repair, when it came out. It is indexed both
ways, so "what is this unit made of" and "what contains this lot" are recursive queries
on an index, never a scan; the down index covers the step (revision 0018).
"""

from __future__ import annotations

import sqlalchemy as sa

from fabnet.store.schema import Stamp, metadata

_SCENARIO = "scenarios.id"


def _who(prefix: str, nullable: bool = False) -> list[sa.Column[object]]:
    return [sa.Column(f"{prefix}_at", Stamp, nullable=nullable),
            sa.Column(f"{prefix}_by", sa.String, nullable=nullable)]


work_orders = sa.Table(
    "work_orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey(_SCENARIO), nullable=False),
    sa.Column("version_id", sa.ForeignKey("scenario_versions.id"), nullable=False),
    sa.Column("plan_run_id", sa.ForeignKey("plan_runs.id"), nullable=True),
    sa.Column("site", sa.String, nullable=False),
    sa.Column("item", sa.String, nullable=False),
    sa.Column("qty", sa.Integer, nullable=False),
    sa.Column("qty_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_bucket", sa.Integer, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    *_who("created"),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
    sa.CheckConstraint("qty_done >= 0 AND qty_done <= qty", name="qty_done_range"),
    sa.Index("ix_work_orders_queue", "scenario_id", "site", "status"),
)

work_order_operations = sa.Table(
    "work_order_operations", metadata,
    sa.Column("work_order_id", sa.ForeignKey("work_orders.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("work_center", sa.String, nullable=False),
    sa.Column("hours", sa.Double, nullable=False),  # per unit, from the routing
)

lots = sa.Table(
    "lots", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey(_SCENARIO), nullable=False),
    sa.Column("site", sa.String, nullable=False),
    sa.Column("item", sa.String, nullable=False),
    sa.Column("code", sa.String, nullable=False),  # as the supplier prints it
    sa.Column("supplier", sa.String, nullable=True),  # None: made on the floor
    sa.Column("work_order_id", sa.ForeignKey("work_orders.id"), nullable=True),
    sa.Column("qty_received", sa.Double, nullable=False),
    sa.Column("remaining", sa.Double, nullable=False),
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    *_who("received"),
    sa.CheckConstraint("remaining >= 0 AND remaining <= qty_received", name="remaining_range"),
    sa.UniqueConstraint("scenario_id", "site", "item", "code", name="uq_lots_code"),
    sa.Index("ix_lots_code", "code"),
    sa.Index("ix_lots_stock", "scenario_id", "site", "item", "id"),
)

units = sa.Table(
    "units", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("serial", sa.String, nullable=False, unique=True),
    sa.Column("item", sa.String, nullable=False),
    sa.Column("site", sa.String, nullable=False),  # where it is now (transfers move it)
    sa.Column("work_order_id", sa.ForeignKey("work_orders.id"), nullable=False, index=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("completed_at", Stamp, nullable=True),  # every required test passed
    sa.Column("shipped_at", Stamp, nullable=True),
    *_who("built"),
    # the id of the latest shipment it went out in, kept through a return and a repair:
    # written with the shipment (revision 0019), so a trace down reads it with the unit
    # instead of looking up each unit's shipments
    sa.Column("last_shipment_id", sa.Integer, nullable=True),
)

#: the next number of each serial scope (a pattern with everything but {seq} filled in)
serial_counters = sa.Table(
    "serial_counters", metadata,
    sa.Column("scope", sa.String, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

repair_orders = sa.Table(
    "repair_orders", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String, nullable=False),  # open | closed
    *_who("opened"),
    *_who("closed", nullable=True),
)

genealogy = sa.Table(
    "genealogy", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_unit_id", sa.ForeignKey("units.id"), nullable=True),
    sa.Column("parent_lot_id", sa.ForeignKey("lots.id"), nullable=True),
    sa.Column("child_unit_id", sa.ForeignKey("units.id"), nullable=True),
    sa.Column("child_lot_id", sa.ForeignKey("lots.id"), nullable=True),
    sa.Column("item", sa.String, nullable=False),
    sa.Column("qty", sa.Double, nullable=False),
    sa.Column("added_at", Stamp, nullable=False),
    sa.Column("removed_at", Stamp, nullable=True),  # a part swapped out in a repair
    sa.Column("repair_order_id", sa.ForeignKey("repair_orders.id"), nullable=True),
    sa.CheckConstraint("(parent_unit_id IS NULL) <> (parent_lot_id IS NULL)",
                       name="one_parent"),
    sa.CheckConstraint("(child_unit_id IS NULL) <> (child_lot_id IS NULL)", name="one_child"),
    sa.Index("ix_genealogy_parent_unit", "parent_unit_id"),
    sa.Index("ix_genealogy_parent_lot", "parent_lot_id"),
)


def child_node(edges: sa.FromClause) -> sa.ColumnElement[int]:
    """An edge's child as one genealogy node: a unit's id, or a lot's id negated."""
    return sa.func.coalesce(edges.c.child_unit_id, -edges.c.child_lot_id)


# the down step's edges out of a node, live ones first, with their parents and the child
# columns (an index on an expression covers a query only with them): one lookup per step,
# read from the index alone (revision 0018)
sa.Index("ix_genealogy_down", child_node(genealogy), genealogy.c.removed_at,
         genealogy.c.parent_unit_id, genealogy.c.parent_lot_id, genealogy.c.child_unit_id,
         genealogy.c.child_lot_id)

operation_records = sa.Table(
    "operation_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("work_order_id", sa.ForeignKey("work_orders.id"), nullable=False),
    sa.Column("unit_id", sa.ForeignKey("units.id"), nullable=True, index=True),
    sa.Column("lot_id", sa.ForeignKey("lots.id"), nullable=True),  # a non-serialized build
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("work_center", sa.String, nullable=False),
    sa.Column("operator", sa.String, nullable=False),
    sa.Column("started_at", Stamp, nullable=False),
    sa.Column("ended_at", Stamp, nullable=False),
)

test_results = sa.Table(
    "test_results", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), nullable=False),
    sa.Column("step", sa.String, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),  # after the limits were applied
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("station", sa.String, nullable=True),
    sa.Column("operator", sa.String, nullable=False),
    sa.Column("at", Stamp, nullable=False),
    sa.Index("ix_test_results_unit_step", "unit_id", "step", "id"),
)

holds = sa.Table(
    "holds", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_id", sa.ForeignKey("lots.id"), nullable=True, index=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), nullable=True, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    *_who("placed"),
    *_who("released", nullable=True),
    sa.CheckConstraint("(lot_id IS NULL) <> (unit_id IS NULL)", name="one_target"),
)

shipments = sa.Table(
    "shipments", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey(_SCENARIO), nullable=False),
    sa.Column("customer", sa.String, nullable=False),
    *_who("shipped"),
)

shipment_units = sa.Table(
    "shipment_units", metadata,
    sa.Column("shipment_id", sa.ForeignKey("shipments.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True),
    # a unit's latest shipment is the last entry of its run (revision 0014)
    sa.Index("ix_shipment_units_unit", "unit_id", "shipment_id"),
)

service_records = sa.Table(
    "service_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), nullable=False, index=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("hours", sa.Double, nullable=True),
    sa.Column("service_date", sa.Date, nullable=True),
    *_who("recorded"),
)

operator_qualifications = sa.Table(
    "operator_qualifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey(_SCENARIO), nullable=False),
    sa.Column("operator", sa.String, nullable=False),
    sa.Column("site", sa.String, nullable=True),  # None: at every site
    sa.Column("work_center", sa.String, nullable=True),  # a work-center type …
    sa.Column("test_step", sa.String, nullable=True),  # … or a test step
    sa.Column("valid_until", sa.Date, nullable=False),
    *_who("granted"),
    sa.Index("ix_operator_qualifications_operator", "scenario_id", "operator"),
)

#: per site, whether operations and tests need a qualified operator
site_floor_settings = sa.Table(
    "site_floor_settings", metadata,
    sa.Column("scenario_id", sa.ForeignKey(_SCENARIO), primary_key=True),
    sa.Column("site", sa.String, primary_key=True),
    sa.Column("require_qualification", sa.Boolean, nullable=False,
              server_default=sa.false()),
)

FLOOR_TABLES = (work_orders, work_order_operations, lots, units, serial_counters,
                repair_orders, genealogy, operation_records, test_results, holds, shipments,
                shipment_units, service_records, operator_qualifications, site_floor_settings)
from fabnet.store import licence_schema as _licence_schema  # noqa: E402,F401 - revision 0011
