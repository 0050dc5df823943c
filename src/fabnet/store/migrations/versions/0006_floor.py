"""The floor: items can be serialized (with a serial pattern), scenarios get test plans,
and the store gets the floor's tables (work orders, lots, units, genealogy, operations,
tests, holds, shipments, repairs, service records, operator qualifications).

Items stored before are not serialized, and versions stored before have no test plans;
their content hashes stay as they were (`fabnet.store.mapping.LATER_FIELDS`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

FLOOR_TABLES = (
    "work_orders",
    "work_order_operations",
    "lots",
    "units",
    "serial_counters",
    "repair_orders",
    "genealogy",
    "operation_records",
    "test_results",
    "holds",
    "shipments",
    "shipment_units",
    "service_records",
    "operator_qualifications",
    "site_floor_settings",
)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the item columns, the test-plan section and the floor's tables."""
    op.add_column(
        "scenario_items",
        sa.Column("serialized", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("scenario_items", sa.Column("serial_pattern", sa.String(), nullable=True))
    op.create_table(
        "scenario_test_plans",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("min", sa.Double(), nullable=True),
        sa.Column("max", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["scenario_versions.id"],
            ondelete="CASCADE",
            name="fk_scenario_test_plans_version_id_scenario_versions",
        ),
        sa.PrimaryKeyConstraint("version_id", "seq", name="pk_scenario_test_plans"),
    )
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("plan_run_id", sa.Integer(), nullable=True),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("qty_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("due_bucket", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_work_orders_qty_positive")),
        sa.CheckConstraint(
            "qty_done >= 0 AND qty_done <= qty", name=op.f("ck_work_orders_qty_done_range")
        ),
        sa.ForeignKeyConstraint(
            ["plan_run_id"], ["plan_runs.id"], name=op.f("fk_work_orders_plan_run_id_plan_runs")
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["scenarios.id"], name=op.f("fk_work_orders_scenario_id_scenarios")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["scenario_versions.id"],
            name=op.f("fk_work_orders_version_id_scenario_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
    )
    op.create_table(
        "work_order_operations",
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("work_center", sa.String(), nullable=False),
        sa.Column("hours", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_operations_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_order_id", "seq", name=op.f("pk_work_order_operations")),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("supplier", sa.String(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("qty_received", sa.Double(), nullable=False),
        sa.Column("remaining", sa.Double(), nullable=False),
        sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= qty_received", name=op.f("ck_lots_remaining_range")
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["scenarios.id"], name=op.f("fk_lots_scenario_id_scenarios")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_lots_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("scenario_id", "site", "item", "code", name="uq_lots_code"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_units_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("serial", name=op.f("uq_units_serial")),
    )
    op.create_table(
        "serial_counters",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_serial_counters")),
    )
    op.create_table(
        "repair_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_repair_orders_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_orders")),
    )
    op.create_table(
        "genealogy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_unit_id", sa.Integer(), nullable=True),
        sa.Column("parent_lot_id", sa.Integer(), nullable=True),
        sa.Column("child_unit_id", sa.Integer(), nullable=True),
        sa.Column("child_lot_id", sa.Integer(), nullable=True),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("qty", sa.Double(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("repair_order_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(child_unit_id IS NULL) <> (child_lot_id IS NULL)", name=op.f("ck_genealogy_one_child")
        ),
        sa.CheckConstraint(
            "(parent_unit_id IS NULL) <> (parent_lot_id IS NULL)",
            name=op.f("ck_genealogy_one_parent"),
        ),
        sa.ForeignKeyConstraint(
            ["child_lot_id"], ["lots.id"], name=op.f("fk_genealogy_child_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["child_unit_id"], ["units.id"], name=op.f("fk_genealogy_child_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["parent_lot_id"], ["lots.id"], name=op.f("fk_genealogy_parent_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["parent_unit_id"], ["units.id"], name=op.f("fk_genealogy_parent_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["repair_order_id"],
            ["repair_orders.id"],
            name=op.f("fk_genealogy_repair_order_id_repair_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genealogy")),
    )
    op.create_table(
        "operation_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("work_center", sa.String(), nullable=False),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_operation_records_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_operation_records_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_operation_records_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_records")),
    )
    op.create_table(
        "test_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("station", sa.String(), nullable=True),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_test_results_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_results")),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(), nullable=True),
        sa.CheckConstraint(
            "(lot_id IS NULL) <> (unit_id IS NULL)", name=op.f("ck_holds_one_target")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_holds_lot_id_lots")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_holds_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("customer", sa.String(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["scenarios.id"], name=op.f("fk_shipments_scenario_id_scenarios")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    op.create_table(
        "shipment_units",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_units_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_shipment_units_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("shipment_id", "unit_id", name=op.f("pk_shipment_units")),
    )
    op.create_table(
        "service_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("hours", sa.Double(), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_service_records_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_records")),
    )
    op.create_table(
        "operator_qualifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("site", sa.String(), nullable=True),
        sa.Column("work_center", sa.String(), nullable=True),
        sa.Column("test_step", sa.String(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_operator_qualifications_scenario_id_scenarios"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_qualifications")),
    )
    op.create_table(
        "site_floor_settings",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("require_qualification", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_site_floor_settings_scenario_id_scenarios"),
        ),
        sa.PrimaryKeyConstraint("scenario_id", "site", name=op.f("pk_site_floor_settings")),
    )
    op.create_index(
        "ix_work_orders_queue", "work_orders", ["scenario_id", "site", "status"], unique=False
    )
    op.create_index("ix_lots_code", "lots", ["code"], unique=False)
    op.create_index("ix_lots_stock", "lots", ["scenario_id", "site", "item", "id"], unique=False)
    op.create_index(op.f("ix_units_work_order_id"), "units", ["work_order_id"], unique=False)
    op.create_index(op.f("ix_repair_orders_unit_id"), "repair_orders", ["unit_id"], unique=False)
    op.create_index("ix_genealogy_child_lot", "genealogy", ["child_lot_id"], unique=False)
    op.create_index("ix_genealogy_child_unit", "genealogy", ["child_unit_id"], unique=False)
    op.create_index("ix_genealogy_parent_lot", "genealogy", ["parent_lot_id"], unique=False)
    op.create_index("ix_genealogy_parent_unit", "genealogy", ["parent_unit_id"], unique=False)
    op.create_index(
        op.f("ix_operation_records_unit_id"), "operation_records", ["unit_id"], unique=False
    )
    op.create_index(
        "ix_test_results_unit_step", "test_results", ["unit_id", "step", "id"], unique=False
    )
    op.create_index(op.f("ix_holds_lot_id"), "holds", ["lot_id"], unique=False)
    op.create_index(op.f("ix_holds_unit_id"), "holds", ["unit_id"], unique=False)
    op.create_index(op.f("ix_shipment_units_unit_id"), "shipment_units", ["unit_id"], unique=False)
    op.create_index(
        op.f("ix_service_records_unit_id"), "service_records", ["unit_id"], unique=False
    )
    op.create_index(
        "ix_operator_qualifications_operator",
        "operator_qualifications",
        ["scenario_id", "operator"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the floor's tables, the test plans and the item columns."""
    for table in reversed(FLOOR_TABLES):
        op.drop_table(table)
    op.drop_table("scenario_test_plans")
    with op.batch_alter_table("scenario_items") as batch:
        batch.drop_column("serial_pattern")
        batch.drop_column("serialized")
