"""The desk pages: compliance (`/web/compliance`: licences, balances, expiries, refused
shipments), engineering (`/web/engineering`: ECOs, their review and impact, with the
release and reject forms) and the auditor's (`/web/audit`: the trail with filters, and
whether it verifies).

Each page admits the roles of `fabnet.services.desk_pages` (the audit trail: the API's
`AUDIT_READERS`, handed in by `Wiring`), and refuses the others with a 403 page. An
ECO's impact plans the scenario twice, so it is computed once per ECO, its state and the
scenario version, in a thread of the server, while its page waits (`static/pending.js`
asks whether it is there, and shows the page again once it is).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fabnet.model.errors import FabnetError
from fabnet.services import desk_pages
from fabnet.services import eco as eco_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.eco import EcoImpact
from fabnet.shop.eco import EcoStatus
from fabnet.store import Role, Store
from fabnet.web import floor_charts
from fabnet.web.floor_views import caller, floor_scenario, refused_as_403
from fabnet.web.routes import PREFIX, Posted, Who
from fabnet.web.session import WebUser
from fabnet.web.templating import WebError, environment, friendly, render
from fabnet.web.wiring import Wiring


def need(who: WebUser, roles: frozenset[Role], page: str) -> None:
    """Refuse (403) a role that may not open `page`, naming the roles that may."""
    if who.role not in roles:
        raise WebError(403, f"role {who.role.value} may not open the {page} page (allowed: "
                       f"{', '.join(r.value for r in Role if r in roles) or 'none'})")


def desk_links(who: WebUser | None, wiring: Wiring) -> list[tuple[str, str]]:
    """The floor and desk pages `who` may open, as (label, path) for the navigation."""
    if who is None:
        return []
    links = [("Floor", f"{PREFIX}/floor")]
    for label, path, roles in (
            ("Compliance", "compliance", desk_pages.COMPLIANCE_READERS),
            ("Engineering", "engineering", desk_pages.ENGINEERING_READERS),
            ("Audit", "audit", wiring.audit_readers)):
        if who.role in roles:
            links.append((label, f"{PREFIX}/{path}"))
    return links


# ---------------------------------------------------------------- ECO impacts


@dataclass
class ImpactRun:
    """An ECO's impact being computed, or its outcome."""

    impact: EcoImpact | None = None
    error: str | None = None
    done: bool = False


_IMPACTS: dict[tuple[str, int, str, int], ImpactRun] = {}
_IMPACT_GUARD = threading.Lock()
#: the most impacts kept (the oldest is dropped first)
IMPACT_CACHE = 32


def impact_of(store: Store, who: WebUser, eco_id: int, status: EcoStatus, scenario: str
              ) -> ImpactRun:
    """The impact of an ECO as `eco_svc.eco_impact` computes it (from the floor's firm
    supply, as the API's), started in a thread when first asked for this ECO, state and
    scenario version; the run as it stands."""
    version = scenario_svc.list_versions(store, scenario)[-1].version
    key = (str(store.engine.url), eco_id, status.value, version)
    with _IMPACT_GUARD:
        have = _IMPACTS.get(key)
        if have is not None:
            return have
        run = _IMPACTS[key] = ImpactRun()
        while len(_IMPACTS) > IMPACT_CACHE:
            del _IMPACTS[next(iter(_IMPACTS))]
    c = caller(who)

    def work() -> None:
        try:
            run.impact = eco_svc.eco_impact(store, c, eco_id)
        except FabnetError as e:
            run.error = str(e)
        except Exception as e:  # the page shows it; the thread must end either way
            run.error = f"the impact could not be computed: {type(e).__name__}: {e}"
        run.done = True
    threading.Thread(target=work, name=f"eco-impact-{eco_id}", daemon=True).start()
    return run


def _eco_id(text: str) -> int:
    t = text.strip().upper().removeprefix("ECO-")
    if not t.isdigit() or len(t) > 12:
        raise WebError(404, f"no ECO {text[:20]!r} (fix: follow a link from the ECO list)")
    return int(t)


def add_routes(router: APIRouter, wiring: Wiring) -> None:
    """The desk pages and the ECO review forms, on the dashboard's router; the pages'
    navigation gets `desk_links`."""
    environment().globals["desk_links"] = desk_links

    @router.get("/compliance", response_class=HTMLResponse)
    @friendly
    @refused_as_403
    def compliance(request: Request, who: Who, weeks: str = "4",
                   scenario: str | None = None) -> Response:
        need(who, desk_pages.COMPLIANCE_READERS, "compliance")
        n = int(weeks) if weeks.strip().isdigit() and len(weeks) < 5 else -1
        if not 0 <= n <= 520:
            raise WebError(422, f"weeks: a whole number from 0 to 520, got {weeks[:20]!r}")
        desk = desk_pages.compliance_desk(who.store, caller(who), n,
                                          floor_scenario(who, scenario, "compliance"))
        charts: dict[str, str] = {}
        if desk.licences:
            charts["validity"] = floor_charts.licence_validity(desk.licences, desk.on)
            charts["balances"] = floor_charts.licence_balances(desk.licences)
        return render(request, "compliance.html.j2", who, desk=desk, charts=charts)

    @router.get("/engineering", response_class=HTMLResponse)
    @friendly
    @refused_as_403
    def engineering(request: Request, who: Who, eco: str | None = None,
                    scenario: str | None = None) -> Response:
        need(who, desk_pages.ENGINEERING_READERS, "engineering")
        ecos = desk_pages.eco_list(who.store, caller(who),
                                   floor_scenario(who, scenario, "engineering"))
        chosen = None
        run: ImpactRun | None = None
        charts: dict[str, Any] = {}
        if eco is not None:
            eid = _eco_id(eco)
            chosen = next((e for e in ecos if e.id == eid), None)
            if chosen is None:
                raise WebError(404, f"no ECO ECO-{eid} (fix: follow a link from the list)")
            if chosen.status in (EcoStatus.DRAFT, EcoStatus.IN_REVIEW):  # decided: it is done
                run = impact_of(who.store, who, chosen.id, chosen.status, chosen.scenario)
            if run is not None and run.impact is not None and run.impact.demand:
                charts["demand"] = floor_charts.demand_change(run.impact.demand)
        return render(request, "engineering.html.j2", who, ecos=ecos, chosen=chosen,
                      run=run, charts=charts,
                      may_decide=who.role in desk_pages.ECO_DECIDERS)

    @router.get("/engineering/ecos/{eco_id}/impact")
    @friendly
    @refused_as_403
    def impact_status(who: Who, eco_id: str) -> Response:
        need(who, desk_pages.ENGINEERING_READERS, "engineering")
        e = eco_svc.get_eco(who.store, caller(who), _eco_id(eco_id))
        run = impact_of(who.store, who, e.id, e.status, e.scenario) \
            if e.status in (EcoStatus.DRAFT, EcoStatus.IN_REVIEW) else None
        return JSONResponse({"done": run is None or run.done},
                            headers={"Cache-Control": "no-store"})

    def _decided(post: tuple[WebUser, dict[str, str]], eco_id: str, release: bool
                 ) -> Response:
        who, form = post
        need(who, desk_pages.ECO_DECIDERS, "ECO review")
        eid = _eco_id(eco_id)
        note = form.get("note", "").strip()[:1000]
        if release:
            eco_svc.release_eco(who.store, caller(who), eid, note)
        else:
            eco_svc.reject_eco(who.store, caller(who), eid, note)
        e = eco_svc.get_eco(who.store, caller(who), eid)
        return RedirectResponse(f"{PREFIX}/engineering?scenario={quote(e.scenario)}&eco={eid}",
                                303)

    @router.post("/engineering/ecos/{eco_id}/release")
    @friendly
    @refused_as_403
    def release(post: Posted, eco_id: str) -> Response:
        return _decided(post, eco_id, True)

    @router.post("/engineering/ecos/{eco_id}/reject")
    @friendly
    @refused_as_403
    def reject(post: Posted, eco_id: str) -> Response:
        return _decided(post, eco_id, False)

    @router.get("/audit", response_class=HTMLResponse)
    @friendly
    def audit(request: Request, who: Who, actor: str = "", action: str = "",
              entity: str = "", offset: str = "") -> Response:
        need(who, wiring.audit_readers, "audit")
        a, act, ent = (x.strip()[:300] or None for x in (actor, action, entity))
        if offset.strip():
            if not offset.strip().isdigit():
                raise WebError(422, f"offset: not a whole number, got {offset[:20]!r}")
            at = int(offset)
        else:  # the newest entries first: the trail's last page
            n = desk_pages.audit_count(who.store, a, act, ent)
            at = max(0, n - desk_pages.AUDIT_PAGE)
        desk = desk_pages.audit_desk(who.store, at, a, act, ent)
        return render(request, "audit.html.j2", who, desk=desk)
