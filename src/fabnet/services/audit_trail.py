"""Keeping the audit trail honest: its key, checkpoints kept elsewhere, and a check of
the whole store against it.

The trail's entries are hash-chained and signed (HMAC-SHA256) with a key kept outside
the database (`fabnet.store.audit_keys`). `verify_trail` recomputes every hash and MAC,
compares the trail with the latest checkpoint the user kept (so a cut-off tail or an
older copy of the database shows), re-hashes every stored scenario version against its
recorded content hash, and replays the user entries against the users table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fabnet.model.errors import FabnetError
from fabnet.store import ChainReport, Store, display_url, make_engine
from fabnet.store.audit import (
    CHECKPOINT_MAC,
    Action,
    StoredEntry,
    read_entries,
    read_signed_head,
    read_stored,
    sign_empty_head,
    strict_loads,
    verify_chain,
)
from fabnet.store.audit_keys import (
    AuditKeyError,
    Keyring,
    create_keyring,
    load_keyring,
    rotate_keyring,
)
from fabnet.store.mapping import canonical_json
from fabnet.store.records import AuditEntry
from fabnet.store.schema import users
from fabnet.store.unit_of_work import UnitOfWork

KEY_FILE_ENV = "FABNET_AUDIT_KEY_FILE"
KEY_SUFFIX = ".audit-key"
CHECKPOINT_FORMAT = 1

# ---------------------------------------------------------------- the key


def audit_key_path(url: str, explicit: str | Path | None = None,
                   env: Mapping[str, str] | None = None) -> Path | None:
    """Where the store's audit key file is: `explicit`, else `FABNET_AUDIT_KEY_FILE`, else
    beside a SQLite file (`fabnet.sqlite.audit-key`); None for a server database with
    neither (its trail is then not signed)."""
    env = os.environ if env is None else env
    given = explicit or env.get(KEY_FILE_ENV)
    if given:
        return Path(given).expanduser()
    u = sa.make_url(url)
    db = u.database
    if u.get_backend_name() == "sqlite" and db not in (None, "", ":memory:") \
            and not db.startswith("file:"):
        return Path(db + KEY_SUFFIX)
    return None


def open_keys(url: str, explicit: str | Path | None = None) -> Keyring | None:
    """The store's keyring if its key file exists (None: not there, or no path known)."""
    path = audit_key_path(url, explicit)
    if path is None or not path.exists():
        return None
    return load_keyring(path)


def start_signing(url: str, explicit: str | Path | None = None) -> Path | None:
    """Make sure the store at `url` signs its trail: create the key file (mode 0600) if
    there is none, and sign the trail with an `audit.key.create` entry if it is not yet.
    A store that is already signed needs its key file; returns the key file's path."""
    path = audit_key_path(url, explicit)
    if path is None:
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            head = read_signed_head(conn)
        if head is not None and head.key_id is not None:
            keys = load_keyring(path)  # raises, naming the file, if it is missing
            if keys.order(head.key_id) < 0:
                raise AuditKeyError(f"{path}: does not hold the key {head.key_id} this "
                                    "store's audit trail is signed with (fix: use the "
                                    "store's own key file)")
            return path
        keys = load_keyring(path) if path.exists() else create_keyring(path)
        with UnitOfWork(engine, "fabnet", audit_keys=keys) as uow:
            # an empty trail: sign its head; one with older, unsigned entries: a signed
            # entry that vouches for the chain before it
            if not sign_empty_head(uow.connection, keys):
                uow.audit.append(Action.AUDIT_KEY_CREATE, "audit:key", None,
                                 {"key_id": keys.current})
            uow.commit()
        return path
    finally:
        engine.dispose()


def rotate_audit_key(store: Store) -> tuple[Store, str, str]:
    """Add a new key to the store's key file, make it the one that signs, and record the
    rotation as a signed entry; (the store signing with the new key, old id, new id).
    Old keys stay in the file, so entries signed with them still verify."""
    if store.audit_keys is None:
        raise AuditKeyError("this store has no audit key file to rotate (fix: create one "
                            "with `fabnet db init`, or name it with FABNET_AUDIT_KEY_FILE)")
    keys, old = rotate_keyring(store.audit_keys.path)
    signed = Store(store.engine, store.actor, keys)
    with signed.unit_of_work() as uow:
        uow.audit.append(Action.AUDIT_KEY_ROTATE, "audit:key", {"key_id": old},
                         {"key_id": keys.current})
        uow.commit()
    return signed, old, keys.current


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """Where the trail stood at a moment: its last entry, that entry's hash, the count."""

    seq: int
    hash: str
    count: int
    at: str
    store: str
    key_id: str | None = None
    mac: str | None = None

    def body(self) -> str:
        """The canonical JSON the MAC covers (everything but the MAC)."""
        return canonical_json({"fabnet_audit_checkpoint": CHECKPOINT_FORMAT, "seq": self.seq,
                               "hash": self.hash, "count": self.count, "at": self.at,
                               "store": self.store, "key_id": self.key_id})


def audit_checkpoint(store: Store, path: str | Path) -> Checkpoint:
    """Check the trail, then write a signed checkpoint of it to `path` (a file to keep
    away from the database); refuses to checkpoint a trail that does not verify."""
    path = Path(path)
    report = verify_trail(store)
    if not report.ok:
        raise FabnetError(f"the audit trail does not verify, so no checkpoint was written: "
                          f"{report.problem} (fix: restore the database from a backup)")
    cp = Checkpoint(report.entries, report.head_hash, report.entries,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    display_url(store.engine.url))
    if store.audit_keys is not None:
        cp = replace(cp, key_id=store.audit_keys.current)
        cp = replace(cp, mac=store.audit_keys.sign(CHECKPOINT_MAC, cp.body())[1])
    doc = {**strict_loads(cp.body()), "mac": cp.mac}
    try:
        path.write_text(canonical_json(doc) + "\n", encoding="utf-8")
    except OSError as e:
        raise FabnetError(f"{path}: cannot write the checkpoint: {e.strerror} (fix: choose "
                          "a folder you can write)") from None
    return cp


def read_checkpoint(path: str | Path, keys: Keyring | None) -> Checkpoint:
    """A checkpoint file, its MAC checked with `keys`."""
    path = Path(path)
    try:
        doc: Any = strict_loads(path.read_text(encoding="utf-8"))
        if doc.get("fabnet_audit_checkpoint") != CHECKPOINT_FORMAT:
            raise ValueError("not a fabnet audit checkpoint")
        cp = Checkpoint(int(doc["seq"]), str(doc["hash"]), int(doc["count"]), str(doc["at"]),
                        str(doc["store"]), doc.get("key_id"), doc.get("mac"))
    except (OSError, UnicodeDecodeError) as e:
        raise FabnetError(f"{path}: cannot read the checkpoint: {e} (fix: give the file "
                          "`fabnet audit checkpoint --to` wrote)") from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise FabnetError(f"{path}: not a fabnet audit checkpoint ({e}) (fix: give the file "
                          "`fabnet audit checkpoint --to` wrote)") from None
    if cp.mac is not None:
        if keys is None or cp.key_id is None:
            raise FabnetError(f"{path}: the checkpoint is signed, and no audit key file was "
                              f"given to check it (fix: name it with {KEY_FILE_ENV})")
        if not keys.check(CHECKPOINT_MAC, cp.body(), cp.key_id, cp.mac):
            raise FabnetError(f"{path}: the checkpoint was altered, or it belongs to another "
                              "store (its MAC does not match) (fix: use a checkpoint you "
                              "kept, written by `fabnet audit checkpoint`)")
    return cp


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class TrailReport(ChainReport):
    """The chain's report, and every problem found in the chain, against the checkpoint,
    in the stored versions and in the users table (the first one is `problem`)."""

    problems: tuple[str, ...] = ()
    versions: int = 0
    users: int = 0
    checkpoint: Checkpoint | None = field(default=None)


@dataclass(frozen=True)
class _Problem:
    seq: int | None
    text: str


def verify_trail(store: Store, checkpoint: str | Path | None = None) -> TrailReport:
    """Check the trail (hashes, links, MACs, head), the checkpoint if given, every stored
    version against its content hash and its audit entry, and every user against the
    replayed user entries; the first problem names the entry or row."""
    cp = None if checkpoint is None else read_checkpoint(checkpoint, store.audit_keys)
    with store.unit_of_work(read_only=True) as uow:
        entries = list(read_stored(uow.connection))
        chain = verify_chain(entries, read_signed_head(uow.connection), store.audit_keys)
        problems: list[_Problem] = []
        if cp is not None:
            problems += _against_checkpoint(entries, cp, str(checkpoint))
        sound = entries[:chain.entries]
        v_problems, n_versions = _check_versions(uow, sound)
        u_problems, n_users = _check_users(uow.connection, sound)
    problems += v_problems + u_problems
    problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    if chain.problem:  # a break in the chain comes first: what follows it is suspect
        problems.insert(0, _Problem(chain.bad_seq, chain.problem))
    first = problems[0] if problems else None
    return TrailReport(chain.entries, chain.head_hash,
                       first.seq if first else None, first.text if first else "",
                       chain.signed, tuple(p.text for p in problems), n_versions, n_users, cp)


def _against_checkpoint(entries: list[StoredEntry], cp: Checkpoint, name: str
                        ) -> list[_Problem]:
    n = len(entries)
    if cp.count > n or cp.seq > n:
        return [_Problem(n + 1, f"entries {n + 1} to {cp.count} are gone: the checkpoint "
                         f"{name} of {cp.at} counted {cp.count} entries and the trail now "
                         f"ends at entry {n} (cut off, or an older copy of the database was "
                         "restored)")]
    e = entries[cp.seq - 1] if cp.seq else None
    if e is not None and (e.seq != cp.seq or e.hash != cp.hash):
        return [_Problem(cp.seq, f"entry {cp.seq} is not the entry the checkpoint {name} of "
                         f"{cp.at} recorded: the history up to it was rewritten")]
    return []


def _latest(entries: list[StoredEntry], actions: set[str], prefix: str
            ) -> dict[str, StoredEntry]:
    out: dict[str, StoredEntry] = {}
    for e in entries:
        if e.action in actions and e.entity.startswith(prefix):
            out[e.entity[len(prefix):]] = e
    return out


def _check_versions(uow: UnitOfWork, entries: list[StoredEntry]) -> tuple[list[_Problem], int]:
    """Every version re-hashed from its rows, against its stored hash and its audit entry.

    Each section's hash is checked against the one the entry recorded; when they all
    match (and the stored hash, title and horizon are the entry's), the content is the
    one the entry hashed, so the full content hash is only recomputed where something
    differs or the entry is older than section hashes."""
    audited = _latest(entries, {Action.VERSION_ADD.value}, "scenario:")
    problems: list[_Problem] = []
    seen = set()
    n = 0
    for d in uow.scenarios.stored_digests():
        n += 1
        ref = f"{d.scenario}@{d.version}"
        seen.add(ref)
        e = audited.get(ref)
        what = f"scenario:{ref}"
        if e is None:
            problems.append(_Problem(None, f"{what} has no {Action.VERSION_ADD} entry: it was "
                                     "added outside fabnet"))
            continue
        rec: dict[str, Any] = e.after or {}
        if d.unreadable:
            problems.append(_Problem(e.seq, f"{what}: its rows can no longer be read "
                                     f"({d.unreadable}); they were edited after entry "
                                     f"{e.seq} stored them"))
            continue
        recorded = rec.get("sections_sha256")
        same = isinstance(recorded, dict) and recorded == d.sections_sha256 \
            and d.content_sha256 == rec.get("content_sha256") \
            and d.horizon == rec.get("horizon")
        digest = rec.get("content_sha256") if same else d.content_digest()
        if digest != d.content_sha256 or digest != rec.get("content_sha256"):
            sections = [s for s, h in d.sections_sha256.items()
                        if h != (recorded or {}).get(s)] if isinstance(recorded, dict) else []
            where = f" (changed: {', '.join(sections)})" if sections else ""
            problems.append(_Problem(e.seq, f"{what}: its rows{where} no longer match the "
                                     f"content hash that entry {e.seq} recorded: the version "
                                     "was edited outside fabnet"))
        elif d.title != rec.get("title"):
            problems.append(_Problem(e.seq, f"{what}: its title {d.title!r} is not the one "
                                     f"entry {e.seq} recorded"))
    for ref, e in audited.items():
        if ref not in seen:
            problems.append(_Problem(e.seq, f"entry {e.seq} records scenario:{ref}, which the "
                                     "store no longer holds: it was deleted outside fabnet"))
    return problems, n


def _check_users(conn: sa.Connection, entries: list[StoredEntry]) -> tuple[list[_Problem], int]:
    """The users table against the replayed user.create and user.update entries."""
    state = _latest(entries, {Action.USER_CREATE.value, Action.USER_UPDATE.value}, "user:")
    rows = conn.execute(sa.select(users.c.name, users.c.role, users.c.sites, users.c.active)
                        .order_by(users.c.name)).all()
    problems: list[_Problem] = []
    for r in rows:
        e = state.pop(r.name, None)
        if e is None:
            problems.append(_Problem(None, f"user {r.name!r} has no {Action.USER_CREATE} "
                                     "entry: the account was added outside fabnet"))
            continue
        want: dict[str, Any] = e.after or {}
        got = {"role": r.role, "sites": list(r.sites), "active": bool(r.active)}
        diff = [f"{k} {got[k]!r} (entry {e.seq} says {want.get(k)!r})" for k in got
                if got[k] != want.get(k)]
        if diff:
            problems.append(_Problem(e.seq, f"user {r.name!r} in the users table has "
                                     f"{'; '.join(diff)}: the row was edited outside fabnet"))
    for name, e in state.items():
        problems.append(_Problem(e.seq, f"entry {e.seq} records user {name!r}, who is not in "
                                 "the users table: the account was deleted outside fabnet"))
    return problems, len(rows)


def verify_audit(store: Store, checkpoint: str | Path | None = None) -> TrailReport:
    """Check the audit trail (hashes, MACs, head, the checkpoint if given) and the store
    against it (versions, users); the first bad entry or row, if any."""
    return verify_trail(store, checkpoint)


def audit_entries(store: Store, since: int = 0, limit: int | None = 100) -> list[AuditEntry]:
    """Audit entries after entry `since`, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        return list(read_entries(uow.connection, since, limit))
