"""Master data as tables a planner edits in place: one section of a scenario's newest
version, or of one of its open what-if branches, a row per line, every field an input,
and the row's tag (its ETag) in the row's form.

Saving a row is the API's row PATCH (`services.editing.edit_row` with `If-Match`, and
`branch` for a branch): only the fields whose text changed are sent, the whole scenario
is checked, and the edit becomes the next version, or one more change of the branch
(the scenario's versions untouched). A bad value comes back as the check's issue next
to its field; a row that someone else changed since the page was loaded is refused (its
tag is not the row's any more), nothing is stored, and the row shows what is there now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fabnet.model.errors import FabnetError, ScenarioError
from fabnet.services import branches as branch_svc
from fabnet.services import editing
from fabnet.services.editing import KEY_COLUMNS, EditOp, StaleEdit, row_key, row_tag
from fabnet.services.scoping import ScopeRefused
from fabnet.store import BranchStatus, Conflict, NotFound, Role
from fabnet.store.mapping import SECTIONS
from fabnet.web.session import WebUser

#: the sections a page edits, in the scenario contract's order
EDITABLE = tuple(s for s in SECTIONS)
#: the form field of column `c` is `FIELD + c`
FIELD = "f."
#: the most rows one page lists
MAX_ROWS = 2000


def text(v: Any) -> str:
    """A value as its input shows it: lists comma-separated, dates ISO, whole numbers
    without a decimal point, nothing for None."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return ", ".join(text(x) for x in v)
    return str(v)


def parse(entered: str, current: Any) -> Any:
    """A field's text as the row's value: empty is None, a list column takes
    comma-separated values; the scenario's check converts and validates the rest."""
    entered = entered.strip()
    if isinstance(current, list | tuple):
        return [x.strip() for x in entered.split(",") if x.strip()]
    return entered or None


def key_columns(section: str) -> tuple[str, ...]:
    """The columns that name a row (read-only in the table)."""
    return KEY_COLUMNS.get(section, ("id",))


@dataclass
class Cell:
    """One field of a row: its column, the text shown, whether it can be edited, and
    the check's message about it."""

    column: str
    value: str
    editable: bool
    error: str = ""
    kind: str = "text"  # text | bool


@dataclass
class MasterRow:
    """A row of the table and its form."""

    index: int
    key: str
    tag: str
    cells: list[Cell]
    editable: bool
    message: str = ""  # a row-level refusal (stale, a cross-record rule)
    saved: bool = False


@dataclass(frozen=True)
class BranchChoice:
    """An open what-if branch of the scenario, as the branch picker lists it."""

    name: str
    base_version: int
    #: how many changes it has (None for a viewer limited to some sites: the API shows
    #: them only their sites' changes)
    changes: int | None


@dataclass
class MasterData:
    """One section of a scenario's newest version, or of a branch of it (`branch`: the
    branch's base version and its `revision`, how many changes it has), as `who` may
    see and edit it."""

    scenario: str
    version: int
    section: str
    columns: list[str]
    rows: list[MasterRow]
    may_edit: bool
    editors: list[str]
    hidden_rows: int = 0
    notes: list[str] = field(default_factory=list)
    branch: str | None = None
    #: a branch's changes (None for a viewer limited to some sites, as `BranchChoice`)
    revision: int | None = 0
    #: the branch was merged: it takes no more changes
    merged_into: int | None = None
    #: the scenario's open branches, for the picker
    branches: list[BranchChoice] = field(default_factory=list)


@dataclass
class Failed:
    """A save that was refused: what was entered, the field messages, the row message."""

    key: str
    entered: dict[str, str]
    errors: dict[str, str]
    message: str
    status: int


def editor_set(section: str, editors: Mapping[str, frozenset[Role]],
               branch: str | None = None, branch_makers: frozenset[Role] = frozenset()
               ) -> frozenset[Role]:
    """The roles that may change rows of `section` in the scenario, or on a branch of it,
    where the what-if makers may too (as the API's `AllowEdit`)."""
    return editors.get(section, frozenset()) | (branch_makers if branch else frozenset())


def may_edit(who: WebUser, section: str, editors: Mapping[str, frozenset[Role]],
             branch: str | None = None, branch_makers: frozenset[Role] = frozenset()
             ) -> bool:
    """May `who` change rows of `section` there?"""
    return who.role in editor_set(section, editors, branch, branch_makers)


def check_branch(branch: str | None) -> str | None:
    """A branch name as the page was given it (None or empty: the scenario itself); a
    name that can't be a branch's is refused with the rule."""
    if not branch:
        return None
    editing.check_name(branch, "branch")
    return branch


def open_branches(who: WebUser, scenario: str) -> list[BranchChoice]:
    """The scenario's open branches, by name."""
    return sorted((BranchChoice(b.name, b.base_version,
                                len(b.changes) if who.viewer.whole else None)
                   for b in branch_svc.list_branches(who.store)
                   if b.scenario == scenario and b.status is BranchStatus.OPEN),
                  key=lambda b: b.name)


def check_section(section: str) -> str:
    """A section of the contract (a bad one: a clear error)."""
    if section not in EDITABLE:
        raise NotFound(f"no master-data section {section[:40]!r} (fix: use one of "
                       f"{', '.join(EDITABLE)})")
    return section


def master_data(who: WebUser, scenario: str, section: str,
                editors: Mapping[str, frozenset[Role]], failed: Failed | None = None,
                saved: str | None = None, branch: str | None = None,
                branch_makers: frozenset[Role] = frozenset()) -> MasterData:
    """`section` of the newest version of `scenario`, or of its branch `branch`: the rows
    `who` may see, without the fields they are not cleared for, each with its tag."""
    check_section(section)
    branch = check_branch(branch)
    merged_into = None
    if branch is not None:
        b = branch_svc.get_branch(who.store, branch)
        merged_into = b.merged_version if b.status is not BranchStatus.OPEN else None
    view = editing.read_scenario(who.store, scenario, branch=branch)
    rows = view.rows(section)
    seen = [who.viewer.redact(section, r) for r in rows if who.viewer.may_see(section, r)]
    columns: list[str] = []
    for r in seen:
        columns += [c for c in r if c not in columns]
    keys = key_columns(section)
    can = may_edit(who, section, editors, branch, branch_makers) and merged_into is None
    out = []
    for i, r in enumerate(seen[:MAX_ROWS]):
        key = row_key(section, r)
        mine = failed if failed is not None and failed.key == key else None
        cells = []
        for c in columns:
            v = r.get(c)
            cell = Cell(c, text(v), can and c not in keys,
                        kind="bool" if isinstance(v, bool) else "text")
            if mine is not None and c in mine.entered and mine.status != 412:
                cell.value = mine.entered[c]
            if mine is not None:
                cell.error = mine.errors.get(c, "")
            cells.append(cell)
        out.append(MasterRow(i, key, row_tag(r), cells, can,
                             message=mine.message if mine else "", saved=saved == key))
    return MasterData(scenario, view.version, section, columns, out, can,
                      [r.value for r in Role
                       if r in editor_set(section, editors, branch, branch_makers)],
                      hidden_rows=len(rows) - len(seen), branch=branch,
                      revision=view.revision if who.viewer.whole else None,
                      merged_into=merged_into,
                      branches=open_branches(who, scenario))


def save_row(who: WebUser, scenario: str, section: str, form: Mapping[str, str],
             branch: str | None = None) -> tuple[editing.EditResult | None, Failed | None]:
    """Save one row from its form through the API's row PATCH with `If-Match`, on the
    scenario (its next version) or on its branch `branch` (one more change): the edit
    made, or why it was refused (nothing stored)."""
    check_section(section)
    branch = check_branch(branch)
    key = form.get("key", "")
    tag = form.get("etag", "")
    entered = {k[len(FIELD):]: v for k, v in form.items() if k.startswith(FIELD)}
    hidden = who.viewer.restricted.get(section, frozenset())
    if not who.viewer.cleared and hidden & entered.keys():
        raise ScopeRefused(f"{section}: {', '.join(sorted(hidden & entered.keys()))} are "
                           "restricted fields your role may not change")
    current = editing.read_scenario(who.store, scenario, branch=branch).row(section, key)
    patch: dict[str, Any] = {}
    if current is not None:
        shown = who.viewer.redact(section, current)
        patch = {c: parse(v, shown.get(c)) for c, v in entered.items()
                 if c in shown and c not in key_columns(section) and v != text(shown.get(c))}

    def guard(before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        for row in (before, after):
            if row is not None and not who.viewer.may_see(section, row):
                raise ScopeRefused(f"{section}[{key}]: not one of your sites "
                                   f"({', '.join(sorted(who.sites or ())) or 'none'})")
    try:
        done = editing.edit_row(who.store, scenario, section, EditOp.PATCH, key, patch,
                                branch=branch, guard=guard, if_match=frozenset({tag}))
    except StaleEdit:
        now = editing.read_scenario(who.store, scenario, branch=branch)
        where = f"the scenario is at version {now.version}" if branch is None else \
            f"branch {branch} has {now.revision} changes" if who.viewer.whole else \
            f"branch {branch} has changed"
        return None, Failed(key, entered, {}, "Not saved: someone else changed this row "
                            f"after you loaded the page ({where} now), and your change "
                            "would overwrite theirs. The row shows what is stored now; "
                            "redo your change on it.", 412)
    except ScenarioError as e:
        mine = {i.field: i.message + (f" (fix: {i.fix})" if i.fix else "")
                for i in e.issues if not i.is_warning and i.section == section
                and i.record == key and i.field in entered}
        rest = [str(i) for i in e.issues if not i.is_warning and i.field not in mine]
        return None, Failed(key, entered, mine, "; ".join(rest) if rest else
                            "Not saved: fix the fields marked below.", 422)
    except (NotFound, Conflict) as e:
        return None, Failed(key, entered, {}, f"Not saved: {e}", 409)
    except ScopeRefused:
        raise
    except FabnetError as e:
        return None, Failed(key, entered, {}, f"Not saved: {e}", 422)
    return done, None
