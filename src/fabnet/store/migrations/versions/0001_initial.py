"""Initial schema: scenarios and their versions, master data per section, branches,
plan runs, jobs, users, API tokens and the hash-chained audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

Stamp = sa.DateTime(timezone=True)
S, F, N, D = sa.String, sa.Double, sa.Integer, sa.Date

# section -> (column, type, nullable), in the order of the domain dataclass's fields
SECTIONS: dict[str, list[tuple[str, type[sa.types.TypeEngine[Any]], bool]]] = {
    "items": [("id", S, False), ("name", S, False), ("kind", S, False),
              ("unit_cost", F, True), ("origin", S, True), ("holding_cost", F, True)],
    "boms": [("parent", S, False), ("item", S, False), ("qty", F, False)],
    "routings": [("item", S, False), ("work_center", S, False), ("hours", F, False)],
    "sites": [("id", S, False), ("country", S, False), ("name", S, False),
              ("makes", sa.JSON, False)],
    "work_centers": [("site", S, False), ("type", S, False), ("hours", F, False),
                     ("start", D, True), ("ramp", sa.JSON, False)],
    "suppliers": [("id", S, False), ("country", S, False), ("name", S, False)],
    "offers": [("supplier", S, False), ("item", S, False), ("price", F, False),
               ("lead_time", N, False), ("capacity", F, True)],
    "customers": [("id", S, False), ("country", S, False), ("name", S, False),
                  ("approved", sa.Boolean, False)],
    "lanes": [("origin", S, False), ("destination", S, False), ("transit", N, False),
              ("cost", F, False), ("capacity", F, True)],
    "inventory": [("site", S, False), ("item", S, False), ("qty", F, False)],
    "demand": [("id", S, False), ("customer", S, False), ("item", S, False),
               ("qty", F, False), ("due", D, False), ("priority", N, False)],
    "disruptions": [("id", S, False), ("target", S, False), ("start", D, False),
                    ("buckets", N, False), ("capacity", F, False)],
    "recovery": [("target", S, False), ("days", F, False)],
    "risks": [("id", S, False), ("target", S, False), ("rate", F, False),
              ("duration", N, False), ("dist", S, False), ("duration_max", N, True),
              ("capacity", F, False)],
}


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], ondelete=ondelete,
        name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    """Create every table, and the audit head at entry 0."""
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
        sa.UniqueConstraint("name", name=op.f("uq_scenarios_name")),
    )
    op.create_table(
        "scenario_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        _fk("scenario_versions", "scenario_id", "scenarios", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_versions")),
        sa.UniqueConstraint("scenario_id", "version", name="uq_scenario_versions_version"),
    )
    for section, columns in SECTIONS.items():
        table = f"scenario_{section}"
        op.create_table(
            table,
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            *[sa.Column(name, type_(), nullable=nullable) for name, type_, nullable in columns],
            _fk(table, "version_id", "scenario_versions", "CASCADE"),
            sa.PrimaryKeyConstraint("version_id", "seq", name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "branches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("merged_version_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        _fk("branches", "base_version_id", "scenario_versions"),
        _fk("branches", "merged_version_id", "scenario_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branches")),
        sa.UniqueConstraint("name", name=op.f("uq_branches_name")),
    )
    op.create_table(
        "branch_changes",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(), nullable=False),
        sa.Column("section", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        _fk("branch_changes", "branch_id", "branches", "CASCADE"),
        sa.PrimaryKeyConstraint("branch_id", "seq", name=op.f("pk_branch_changes")),
    )
    op.create_table(
        "plan_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        _fk("plan_runs", "branch_id", "branches"),
        _fk("plan_runs", "version_id", "scenario_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_runs")),
    )
    op.create_index(op.f("ix_plan_runs_version_id"), "plan_runs", ["version_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_status"), "jobs", ["status"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=True),
        sa.Column("revoked_at", Stamp, nullable=True),
        _fk("api_tokens", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit")),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    """Drop every table (and all data in them)."""
    for table in ("audit_head", "audit", "api_tokens", "users", "jobs", "plan_runs",
                  "branch_changes", "branches",
                  *[f"scenario_{s}" for s in SECTIONS], "scenario_versions", "scenarios"):
        op.drop_table(table)
