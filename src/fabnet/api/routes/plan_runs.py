"""Plans kept in the store (every plan job keeps one): list them, read one whole."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fabnet.api.deps import Anyone
from fabnet.api.schemas import MAX_INT, NAME, Page, PlanRunDocument, PlanRunPublic
from fabnet.services import pages
from fabnet.services import store as store_svc

router = APIRouter(prefix="/plan-runs", tags=["plan runs"])


@router.get("", response_model=Page[PlanRunPublic])
def list_plan_runs(who: Anyone, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
                   scenario: Annotated[str | None, Query(pattern=NAME)] = None,
                   branch: Annotated[str | None, Query(pattern=NAME)] = None
                   ) -> Page[PlanRunPublic]:
    """Kept plans with their KPIs, newest first (filters: `scenario`, `branch`)."""
    page = pages.plan_run_page(who.store, limit, offset, scenario, branch)
    return Page(data=[PlanRunPublic.of(r) for r in page.rows], count=page.count)


@router.get("/{run_id}", response_model=PlanRunDocument)
def get_plan_run(run_id: Annotated[int, Path(ge=1, le=MAX_INT)], who: Anyone
                 ) -> PlanRunDocument:
    """One kept plan with every table of the plan contract."""
    r = store_svc.get_plan_run(who.store, run_id)
    return PlanRunDocument(**PlanRunPublic.of(r).model_dump(), document=r.document)
