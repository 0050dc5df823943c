"""The continuity area's redundancy design page, under `/web/continuity/design`.

- GET `/web/continuity/design[?job=ID]`: everyone signed in; the newest done design job
  (or job ID) as the caller may see it (`services.scoping`, as `GET /jobs/{id}/result`:
  a site manager gets the method and the candidates and nodes touching their sites);
  the chosen set, its cost, units saved by mean and in the worst 5 %, the method and the
  bound it proved, what one more budget step buys, each candidate's marginal value by
  the duals, and the exposed nodes of the risk matrix before and after;
- POST `/web/continuity/design`: the roles that run stress tests (`Wiring.stress_testers`:
  admin, planner, continuity officer) start a design job of a scenario, as
  `POST /jobs/design` does (checked, audited, run by the server's job runner).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabnet.model.errors import FabnetError
from fabnet.resilience.design import Objective
from fabnet.services import design_job
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role
from fabnet.web import charts, views
from fabnet.web.routes import PREFIX, Posted, Who
from fabnet.web.session import WebUser
from fabnet.web.templating import WebError, friendly, render
from fabnet.web.wiring import Wiring

#: the most futures a design started from the page samples (a job, not a benchmark)
MAX_FUTURES = 1000


def design_view(who: WebUser, job: str | None) -> views.ResultView:
    """Job `job`'s design result (else the newest), scoped, with its candidates' chart."""
    if job is not None and not re.fullmatch(r"[0-9a-f]{32}", job):
        raise WebError(404, f"job {job[:40]!r}: no such job (fix: open it from the jobs list)")
    view = views.job_result(who, job) if job else views.latest_result(who, "design")
    if view.job is not None and view.job.kind != "design":
        raise WebError(404, f"job {job} is a {view.job.kind} job, not a design (fix: open "
                       "it from the jobs list)")
    cands = [c for c in (view.result or {}).get("candidates") or []
             if isinstance(c.get("dual_value_expected"), int | float)]
    if cands:
        view.charts["duals"] = charts.bars(
            "Marginal value of each candidate by the futures' duals (units a future)",
            [str(c["id"]) for c in cands], [float(c["dual_value_expected"]) for c in cands],
            "units saved a future, at the margin of no mitigation", horizontal=True)
    return view


def _form(form: dict[str, str]) -> dict[str, Any]:
    """The design form as a job's parameters; one line naming a bad field."""
    def number(name: str, low: float, high: float, default: str) -> float:
        text = form.get(name, default).strip() or default
        try:
            v = float(text)
        except ValueError:
            raise WebError(422, f"{name}: {text!r} is not a number (fix: e.g. {default})"
                           ) from None
        if not low <= v <= high:
            raise WebError(422, f"{name}: {text} is not in {low:g} .. {high:g}")
        return v

    scenario = form.get("scenario", "").strip()
    if not scenario:
        raise WebError(422, "scenario: missing (fix: pick a scenario)")
    objective = form.get("objective", Objective.EXPECTED.value)
    if objective not in {o.value for o in Objective}:
        raise WebError(422, f"objective: {objective!r} is not expected or worst5")
    return {"scenario": scenario, "version": None, "branch": None,
            "budget": number("budget", 0, 1e13, "1000000"),
            "futures": int(number("futures", 1, MAX_FUTURES, "50")),
            "seed": int(number("seed", 0, 2**31 - 1, "0")), "objective": objective,
            "method": "auto", "matrix": True,
            "marginal_step": number("marginal_step", 0, 1e13, "1000000")}


def make_router(wiring: Wiring) -> APIRouter:
    """The design page and its form, following `wiring`'s rules."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/continuity/design", response_class=HTMLResponse)
    @friendly
    def design(request: Request, who: Who, job: str | None = None,
               scenario: str | None = None) -> Response:
        found = scenario_svc.list_scenarios(who.store)
        chosen = scenario or (found[0].name if found else None)
        return render(request, "design.html.j2", who, design=design_view(who, job),
                      scenarios=found, chosen=chosen,
                      may_design=who.role in wiring.stress_testers)

    @router.post("/continuity/design")
    @friendly
    def submit(request: Request, post: Posted) -> Response:
        who, form = post
        if who.role not in wiring.stress_testers:
            allowed = ", ".join(r.value for r in Role if r in wiring.stress_testers)
            raise WebError(403, f"role {who.role.value} may not run a redundancy design "
                           f"(allowed: {allowed})")
        try:
            job = design_job.submit_design(who.store, _form(form))
        except FabnetError as e:
            raise WebError(422, str(e)) from None
        wiring.run_job(request, job)
        return RedirectResponse(f"{PREFIX}/jobs/{quote(job.id)}", status_code=303)

    return router
