"""The design-change tables (revision 0010): engineering change orders and their lines.

An ECO belongs to a stored scenario (the network whose BOMs and routings it changes). It
is effective from a date, or from a serial number of the changed item (the units built
after it get the new design); its lines add, remove or change one BOM line
(parent/component, qty per unit) or one routing step (item/work-center type, hours per
unit). A released ECO names the scenario version its release made.
"""

from __future__ import annotations

import sqlalchemy as sa

from fabnet.store.schema import Stamp, metadata

eco = sa.Table(
    "eco", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey("scenarios.id"), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("effective", sa.Date, nullable=True),
    sa.Column("effective_serial", sa.String, nullable=True),
    sa.Column("status", sa.String, nullable=False),  # draft | in_review | released | rejected
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("submitted_at", Stamp, nullable=True),
    sa.Column("submitted_by", sa.String, nullable=True),
    sa.Column("decided_at", Stamp, nullable=True),  # released or rejected, by the reviewer
    sa.Column("decided_by", sa.String, nullable=True),
    sa.Column("decision_note", sa.Text, nullable=True),
    sa.Column("version_id", sa.ForeignKey("scenario_versions.id"), nullable=True),
    sa.Column("applied_on", sa.Date, nullable=True),  # the day the new lines start
    sa.CheckConstraint("effective IS NOT NULL OR effective_serial IS NOT NULL",
                       name="has_effectivity"),
    sa.Index("ix_eco_queue", "scenario_id", "status"),
)

eco_lines = sa.Table(
    "eco_lines", metadata,
    sa.Column("eco_id", sa.ForeignKey("eco.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String, nullable=False),  # bom | routing
    sa.Column("op", sa.String, nullable=False),  # add | remove | change
    sa.Column("parent", sa.String, nullable=False),  # the BOM parent, or the routed item
    sa.Column("component", sa.String, nullable=False),  # the component, or work-center type
    sa.Column("qty", sa.Double, nullable=True),  # per unit: BOM qty or hours; None: remove
    sa.CheckConstraint("op = 'remove' OR qty IS NOT NULL", name="qty_given"),
)

ECO_TABLES = (eco, eco_lines)
