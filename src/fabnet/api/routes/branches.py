"""What-if branches: create one from a version, read its changes, compare it with its
parent, merge it back as a new version. Rows of a branch are edited through the
section endpoints with `?branch=NAME`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

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
from fabnet.services import store as store_svc
from fabnet.store import Branch, BranchStatus
from fabnet.store.mapping import record_json

router = APIRouter(prefix="/branches", tags=["branches"])
BranchName = Annotated[str, Path(pattern=NAME)]


def _visible(who: Principal, section: str, rec: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row as `who` may see it: redacted, or None when it is another site's."""
    if rec is None or not who.may_see(section, rec):
        return None
    return who.redact(section, rec)


def _public(who: Principal, b: Branch) -> BranchPublic:
    changes = []
    for c in b.changes:
        rec = None if c.record is None else record_json(c.record)
        shown = _visible(who, c.section, rec)
        if rec is not None and shown is None:
            continue  # a change to another site's row
        changes.append(ChangePublic(op=c.op.value, section=c.section, key=c.key, record=shown))
    return BranchPublic.of(b, changes)


@router.get("", response_model=Page[BranchPublic])
def list_branches(who: Anyone, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0)] = 0,
                  scenario: Annotated[str | None, Query(max_length=100)] = None,
                  status_: Annotated[BranchStatus | None, Query(alias="status")] = None
                  ) -> Page[BranchPublic]:
    """Branches by name (filters: `scenario`, `status` open or merged)."""
    found = [b for b in store_svc.list_branches(who.store)
             if (scenario is None or b.scenario == scenario)
             and (status_ is None or b.status is status_)]
    return Page(data=[_public(who, b) for b in found[offset:offset + limit]], count=len(found))


@router.post("", response_model=BranchPublic, status_code=status.HTTP_201_CREATED)
def create_branch(body: BranchCreate, who: BranchMaker) -> BranchPublic:
    """A what-if branch of a version (default: the newest), optionally with disruptions
    (`TARGET@DATE+BUCKETS[xFACTOR]`) as its first changes."""
    b = store_svc.create_branch(who.store, body.name, body.scenario, body.version,
                                body.disruptions or None, body.note)
    return _public(who, b)


@router.get("/{branch}", response_model=BranchPublic)
def get_branch(branch: BranchName, who: Anyone) -> BranchPublic:
    """A branch and its changes, in order."""
    return _public(who, store_svc.get_branch(who.store, branch))


@router.get("/{branch}/compare", response_model=BranchComparison)
def compare_branch(branch: BranchName, who: Anyone) -> BranchComparison:
    """The rows the branch adds, removes or changes against its base version, and the
    rows a merge would clash on because the parent changed them since."""
    cmp = store_svc.compare_branch(who.store, branch)
    rows = []
    for d in cmp.diffs:
        before = None if d.before is None else record_json(d.before)
        after = None if d.after is None else record_json(d.after)
        shown_b, shown_a = _visible(who, d.section, before), _visible(who, d.section, after)
        if shown_b is None and shown_a is None:
            continue
        hidden = set(before or {}) - set(shown_b or shown_a or {})
        rows.append(RowDiffPublic(section=d.section, key=d.key, kind=d.kind, before=shown_b,
                                  after=shown_a, fields=[f for f in d.fields_changed()
                                                         if f not in hidden]))
    b = cmp.branch
    return BranchComparison(branch=b.name, scenario=b.scenario, base_version=b.base_version,
                            parent_latest=cmp.parent_latest, conflicts=cmp.conflicts, rows=rows)


@router.post("/{branch}/merge", response_model=VersionPublic,
             status_code=status.HTTP_201_CREATED)
def merge_branch(branch: BranchName, body: MergeRequest, who: Merger) -> VersionPublic:
    """Apply the branch's changes to its parent's newest version, as a new version; 409
    naming the clashing rows if the parent changed them since the branch was made."""
    return VersionPublic.of(store_svc.merge_branch(who.store, branch, body.note))
