"""Redundancy-design candidates as a scenario section (`mitigations:`).

A version without mitigations hashes as before (`fabnet.store.mapping.LATER_SECTIONS`).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None

_S: Any = sa.String()
_F: Any = sa.Double()
_N: Any = sa.Integer()
_COLUMNS: tuple[tuple[str, Any, bool], ...] = (
    ("id", _S, False), ("kind", _S, False), ("cost", _F, False),
    ("available_after", _N, False), ("supplier", _S, True), ("country", _S, True),
    ("item", _S, True), ("price", _F, True), ("lead_time", _N, False),
    ("capacity", _F, True), ("transit", _N, False), ("site", _S, True),
    ("work_center", _S, True), ("hours", _F, True), ("ramp", sa.JSON(), False),
    ("qty", _F, True), ("holding_cost", _F, False), ("origin", _S, True),
    ("destination", _S, True), ("lane_cost", _F, False),
)


def upgrade() -> None:
    """Create the mitigations section table."""
    op.create_table(
        "scenario_mitigations",
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        *(sa.Column(name, type_, nullable=nullable) for name, type_, nullable in _COLUMNS),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE",
                                name="fk_scenario_mitigations_scenario_id_scenarios"),
        sa.PrimaryKeyConstraint("row_id", name="pk_scenario_mitigations"),
    )
    op.create_index("ix_scenario_mitigations_versions", "scenario_mitigations",
                    ["scenario_id", "valid_from", "valid_to"])


def downgrade() -> None:
    """Drop the mitigations table."""
    op.drop_index("ix_scenario_mitigations_versions", table_name="scenario_mitigations")
    op.drop_table("scenario_mitigations")
