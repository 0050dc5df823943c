"""Row-level edits of stored scenarios, as the HTTP API makes them.

A client reads one section of a version, or of a what-if branch, as flat rows with the
columns of the scenario files (`{"from": "SUP-TW", "to": "FR-LYON", "transit": 1, …}`),
and adds, replaces, patches or deletes one row by its key (`SUP-TW>FR-LYON`). On a
scenario an edit becomes the next version; on a branch it becomes one more change of the
branch. Either way the edit is refused exactly when the whole edited scenario fails its
checks, row fields and then every cross-record rule; an edit of a version this process
knows to be sound checks only the edited row and the records it can affect
(`model.edit_checks`), and a refused one gets the whole check, whose message lists every
problem. A version edit is read, applied, checked and hashed outside any write
transaction; the short transaction that stores it locks the scenario's row and stores
it only if the newest version is still the one it was made from (else it is prepared
again), so a large scenario's checks never hold the store's write lock. Branch edits
are checked after locking the branch's row. Concurrent edits queue one behind the
other, and none is lost, like two planners taking turns with the same spreadsheet.

Taking turns is not enough when each planner works from a copy read earlier: the second
would overwrite the first's change with a value computed from the old row. So every row
read comes with a tag (`row_tag`: a hash of the row as read, an HTTP ETag), and an edit
may say which tag it was based on (`if_match`). The tag is compared with the row's
current one inside the edit's transaction, after the lock, so of two edits based on
the same read exactly one lands and the other gets `StaleEdit` (HTTP 412). An edit
without `if_match` is applied to whatever is there (the last write wins).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from fabnet.io import limits
from fabnet.io.tables import (
    RawTables,
    build_scenario,
    collapse_alike,
    raw_of_tables,
    record_of,
    scenario_tables,
)
from fabnet.model.edit_checks import RecordChange, edit_errors, rule_warnings
from fabnet.model.errors import FabnetError, Issue, ScenarioError, split_issues
from fabnet.model.scenario import Scenario
from fabnet.services.scenarios import check_name as _check_name
from fabnet.services.sound_scenarios import is_sound, remember_sound, sound_warnings
from fabnet.store import BranchStatus, Change, ChangeOp, Conflict, NotFound, Store, VersionInfo
from fabnet.store.branches import apply_changes
from fabnet.store.digests import paused_gc, version_digests
from fabnet.store.mapping import SECTIONS, key_of, section_records
from fabnet.store.scenarios import prepare_rows
from fabnet.store.unit_of_work import UnitOfWork

Row = dict[str, Any]
#: in `if_match`: any current row will do (HTTP `If-Match: *`), but there must be one
ANY_ROW = "*"


class StaleEdit(Conflict):
    """An edit based on a row that has changed, or gone, since it was read (its
    `if_match` tag is not the row's now): nothing was stored; read it again and redo it.

    `version` and `note` are those of the scenario version the message quotes (0 and ""
    for a branch), so that a caller who may see only part of it can be shown the note as
    they may read it (`scoping.redact_note`)."""

    def __init__(self, message: str, version: int = 0, note: str = "") -> None:
        super().__init__(message)
        self.version, self.note = version, note


def _quoting(info: VersionInfo, e: StaleEdit) -> StaleEdit:
    """`e` with the version whose note it quotes."""
    e.version, e.note = info.version, info.note
    return e


def entity_tag(value: Any) -> str:
    """A strong HTTP entity tag for a JSON-like value: the first 32 hex digits of the
    SHA-256 of its canonical JSON (sorted keys, no spaces, dates as ISO text), quoted."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_iso)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def row_tag(row: Mapping[str, Any]) -> str:
    """The tag of one row as a client reads it (a role that may not see a restricted
    field gets the tag of the row without it, so the tag gives nothing away)."""
    return entity_tag(dict(row))


def _iso(value: Any) -> str:
    iso = getattr(value, "isoformat", None)
    if iso is None:
        raise TypeError(f"not JSON: {type(value).__name__}")
    return str(iso())


class EditOp(StrEnum):
    """What an edit does to one row."""

    CREATE = "create"  # add a row whose key is new
    REPLACE = "replace"  # the row with this key becomes the given row
    PATCH = "patch"  # the given fields of the row change, the others stay
    PUT = "put"  # PATCH when a row has the key, else CREATE (one step, under the lock)
    DELETE = "delete"  # the row goes


@dataclass(frozen=True)
class ScenarioView:
    """A stored scenario as flat rows per section, and where it came from."""

    scenario: str
    version: int
    branch: str | None
    tables: dict[str, list[Row]]
    #: a branch's revision: how many changes it has (0 for a version)
    revision: int = 0

    def rows(self, section: str) -> list[Row]:
        """The rows of one section."""
        return self.tables[check_section(section)]

    def row(self, section: str, key: str) -> Row | None:
        """The row of `section` with this key, or None."""
        return next((r for r in self.rows(section) if row_key(section, r) == key), None)


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the version it made (or the branch it changed) and the row."""

    scenario: str
    version: int
    branch: str | None
    section: str
    key: str
    changed: bool
    row: Row | None
    #: the row before the edit (None: it was new)
    before: Row | None = None
    #: for a branch: how many changes it has after the edit
    revision: int = 0

    @property
    def tag(self) -> str | None:
        """The edited row's tag now (None once deleted): the `if_match` of a next edit."""
        return None if self.row is None else row_tag(self.row)


# the columns that make a row's key in the scenario contract (see `key_of`)
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "boms": ("parent", "item"), "routings": ("item", "work_center"),
    "work_centers": ("site", "type"), "offers": ("supplier", "item"),
    "inventory": ("site", "item"), "lanes": ("from", "to"), "recovery": ("target",),
    "test_plans": ("item", "step"),
}


def row_key(section: str, row: Mapping[str, Any]) -> str:
    """The key of a row written as in the scenario files (`{"from": A, "to": B}` -> `A>B`)."""
    cols = KEY_COLUMNS.get(section, ("id",))
    missing = [c for c in cols if row.get(c) in (None, "")]
    if missing:
        raise FabnetError(f"{section}: the row needs {', '.join(missing)} to say which row it "
                          f"is (fix: give {' and '.join(cols)})")
    return (">" if section == "lanes" else "/").join(str(row[c]).strip() for c in cols)


def check_section(section: str) -> str:
    """`section` if it is one of the scenario contract's, else an error listing them."""
    if section not in SECTIONS:
        raise FabnetError(f"unknown section {section!r} (fix: use one of "
                          f"{', '.join(SECTIONS)})")
    return section


def check_name(name: str, what: str) -> None:
    """Scenario and branch names: letters, digits, '.', '_' or '-'."""
    _check_name(name, what, "europe-2027")


# ---------------------------------------------------------------- reading


def read_scenario(store: Store, scenario: str | None, version: int | None = None,
                  branch: str | None = None) -> ScenarioView:
    """A version (default: the newest) or a branch of `scenario` (None: the branch's
    own), as flat rows."""
    with store.unit_of_work(read_only=True) as uow:
        if branch is not None:
            b = uow.branches.get(branch)
            _check_branch_of(b.scenario, branch, scenario)
            base = uow.scenarios.get(b.scenario, b.base_version)
            sc = apply_changes(base, b.changes)
            return ScenarioView(b.scenario, b.base_version, branch, scenario_tables(sc),
                                len(b.changes))
        if scenario is None:
            raise FabnetError("say which scenario to read (fix: name it)")
        version = uow.scenarios.info(scenario, version).version
        sc = uow.scenarios.get(scenario, version)
    return ScenarioView(scenario, version, branch, scenario_tables(sc))


def _check_branch_of(owner: str, branch: str, scenario: str | None) -> None:
    if scenario is not None and owner != scenario:
        raise NotFound(f"branch {branch!r} belongs to scenario {owner!r}, not {scenario!r} "
                       f"(fix: use /scenarios/{owner}/…?branch={branch})")


# ---------------------------------------------------------------- importing


def import_tables(store: Store, name: str, tables: Mapping[str, list[Row]],
                  note: str = "") -> VersionInfo:
    """Check a whole scenario given as flat rows per section (`scenario` holds the title
    and horizon) and store it as the next version of `name`."""
    check_name(name, "scenario")
    with paused_gc():
        sc = build_scenario(_raw(tables, f"scenario {name}"))
        remember_sound(sc, rule_warnings(sc))
        version_digests(sc)  # outside the write transaction
        prepare_rows(sc)

    def work(uow: UnitOfWork) -> VersionInfo:
        info = uow.scenarios.add_version(name, sc, note or "imported through the API")
        uow.commit()
        return info
    # retried: two first imports of one name collide on it, and the second becomes v2
    with paused_gc():  # no collector walk inside the write transaction
        return store.run(work)


def _raw(tables: Mapping[str, list[Row]], source: str) -> RawTables:
    return raw_of_tables(tables, source, _label)


def _label(section: str, row: Mapping[str, Any]) -> str:
    try:
        return row_key(section, row)
    except FabnetError:
        return "?"


# ---------------------------------------------------------------- editing


#: called inside the edit's unit of work with the row before and after (None: absent);
#: it raises to refuse the edit (the API checks a site manager's sites with it)
Guard = Callable[[Row | None, Row | None], None]


def edit_row(store: Store, scenario: str | None, section: str, op: EditOp,
             key: str | None = None, row: Mapping[str, Any] | None = None,
             branch: str | None = None, guard: Guard | None = None,
             if_match: Collection[str] | None = None) -> EditResult:
    """Apply one row edit to the newest version of `scenario` (making the next version)
    or to its branch `branch` (adding a change), after checking the whole result.

    `row` is written as in the scenario files; for PATCH only its fields change. CREATE
    takes the key from the row; the other operations name it with `key`. `guard` sees
    the row before and after the edit, in the same transaction, and may refuse it.
    `if_match` holds the tags (`row_tag`) of the row the edit was based on, or `ANY_ROW`;
    unless the row's current tag is one of them the edit is refused with `StaleEdit`
    (None: no check, the last write wins). `scenario` may be None for a branch edit:
    the branch's own scenario. The unit of work is run again if the database reports a
    transient failure (a deadlock, a serialization failure, a busy SQLite file).
    """
    check_section(section)
    if branch is not None:
        return store.run(lambda uow: _edit_branch(uow, scenario, section, op, key, row,
                                                  branch, guard, if_match))
    if scenario is None:
        raise FabnetError(f"{section}: say which scenario to edit (fix: name it)")
    for _ in range(OPTIMISTIC_TRIES):
        done = _edit_version_optimistic(store, scenario, section, op, key, row, guard,
                                        if_match)
        if done is not None:
            return done
    # the scenario kept moving under us: take the lock first, as a last resort
    return store.run(lambda uow: _edit_version(uow, scenario, section, op, key, row, guard,
                                               if_match))


def put_row(store: Store, branch: str, section: str, row: Mapping[str, Any],
            if_match: Collection[str] | None = None) -> EditResult:
    """Add a row to a branch, or change the given fields of the branch's row with its key
    (`{"from": A, "to": B, "capacity": 0}` changes only that lane's capacity), decided
    under the branch's lock, so concurrent puts of other fields all land."""
    return edit_row(store, None, section, EditOp.PUT, row=row, branch=branch,
                    if_match=if_match)


def delete_row(store: Store, branch: str, section: str, key: str,
               if_match: Collection[str] | None = None) -> EditResult:
    """Delete one row (by its key, e.g. `SUP-TW` or `A>B`) from a branch; refused while
    other rows refer to it."""
    return edit_row(store, None, section, EditOp.DELETE, key, branch=branch,
                    if_match=if_match)


#: how often an edit is prepared outside the write transaction before it waits its turn
#: under the lock instead (each try loses only to an edit that committed meanwhile)
OPTIMISTIC_TRIES = 3


def _edit_version_optimistic(store: Store, scenario: str, section: str, op: EditOp,
                             key: str | None, row: Mapping[str, Any] | None,
                             guard: Guard | None, if_match: Collection[str] | None
                             ) -> EditResult | None:
    """The edit prepared (read, applied, checked, hashed) outside any write transaction,
    then stored in a short one that first checks, on the locked scenario row, that the
    newest version is still the one it was prepared from; None (nothing stored) if not.

    The tag and the guard are checked against the row of that version, so when it is
    still the newest they saw what a check under the lock would see."""
    with store.unit_of_work(read_only=True) as uow:
        info = uow.scenarios.info(scenario)
        current = uow.scenarios.get(scenario, info.version)
    now = f"{scenario} is at version {info.version}, made by {info.created_by} " \
        f"({info.note or 'no note'})"
    with paused_gc():
        try:
            new, key = _apply(current, section, op, key, row,
                              f"{scenario} version {info.version}", guard, if_match, now)
        except StaleEdit as e:
            raise _quoting(info, e) from None
        version_digests(new)  # the hashes, made here so the transaction only joins them
    before = _row_of(current, section, key)
    if new == current:
        return EditResult(scenario, info.version, None, section, key, False, before, before)
    after = _row_of(new, section, key)
    note = _note(op, section, key, before, after)

    def work(uow: UnitOfWork) -> EditResult | None:
        uow.scenarios.lock(scenario)
        if uow.scenarios.info(scenario).version != info.version:
            return None  # someone else's edit landed first: prepare it again
        made = uow.scenarios.add_version(scenario, new, note)
        uow.commit()
        return EditResult(scenario, made.version, None, section, key, True, after, before)
    return store.run(work)


def _share_unchanged(current: Scenario, new: Scenario) -> Scenario:
    """`new` holding the very record objects of `current` wherever they are equal, so the
    store sees unchanged sections as unchanged at a glance and reuses their hashes."""
    out: dict[str, Any] = {}
    for s in SECTIONS:
        a, b = section_records(current, s), section_records(new, s)
        if a == b:
            out[s] = a
        else:
            same = {r: r for r in a}
            out[s] = tuple(same.get(r, r) for r in b)
    return replace(new, **out)


def _edit_version(uow: UnitOfWork, scenario: str, section: str, op: EditOp,
                  key: str | None, row: Mapping[str, Any] | None, guard: Guard | None,
                  if_match: Collection[str] | None) -> EditResult:
    uow.scenarios.lock(scenario)
    info = uow.scenarios.info(scenario)
    current = uow.scenarios.get(scenario, info.version)
    now = f"{scenario} is at version {info.version}, made by {info.created_by} " \
        f"({info.note or 'no note'})"
    with paused_gc():
        try:
            new, key = _apply(current, section, op, key, row,
                              f"{scenario} version {info.version}", guard, if_match, now)
        except StaleEdit as e:
            raise _quoting(info, e) from None
    before = _row_of(current, section, key)
    if new == current:
        return EditResult(scenario, info.version, None, section, key, False, before, before)
    after = _row_of(new, section, key)
    made = uow.scenarios.add_version(scenario, new, _note(op, section, key, before, after))
    uow.commit()
    return EditResult(scenario, made.version, None, section, key, True, after, before)


def _note(op: EditOp, section: str, key: str, before: Row | None, after: Row | None) -> str:
    """The version's note: the edit and the columns it changed (names only: the values
    are in the versions, and some are restricted)."""
    note = f"API: {op} {section}[{key}]"
    if before is not None and after is not None:
        changed = [c for c in after if before.get(c) != after[c]]
        note += f" ({', '.join(changed)})" if changed else ""
    return note


def _edit_branch(uow: UnitOfWork, scenario: str | None, section: str, op: EditOp,
                 key: str | None, row: Mapping[str, Any] | None, branch: str,
                 guard: Guard | None, if_match: Collection[str] | None) -> EditResult:
    uow.branches.lock(branch)
    b = uow.branches.get(branch)
    _check_branch_of(b.scenario, branch, scenario)
    if b.status is not BranchStatus.OPEN:
        raise Conflict(f"branch {branch!r} is already merged and takes no more changes "
                       "(fix: create a new branch from the merged version)")
    current = apply_changes(uow.scenarios.get(b.scenario, b.base_version), b.changes)
    now = f"branch {branch} is at revision {len(b.changes)}"
    new, key = _apply(current, section, op, key, row, f"branch {branch}", guard, if_match,
                      now)
    before = _record(current, section, key)
    after = _record(new, section, key)
    was = _row_of(current, section, key)
    if after == before:
        return EditResult(b.scenario, b.base_version, branch, section, key, False, was, was,
                          len(b.changes))
    change = Change(ChangeOp.DELETE, section, key) if after is None else \
        Change(ChangeOp.PUT, section, key, after)
    uow.branches.add_change(branch, change, before)
    uow.commit()
    return EditResult(b.scenario, b.base_version, branch, section, key, True,
                      _row_of(new, section, key), was, len(b.changes) + 1)


def _apply(current: Scenario, section: str, op: EditOp, key: str | None,
           row: Mapping[str, Any] | None, source: str, guard: Guard | None = None,
           if_match: Collection[str] | None = None, now: str = ""
           ) -> tuple[Scenario, str]:
    """The scenario with the edit applied and checked, and the key of the row edited.

    When `current` is known to pass the whole check (`is_sound`), only the edited row and
    what it can affect are checked (`apply_checked`); anything that refuses, and any other
    scenario, gets the whole check (`apply_whole`), whose messages are the ones shown."""
    key, at, after = locate_edit(current, section, op, key, row, source, guard, if_match,
                                 now)
    if is_sound(current):
        quick = apply_checked(current, section, at, after, source)
        if quick is not None:
            return quick, key
    return apply_whole(current, section, at, after, source), key


def locate_edit(current: Scenario, section: str, op: EditOp, key: str | None,
                row: Mapping[str, Any] | None, source: str, guard: Guard | None = None,
                if_match: Collection[str] | None = None, now: str = ""
                ) -> tuple[str, int | None, Row | None]:
    """What an edit does: the key of its row, the row's place in its section (None: a new
    row) and the row after it (None: deleted), with the guard, the tag and the key's
    presence checked."""
    records = section_records(current, section)
    if op in (EditOp.CREATE, EditOp.PUT):
        if row is None:
            raise FabnetError(f"{section}: a new row needs its fields")
        key = row_key(section, row)
    elif key is None:
        raise FabnetError(f"{section}: say which row to {op} by its key")
    at = next((i for i, r in enumerate(records) if key_of(section, r) == key), None)
    before = None if at is None else _as_row(current, section, records[at])
    put = op is EditOp.PUT
    if put:
        op = EditOp.CREATE if at is None else EditOp.PATCH
    after: Row | None = None
    if op is EditOp.CREATE:
        after = dict(row or {})
    elif op is not EditOp.DELETE and before is not None:
        given = dict(row or {})
        after = {**before, **given} if op is EditOp.PATCH else given
    if guard is not None:  # before saying whether the row exists
        guard(before, after)
    if if_match is not None and (op is not EditOp.CREATE or put):
        _check_tag(section, key, before, if_match, now)
    if op is EditOp.CREATE and at is not None:
        raise Conflict(f"{section}[{key}] already exists (fix: replace or patch it, or "
                       "choose another key)")
    if op is not EditOp.CREATE and at is None:
        raise NotFound(f"{section}[{key}]: no such row in {source} (fix: check the key; "
                       f"list the rows of {section} to see them)")
    if after is not None and op is not EditOp.CREATE:
        _same_key(section, key, after)
    return key, at, after


def apply_whole(current: Scenario, section: str, at: int | None, after: Row | None,
                source: str) -> Scenario:
    """`current` with row `at` of `section` (None: a new row) made `after` (None: deleted),
    every row and every rule checked (`build_scenario`, raising `ScenarioError` with every
    problem); unchanged records are `current`'s own objects."""
    tables = scenario_tables(current)
    rows = tables[section]
    if at is None:
        rows.append(after or {})
    elif after is None:
        del rows[at]
    else:
        rows[at] = after
    new = _share_unchanged(current, build_scenario(_raw(tables, source)))
    return remember_sound(new, rule_warnings(new))


def apply_checked(current: Scenario, section: str, at: int | None, after: Row | None,
                  source: str) -> Scenario | None:
    """`apply_whole` for a `current` known sound, checking only the row's schema and the
    rules it can affect (`edit_errors`): the same scenario, warnings included; None
    exactly when the whole check refuses the edit (or for a rule with no plan), so that
    the whole check says why."""
    records = section_records(current, section)
    old = None if at is None else records[at]
    try:
        rec = None if after is None else record_of(section, after)
    except ValidationError:
        return None
    if rec is not None and rec == old:
        return current
    edited: tuple[Any, ...]
    if at is None:
        edited = (*records, rec)
    elif rec is None:
        edited = records[:at] + records[at + 1:]
    else:
        edited = (*records[:at], rec, *records[at + 1:])
    if len(edited) > limits.MAX_RECORDS:
        return None
    sections: dict[str, Any] = {section: edited}
    new = replace(current, **sections)
    errors = edit_errors(current, new, RecordChange(section, old, rec))
    if errors is None or errors:
        return None
    by_rule = rule_warnings(new, section, sound_warnings(current))
    found = [i.located(source) for issues in by_rule.values() for i in issues]
    return remember_sound(replace(new, warnings=tuple(split_issues(collapse_alike(found))[1])),
                          by_rule)


def _as_row(sc: Scenario, section: str, rec: Any) -> Row:
    """One record as a row with the columns of the scenario files."""
    sections: dict[str, Any] = {section: (rec,)}
    one = Scenario(sc.name, sc.horizon, **sections)
    return scenario_tables(one)[section][0]


def _check_tag(section: str, key: str, current: Row | None, if_match: Collection[str],
               now: str) -> None:
    """Refuse an edit based on a read of the row that is no longer true: the row has
    another tag now, or is gone (RFC 9110 If-Match; `*` matches any row there is)."""
    fix = (f"read {section}[{key}] again, redo your change on what is there now, and send "
           "it with the row's new tag (ETag) in If-Match")
    if current is None:
        raise StaleEdit(f"{section}[{key}]: the row you read is gone: {now} (fix: read "
                        f"{section} again; the row was deleted or never existed)")
    tag = row_tag(current)
    if ANY_ROW not in if_match and tag not in if_match:
        sent = ", ".join(sorted(if_match)) or "nothing"
        raise StaleEdit(f"{section}[{key}]: changed since you read it (you read {sent}, "
                        f"it is {tag} now; {now}); nothing was stored (fix: {fix})")


def _same_key(section: str, key: str, row: Mapping[str, Any]) -> None:
    try:
        new_key = row_key(section, row)
    except FabnetError:
        new_key = "?"
    if new_key != key:
        cols = KEY_COLUMNS.get(section, ("id",))
        raise ScenarioError([Issue(section, key, "/".join(cols),
                                   f"the row's key would change to {new_key!r}",
                                   "keep the key fields, or delete the row and create a "
                                   "new one")])


def _record(sc: Scenario, section: str, key: str) -> Any:
    return next((r for r in section_records(sc, section) if key_of(section, r) == key), None)


def _row_of(sc: Scenario, section: str, key: str) -> Row | None:
    rec = _record(sc, section, key)
    return None if rec is None else _as_row(sc, section, rec)
