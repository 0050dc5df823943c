"""Versions share the rows they don't change: each master-data row is stored once per
scenario with the range of versions that hold it (`valid_from` ≤ version < `valid_to`,
null: up to the newest), instead of once per version; a one-row edit then writes one row.

Every stored version is kept: each of its rows becomes a row valid for that version
alone (the newest version's rows stay open, so the next version shares them). `seq`
keeps each version's order, spaced out so that rows inserted later fit in between.
The data columns of each section table are carried over as they are, whatever columns
earlier revisions gave it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

#: the room between two rows' seq (as `fabnet.store.scenarios.SEQ_GAP`)
SEQ_GAP = 1 << 16
_LATEST = ("(SELECT scenario_id, max(version) AS latest FROM scenario_versions "
           "GROUP BY scenario_id)")


def _section_tables(bind: sa.Connection, key: str) -> list[str]:
    """The master-data tables (`scenario_<section>`) whose rows have column `key`."""
    insp = sa.inspect(bind)
    return sorted(t for t in insp.get_table_names()
                  if t.startswith("scenario_") and t != "scenario_versions"
                  and key in {c["name"] for c in insp.get_columns(t)})


def _data_columns(bind: sa.Connection, table: str, keys: set[str]) -> list[sa.Column[Any]]:
    """The table's data columns (all but `keys`), as reflected, for the new table."""
    out: list[sa.Column[Any]] = []
    for c in sa.inspect(bind).get_columns(table):
        if c["name"] in keys:
            continue
        default = c.get("default")
        out.append(sa.Column(c["name"], c["type"], nullable=c["nullable"],
                             server_default=None if default is None else sa.text(default)))
    return out


def _set_aside(bind: sa.Connection, name: str) -> str:
    """Rename `name` out of the way (and, on PostgreSQL, its primary key, whose name the
    new table takes); the old table's new name."""
    old = f"{name}_old"
    op.rename_table(name, old)
    if bind.dialect.name == "postgresql":
        op.execute(f'ALTER TABLE "{old}" RENAME CONSTRAINT "pk_{name}" TO "pk_{old}"')
    return old


def upgrade() -> None:
    """Turn per-version rows into rows with version ranges, keeping every version."""
    bind = op.get_bind()
    for name in _section_tables(bind, "version_id"):
        data = _data_columns(bind, name, {"version_id", "seq"})
        cols = ", ".join(f'"{c.name}"' for c in data)
        old = _set_aside(bind, name)
        op.create_table(
            name,
            sa.Column("row_id", sa.Integer(), nullable=False),
            sa.Column("scenario_id", sa.Integer(), nullable=False),
            sa.Column("valid_from", sa.Integer(), nullable=False),
            sa.Column("valid_to", sa.Integer(), nullable=True),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            *data,
            sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE",
                                    name=f"fk_{name}_scenario_id_scenarios"),
            sa.PrimaryKeyConstraint("row_id", name=f"pk_{name}"),
        )
        op.create_index(f"ix_{name}_versions", name, ["scenario_id", "valid_from", "valid_to"])
        op.execute(
            f'INSERT INTO "{name}" (scenario_id, valid_from, valid_to, seq, {cols}) '
            f"SELECT v.scenario_id, v.version, "
            f"CASE WHEN v.version = l.latest THEN NULL ELSE v.version + 1 END, "
            f"(t.seq + 1) * {SEQ_GAP}, {', '.join(f't.{c}' for c in cols.split(', '))} "
            f'FROM "{old}" t JOIN scenario_versions v ON v.id = t.version_id '
            f"JOIN {_LATEST} l ON l.scenario_id = v.scenario_id "
            f"ORDER BY v.scenario_id, v.version, t.seq")
        op.drop_table(old)


def downgrade() -> None:
    """Write every version's rows out again, one copy per version."""
    bind = op.get_bind()
    for name in _section_tables(bind, "valid_from"):
        data = _data_columns(bind, name, {"row_id", "scenario_id", "valid_from", "valid_to",
                                            "seq"})
        cols = ", ".join(f'"{c.name}"' for c in data)
        op.drop_index(f"ix_{name}_versions", table_name=name)
        old = _set_aside(bind, name)
        op.create_table(
            name,
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            *data,
            sa.ForeignKeyConstraint(["version_id"], ["scenario_versions.id"],
                                    ondelete="CASCADE",
                                    name=f"fk_{name}_version_id_scenario_versions"),
            sa.PrimaryKeyConstraint("version_id", "seq", name=f"pk_{name}"),
        )
        op.execute(
            f'INSERT INTO "{name}" (version_id, seq, {cols}) '
            f"SELECT v.id, ROW_NUMBER() OVER (PARTITION BY v.id ORDER BY t.seq) - 1, "
            f"{', '.join(f't.{c}' for c in cols.split(', '))} "
            f'FROM "{old}" t JOIN scenario_versions v ON v.scenario_id = t.scenario_id '
            f"AND t.valid_from <= v.version AND (t.valid_to IS NULL OR t.valid_to > v.version)")
        op.drop_table(old)
