"""The store's verbs: import and export scenarios, branch and merge what-ifs, keep plans,
track jobs, manage accounts and check the audit trail.

These are the only functions that open a unit of work. Each opens one, does its work
and commits once, so a change and its audit entries land together or not at all; files
are read before the transaction starts and written after it ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fabnet.io.plan_io import plan_document
from fabnet.io.scenario_io import ScenarioFormat, load_scenario, read_raw, save_scenario
from fabnet.io.tables import RawTables, build_scenario, scenario_tables
from fabnet.model.consistency import check_scenario
from fabnet.model.errors import FabnetError, ScenarioError, split_issues
from fabnet.model.scenario import Scenario
from fabnet.store import (
    ApiToken,
    Branch,
    BranchStatus,
    ChainReport,
    Change,
    ChangeOp,
    Conflict,
    Job,
    JobStatus,
    NotFound,
    PlanRun,
    Role,
    ScenarioInfo,
    SchemaOutOfDate,
    Store,
    User,
    VersionInfo,
    check_schema,
    current_revision,
    display_url,
    head_revision,
    make_engine,
    upgrade,
)
from fabnet.store.audit import read_entries
from fabnet.store.branches import (
    RowDiff,
    apply_changes,
    diff_scenarios,
    merge_conflicts,
)
from fabnet.store.digests import paused_gc, version_digests
from fabnet.store.mapping import SECTIONS, key_of, section_records
from fabnet.store.records import AuditEntry
from fabnet.store.scenarios import ScenarioRepository
from fabnet.store.unit_of_work import UnitOfWork

# ---------------------------------------------------------------- the database itself


def init_store(url: str, audit_key_file: str | Path | None = None) -> tuple[str | None, str]:
    """Create the schema in an empty database; (revision before, after). A store that is
    already current is left alone; an older one must be upgraded on purpose. The audit
    key file (`audit_key_file`, FABNET_AUDIT_KEY_FILE, or beside a SQLite file) is
    created if missing, and the trail signed with it."""
    from fabnet.services.audit_trail import start_signing

    engine = make_engine(url)
    try:
        rev = current_revision(engine)
        if rev is not None and rev != head_revision():
            check_schema(engine)  # raises, naming `fabnet db upgrade`
        revisions = (rev, rev) if rev is not None else upgrade(engine)
    finally:
        engine.dispose()
    start_signing(url, audit_key_file)
    return revisions


def upgrade_store(url: str) -> tuple[str | None, str]:
    """Migrate the database to the newest schema; (revision before, after)."""
    engine = make_engine(url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def connect(url: str, actor: str, audit_key_file: str | Path | None = None) -> Store:
    """The store at `url`, for `actor`, after checking its schema is current; with its
    audit key file (see `init_store`) when there is one, so its changes are signed."""
    from fabnet.services.audit_trail import open_keys

    engine = make_engine(url)
    db = engine.url.database
    if engine.dialect.name == "sqlite" and db not in (None, "", ":memory:") \
            and not db.startswith("file:") and not Path(db).exists():
        raise SchemaOutOfDate(f"{display_url(engine.url)}: no store at {Path(db).resolve()} "
                              "(fix: run `fabnet db init` there, or set FABNET_DATABASE_URL "
                              "to the store you meant)")
    check_schema(engine)
    return Store(engine, actor, open_keys(url, audit_key_file))


# ---------------------------------------------------------------- scenarios


def title_slug(title: str) -> str:
    """A scenario title as a store name: `Europe 2027` -> `europe-2027` ("" for none)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:100].strip("-")


def scenario_name(sc: Scenario, path: Path) -> str:
    """The default name of an imported scenario: its title as a slug, else the file's."""
    stem = path.stem if path.stem.lower() not in ("scenario", "") else path.parent.name
    return title_slug(sc.name or stem) or "scenario"


def import_scenario(store: Store, path: str | Path, name: str | None = None,
                    note: str = "") -> VersionInfo:
    """Read, check and store a scenario file as the next version of `name`."""
    path = Path(path)
    with paused_gc():  # read, check and hash outside the write transaction
        sc = load_scenario(path)
        version_digests(sc)
    name = name or scenario_name(sc, path)
    _check_name(name, "scenario")
    with store.unit_of_work() as uow:
        info = uow.scenarios.add_version(name, sc, note or f"imported from {path.name}")
        uow.commit()
    return info


def read_scenario_bytes(data: bytes, fmt: ScenarioFormat, label: str) -> Scenario:
    """A scenario file sent as bytes (a YAML document, an XLSX workbook), read and checked
    exactly as `fabnet db import` reads that file from disk, problems naming `label` as
    their file. The readers' limits and zip-bomb checks work on a file, so the bytes go
    to one in a private temporary folder (mode 0700), removed before this returns."""
    with tempfile.TemporaryDirectory(prefix="fabnet-upload-") as tmp:
        path = Path(tmp) / f"upload.{fmt.value}"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)
        raw = read_raw(path)
    where = str(path)
    raw.source = label
    raw.files = {s: f.replace(where, label) for s, f in raw.files.items()}
    raw.issues = [replace(i, file=i.file.replace(where, label),
                          message=i.message.replace(where, label)) for i in raw.issues]
    return build_scenario(raw)


def import_scenario_bytes(store: Store, data: bytes, fmt: ScenarioFormat,
                          name: str | None = None, note: str = "") -> VersionInfo:
    """Read, check and store a scenario file sent as bytes as the next version of `name`
    (default: its title as a slug, as `fabnet db import` names it)."""
    with paused_gc():  # read, check and hash outside the write transaction
        sc = read_scenario_bytes(data, fmt, f"request.{fmt.value}")
        version_digests(sc)
    name = name or title_slug(sc.name)
    if not name:
        raise FabnetError("the scenario has no name (fix: add ?name=NAME, or a title: "
                          "`scenario: Europe 2027` in YAML, the scenario sheet in a workbook)")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise FabnetError(f"scenario name {name!r}: use letters, digits, '.', '_' or '-' "
                          "(fix: e.g. ?name=europe-2027)")

    def work(uow: UnitOfWork) -> VersionInfo:
        info = uow.scenarios.add_version(name, sc, note or f"imported through the API "
                                         f"from {fmt.value.upper()}")
        uow.commit()
        return info
    return store.run(work)  # retried: two first imports of one name collide on it


def export_scenario(store: Store, name: str, to: str | Path, version: int | None = None,
                    force: bool = False) -> VersionInfo:
    """Write a stored version (default: the newest) as YAML, XLSX or a CSV folder."""
    with store.unit_of_work(read_only=True) as uow:
        info = uow.scenarios.info(name, version)
        sc = uow.scenarios.get(name, info.version)
    save_scenario(sc, to, force=force)
    return info


def load_stored(store: Store, name: str, version: int | None = None) -> Scenario:
    """A stored version (default: the newest) as a `Scenario`."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.get(name, version)


def list_scenarios(store: Store) -> list[ScenarioInfo]:
    """Every stored scenario with its newest version."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.all()


def list_versions(store: Store, name: str) -> list[VersionInfo]:
    """Every version of one scenario, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.versions(name)


def _check_name(name: str, what: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise FabnetError(f"{what} name {name!r}: use letters, digits, '.', '_' or '-' "
                          f"(fix: e.g. --name europe-2027)")


# ---------------------------------------------------------------- what-if branches

# the columns that make a row's key in the scenario contract (see `key_of`)
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "boms": ("parent", "item"), "routings": ("item", "work_center"),
    "work_centers": ("site", "type"), "offers": ("supplier", "item"),
    "inventory": ("site", "item"), "lanes": ("from", "to"), "recovery": ("target",),
}


def row_key(section: str, row: Mapping[str, Any]) -> str:
    """The key of a row written as in the scenario files (`{"from": A, "to": B}` -> `A>B`)."""
    cols = KEY_COLUMNS.get(section, ("id",))
    missing = [c for c in cols if row.get(c) in (None, "")]
    if missing:
        raise FabnetError(f"{section}: the row needs {', '.join(missing)} to say which row it "
                          f"is (fix: give {' and '.join(cols)})")
    return (">" if section == "lanes" else "/").join(str(row[c]).strip() for c in cols)


def _section(section: str) -> str:
    if section not in SECTIONS:
        raise FabnetError(f"unknown section {section!r} (fix: use one of "
                          f"{', '.join(SECTIONS)})")
    return section


def _validated(sc: Scenario, source: str) -> Scenario:
    errors, warnings = split_issues(i.located(source) for i in check_scenario(sc))
    if errors:
        raise ScenarioError(errors, warnings)
    return sc


def _materialize(scenarios: ScenarioRepository, branch: Branch) -> tuple[Scenario, Scenario]:
    """The branch's base version, and the base with the branch's changes applied."""
    base = scenarios.get(branch.scenario, branch.base_version)
    return base, apply_changes(base, branch.changes)


def create_branch(store: Store, name: str, scenario: str, version: int | None = None,
                  disruptions: list[str] | None = None, note: str = "") -> Branch:
    """A what-if branch of a version (default: the newest), with optional disruptions
    (`TARGET@DATE+BUCKETS[xFACTOR]`) as its first changes."""
    _check_name(name, "branch")
    with store.unit_of_work() as uow:
        info = uow.scenarios.info(scenario, version)
        branch = uow.branches.add(name, scenario, info.version, note)
        if disruptions:
            branch = _add_disruptions(uow, branch, disruptions)
        uow.commit()
    return branch


def add_disruptions(store: Store, name: str, specs: list[str]) -> Branch:
    """Add disruptions (`TARGET@DATE+BUCKETS[xFACTOR]`) to a branch."""
    with store.unit_of_work() as uow:
        uow.branches.lock(name)  # the new ids are picked from what is read next
        branch = _add_disruptions(uow, uow.branches.get(name), specs)
        uow.commit()
    return branch


def _add_disruptions(uow: UnitOfWork, branch: Branch, specs: list[str]) -> Branch:
    from fabnet.model.target import KnownTargets
    from fabnet.resilience.whatif import parse_disruption

    _, current = _materialize(uow.scenarios, branch)
    taken = {d.id for d in current.disruptions}
    known = KnownTargets.of(current)
    n = 0
    added = []
    for spec in specs:
        n += 1
        while f"whatif-{n}" in taken:
            n += 1
        d = parse_disruption(spec, current, n, where=f"branch {branch.name}: disruption",
                             known=known)
        taken.add(d.id)
        added.append(d)
    _validated(current.with_disruptions(tuple(added)), f"branch {branch.name}")
    for d in added:
        branch = uow.branches.add_change(branch.name, Change(ChangeOp.PUT, "disruptions",
                                                             d.id, d))
    return branch


def put_row(store: Store, name: str, section: str, row: Mapping[str, Any]) -> Branch:
    """Add or change one row of a branch, written as in the scenario files. Fields left
    out keep the value of the row with the same key, so `{"from": A, "to": B,
    "capacity": 0}` changes only that lane's capacity."""
    _section(section)
    key = row_key(section, row)
    with store.unit_of_work() as uow:
        uow.branches.lock(name)  # the change is computed from what is read next
        branch = uow.branches.get(name)
        _, current = _materialize(uow.scenarios, branch)
        tables = scenario_tables(current)
        rows = tables[section]
        at = [i for i, r in enumerate(rows) if row_key(section, r) == key]
        if at:
            rows[at[0]] = {**rows[at[0]], **row}
        else:
            rows.append(dict(row))
        new = build_scenario(_raw(tables, f"branch {name}"))
        record = next(r for r in section_records(new, section) if key_of(section, r) == key)
        before = next((r for r in section_records(current, section)
                       if key_of(section, r) == key), None)
        if record == before:
            return branch
        branch = uow.branches.add_change(name, Change(ChangeOp.PUT, section, key, record),
                                         before)
        uow.commit()
    return branch


def delete_row(store: Store, name: str, section: str, key: str) -> Branch:
    """Delete one row (by its key, e.g. `SUP-TW` or `A>B`) from a branch."""
    _section(section)
    with store.unit_of_work() as uow:
        uow.branches.lock(name)  # the change is computed from what is read next
        branch = uow.branches.get(name)
        _, current = _materialize(uow.scenarios, branch)
        change = Change(ChangeOp.DELETE, section, key)
        before = next((r for r in section_records(current, section)
                       if key_of(section, r) == key), None)
        _validated(apply_changes(current, [change]), f"branch {name}")
        branch = uow.branches.add_change(name, change, before)
        uow.commit()
    return branch


def _raw(tables: dict[str, list[dict[str, Any]]], source: str) -> RawTables:
    raw = RawTables(source)
    for section, rows in tables.items():
        for r in rows:
            label = "" if section == "scenario" else _label(section, r)
            raw.add(section, label, r)
    return raw


def _label(section: str, r: Mapping[str, Any]) -> str:
    try:
        return row_key(section, r)
    except FabnetError:
        return "?"


def materialize(store: Store, name: str) -> Scenario:
    """The full scenario a branch stands for: its base with its changes applied."""
    with store.unit_of_work(read_only=True) as uow:
        return _materialize(uow.scenarios, uow.branches.get(name))[1]


def get_branch(store: Store, name: str) -> Branch:
    """A branch and its changes."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.branches.get(name)


def list_branches(store: Store) -> list[Branch]:
    """Every branch."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.branches.all()


@dataclass(frozen=True)
class BranchComparison:
    """A branch against its parent: the rows it changes, and what a merge would meet."""

    branch: Branch
    diffs: list[RowDiff]
    parent_latest: int
    conflicts: list[str]


def compare_branch(store: Store, name: str) -> BranchComparison:
    """The rows a branch adds, removes or changes against its base version, and the rows
    that would conflict on merge because the parent changed them since."""
    with store.unit_of_work(read_only=True) as uow:
        branch = uow.branches.get(name)
        base, mine = _materialize(uow.scenarios, branch)
        latest = uow.scenarios.info(branch.scenario).version
        moved = [] if latest == branch.base_version else \
            diff_scenarios(base, uow.scenarios.get(branch.scenario, latest))
    diffs = diff_scenarios(base, mine)
    return BranchComparison(branch, diffs, latest, merge_conflicts(branch.changes, moved))


def merge_branch(store: Store, name: str, note: str = "") -> VersionInfo:
    """Apply a branch's changes to its parent's newest version, as a new version.

    If the parent moved on since the branch was made, rows the branch changes must not
    have changed on the parent too; otherwise nothing is merged and the clash is named.
    """
    with store.unit_of_work() as uow:
        uow.branches.lock(name)  # no change lands between reading them and the merge
        branch = uow.branches.get(name)
        if branch.status is not BranchStatus.OPEN:
            raise Conflict(f"branch {name!r} was already merged into version "
                           f"{branch.merged_version} of {branch.scenario!r} (fix: nothing to "
                           "do, or create a new branch)")
        if not branch.changes:
            raise Conflict(f"branch {name!r} has no changes to merge (fix: add some with "
                           "`fabnet db branch set|delete|disrupt`)")
        latest = uow.scenarios.info(branch.scenario).version
        parent = uow.scenarios.get(branch.scenario, latest)
        if latest != branch.base_version:
            base = uow.scenarios.get(branch.scenario, branch.base_version)
            clash = merge_conflicts(branch.changes, diff_scenarios(base, parent))
            if clash:
                raise Conflict(f"branch {name!r} (from version {branch.base_version}) changes "
                               f"rows that version {latest} of {branch.scenario!r} also "
                               f"changed: {', '.join(clash[:10])} (fix: create a new branch "
                               f"from version {latest} and redo these changes there)")
        merged = _validated(apply_changes(parent, branch.changes), f"branch {name}")
        info = uow.scenarios.add_version(branch.scenario, merged,
                                         note or f"merge of branch {name}")
        uow.branches.mark_merged(name, branch.scenario, info.version)
        uow.commit()
    return info


def export_branch(store: Store, name: str, to: str | Path, force: bool = False
                  ) -> Scenario:
    """Write the materialised branch as YAML, XLSX or a CSV folder."""
    sc = materialize(store, name)
    save_scenario(sc, to, force=force)
    return sc


# ---------------------------------------------------------------- plan runs and jobs


def plan_stored(store: Store, name: str, version: int | None = None,
                branch: str | None = None, frozen: int = 0, from_floor: bool = True,
                actual_rates: bool = False) -> PlanRun:
    """Plan a stored version (or a branch) and keep the plan in the store; with
    `from_floor`, the floor's work orders and stock are its firm supply (firm_supply.py);
    with `actual_rates`, routing hours are the floor's recorded ones (actuals.py).

    The last optimal plan kept for the scenario (and branch) is the reference: among the
    optimal plans, the one closest to it; `frozen` keeps its first buckets as they were.
    """
    from fabnet.model.network import compile_network
    from fabnet.plan import PLAN_COLUMNS, make_plan

    with store.unit_of_work(read_only=True) as uow:
        if branch is not None:
            b = uow.branches.get(branch)
            name, version = b.scenario, b.base_version
            sc = _materialize(uow.scenarios, b)[1]
        else:
            version = uow.scenarios.info(name, version).version
            sc = uow.scenarios.get(name, version)
        last = next((r for r in uow.plan_runs.all(name, 20)
                     if r.branch == branch and r.status == "optimal"), None)
    if frozen and last is None:
        raise FabnetError(f"frozen: {frozen} buckets of {name!r} need a stored plan to keep "
                          "(fix: plan it once without frozen)")
    from fabnet.services.firm_supply import firm_supply
    firm = firm_supply(store, name, sc) if from_floor else None
    net = compile_network(sc, firm=firm)
    if actual_rates:
        from fabnet.services.actuals import actual_rates as rates_of
        from fabnet.services.actuals import apply_actual_rates
        net = apply_actual_rates(net, rates_of(store, name))
    plan = make_plan(net, reference=last.document if last else None,
                     frozen=frozen)
    doc = _jsonable(plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                                  plan.bucket_starts))
    with store.unit_of_work() as uow:
        run = uow.plan_runs.add(name, version, branch, str(plan.status), doc["kpis"], doc)
        uow.commit()
    return run


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON (numpy numbers, dates and enums turned into JSON values)."""
    def default(v: Any) -> Any:
        if hasattr(v, "item"):
            return v.item()
        return str(v)

    out: dict[str, Any] = json.loads(json.dumps(doc, default=default))
    return out


def list_plan_runs(store: Store, scenario: str | None = None, limit: int = 50
                   ) -> list[PlanRun]:
    """The newest plan runs first."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.plan_runs.all(scenario, limit)


def get_plan_run(store: Store, run_id: int) -> PlanRun:
    """One stored plan run."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.plan_runs.get(run_id)


def create_job(store: Store, kind: str, params: dict[str, Any] | None = None) -> Job:
    """Register a job before starting it; its id is what a client polls."""
    with store.unit_of_work() as uow:
        job = uow.jobs.add(kind, params)
        uow.commit()
    return job


def update_job(store: Store, job_id: str, status: JobStatus | None = None,
               progress: float | None = None, result: Any = None,
               error: str | None = None) -> Job:
    """Record a job's progress, or its result (status DONE) or error (status FAILED)."""
    with store.unit_of_work() as uow:
        if result is not None:
            job = uow.jobs.update(job_id, status, progress, result=result, error=error)
        else:
            job = uow.jobs.update(job_id, status, progress, error=error)
        uow.commit()
    return job


def get_job(store: Store, job_id: str) -> Job:
    """A job and where it is."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.jobs.get(job_id)


# ---------------------------------------------------------------- users and tokens

_SCRYPT = "scrypt"

#: argon2id with the library's defaults (RFC 9106 "low memory": t=3, m=64 MiB, p=4)
PASSWORD_HASHER = PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """An argon2id hash of `password` (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`)."""
    return (hasher or PASSWORD_HASHER).hash(password)


def password_matches(password: str, stored: str, hasher: PasswordHasher | None = None
                     ) -> bool:
    """True when `password` matches `stored`: an argon2 hash, or an older
    `scrypt$N$r$p$salt$hash` one (compared in constant time)."""
    if stored.startswith("$argon2"):
        try:
            return (hasher or PASSWORD_HASHER).verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        kind, n, r, p, salt, dk = stored.split("$")
        if kind != _SCRYPT:
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(dk))


def add_user(store: Store, name: str, password: str, role: Role,
             sites: tuple[str, ...] = ()) -> User:
    """A new account with a hashed password."""
    _check_name(name, "user")
    if len(password) < 8:
        raise FabnetError(f"user {name!r}: the password is too short (fix: use at least 8 "
                          "characters)")
    with store.unit_of_work() as uow:
        user = uow.users.add(name, hash_password(password), role, sites)
        uow.commit()
    return user


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify when the user is unknown, so a sign-in takes as long either way."""
    return hasher.hash("no such user")


def authenticate(store: Store, name: str, password: str, hasher: PasswordHasher | None = None,
                 gate: Callable[[], AbstractContextManager[object]] = nullcontext
                 ) -> User | None:
    """The active user with this name and password, or None. An unknown name costs one
    hash check too, so timing does not tell which names exist; the check runs inside
    `gate()` (e.g. a semaphore bounding how many hashes run at once)."""
    with store.unit_of_work(read_only=True) as uow:
        try:
            user: User | None = uow.users.get(name)
        except NotFound:
            user = None
    with gate():
        stored = user.password_hash if user else _dummy_hash(hasher or PASSWORD_HASHER)
        ok = password_matches(password, stored, hasher)
    return user if user is not None and ok and user.active else None


def token_sha256(token: str) -> str:
    """What the store keeps of an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: Store, user: str, label: str = "",
                expires_at: datetime | None = None) -> tuple[str, ApiToken]:
    """A new API token for `user`: the token itself (shown once) and its record."""
    token = secrets.token_urlsafe(32)
    with store.unit_of_work() as uow:
        rec = uow.tokens.add(user, token_sha256(token), label, expires_at)
        uow.commit()
    return token, rec


def user_for_token(store: Store, token: str, at: datetime | None = None) -> User | None:
    """The active user a token belongs to, unless it is unknown, revoked or expired."""
    from fabnet.store.repository import now

    with store.unit_of_work(read_only=True) as uow:
        found = uow.tokens.find(token_sha256(token))
    if found is None:
        return None
    rec, user = found
    t = at or now()
    if rec.revoked_at is not None or (rec.expires_at is not None and rec.expires_at <= t):
        return None
    return user if user.active else None


def revoke_token(store: Store, token_id: int) -> ApiToken:
    """Revoke an API token."""
    with store.unit_of_work() as uow:
        rec = uow.tokens.revoke(token_id)
        uow.commit()
    return rec


# ---------------------------------------------------------------- audit


def verify_audit(store: Store, checkpoint: str | Path | None = None) -> ChainReport:
    """Check the audit trail (hashes, MACs, head, the checkpoint if given) and the store
    against it (versions, users); the first bad entry or row, if any."""
    from fabnet.services.audit_trail import verify_trail

    return verify_trail(store, checkpoint)


def audit_entries(store: Store, since: int = 0, limit: int | None = 100) -> list[AuditEntry]:
    """Audit entries after entry `since`, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        return list(read_entries(uow.connection, since, limit))

