"""The tamper-evident audit trail: every change, appended in the transaction that makes it.

Entries form a hash chain, as in a ledger: each entry's hash is
`sha256(prev_hash + canonical JSON of {at, actor, action, entity, before, after})`,
and `prev_hash` is the hash of the entry before (64 zeros for the first). Editing an
entry breaks its own hash; deleting, inserting or re-ordering entries breaks the link
to the next. A one-row head (count and last hash), updated in the same transaction,
makes a cut-off tail visible too, and serialises concurrent writers. Someone who can
rewrite the whole table and its head can rewrite history: keep a copy of the head
elsewhere (`fabnet audit verify` prints it) to catch that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from fabnet.store.errors import StoreError
from fabnet.store.mapping import canonical_json
from fabnet.store.records import AuditEntry
from fabnet.store.schema import audit, audit_head

GENESIS = "0" * 64


class Action(StrEnum):
    """What an audit entry records."""

    SCENARIO_CREATE = "scenario.create"
    VERSION_ADD = "scenario.version.add"
    BRANCH_CREATE = "branch.create"
    BRANCH_CHANGE = "branch.change"
    BRANCH_MERGE = "branch.merge"
    PLAN_RUN_ADD = "plan_run.add"
    JOB_CREATE = "job.create"
    JOB_FINISH = "job.finish"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_LOCK = "user.lock"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"


def entry_hash(prev_hash: str, at: str, actor: str, action: str, entity: str,
               before: Any, after: Any) -> str:
    """The hash of an entry chained to `prev_hash`."""
    body = canonical_json({"at": at, "actor": actor, "action": action, "entity": entity,
                           "before": before, "after": after})
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


class AuditLog:
    """Appends entries on the unit of work's connection, so they commit or roll back
    together with the change they describe."""

    def __init__(self, conn: sa.Connection, actor: str) -> None:
        self._conn = conn
        self.actor = actor

    def append(self, action: Action, entity: str, before: Any = None,
               after: Any = None) -> AuditEntry:
        """Chain one entry onto the trail; locks the head until the transaction ends."""
        head = self._conn.execute(
            sa.update(audit_head).where(audit_head.c.id == 1)
            .values(seq=audit_head.c.seq + 1)
            .returning(audit_head.c.seq, audit_head.c.hash)).one_or_none()
        if head is None:
            raise StoreError("the audit head row is missing: the audit trail was tampered with "
                             "(fix: restore the database from a backup; see fabnet audit verify)")
        seq, prev = int(head.seq), str(head.hash)
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        before_j = None if before is None else json.loads(canonical_json(before))
        after_j = None if after is None else json.loads(canonical_json(after))
        h = entry_hash(prev, at, self.actor, action.value, entity, before_j, after_j)
        self._conn.execute(sa.insert(audit).values(
            seq=seq, at=at, actor=self.actor, action=action.value, entity=entity,
            before=None if before_j is None else canonical_json(before_j),
            after=None if after_j is None else canonical_json(after_j),
            prev_hash=prev, hash=h))
        self._conn.execute(sa.update(audit_head).where(audit_head.c.id == 1).values(hash=h))
        return AuditEntry(seq, at, self.actor, action.value, entity, before_j, after_j, prev, h)


def read_entries(conn: sa.Connection, since: int = 0, limit: int | None = None
                 ) -> Iterator[AuditEntry]:
    """Entries in chain order (by seq), from `since` + 1."""
    q = (sa.select(audit).where(audit.c.seq > since).order_by(audit.c.seq)
         .execution_options(yield_per=1000))
    if limit is not None:
        q = q.limit(limit)
    for r in conn.execute(q):
        yield AuditEntry(int(r.seq), r.at, r.actor, r.action, r.entity,
                         None if r.before is None else json.loads(r.before),
                         None if r.after is None else json.loads(r.after),
                         r.prev_hash, r.hash)


def read_head(conn: sa.Connection) -> tuple[int, str] | None:
    """The head's entry count and last hash (None if the head row is gone)."""
    r = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)
                     .where(audit_head.c.id == 1)).one_or_none()
    return None if r is None else (int(r.seq), str(r.hash))


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the chain: how many entries are sound, and the first bad one."""

    entries: int
    head_hash: str
    bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when every entry, every link and the head check out."""
        return self.bad_seq is None and not self.problem


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, str] | None) -> ChainReport:
    """Recompute every hash and link in order; report the first entry that does not hold."""
    prev, expected = GENESIS, 1
    for e in entries:
        if e.seq != expected:
            gap = (f"entry {expected} is missing" if e.seq > expected
                   else f"entry {e.seq} appears twice")
            return ChainReport(expected - 1, prev, expected,
                               f"{gap} (deleted or renumbered); the chain breaks before "
                               f"entry {e.seq}")
        own = entry_hash(e.prev_hash, e.at, e.actor, e.action, e.entity, e.before, e.after)
        if own != e.hash:
            return ChainReport(expected - 1, prev, e.seq,
                               f"entry {e.seq} ({e.action} {e.entity} by {e.actor} at {e.at}) "
                               "was edited: its content does not match its hash")
        if e.prev_hash != prev:
            return ChainReport(expected - 1, prev, e.seq,
                               f"entry {e.seq} ({e.action} {e.entity}) does not follow entry "
                               f"{e.seq - 1}: entries were deleted, inserted or re-ordered")
        prev, expected = e.hash, expected + 1
    n = expected - 1
    if head is None:
        return ChainReport(n, prev, None, "the audit head row is missing")
    if head[0] > n:
        return ChainReport(n, prev, n + 1,
                           f"entry {n + 1} is missing: the head says {head[0]} entries but the "
                           f"chain ends at entry {n} (entries were deleted from the end)")
    if head[0] < n:
        return ChainReport(n, prev, head[0] + 1,
                           f"entry {head[0] + 1} is not counted by the head ({head[0]} entries):"
                           " entries were added outside fabnet or the head was changed")
    if head[1] != prev:
        return ChainReport(n, prev, n or None,
                           f"the head's hash does not match entry {n}: the last entry or the "
                           "head was changed")
    return ChainReport(n, prev)
