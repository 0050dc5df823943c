"""The planner's working pages, under `/web`: master data edited in place, a plan run's
timeline per site and its pegging, and two plan runs compared.

- master data, GET `/web/scenarios/{scenario}/data?section=S[&branch=B]`: everyone
  signed in (their sites' rows, the fields they are cleared for), of the newest version
  or of the open what-if branch B;
- save a row, POST `/web/scenarios/{scenario}/data/{section}` (the form's `branch`:
  on that branch): the section's editors (the API's `SECTION_EDITORS`; on a branch also
  `Wiring.branch_makers`), a site manager on their sites' rows only;
- timeline, GET `/web/runs/{id}/timeline`: everyone signed in (their sites);
- pegging, GET `/web/runs/{id}/pegging?demand=D`: everyone signed in (the demands their
  sites serve, the flows at their sites);
- compare, GET `/web/compare?a=ID&b=ID`: everyone signed in (KPIs and rows of their sites).

A saved row is the API's row PATCH with `If-Match` (`services.editing.edit_row`): the
edit is checked, audited and becomes the next version, or one more change of the branch,
as through the API.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabnet.services import compare_runs, pegging
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role
from fabnet.web import masterdata, views
from fabnet.web.routes import PREFIX, Posted, Who
from fabnet.web.templating import WebError, friendly, render
from fabnet.web.wiring import Wiring


def make_router(wiring: Wiring) -> APIRouter:
    """The planner's working pages, following `wiring`'s rules."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    editors, makers = wiring.section_editors, wiring.branch_makers

    @router.get("/scenarios/{scenario}/data", response_class=HTMLResponse)
    @friendly
    def master_data(request: Request, who: Who, scenario: str, section: str = "work_centers",
                    saved: str | None = None, version: str | None = None,
                    branch: str | None = None) -> Response:
        data = masterdata.master_data(who, scenario, section, editors, saved=saved,
                                      branch=branch, branch_makers=makers)
        return render(request, "masterdata.html.j2", who, data=data,
                      sections=masterdata.EDITABLE, saved_version=version,
                      may_plan=who.role in wiring.planners)

    @router.post("/scenarios/{scenario}/data/{section}")
    @friendly
    def save_row(request: Request, post: Posted, scenario: str, section: str) -> Response:
        who, form = post
        masterdata.check_section(section)
        branch = masterdata.check_branch(form.get("branch", "").strip())
        if not masterdata.may_edit(who, section, editors, branch, makers):
            roles = masterdata.editor_set(section, editors, branch, makers)
            allowed = ", ".join(r.value for r in Role if r in roles)
            raise WebError(403, f"role {who.role.value} may not change {section}"
                           f"{' on a branch' if branch else ''} (allowed: "
                           f"{allowed or 'nobody'})")
        done, failed = masterdata.save_row(who, scenario, section, form, branch)
        if failed is not None:
            data = masterdata.master_data(who, scenario, section, editors, failed=failed,
                                          branch=branch, branch_makers=makers)
            return render(request, "masterdata.html.j2", who, data=data,
                          sections=masterdata.EDITABLE, saved_version=None,
                          may_plan=who.role in wiring.planners, status=failed.status)
        assert done is not None
        where = (f"{PREFIX}/scenarios/{quote(scenario)}/data?section={quote(section)}"
                 + (f"&branch={quote(branch)}" if branch else "")
                 + f"&saved={quote(done.key)}&version={done.version}"
                 + ("" if done.changed else "&unchanged=1"))
        return RedirectResponse(where, status_code=303)

    @router.get("/runs/{run_id}/timeline", response_class=HTMLResponse)
    @friendly
    def timeline(request: Request, who: Who, run_id: int) -> Response:
        run, sites = views.timeline(who, run_id)
        return render(request, "timeline.html.j2", who, run=run, sites=sites)

    @router.get("/runs/{run_id}/pegging", response_class=HTMLResponse)
    @friendly
    def pegging_page(request: Request, who: Who, run_id: int, demand: str | None = None
                     ) -> Response:
        run = plan_svc.get_plan_run(who.store, run_id)
        demands = pegging.pegged_demands(who.store, who.viewer, run)
        short = {str(r["demand"]): r for r in
                 views.plan_view(who, run, with_charts=False).shortfalls}
        if demand is None:  # the largest shortfall that something serves, else the first
            served = pegging.served_demands(who.store, run)
            first = [d for d in short if d in served and d in demands] + \
                [d for d in demands if d in served] + demands
            demand = first[0] if first else None
        pegged = pegging.demand_pegging(who.store, who.viewer, run_id, demand) \
            if demand is not None else None
        return render(request, "pegging.html.j2", who, run=run, demands=demands,
                      chosen=demand, pegged=pegged,
                      shortfall=short.get(demand) if demand is not None else None)

    @router.get("/compare", response_class=HTMLResponse)
    @friendly
    def compare(request: Request, who: Who, a: int, b: int) -> Response:
        cmp = compare_runs.compare_runs(who.store, who.viewer, a, b)
        runs = views.plan_runs(who, cmp.a.scenario)
        return render(request, "compare.html.j2", who, cmp=cmp, runs=runs,
                      scenarios=scenario_svc.list_scenarios(who.store))

    return router
