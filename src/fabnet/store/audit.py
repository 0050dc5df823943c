"""The tamper-evident audit trail: every change, appended in the transaction that makes it.

Entries form a hash chain, as in a ledger: each entry's hash is
`sha256(prev_hash + canonical JSON of {at, actor, action, entity, before, after})`,
and `prev_hash` is the hash of the entry before (64 zeros for the first). Editing an
entry breaks its own hash; deleting, inserting or re-ordering entries breaks the link
to the next. A one-row head (count and last hash), updated in the same transaction,
makes a cut-off tail visible too, and serialises concurrent writers.

Plain hashes can be recomputed by anyone who can write the database, so each entry
and the head also carry an HMAC-SHA256 made with a key kept outside the database
(`fabnet.store.audit_keys`): a rewritten, re-chained or appended entry, or a head moved
back over a cut-off tail, no longer carries a MAC that checks. Restoring an old copy of
the whole database keeps valid MACs; a checkpoint kept elsewhere catches that.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from fabnet.store.audit_keys import Keyring, load_keyring
from fabnet.store.errors import StoreError
from fabnet.store.mapping import canonical_json
from fabnet.store.records import AuditEntry
from fabnet.store.schema import audit, audit_head

GENESIS = "0" * 64
#: what each MAC is for, so a MAC of one kind never passes for another
ENTRY_MAC, HEAD_MAC, CHECKPOINT_MAC = "fabnet-audit-entry", "fabnet-audit-head", \
    "fabnet-audit-checkpoint"


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
    AUDIT_KEY_CREATE = "audit.key.create"
    AUDIT_KEY_ROTATE = "audit.key.rotate"
    # the floor (revision 0006)
    WORK_ORDER_RELEASE = "floor.work_order.release"
    LOT_RECEIVE = "floor.lot.receive"
    BUILD = "floor.build"
    TEST_RECORD = "floor.test"
    HOLD_PLACE = "floor.hold"
    HOLD_RELEASE = "floor.hold.release"
    SHIP = "floor.ship"
    TRANSFER = "floor.transfer"
    REPAIR_OPEN = "floor.repair.open"
    PART_SWAP = "floor.repair.swap"
    SERVICE_RECORD = "floor.service"
    QUALIFY = "floor.qualify"
    REPAIR_CLOSE = "floor.repair.close"
    QUALIFICATION_RULE = "floor.qualification.rule"
    LINE_DOWN = "floor.line_down"
    # design changes (revision 0010)
    ECO_CREATE = "eco.create"
    ECO_SUBMIT = "eco.submit"
    ECO_RELEASE = "eco.release"
    ECO_REJECT = "eco.reject"
    ECO_REFUSED = "eco.refused"
    ECO_RETROFIT = "eco.retrofit"
    # export licences (revision 0011) and refused shipments
    SHIP_REFUSED = "floor.ship.refused"
    LICENCE_ADD = "licence.add"
    LICENCE_CHANGE = "licence.change"
    LICENCE_DRAW = "licence.draw"
    # purchase orders (revision 0012)
    PO_RELEASE = "floor.po.release"
    PO_RECEIVE = "floor.po.receive"
    PO_CANCEL = "floor.po.cancel"
    # transfers between sites (revision 0016): sent with TRANSFER, then booked in
    TRANSFER_ARRIVE = "floor.transfer.arrive"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"{text} is out of range for a JSON number")
    return v


def strict_loads(text: str | bytes) -> Any:
    """Parse JSON the trail or a version stores, refusing duplicate keys and numbers that
    are not finite: two texts that read the same must hash the same."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                      parse_float=_finite)


def entry_hash(prev_hash: str, at: str, actor: str, action: str, entity: str,
               before: Any, after: Any) -> str:
    """The hash of an entry chained to `prev_hash` (canonical JSON, UTF-8)."""
    body = canonical_json({"at": at, "actor": actor, "action": action, "entity": entity,
                           "before": before, "after": after})
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def mac_body(seq: int, hash_: str, kid: str) -> str:
    """What an entry's (or the head's) MAC covers: its number, its hash, its key."""
    return canonical_json({"seq": seq, "hash": hash_, "key_id": kid})


class AuditLog:
    """Appends entries on the unit of work's connection, so they commit or roll back
    together with the change they describe; signs them when the store has a key."""

    def __init__(self, conn: sa.Connection, actor: str, keys: Keyring | None = None) -> None:
        self._conn = conn
        self.actor = actor
        self.keys = keys

    def append(self, action: Action, entity: str, before: Any = None,
               after: Any = None) -> AuditEntry:
        """Chain one entry onto the trail; locks the head until the transaction ends."""
        head = self._conn.execute(
            sa.update(audit_head).where(audit_head.c.id == 1)
            .values(seq=audit_head.c.seq + 1)
            .returning(audit_head.c.seq, audit_head.c.hash, audit_head.c.key_id)
        ).one_or_none()
        if head is None:
            raise StoreError("the audit head row is missing: the audit trail was tampered with "
                             "(fix: restore the database from a backup; see fabnet audit verify)")
        seq, prev = int(head.seq), str(head.hash)
        kid = self._signing_key(head.key_id, action)
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        before_j = None if before is None else json.loads(canonical_json(before))
        after_j = None if after is None else json.loads(canonical_json(after))
        h = entry_hash(prev, at, self.actor, action.value, entity, before_j, after_j)
        mac = head_mac = None
        if self.keys is not None and kid is not None:
            _, mac = self.keys.sign(ENTRY_MAC, mac_body(seq, h, kid), kid)
            _, head_mac = self.keys.sign(HEAD_MAC, mac_body(seq, h, kid), kid)
        self._conn.execute(sa.insert(audit).values(
            seq=seq, at=at, actor=self.actor, action=action.value, entity=entity,
            before=None if before_j is None else canonical_json(before_j),
            after=None if after_j is None else canonical_json(after_j),
            prev_hash=prev, hash=h, key_id=kid, mac=mac))
        self._conn.execute(sa.update(audit_head).where(audit_head.c.id == 1)
                           .values(hash=h, key_id=kid, mac=head_mac))
        return AuditEntry(seq, at, self.actor, action.value, entity, before_j, after_j, prev, h)

    def page(self, limit: int, offset: int = 0, actor: str | None = None,
             action: str | None = None, entity: str | None = None
             ) -> tuple[list[AuditEntry], int]:
        """Entries in chain order, optionally of one actor or action, or of entities
        starting with `entity` (e.g. `scenario:europe`): `limit` of them from `offset`,
        and how many match in all."""
        q = sa.select(audit)
        if actor is not None:
            q = q.where(audit.c.actor == actor)
        if action is not None:
            q = q.where(audit.c.action == action)
        if entity is not None:
            q = q.where(sa.func.substr(audit.c.entity, 1, len(entity)) == entity)
        rows = self._conn.execute(q.order_by(audit.c.seq).limit(limit).offset(offset)).all()
        entries = [AuditEntry(int(r.seq), r.at, r.actor, r.action, r.entity,
                              None if r.before is None else json.loads(r.before),
                              None if r.after is None else json.loads(r.after),
                              r.prev_hash, r.hash) for r in rows]
        count = self._conn.execute(sa.select(sa.func.count()).select_from(q.subquery()))
        return entries, int(count.scalar_one())

    def _signing_key(self, head_kid: str | None, action: Action) -> str | None:
        """The key to sign with; None for a store that is not signed (yet)."""
        if self.keys is None:
            if head_kid is not None:
                raise StoreError("this store signs its audit trail, and no audit key file was "
                                 "given (fix: name it with FABNET_AUDIT_KEY_FILE, or restore it "
                                 "beside the database)")
            return None
        if head_kid is None and action is not Action.AUDIT_KEY_CREATE:
            raise StoreError(f"{self.keys.path}: this store's audit trail is not signed with "
                             "this key yet (fix: run `fabnet db init` to start signing it)")
        if head_kid is not None and self.keys.order(head_kid) < 0:
            self.keys = load_keyring(self.keys.path)  # rotated since we loaded it?
            if self.keys.order(head_kid) < 0:
                raise StoreError(f"{self.keys.path}: the store's last audit entry is signed "
                                 f"with key {head_kid}, which this key file does not hold "
                                 "(fix: use the store's own key file)")
        return self.keys.current


def sign_empty_head(conn: sa.Connection, keys: Keyring) -> bool:
    """Sign the head of a trail with no entries yet, so that its first entry is signed
    too; False (nothing done) when the trail already has entries or is signed."""
    kid = keys.current
    _, head_mac = keys.sign(HEAD_MAC, mac_body(0, GENESIS, kid), kid)
    done = conn.execute(sa.update(audit_head)
                        .where(audit_head.c.id == 1, audit_head.c.seq == 0,
                               audit_head.c.key_id.is_(None))
                        .values(hash=GENESIS, key_id=kid, mac=head_mac))
    return done.rowcount == 1


@dataclass(frozen=True)
class StoredEntry(AuditEntry):
    """An entry as the database holds it: with its MAC, its key and its JSON as text."""

    key_id: str | None = None
    mac: str | None = None
    before_text: str | None = None
    after_text: str | None = None
    unreadable: str = ""


@dataclass(frozen=True)
class Head:
    """The head row: entry count, last hash, and its MAC."""

    seq: int
    hash: str
    key_id: str | None = None
    mac: str | None = None


def _parsed(text: str | None) -> tuple[Any, str]:
    if text is None:
        return None, ""
    try:
        return strict_loads(text), ""
    except ValueError as e:
        return None, str(e)


def read_stored(conn: sa.Connection, since: int = 0, limit: int | None = None
                ) -> Iterator[StoredEntry]:
    """Entries in chain order (by seq), from `since` + 1, as stored, for verification."""
    q = (sa.select(audit).where(audit.c.seq > since).order_by(audit.c.seq)
         .execution_options(yield_per=1000))
    if limit is not None:
        q = q.limit(limit)
    for r in conn.execute(q):
        before, bad_b = _parsed(r.before)
        after, bad_a = _parsed(r.after)
        bad = f"before: {bad_b}" if bad_b else f"after: {bad_a}" if bad_a else ""
        yield StoredEntry(int(r.seq), r.at, r.actor, r.action, r.entity, before, after,
                          r.prev_hash, r.hash, r.key_id, r.mac, r.before, r.after, bad)


def read_entries(conn: sa.Connection, since: int = 0, limit: int | None = None
                 ) -> Iterator[AuditEntry]:
    """Entries in chain order (by seq), from `since` + 1."""
    for e in read_stored(conn, since, limit):
        if e.unreadable:
            raise StoreError(f"audit entry {e.seq}: its stored JSON is not valid "
                             f"({e.unreadable}): it was edited outside fabnet (fix: restore "
                             "the database from a backup; see fabnet audit verify)")
        yield AuditEntry(e.seq, e.at, e.actor, e.action, e.entity, e.before, e.after,
                         e.prev_hash, e.hash)


def read_head(conn: sa.Connection) -> tuple[int, str] | None:
    """The head's entry count and last hash (None if the head row is gone)."""
    h = read_signed_head(conn)
    return None if h is None else (h.seq, h.hash)


def read_signed_head(conn: sa.Connection) -> Head | None:
    """The head row with its MAC (None if the head row is gone)."""
    r = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).one_or_none()
    return None if r is None else Head(int(r.seq), str(r.hash), r.key_id, r.mac)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the chain: how many entries are sound, and the first bad one."""

    entries: int
    head_hash: str
    bad_seq: int | None = None
    problem: str = ""
    #: entries whose MAC was checked (0: the trail is not signed, or no key was given)
    signed: int = 0

    @property
    def ok(self) -> bool:
        """True when every entry, every link and the head check out."""
        return self.bad_seq is None and not self.problem


def _describe(e: AuditEntry) -> str:
    return f"entry {e.seq} ({e.action} {e.entity} by {e.actor} at {e.at})"


class _MacCheck:
    """The signature rules, entry by entry: once the trail is signed, every entry is;
    keys change only at a rotation entry, and never go back to an older key."""

    def __init__(self, keys: Keyring | None) -> None:
        self.keys = keys
        self.signed = 0
        self.unchecked = 0
        self.order = -1

    def problem(self, e: AuditEntry) -> str:
        kid, mac = getattr(e, "key_id", None), getattr(e, "mac", None)
        if self.keys is None:
            self.unchecked += mac is not None
            return ""
        if mac is None or kid is None:
            if self.signed:
                return (f"{_describe(e)} is not signed: it was added or rewritten outside "
                        "fabnet")
            return ""
        order = self.keys.order(kid)
        if order < 0:
            return (f"{_describe(e)} is signed with key {kid}, which the key file "
                    f"{self.keys.path} does not hold: it was forged, or this is not the "
                    "store's key file")
        if not self.keys.check(ENTRY_MAC, mac_body(e.seq, e.hash, kid), kid, mac):
            return (f"{_describe(e)} was rewritten outside fabnet: its MAC does not match "
                    "(its hash was recomputed without the key)")
        if not self.signed and e.seq > 1 and e.action != Action.AUDIT_KEY_CREATE:
            return (f"{_describe(e)} is the first signed entry but does not start the "
                    "signing (audit.key.create): entries before it were replaced")
        if order < self.order:
            return f"{_describe(e)} is signed with an older key than the entry before it"
        if self.signed and order > self.order and e.action != Action.AUDIT_KEY_ROTATE:
            return (f"{_describe(e)} changes the signing key without a key rotation "
                    "entry")
        self.signed += 1
        self.order = order
        return ""


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, str] | Head | None,
                 keys: Keyring | None = None) -> ChainReport:
    """Recompute every hash, link and MAC (with `keys`) in order; report the first entry
    that does not hold."""
    prev, expected = GENESIS, 1
    macs = _MacCheck(keys)
    for e in entries:
        n = expected - 1
        if e.seq != expected:
            gap = (f"entry {expected} is missing" if e.seq > expected
                   else f"entry {e.seq} appears twice")
            return ChainReport(n, prev, expected,
                               f"{gap} (deleted or renumbered); the chain breaks before "
                               f"entry {e.seq}", macs.signed)
        bad = _text_problem(e)
        if bad:
            return ChainReport(n, prev, e.seq, bad, macs.signed)
        own = entry_hash(e.prev_hash, e.at, e.actor, e.action, e.entity, e.before, e.after)
        if own != e.hash:
            return ChainReport(n, prev, e.seq,
                               f"{_describe(e)} was edited: its content does not match its "
                               "hash", macs.signed)
        if e.prev_hash != prev:
            return ChainReport(n, prev, e.seq,
                               f"entry {e.seq} ({e.action} {e.entity}) does not follow entry "
                               f"{e.seq - 1}: entries were deleted, inserted or re-ordered",
                               macs.signed)
        bad = macs.problem(e)
        if bad:
            return ChainReport(n, prev, e.seq, bad, macs.signed)
        prev, expected = e.hash, expected + 1
    n = expected - 1
    return _check_head(n, prev, head if isinstance(head, Head) or head is None
                       else Head(*head), macs)


def _text_problem(e: AuditEntry) -> str:
    """Stored JSON must parse strictly and be exactly the canonical text of its value."""
    if not isinstance(e, StoredEntry):
        return ""
    if e.unreadable:
        return f"{_describe(e)} was edited: its stored JSON is not valid ({e.unreadable})"
    for name, text, value in (("before", e.before_text, e.before),
                              ("after", e.after_text, e.after)):
        if text is not None and text != canonical_json(value):
            return (f"{_describe(e)} was edited: its stored {name} is not the canonical "
                    "JSON fabnet writes")
    return ""


def _check_head(n: int, prev: str, head: Head | None, macs: _MacCheck) -> ChainReport:
    signed = macs.signed
    if head is None:
        return ChainReport(n, prev, None, "the audit head row is missing", signed)
    if head.seq > n:
        return ChainReport(n, prev, n + 1,
                           f"entry {n + 1} is missing: the head says {head.seq} entries but "
                           f"the chain ends at entry {n} (entries were deleted from the end)",
                           signed)
    if head.seq < n:
        return ChainReport(n, prev, head.seq + 1,
                           f"entry {head.seq + 1} is not counted by the head ({head.seq} "
                           "entries): entries were added outside fabnet or the head was "
                           "changed", signed)
    if head.hash != prev:
        return ChainReport(n, prev, n or None,
                           f"the head's hash does not match entry {n}: the last entry or the "
                           "head was changed", signed)
    keys = macs.keys
    if keys is None:
        if macs.unchecked or head.mac is not None:
            return ChainReport(n, prev, None, "the trail is signed, and no audit key file "
                               "was given to check it (fix: name the store's key file with "
                               "FABNET_AUDIT_KEY_FILE)", signed)
        return ChainReport(n, prev, signed=signed)
    if not signed and n:
        return ChainReport(n, prev, 1,
                           "no entry carries a MAC although this store has an audit key: "
                           "the signed entries were removed or rewritten, or this is another "
                           "store (fix: restore the database from a backup; a store that was "
                           "never signed starts signing with `fabnet db init`)", signed)
    if head.mac is None or head.key_id is None or not keys.check(
            HEAD_MAC, mac_body(head.seq, head.hash, head.key_id), head.key_id, head.mac):
        return ChainReport(n, prev, n + 1,
                           f"the head was moved outside fabnet (its MAC does not match): "
                           f"entries after entry {n} were cut off, or the head was forged",
                           signed)
    return ChainReport(n, prev, signed=signed)
