"""What-if branches: create one from a version, read its changes, compare it with its
parent, merge it back as a new version. Rows of a branch are edited through the
section endpoints with `?branch=NAME`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from fabnet.api import policy
from fabnet.api.deps import Anyone, BranchMaker, Merger, Principal
from fabnet.api.schemas import (
    NAME,
    BranchComparison,
    BranchCreate,
    BranchPublic,
    ChangePublic,
    MergeRequest,
    Page,
    RowDiffPublic,
    VersionPublic,
)
from fabnet.services import branches as branch_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services import scoping
from fabnet.store import Branch, BranchStatus
from fabnet.store.mapping import key_of, record_json, section_records

router = APIRouter(prefix="/branches", tags=["branches"])
BranchName = Annotated[str, Path(pattern=NAME)]


def _visible(who: Principal, section: str, rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row as `who` may see it: redacted, or None when it is another site's."""
    if rec is None or not who.may_see(section, rec):
        return None
    return who.redact(section, rec)


Known = dict[tuple[str, str], list[dict[str, Any]]]


def _known_rows(who: Principal, b: Branch, versions: Iterable[int] = ()) -> Known:
    """Every record a key of a site-scoped section has had in the branch's base (and in
    `versions` of its scenario) and its changes: what a delete or a clash, which carry
    only a key, was about."""
    known: Known = defaultdict(list)
    for v in {b.base_version, *versions}:
        sc = scenario_svc.load_stored(who.store, b.scenario, v)
        for section in policy.SITE_FIELD:
            for r in section_records(sc, section):
                known[(section, key_of(section, r))].append(record_json(r))
    for c in b.changes:
        if c.record is not None and c.section in policy.SITE_FIELD:
            known[(c.section, c.key)].append(record_json(c.record))
    return known


def _key_visible(who: Principal, known: Known | None, section: str, key: str) -> bool:
    """May `who` see the row `section[key]`? Only if every record it has had is theirs."""
    if known is None or section not in policy.SITE_FIELD:
        return True
    recs = known.get((section, key), [])
    return bool(recs) and all(who.may_see(section, r) for r in recs)


def _scoped(who: Principal) -> bool:
    """Is `who` limited to some sites?"""
    return who.sites is not None


def _note(who: Principal, b: Branch) -> str:
    """The branch's note as `who` may read it."""
    viewer = policy.viewer(who.sites, who.cleared)
    if viewer.whole or not b.note:
        return b.note
    source = scoping.Source.of(scenario_svc.load_stored(who.store, b.scenario, b.base_version))
    return scoping.redact_note(b.note, viewer, source)


def _public(who: Principal, b: Branch) -> BranchPublic:
    known = _known_rows(who, b) if _scoped(who) else None
    changes = []
    for c in b.changes:
        rec = None if c.record is None else record_json(c.record)
        shown = _visible(who, c.section, rec)
        if rec is not None and shown is None:
            continue  # a change to another site's row
        if rec is None and not _key_visible(who, known, c.section, c.key):
            continue  # the delete of another site's row
        changes.append(ChangePublic(op=c.op.value, section=c.section, key=c.key, record=shown))
    out = BranchPublic.of(b, changes)
    out.note = _note(who, b)
    return out


@router.get("", response_model=Page[BranchPublic])
def list_branches(who: Anyone, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0)] = 0,
                  scenario: Annotated[str | None, Query(max_length=100)] = None,
                  status_: Annotated[BranchStatus | None, Query(alias="status")] = None
                  ) -> Page[BranchPublic]:
    """Branches by name (filters: `scenario`, `status` open or merged)."""
    found = [b for b in branch_svc.list_branches(who.store)
             if (scenario is None or b.scenario == scenario)
             and (status_ is None or b.status is status_)]
    return Page(data=[_public(who, b) for b in found[offset:offset + limit]], count=len(found))


@router.post("", response_model=BranchPublic, status_code=status.HTTP_201_CREATED)
def create_branch(body: BranchCreate, who: BranchMaker) -> BranchPublic:
    """A what-if branch of a version (default: the newest), optionally with disruptions
    (`TARGET@DATE+BUCKETS[xFACTOR]`) as its first changes."""
    b = branch_svc.create_branch(who.store, body.name, body.scenario, body.version,
                                body.disruptions or None, body.note)
    return _public(who, b)


@router.get("/{branch}", response_model=BranchPublic)
def get_branch(branch: BranchName, who: Anyone) -> BranchPublic:
    """A branch and its changes, in order."""
    return _public(who, branch_svc.get_branch(who.store, branch))


@router.get("/{branch}/compare", response_model=BranchComparison)
def compare_branch(branch: BranchName, who: Anyone) -> BranchComparison:
    """The rows the branch adds, removes or changes against its base version, and the
    rows a merge would clash on because the parent changed them since."""
    cmp = branch_svc.compare_branch(who.store, branch)
    b = cmp.branch
    known = _known_rows(who, b, [cmp.parent_latest]) if _scoped(who) else None
    rows = []
    for d in cmp.diffs:
        before = None if d.before is None else record_json(d.before)
        after = None if d.after is None else record_json(d.after)
        shown_b, shown_a = _visible(who, d.section, before), _visible(who, d.section, after)
        if shown_b is None and shown_a is None:
            continue
        hidden = set(before or {}) - set(shown_b or shown_a or {})
        fields = [f for f in d.fields_changed() if f not in hidden]
        if d.kind == "changed" and not fields:
            continue  # only fields the caller may not see changed
        rows.append(RowDiffPublic(section=d.section, key=d.key, kind=d.kind, before=shown_b,
                                  after=shown_a, fields=fields))
    conflicts = [c for c in cmp.conflicts if _key_visible(who, known, *_clash(c))]
    return BranchComparison(branch=b.name, scenario=b.scenario, base_version=b.base_version,
                            parent_latest=cmp.parent_latest, conflicts=conflicts, rows=rows)


def _clash(text: str) -> tuple[str, str]:
    """`section[key]` (a merge clash) as (section, key)."""
    section, _, rest = text.partition("[")
    return section, rest[:-1] if rest.endswith("]") else rest


@router.post("/{branch}/merge", response_model=VersionPublic,
             status_code=status.HTTP_201_CREATED)
def merge_branch(branch: BranchName, body: MergeRequest, who: Merger) -> VersionPublic:
    """Apply the branch's changes to its parent's newest version, as a new version; 409
    naming the clashing rows if the parent changed them since the branch was made."""
    return VersionPublic.of(branch_svc.merge_branch(who.store, branch, body.note))
