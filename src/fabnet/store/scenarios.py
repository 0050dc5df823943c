"""Scenarios and their versions: every import or merge adds a version, none is changed.

A scenario is a name (`europe`); each version is one whole, validated `Scenario`, its
rows spread over the per-section tables of `fabnet.store.schema`. Versions are
numbered 1, 2, 3, … per name, and the newest is what `get(name)` returns.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa

from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.scenario import Scenario
from fabnet.store.audit import Action
from fabnet.store.bulk import insert_rows
from fabnet.store.digests import (
    common_ends,
    content_sha256_of,
    join_texts,
    paused_gc,
    sha256_text,
    version_digests,
)
from fabnet.store.errors import NotFound
from fabnet.store.mapping import (
    canonical_json,
    hashed_json,
    record_from,
    record_row,
    row_counts,
    section_records,
)
from fabnet.store.records import ScenarioInfo, SectionRecord, VersionInfo
from fabnet.store.repository import Repository, as_utc, now
from fabnet.store.schema import SECTION_TABLES, scenario_versions, scenarios

V, S = scenario_versions, scenarios


class ScenarioRepository(Repository):
    """Named scenarios, each a list of immutable versions."""

    def add_version(self, name: str, sc: Scenario, note: str = "") -> VersionInfo:
        """Store `sc` as the next version of `name` (creating the name if new).

        Only rows that differ from the newest version are written: the rows it keeps are
        shared (their range grows), the ones it drops are closed at this version, so a
        one-row edit writes one row and closes one, whatever the scenario's size.
        """
        sid = self._scenario_id(name, lock=True)
        created_name = sid is None
        if sid is None:
            sid = self._conn.execute(sa.insert(S).values(
                name=name, created_at=now(), created_by=self.actor).returning(S.c.id)
            ).scalar_one()
        prev = self._conn.execute(sa.select(V).where(V.c.scenario_id == sid)
                                  .order_by(V.c.version.desc()).limit(1)).one_or_none()
        version = 1 if prev is None else int(prev.version) + 1
        digest, sections = version_digests(sc)
        # the rows first: they lock nothing that other scenarios' writers need, and the
        # audit trail's head, which every writer locks, is taken only at the very end
        base = None if prev is None else self._snapshot(int(sid), prev)
        rows = self._write_rows(int(sid), version, sc, base)
        h = sc.horizon
        created = now()
        vid = self._conn.execute(sa.insert(V).values(
            scenario_id=sid, version=version, title=sc.name, start=h.start,
            bucket=h.bucket.value, buckets=h.buckets, content_sha256=digest, note=note,
            created_at=created, created_by=self.actor).returning(V.c.id)).scalar_one()
        counts = row_counts(sc)
        if created_name:
            self._audit.append(Action.SCENARIO_CREATE, f"scenario:{name}", None, {"name": name})
        self._audit.append(Action.VERSION_ADD, f"scenario:{name}@{version}", None,
                           {"title": sc.name, "horizon": {"start": h.start, "bucket": h.bucket,
                                                          "buckets": h.buckets},
                            "rows": counts, "content_sha256": digest,
                            "sections_sha256": sections, "note": note})
        _remember(self._conn, _key(int(vid), created, digest), _Snapshot(sc, rows))
        return VersionInfo(name, version, sc.name, digest, note, created, self.actor,
                           sum(counts.values()))

    def _write_rows(self, sid: int, version: int, sc: Scenario, base: _Snapshot | None
                    ) -> dict[str, list[StoredRow]]:
        """Write the rows of version `version` that `base` (the version before) lacks and
        close the ones it no longer has; the version's rows, in order, with their ids."""
        out: dict[str, list[StoredRow]] = {}
        for section, table in SECTION_TABLES.items():
            records = section_records(sc, section)
            old = [] if base is None else base.rows[section]
            if base is not None and records is section_records(base.scenario, section):
                out[section] = old  # the very same rows: nothing to write
                continue
            # the same record objects at both ends (an edit's version shares them) stay as
            # they are; only the rows between are matched by value
            prev = () if base is None else section_records(base.scenario, section)
            head, tail = common_ends(prev, records)
            mid_old, mid_new = old[head:len(old) - tail], records[head:len(records) - tail]
            plan = plan_rows(mid_old, mid_new, old[head - 1].seq if head else None,
                             old[len(old) - tail].seq if tail else None)
            if plan is None:  # no room between two kept rows: renumber the section
                head = tail = 0
                mid_old, mid_new = old, records
                plan = RowPlan({}, frozenset(), [(i, (i + 1) * SEQ_GAP)
                                                 for i in range(len(records))])
            closing = [r.id for i, r in enumerate(mid_old) if i not in plan.kept]
            for chunk in range(0, len(closing), 500):
                self._conn.execute(sa.update(table).where(
                    table.c.row_id.in_(closing[chunk:chunk + 500])).values(valid_to=version))
            made_rows = _take_prepared(records)
            fresh = [{"scenario_id": sid, "valid_from": version, "valid_to": None, "seq": seq,
                      **(record_row(mid_new[i]) if made_rows is None
                         else made_rows[head + i])} for i, seq in plan.new]
            ids = insert_rows(self._conn, table, fresh)
            made = {i: StoredRow(rid, seq, mid_new[i]) for (i, seq), rid in zip(plan.new, ids,
                                                                          strict=True)}
            out[section] = [*old[:head], *(made[i] if i in made else mid_old[plan.source[i]]
                                           for i in range(len(mid_new))),
                            *old[len(old) - tail:]]
        return out

    def _snapshot(self, sid: int, vrow: Any) -> _Snapshot:
        """A version's scenario and rows: from the cache when this process has them, else
        read (versions never change, so a cached one is as good as a read)."""
        key = _key(int(vrow.id), vrow.created_at, vrow.content_sha256)
        hit = _recall(self._conn, key)
        if hit is not None:
            return hit
        rows: dict[str, list[StoredRow]] = {}
        sections: dict[str, Any] = {}
        with paused_gc():
            for section, table in SECTION_TABLES.items():
                got = self._conn.execute(
                    sa.select(table).where(in_version(table, sid, int(vrow.version)))
                    .order_by(table.c.seq)).mappings().all()
                rows[section] = [StoredRow(int(r["row_id"]), int(r["seq"]), record_from(section, r))
                                 for r in got]
                sections[section] = tuple(r.record for r in rows[section])
        sc = Scenario(name=vrow.title,
                      horizon=Horizon(vrow.start, BucketKind(vrow.bucket), vrow.buckets),
                      **sections)
        snap = _Snapshot(sc, rows)
        _remember(self._conn, key, snap)
        return snap

    def get(self, name: str, version: int | None = None) -> Scenario:
        """Version `version` (default: the newest) of `name`, exactly as it was stored."""
        _, row = self._version_row(name, version)
        return self._snapshot(int(row.scenario_id), row).scenario

    def stored_digests(self) -> Iterator[StoredDigest]:
        """Every version of every scenario re-hashed from the rows the database holds now
        (never from the cache), by name and version: for checking them against the audit
        trail. Each row is decoded and encoded once; a section is re-joined only for the
        versions where its rows change."""
        versions = self._conn.execute(sa.select(S.c.name, V).join(S)
                                      .order_by(S.c.name, V.c.version)).all()
        by_scenario: dict[int, list[Any]] = {}
        for v in versions:
            by_scenario.setdefault(int(v.scenario_id), []).append(v)
        for sid, rows in by_scenario.items():
            yield from self._digests_of(sid, rows)

    def _digests_of(self, sid: int, versions: list[Any]) -> Iterator[StoredDigest]:
        stored: dict[str, list[tuple[int, int | None, str | None, str]]] = {}
        changes: dict[int, set[str]] = {}
        with paused_gc():
            for section, table in SECTION_TABLES.items():
                got = self._conn.execute(sa.select(table).where(table.c.scenario_id == sid)
                                         .order_by(table.c.seq)).mappings()
                out = stored[section] = []
                for r in got:
                    try:
                        text, bad = canonical_json(hashed_json(record_from(section, r))), ""
                    except (ValueError, TypeError, KeyError) as e:
                        text, bad = None, f"{section}: {e}"
                    vf, vt = int(r["valid_from"]), r["valid_to"]
                    out.append((vf, None if vt is None else int(vt), text, bad))
                    changes.setdefault(vf, set()).add(section)
                    if vt is not None:
                        changes.setdefault(int(vt), set()).add(section)
        texts: dict[str, str] = {}
        counts: dict[str, int] = {}
        problems: dict[str, str] = {}
        for v in versions:
            n = int(v.version)
            for section in SECTION_TABLES if not texts else changes.get(n, ()):
                members = [(t, bad) for vf, vt, t, bad in stored[section]
                           if vf <= n and (vt is None or vt > n)]
                counts[section] = len(members)
                problems[section] = next((bad for _, bad in members if bad), "")
                texts[section] = join_texts([t for t, _ in members if t is not None])
            horizon = {"start": as_date(v.start).isoformat(), "bucket": v.bucket,
                       "buckets": int(v.buckets)}
            yield StoredDigest(str(v.name), n, v.title, v.content_sha256, horizon,
                               {s: sha256_text(t) for s, t in texts.items() if counts[s]},
                               dict(texts), next((p for p in problems.values() if p), ""))

    def lock(self, name: str) -> None:
        """Lock a scenario's row until the transaction ends, so that concurrent edits of
        it read what the one before wrote (SQLite already queues every writer)."""
        if self._conn.execute(sa.select(S.c.id).where(S.c.name == name)
                              .with_for_update()).first() is None:
            self.info(name)  # raises NotFound, listing the scenarios

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
    return version_digests(sc)[1]


def in_version(table: sa.Table, sid: int, version: int) -> sa.ColumnElement[bool]:
    """The rows of `table` that version `version` of scenario `sid` holds."""
    return (table.c.scenario_id == sid) & (table.c.valid_from <= version) & (
        table.c.valid_to.is_(None) | (table.c.valid_to > version))


@dataclass(frozen=True)
class StoredDigest:
    """A stored version as its rows hash now: the hash of each non-empty section, and
    what the full content hash needs (`content_digest`); `unreadable` names a row that
    no longer decodes."""

    scenario: str
    version: int
    title: str
    content_sha256: str  # as `scenario_versions` holds it
    horizon: dict[str, Any]
    sections_sha256: dict[str, str]
    texts: dict[str, str]
    unreadable: str = ""

    def content_digest(self) -> str:
        """The content hash of the rows as they are now."""
        return content_sha256_of(self.title, self.horizon, self.texts,
                                 set(self.sections_sha256))


def as_date(v: Any) -> date:
    """A stored date (SQLite may give text)."""
    return v if isinstance(v, date) else date.fromisoformat(str(v))


# ---------------------------------------------------------------- sharing rows


#: room left between the `seq` of consecutive rows, so rows inserted later fit between
SEQ_GAP = 1 << 16


class StoredRow(NamedTuple):
    """One stored row of a version: its id, its place (`seq`) and its record (a tuple:
    an import makes tens of thousands of them)."""

    id: int
    seq: int
    record: SectionRecord


@dataclass(frozen=True)
class RowPlan:
    """How a section's new records are stored against the old version's rows: `source`
    maps a new position to the old row it shares, `kept` holds those old positions, and
    `new` lists (new position, seq) of the rows to write."""

    source: dict[int, int]
    kept: frozenset[int]
    new: list[tuple[int, int]]


def plan_rows(old: list[StoredRow], records: tuple[SectionRecord, ...],
              lo: int | None = None, hi: int | None = None) -> RowPlan | None:
    """Share the longest run of old rows that the new records keep, in the same order
    (an increasing subsequence of their seqs); new or moved records get seqs between
    their kept neighbours (the first and last between `lo` and `hi`, the seqs of the
    rows around this stretch, if any); None where no room is left between two."""
    where: dict[SectionRecord, int] = {}
    for i in range(len(old) - 1, -1, -1):
        where[old[i].record] = i
    matched: list[tuple[int, int]] = []  # (new position, old position)
    taken: set[int] = set()
    for i, rec in enumerate(records):
        j = where.get(rec)
        if j is not None and j not in taken:
            taken.add(j)
            matched.append((i, j))
    source = dict(_increasing(matched))
    new = _place(old, len(records), source, lo, hi)
    return None if new is None else RowPlan(source, frozenset(source.values()), new)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of `pairs` (by first) whose seconds increase (patience
    sorting, O(n log n)); a section whose rows all stay in place is one pass."""
    if all(pairs[k][1] < pairs[k + 1][1] for k in range(len(pairs) - 1)):
        return pairs
    tails: list[int] = []  # old position ending the best chain of each length
    tail_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        n = bisect.bisect_left(tails, j)
        back[k] = tail_at[n - 1] if n else -1
        if n == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[n], tail_at[n] = j, k
    out: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    return out[::-1]


def _place(old: list[StoredRow], n: int, source: dict[int, int], first: int | None,
           last: int | None) -> list[tuple[int, int]] | None:
    """(position, seq) for each new position not in `source`, between the seqs of the kept
    rows around it (`first` and `last` bound the stretch); None when two kept rows leave
    too little room."""
    out: list[tuple[int, int]] = []
    pending: list[int] = []
    lo = first
    for i in range(n + 1):
        if i < n and i not in source:
            pending.append(i)
            continue
        hi = old[source[i]].seq if i < n else last
        k = len(pending)
        if k:
            if lo is None and hi is None:
                seqs = [(m + 1) * SEQ_GAP for m in range(k)]
            elif hi is None:
                assert lo is not None
                seqs = [lo + (m + 1) * SEQ_GAP for m in range(k)]
            elif lo is None:
                seqs = [hi - (k - m) * SEQ_GAP for m in range(k)]
            elif hi - lo > k:
                seqs = [lo + (hi - lo) * (m + 1) // (k + 1) for m in range(k)]
            else:
                return None
            out += zip(pending, seqs, strict=True)
            pending = []
        lo = hi
    return out


# ---------------------------------------------------------------- rows made ahead


#: the table rows of large sections, made before their write transaction (by id of the
#: section's tuple, which is held so the id stays its own); taken once written
_prepared: OrderedDict[int, tuple[tuple[SectionRecord, ...], list[dict[str, Any]]]] = \
    OrderedDict()
_PREPARED_SECTIONS = 32
_PREPARE_FROM = 64


def prepare_rows(sc: Scenario) -> None:
    """Make the table rows of `sc`'s large sections now, outside any transaction (they are
    plain values), so that storing it as a version only sends them: the import's write
    transaction, and the lock SQLite's writers queue on, is that much shorter."""
    for section in SECTION_TABLES:
        records = section_records(sc, section)
        if len(records) >= _PREPARE_FROM:
            rows = [record_row(r) for r in records]
            with _cache_lock:
                _prepared[id(records)] = (records, rows)
                while len(_prepared) > _PREPARED_SECTIONS:
                    _prepared.popitem(last=False)


def _take_prepared(records: tuple[SectionRecord, ...]) -> list[dict[str, Any]] | None:
    with _cache_lock:
        hit = _prepared.pop(id(records), None)
    return hit[1] if hit is not None and hit[0] is records else None


# ---------------------------------------------------------------- the version cache


@dataclass(frozen=True)
class _Snapshot:
    scenario: Scenario
    rows: dict[str, list[StoredRow]]


#: versions read or written lately through each engine, by (version id, stored at,
#: content hash): versions never change, and a version rolled back with its transaction
#: can't come back with the same id, time and hash, so a hit is what a read would give.
#: Rows edited behind fabnet's back show through a new engine (and `stored_digests`).
_CACHE_SIZE = 6
_caches: weakref.WeakKeyDictionary[sa.Engine, OrderedDict[tuple[int, str, str], _Snapshot]] \
    = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _key(vid: int, created_at: Any, digest: str) -> tuple[int, str, str]:
    return vid, as_utc(created_at).isoformat(), str(digest)


def _recall(conn: sa.Connection, key: tuple[int, str, str]) -> _Snapshot | None:
    with _cache_lock:
        cache = _caches.get(conn.engine)
        snap = None if cache is None else cache.get(key)
        if cache is not None and snap is not None:
            cache.move_to_end(key)
        return snap


def _remember(conn: sa.Connection, key: tuple[int, str, str], snap: _Snapshot) -> None:
    with _cache_lock:
        cache = _caches.setdefault(conn.engine, OrderedDict())
        cache[key] = snap
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def _info(name: str, row: Any) -> VersionInfo:
    return VersionInfo(name, int(row.version), row.title, row.content_sha256, row.note,
                       as_utc(row.created_at), row.created_by)
