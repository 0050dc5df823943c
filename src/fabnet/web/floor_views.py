"""The floor pages under `/web/floor`: the board (work-order queue per work center,
holds, line-downs, yield and the failure Pareto, the newest units), a unit's history by
serial, and the forms to report a line down and to hold or release a lot or a unit.

Every page calls the floor's services with the signed-in user as the floor's `Caller`,
so a site manager sees only their sites' rows, and a unit of another site is refused
(403, naming no site). Every form carries the session's CSRF token (`routes.posted`),
and its action is the service the API and the CLI call (`line_down.line_down`,
`floor.hold`, `floor.release_hold`), audited there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import ParamSpec, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fabnet.services import floor as fl
from fabnet.services import floor_pages
from fabnet.services import line_down as ld
from fabnet.services import scenarios as scenario_svc
from fabnet.shop.errors import NotPermitted
from fabnet.shop.roles import Caller
from fabnet.web import floor_charts
from fabnet.web.routes import PREFIX, Posted, Who
from fabnet.web.session import WebUser
from fabnet.web.templating import WebError, friendly, render
from fabnet.web.wiring import Wiring

P = ParamSpec("P")
R = TypeVar("R")


def caller(who: WebUser) -> Caller:
    """The signed-in user as the floor's services see them (role and sites)."""
    return Caller.of(who.name, who.role, who.user.sites)


def refused_as_403(fn: Callable[P, R]) -> Callable[P, R]:
    """A floor refusal (`NotPermitted`: a role or a site that is not the caller's) as a
    403 page; it names no other site, as the service's message doesn't."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except NotPermitted as e:
            raise WebError(403, str(e)) from None
    return wrapper


def floor_scenario(who: WebUser, scenario: str | None, page: str) -> str | None:
    """The scenario a floor or desk page reads: the one named, or the store's only one
    (None); a store with several asks which (422, naming them)."""
    if scenario is not None:
        return scenario.strip()[:200] or None
    found = [x.name for x in scenario_svc.list_scenarios(who.store)]
    if len(found) > 1:
        raise WebError(422, f"the store holds {len(found)} scenarios ({', '.join(found[:8])}"
                       f"{', …' if len(found) > 8 else ''}) (fix: name the one the floor "
                       f"runs in: {PREFIX}/{page}?scenario=NAME)")
    return None


def _day(text: str, name: str, required: bool = True) -> date | None:
    """An ISO date from a form field (None when optional and blank)."""
    text = text.strip()
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WebError(422, f"{name}: not a date, got {text[:20]!r} (fix: YYYY-MM-DD)") \
            from None


def _factor(text: str) -> float:
    try:
        return float(text.strip() or "0")
    except ValueError:
        raise WebError(422, f"capacity: not a number, got {text[:20]!r} (fix: 0 for down, "
                       "or the share of hours left, e.g. 0.5)") from None


def add_routes(router: APIRouter, wiring: Wiring) -> None:
    """The floor's pages and forms, on the dashboard's router."""

    @router.get("/floor", response_class=HTMLResponse)
    @friendly
    @refused_as_403
    def floor_page(request: Request, who: Who, scenario: str | None = None,
                   done: str | None = None) -> Response:
        board = floor_pages.floor_board(who.store, caller(who),
                                        floor_scenario(who, scenario, "floor"))
        charts = {}
        if board.yields:
            charts["fpy"] = floor_charts.fpy_by_week(board.yields)
        if board.pareto:
            charts["pareto"] = floor_charts.failure_pareto(board.pareto)
        return render(request, "floor.html.j2", who, board=board, charts=charts,
                      done=(done or "")[:200])

    @router.get("/floor/unit")
    @friendly
    def find_unit(who: Who, serial: str = "") -> Response:
        serial = serial.strip()
        if not serial:
            raise WebError(422, "serial: missing (fix: type the serial printed on the unit)")
        return RedirectResponse(f"{PREFIX}/floor/units/{quote(serial, safe='')}", 303)

    @router.get("/floor/units/{serial}", response_class=HTMLResponse)
    @friendly
    @refused_as_403
    def unit_page(request: Request, who: Who, serial: str) -> Response:
        if not 0 < len(serial) <= 200:
            raise WebError(404, "no unit with that serial")
        found = floor_pages.unit_file(who.store, caller(who), serial)
        return render(request, "unit.html.j2", who, u=found)

    @router.post("/floor/line-down")
    @friendly
    @refused_as_403
    def report_line_down(post: Posted) -> Response:
        who, form = post
        site, wc = form.get("site", "").strip(), form.get("work_center", "").strip()
        if not site or not wc:
            raise WebError(422, "site and work center: both needed (fix: pick them)")
        start = _day(form.get("from", ""), "from")
        assert start is not None
        done = ld.line_down(who.store, caller(who), site, wc, start,
                            _day(form.get("until", ""), "until", required=False),
                            _factor(form.get("capacity", "")),
                            form.get("scenario", "").strip() or None,
                            form.get("note", "").strip()[:500])
        return RedirectResponse(f"{PREFIX}/floor?done={quote(done.disruption.id)}", 303)

    @router.post("/floor/holds")
    @friendly
    @refused_as_403
    def place_hold(post: Posted) -> Response:
        who, form = post
        ref = form.get("ref", "").strip()
        if not ref:
            raise WebError(422, "lot or serial: missing (fix: type the lot code or serial)")
        fl.hold(who.store, caller(who), ref, form.get("reason", "")[:500],
                form.get("scenario", "").strip() or None)
        return RedirectResponse(f"{PREFIX}/floor?done={quote('hold ' + ref)}", 303)

    @router.post("/floor/holds/release")
    @friendly
    @refused_as_403
    def lift_hold(post: Posted) -> Response:
        who, form = post
        ref = form.get("ref", "").strip()
        if not ref:
            raise WebError(422, "lot or serial: missing")
        fl.release_hold(who.store, caller(who), ref, form.get("scenario", "").strip() or None)
        return RedirectResponse(f"{PREFIX}/floor?done={quote('released ' + ref)}", 303)
