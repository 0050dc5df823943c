"""Plans kept in the store (every plan job keeps one): list them, read one whole. A
site manager reads the rows of their sites and KPIs recomputed for them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fabnet.api import policy
from fabnet.api.deps import Anyone
from fabnet.api.schemas import MAX_INT, NAME, Page, PlanRunDocument, PlanRunPublic
from fabnet.services import pages, scoping
from fabnet.services import plan_runs as plan_svc

router = APIRouter(prefix="/plan-runs", tags=["plan runs"])


@router.get("", response_model=Page[PlanRunPublic])
def list_plan_runs(who: Anyone, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
                   scenario: Annotated[str | None, Query(pattern=NAME)] = None,
                   branch: Annotated[str | None, Query(pattern=NAME)] = None
                   ) -> Page[PlanRunPublic]:
    """Kept plans with their KPIs, newest first (filters: `scenario`, `branch`)."""
    page = pages.plan_run_page(who.store, limit, offset, scenario, branch)
    viewer, sources = policy.viewer(who.sites, who.cleared), scoping.Sources(who.store)
    data = []
    for r in page.rows:
        try:
            kpis, _, scope = scoping.plan_run_view(r, viewer, sources, with_tables=False)
        except scoping.ScopeRefused as e:  # one run the caller may not see: its KPIs go
            kpis, scope = {}, {"withheld": ["kpis"], "refused": str(e)}
        data.append(PlanRunPublic.of(r, kpis, scope))
    return Page(data=data, count=page.count)


@router.get("/{run_id}", response_model=PlanRunDocument)
def get_plan_run(run_id: Annotated[int, Path(ge=1, le=MAX_INT)], who: Anyone
                 ) -> PlanRunDocument:
    """One kept plan with every table of the plan contract (a site manager: their
    sites' rows; see "What each role sees of a result")."""
    r = plan_svc.get_plan_run(who.store, run_id)
    with policy.refused_as_403():
        kpis, doc, scope = scoping.plan_run_view(r, policy.viewer(who.sites, who.cleared),
                                                 scoping.Sources(who.store), with_tables=True)
    return PlanRunDocument(**PlanRunPublic.of(r, kpis, scope).model_dump(),
                           document=doc or {})
