"""The store's tables, in SQLAlchemy Core: master data per scenario version, branches,
plan runs, jobs, users, API tokens and the hash-chained audit trail.

Master data has one table per section of the scenario contract (`scenario_items`,
`scenario_lanes`, …). A row is stored once and belongs to a range of its scenario's
versions (`valid_from` ≤ version < `valid_to`), so a one-row edit adds one row and
closes one; `seq` orders a version's rows as they were written. Columns are named after
the fields of the domain dataclasses in `fabnet.model.scenario` (`Lane.origin`,
`WorkCenter.start`); lists (`Site.makes`, `WorkCenter.ramp`) are JSON. The Alembic
migrations in `migrations/versions` create exactly these tables; a test checks that the
two agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

Stamp = sa.DateTime(timezone=True)

scenarios = sa.Table(
    "scenarios", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
)

scenario_versions = sa.Table(
    "scenario_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey("scenarios.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.String, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("bucket", sa.String, nullable=False),
    sa.Column("buckets", sa.Integer, nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.UniqueConstraint("scenario_id", "version", name="uq_scenario_versions_version"),
)


def _section(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A section's table (revision 0008): each row is stored once per scenario and is in
    versions `valid_from` up to, not including, `valid_to` (null: up to the newest), so a
    version shares the rows it did not change; `seq` orders a version's rows."""
    return sa.Table(
        f"scenario_{name}", metadata,
        sa.Column("row_id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.ForeignKey("scenarios.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("valid_from", sa.Integer, nullable=False),
        sa.Column("valid_to", sa.Integer, nullable=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        *columns,
        sa.Index(f"ix_scenario_{name}_versions", "scenario_id", "valid_from", "valid_to"),
    )


def _col(name: str, type_: type[sa.types.TypeEngine[Any]], nullable: bool = False
         ) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


S, F, N, D = sa.String, sa.Double, sa.Integer, sa.Date

SECTION_TABLES: dict[str, sa.Table] = {
    "items": _section("items", _col("id", S), _col("name", S), _col("kind", S),
                      _col("unit_cost", F, True), _col("origin", S, True),
                      _col("holding_cost", F, True),
                      # added in revision 0006: rows from before are not serialized
                      sa.Column("serialized", sa.Boolean, nullable=False,
                                server_default=sa.false()),
                      _col("serial_pattern", S, True),
                      _col("revision", S, True)),  # added in revision 0009
    # effectivity dates added in revision 0009: rows from before are always in effect
    "boms": _section("boms", _col("parent", S), _col("item", S), _col("qty", F),
                     _col("start", D, True), _col("until", D, True)),
    "routings": _section("routings", _col("item", S), _col("work_center", S),
                         _col("hours", F), _col("start", D, True), _col("until", D, True)),
    "sites": _section("sites", _col("id", S), _col("country", S), _col("name", S),
                      _col("makes", sa.JSON),
                      # added in revision 0002: rows from before hold ""
                      sa.Column("location", S, nullable=False, server_default="")),
    "work_centers": _section("work_centers", _col("site", S), _col("type", S),
                             _col("hours", F), _col("start", D, True), _col("ramp", sa.JSON),
                             _col("batch", N, True)),  # added in revision 0013
    "suppliers": _section("suppliers", _col("id", S), _col("country", S), _col("name", S)),
    "offers": _section("offers", _col("supplier", S), _col("item", S), _col("price", F),
                       _col("lead_time", N), _col("capacity", F, True),
                       # added in revision 0013: rows from before have no order sizes
                       _col("moq", F, True), _col("multiple", N, True)),
    "customers": _section("customers", _col("id", S), _col("country", S), _col("name", S),
                          _col("approved", sa.Boolean)),
    "lanes": _section("lanes", _col("origin", S), _col("destination", S), _col("transit", N),
                      _col("cost", F), _col("capacity", F, True)),
    "inventory": _section("inventory", _col("site", S), _col("item", S), _col("qty", F)),
    "demand": _section("demand", _col("id", S), _col("customer", S), _col("item", S),
                       _col("qty", F), _col("due", D), _col("priority", N)),
    "disruptions": _section("disruptions", _col("id", S), _col("target", S),
                            _col("start", D), _col("buckets", N), _col("capacity", F),
                            # added in revision 0007: rows from before cut the whole node
                            _col("work_center", S, True)),
    "recovery": _section("recovery", _col("target", S), _col("days", F)),
    "risks": _section("risks", _col("id", S), _col("target", S), _col("rate", F),
                      _col("duration", N), _col("dist", S), _col("duration_max", N, True),
                      _col("capacity", F)),
    # added in revision 0006
    "test_plans": _section("test_plans", _col("item", S), _col("step", S),
                           _col("required", sa.Boolean), _col("min", F, True),
                           _col("max", F, True)),
    # added in revision 0009
    "licences": _section("licences", _col("id", S), _col("customer", S), _col("country", S),
                         _col("items", sa.JSON), _col("qty", F), _col("start", D),
                         _col("until", D), _col("euc", S), _col("status", S),
                         _col("authority", S)),
    # added in revision 0017: candidates for redundancy design (`fabnet design`)
    "mitigations": _section("mitigations", _col("id", S), _col("kind", S), _col("cost", F),
                            _col("available_after", N), _col("supplier", S, True),
                            _col("country", S, True), _col("item", S, True),
                            _col("price", F, True), _col("lead_time", N),
                            _col("capacity", F, True), _col("transit", N),
                            _col("site", S, True), _col("work_center", S, True),
                            _col("hours", F, True), _col("ramp", sa.JSON),
                            _col("qty", F, True), _col("holding_cost", F),
                            _col("origin", S, True), _col("destination", S, True),
                            _col("lane_cost", F)),
}

branches = sa.Table(
    "branches", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("base_version_id", sa.ForeignKey("scenario_versions.id"), nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("merged_version_id", sa.ForeignKey("scenario_versions.id"), nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
)

branch_changes = sa.Table(
    "branch_changes", metadata,
    sa.Column("branch_id", sa.ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("op", sa.String, nullable=False),
    sa.Column("section", sa.String, nullable=False),
    sa.Column("key", sa.String, nullable=False),
    sa.Column("record", sa.JSON, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
)

plan_runs = sa.Table(
    "plan_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version_id", sa.ForeignKey("scenario_versions.id"), nullable=False, index=True),
    sa.Column("branch_id", sa.ForeignKey("branches.id"), nullable=True),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("kpis", sa.JSON, nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False, index=True),
    sa.Column("progress", sa.Double, nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("password_hash", sa.String, nullable=False),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("sites", sa.JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    # sign-in lockout: wrong passwords in a row, and until when the account is locked
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", Stamp, nullable=True),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("expires_at", Stamp, nullable=True),
    sa.Column("revoked_at", Stamp, nullable=True),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String, nullable=False),
    sa.Column("actor", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("entity", sa.String, nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # revision 0005: which key signed the entry, and its HMAC-SHA256 (null: not signed,
    # as in stores from before, up to their `audit.key.create` entry)
    sa.Column("key_id", sa.String(16), nullable=True),
    sa.Column("mac", sa.String(64), nullable=True),
)

# One row (id 1): the number of audit entries and the hash of the last. Appending locks
# it, so concurrent writers chain one after the other; its MAC makes a truncated tail
# detectable.
audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # revision 0005: the head's own MAC, so moving it back over a cut-off tail shows
    sa.Column("key_id", sa.String(16), nullable=True),
    sa.Column("mac", sa.String(64), nullable=True),
)

# The API's idempotency keys (revision 0003): a request retried with the same key gets
# its first answer back. A cache of answers, not master data: no audit entries.
idempotency_keys = sa.Table(
    "api_idempotency_keys", metadata,
    sa.Column("actor", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=True),  # null while the first request runs
    sa.Column("headers", sa.Text, nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

# the floor's tables (revision 0006) live in their own module, on the same metadata
from fabnet.store import eco_schema as _eco_schema  # noqa: E402,F401  (revision 0010: ECOs)
from fabnet.store import floor_schema as _floor_schema  # noqa: E402,F401
