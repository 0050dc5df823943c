"""What-if branches: a scenario version plus a short list of row-level changes.

A branch never copies its base. It stores changes such as "put this disruption",
"put lane A>B with capacity 0" or "delete supplier S", each naming a section and the
row's key (`key_of`). `apply_changes` replays them on the base to materialise the
branch; `diff_scenarios` lists what differs between two scenarios row by row, which is
both how a branch is compared with its parent and how a merge spots conflicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fabnet.model.scenario import Scenario
from fabnet.store.audit import Action
from fabnet.store.errors import Conflict, NotFound
from fabnet.store.mapping import SECTIONS, key_of, record_from, record_json, section_records
from fabnet.store.records import Branch, BranchStatus, Change, ChangeOp, SectionRecord
from fabnet.store.repository import Repository, as_utc, now
from fabnet.store.schema import branch_changes, branches, scenario_versions, scenarios


@dataclass(frozen=True)
class RowDiff:
    """One row that differs between two scenarios: added, removed or changed."""

    section: str
    key: str
    before: SectionRecord | None
    after: SectionRecord | None

    @property
    def kind(self) -> str:
        """`added`, `removed` or `changed`."""
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"

    def fields_changed(self) -> dict[str, tuple[Any, Any]]:
        """For a changed row: field -> (before, after), only the fields that differ."""
        if self.before is None or self.after is None:
            return {}
        b, a = record_json(self.before), record_json(self.after)
        return {k: (b[k], a[k]) for k in b if b[k] != a[k]}


def apply_changes(sc: Scenario, changes: Iterable[Change]) -> Scenario:
    """The scenario with `changes` replayed in order (the input is never mutated).

    PUT replaces the row with the same key where it stands, or appends it; DELETE
    removes it. Deleting a row that is not there is an error naming it.
    """
    rows: dict[str, list[SectionRecord]] = {}
    for ch in changes:
        if ch.section not in rows:
            rows[ch.section] = list(section_records(sc, ch.section))
        sec = rows[ch.section]
        at = [i for i, r in enumerate(sec) if key_of(ch.section, r) == ch.key]
        if ch.op is ChangeOp.PUT:
            if ch.record is None:
                raise ValueError(f"{ch.section}[{ch.key}]: a put needs a record")
            if at:
                sec[at[0]] = ch.record
                for i in reversed(at[1:]):
                    del sec[i]
            else:
                sec.append(ch.record)
        else:
            if not at:
                raise NotFound(f"{ch.section}[{ch.key}]: no such row to delete (fix: check "
                               f"the key; rows of {ch.section} are keyed like "
                               f"{_key_example(ch.section)})")
            for i in reversed(at):
                del sec[i]
    sections: dict[str, Any] = {s: tuple(v) for s, v in rows.items()}
    return replace(sc, **sections)


def _key_example(section: str) -> str:
    return {"boms": "PARENT/ITEM", "routings": "ITEM/WORK_CENTER", "work_centers": "SITE/TYPE",
            "offers": "SUPPLIER/ITEM", "inventory": "SITE/ITEM", "lanes": "FROM>TO",
            "recovery": "TARGET"}.get(section, "ID")


def diff_scenarios(a: Scenario, b: Scenario) -> list[RowDiff]:
    """Rows of `b` that are new, gone or different compared with `a`, section by section."""
    out: list[RowDiff] = []
    for section in SECTIONS:
        old = {key_of(section, r): r for r in section_records(a, section)}
        new = {key_of(section, r): r for r in section_records(b, section)}
        for k, r in old.items():
            if k not in new:
                out.append(RowDiff(section, k, r, None))
            elif new[k] != r:
                out.append(RowDiff(section, k, r, new[k]))
        out += [RowDiff(section, k, None, r) for k, r in new.items() if k not in old]
    return out


def changes_of(diffs: Sequence[RowDiff]) -> tuple[Change, ...]:
    """The changes that turn the first scenario of a diff into the second."""
    return tuple(Change(ChangeOp.DELETE, d.section, d.key) if d.after is None
                 else Change(ChangeOp.PUT, d.section, d.key, d.after) for d in diffs)


def merge_conflicts(changes: Iterable[Change], parent_moved: Iterable[RowDiff]) -> list[str]:
    """Rows a branch changes that its parent also changed since the branch was made."""
    touched = {(c.section, c.key) for c in changes}
    return sorted(f"{d.section}[{d.key}]" for d in parent_moved if (d.section, d.key) in touched)


def change_json(ch: Change) -> dict[str, Any]:
    """A change as JSON (for the audit trail and the changes table)."""
    return {"op": ch.op.value, "section": ch.section, "key": ch.key,
            "record": None if ch.record is None else record_json(ch.record)}


B, BC, V, S = branches, branch_changes, scenario_versions, scenarios


class BranchRepository(Repository):
    """Branches and their changes."""

    def add(self, name: str, scenario: str, version: int, note: str = "") -> Branch:
        """A new, empty branch of version `version` of `scenario`.

        The name is claimed with `INSERT … ON CONFLICT (name) DO NOTHING`: of several
        concurrent creates of one name, one inserts and every other one (PostgreSQL makes
        it wait for the first to commit) inserts nothing and gets the `Conflict`, never
        a unique-violation error.
        """
        taken = Conflict(f"branch {name!r} already exists (fix: choose another name; "
                         "`fabnet db branch list` shows the branches)")
        if self._conn.execute(sa.select(B.c.id).where(B.c.name == name)).first():
            raise taken
        vid = self._conn.execute(sa.select(V.c.id).join(S).where(
            (S.c.name == scenario) & (V.c.version == version))).scalar()
        if vid is None:
            raise NotFound(f"scenario {scenario!r} has no version {version} "
                           "(fix: see `fabnet db list`)")
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        claimed = self._conn.execute(insert(B).values(
            name=name, base_version_id=vid, status=BranchStatus.OPEN.value, note=note,
            merged_version_id=None, created_at=now(), created_by=self.actor)
            .on_conflict_do_nothing(index_elements=[B.c.name]).returning(B.c.id)).first()
        if claimed is None:
            raise taken
        self._audit.append(Action.BRANCH_CREATE, f"branch:{name}", None,
                           {"scenario": scenario, "version": version, "note": note})
        return self.get(name)

    def get(self, name: str) -> Branch:
        """A branch with all its changes, in order."""
        row = self._conn.execute(
            sa.select(B, S.c.name.label("scenario"), V.c.version)
            .join(V, V.c.id == B.c.base_version_id).join(S, S.c.id == V.c.scenario_id)
            .where(B.c.name == name)).one_or_none()
        if row is None:
            known = list(self._conn.execute(sa.select(B.c.name).order_by(B.c.name)).scalars())
            hint = f"one of: {', '.join(known[:10])}" if known else "there are none yet"
            raise NotFound(f"no branch {name!r} ({hint}) (fix: create it with "
                           "`fabnet db branch create NAME SCENARIO`)")
        merged = None
        if row.merged_version_id is not None:
            merged = self._conn.execute(sa.select(V.c.version)
                                        .where(V.c.id == row.merged_version_id)).scalar()
        changes = tuple(
            Change(ChangeOp(c.op), c.section, c.key,
                   None if c.record is None else record_from(c.section, c.record))
            for c in self._conn.execute(sa.select(BC).where(BC.c.branch_id == row.id)
                                        .order_by(BC.c.seq)))
        return Branch(row.name, row.scenario, int(row.version), BranchStatus(row.status),
                      changes, row.note, as_utc(row.created_at), row.created_by,
                      None if merged is None else int(merged))

    def all(self) -> list[Branch]:
        """Every branch, by name."""
        return [self.get(n) for n in
                self._conn.execute(sa.select(B.c.name).order_by(B.c.name)).scalars()]

    def add_change(self, name: str, change: Change, before: SectionRecord | None = None
                   ) -> Branch:
        """Append a change to an open branch; `before` is the row it replaces (for the audit)."""
        bid = self._open_branch_id(name)
        seq = 1 + (self._conn.execute(sa.select(sa.func.max(BC.c.seq))
                                      .where(BC.c.branch_id == bid)).scalar() or 0)
        doc = change_json(change)
        self._conn.execute(sa.insert(BC).values(
            branch_id=bid, seq=seq, op=change.op.value, section=change.section, key=change.key,
            record=doc["record"], created_at=now(), created_by=self.actor))
        self._audit.append(Action.BRANCH_CHANGE, f"branch:{name}/{change.section}[{change.key}]",
                           None if before is None else record_json(before), doc)
        return self.get(name)

    def mark_merged(self, name: str, scenario: str, version: int) -> Branch:
        """Close a branch: its changes became version `version` of its scenario."""
        bid = self._open_branch_id(name)
        vid = self._conn.execute(sa.select(V.c.id).join(S).where(
            (S.c.name == scenario) & (V.c.version == version))).scalar_one()
        self._conn.execute(sa.update(B).where(B.c.id == bid).values(
            status=BranchStatus.MERGED.value, merged_version_id=vid))
        self._audit.append(Action.BRANCH_MERGE, f"branch:{name}", {"status": "open"},
                           {"status": "merged", "scenario": scenario, "version": version})
        return self.get(name)

    def lock(self, name: str) -> None:
        """Lock a branch's row until the transaction ends, so that a change or a merge
        computed from what is read next can't cross a concurrent one (SQLite already
        queues every writer)."""
        if self._conn.execute(sa.select(B.c.id).where(B.c.name == name)
                              .with_for_update()).first() is None:
            self.get(name)  # raises NotFound with the list of branches

    def _open_branch_id(self, name: str) -> int:
        row = self._conn.execute(sa.select(B.c.id, B.c.status).where(B.c.name == name)
                                 .with_for_update()).one_or_none()
        if row is None:
            self.get(name)  # raises NotFound with the list of branches
        assert row is not None
        if row.status != BranchStatus.OPEN.value:
            raise Conflict(f"branch {name!r} is already merged and takes no more changes "
                           "(fix: create a new branch from the merged version)")
        return int(row.id)
