"""Scenarios and their versions: every import or merge adds a version, none is changed.

A scenario is a name (`europe`); each version is one whole, validated `Scenario`, its
rows spread over the per-section tables of `fabnet.store.schema`. Versions are
numbered 1, 2, 3, … per name, and the newest is what `get(name)` returns.
"""

from __future__ import annotations

import hashlib
import os
import signal
from typing import Any

import sqlalchemy as sa

from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.scenario import Scenario
from fabnet.store.audit import Action
from fabnet.store.errors import NotFound
from fabnet.store.mapping import (
    SECTIONS,
    canonical_json,
    content_sha256,
    hashed_json,
    record_from,
    record_row,
    row_counts,
    section_records,
)
from fabnet.store.records import ScenarioInfo, VersionInfo
from fabnet.store.repository import Repository, as_utc, now
from fabnet.store.schema import SECTION_TABLES, scenario_versions, scenarios

# Test hook: kill this process (SIGKILL, no clean-up) after writing N master-data rows,
# so tests can check that a crash half-way through an import leaves the store as it was.
CRASH_AFTER_ROWS_ENV = "FABNET_TEST_CRASH_AFTER_ROWS"

V, S = scenario_versions, scenarios


class ScenarioRepository(Repository):
    """Named scenarios, each a list of immutable versions."""

    def add_version(self, name: str, sc: Scenario, note: str = "") -> VersionInfo:
        """Store `sc` as the next version of `name` (creating the name if new)."""
        sid = self._scenario_id(name, lock=True)
        if sid is None:
            sid = self._conn.execute(sa.insert(S).values(
                name=name, created_at=now(), created_by=self.actor).returning(S.c.id)
            ).scalar_one()
            self._audit.append(Action.SCENARIO_CREATE, f"scenario:{name}", None, {"name": name})
        version = 1 + (self._conn.execute(sa.select(sa.func.max(V.c.version))
                                          .where(V.c.scenario_id == sid)).scalar() or 0)
        digest = content_sha256(sc)
        h = sc.horizon
        created = now()
        vid = self._conn.execute(sa.insert(V).values(
            scenario_id=sid, version=version, title=sc.name, start=h.start,
            bucket=h.bucket.value, buckets=h.buckets, content_sha256=digest, note=note,
            created_at=created, created_by=self.actor).returning(V.c.id)).scalar_one()
        counts = row_counts(sc)
        self._audit.append(Action.VERSION_ADD, f"scenario:{name}@{version}", None,
                           {"title": sc.name, "horizon": {"start": h.start, "bucket": h.bucket,
                                                          "buckets": h.buckets},
                            "rows": counts, "content_sha256": digest,
                            "sections_sha256": sections_sha256(sc), "note": note})
        self._insert_rows(int(vid), sc)
        return VersionInfo(name, version, sc.name, digest, note, created, self.actor,
                           sum(counts.values()))

    def _insert_rows(self, vid: int, sc: Scenario) -> None:
        crash_after = int(os.environ.get(CRASH_AFTER_ROWS_ENV) or 0)
        written = 0
        for section, table in SECTION_TABLES.items():
            rows = [{"version_id": vid, "seq": i, **record_row(r)}
                    for i, r in enumerate(section_records(sc, section))]
            if not rows:
                continue
            if not crash_after:
                self._conn.execute(sa.insert(table), rows)
                continue
            for row in rows:  # one at a time, so the crash lands mid-import
                self._conn.execute(sa.insert(table), [row])
                written += 1
                if written >= crash_after:
                    os.kill(os.getpid(), signal.SIGKILL)

    def get(self, name: str, version: int | None = None) -> Scenario:
        """Version `version` (default: the newest) of `name`, exactly as it was stored."""
        vid, row = self._version_row(name, version)
        sections: dict[str, Any] = {}
        for section, table in SECTION_TABLES.items():
            rows = self._conn.execute(sa.select(table).where(table.c.version_id == vid)
                                      .order_by(table.c.seq)).mappings()
            sections[section] = tuple(record_from(section, r) for r in rows)
        return Scenario(name=row.title,
                        horizon=Horizon(row.start, BucketKind(row.bucket), row.buckets),
                        **sections)

    def info(self, name: str, version: int | None = None) -> VersionInfo:
        """What is known about a version without reading its rows."""
        _, row = self._version_row(name, version)
        return _info(name, row)

    def version_id(self, name: str, version: int | None = None) -> int:
        """The database id of a version (for rows that refer to it)."""
        return self._version_row(name, version)[0]

    def version_of(self, version_id: int) -> tuple[str, int]:
        """Scenario name and version number of a version id."""
        row = self._conn.execute(sa.select(S.c.name, V.c.version).join(S)
                                 .where(V.c.id == version_id)).one()
        return str(row.name), int(row.version)

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of `name`, oldest first."""
        sid = self._scenario_id(name)
        if sid is None:
            raise self._not_found(name)
        rows = self._conn.execute(sa.select(V).where(V.c.scenario_id == sid)
                                  .order_by(V.c.version))
        return [_info(name, r) for r in rows]

    def all(self) -> list[ScenarioInfo]:
        """Every scenario with its newest version, by name."""
        latest = (sa.select(V.c.scenario_id, sa.func.max(V.c.version).label("latest"),
                            sa.func.count().label("n"))
                  .group_by(V.c.scenario_id).subquery())
        q = (sa.select(S.c.name, latest.c.latest, latest.c.n, V.c.title, V.c.created_at,
                       V.c.created_by)
             .join(latest, latest.c.scenario_id == S.c.id)
             .join(V, (V.c.scenario_id == S.c.id) & (V.c.version == latest.c.latest))
             .order_by(S.c.name))
        return [ScenarioInfo(r.name, int(r.n), int(r.latest), r.title, as_utc(r.created_at),
                             r.created_by) for r in self._conn.execute(q)]

    def _scenario_id(self, name: str, lock: bool = False) -> int | None:
        q = sa.select(S.c.id).where(S.c.name == name)
        if lock:  # serialises version numbering per scenario on PostgreSQL
            q = q.with_for_update()
        sid = self._conn.execute(q).scalar()
        return None if sid is None else int(sid)

    def _version_row(self, name: str, version: int | None) -> tuple[int, Any]:
        sid = self._scenario_id(name)
        if sid is None:
            raise self._not_found(name)
        q = sa.select(V).where(V.c.scenario_id == sid)
        q = q.where(V.c.version == version) if version is not None else \
            q.order_by(V.c.version.desc()).limit(1)
        row = self._conn.execute(q).one_or_none()
        if row is None:
            last = self._conn.execute(sa.select(sa.func.max(V.c.version))
                                      .where(V.c.scenario_id == sid)).scalar()
            raise NotFound(f"scenario {name!r} has no version {version} (fix: use a version "
                           f"from 1 to {last}; `fabnet db list {name}` shows them)")
        return int(row.id), row

    def _not_found(self, name: str) -> NotFound:
        known = [str(n) for n in self._conn.execute(sa.select(S.c.name).order_by(S.c.name))
                 .scalars()]
        hint = f"one of: {', '.join(known[:10])}" if known else "the store is empty"
        return NotFound(f"no scenario {name!r} in the store ({hint}) (fix: import it with "
                        "`fabnet db import FILE --name NAME`, or check `fabnet db list`)")


def sections_sha256(sc: Scenario) -> dict[str, str]:
    """A SHA-256 of each non-empty section's rows (canonical JSON, in stored order), so
    that a check can name the section whose rows changed after the version was stored."""
    return {s: hashlib.sha256(canonical_json([hashed_json(r) for r in section_records(sc, s)])
                              .encode()).hexdigest()
            for s in SECTIONS if section_records(sc, s)}


def _info(name: str, row: Any) -> VersionInfo:
    return VersionInfo(name, int(row.version), row.title, row.content_sha256, row.note,
                       as_utc(row.created_at), row.created_by)

