"""The dashboard's pages and forms, under `/web`: sign-in and logout, home, planner,
a plan run, a job's progress, continuity, and the plan's downloads.

Every page needs a session (else it redirects to the sign-in page); every form is a
POST that carries the session's CSRF token (else 403, nothing done). The pages call the
services the API calls, and the caller's role decides what they may submit, as in the
API (`Wiring.planners`, `Wiring.stress_testers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fabnet.services import jobs as job_svc
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services import scoping
from fabnet.services.jobs import JobKind
from fabnet.store import JobStatus, NotFound, Role, Store
from fabnet.web import downloads, views, whatif_form
from fabnet.web.session import (
    CSRF_FIELD,
    SIGNIN_COOKIE,
    WebUser,
    clear_session,
    current_user,
    end_session,
    keep_signin_token,
    same,
    set_session,
    signin_token,
)
from fabnet.web.templating import WebError, friendly, render
from fabnet.web.wiring import SignInRefused, Wiring

PREFIX = "/web"
#: the most form bytes a page accepts (the API's body limit applies before this)
MAX_FORM = 64 * 1024


class SignInNeeded(Exception):
    """No valid session: the page sends the browser to the sign-in page."""


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _wiring(request: Request) -> Wiring:
    wiring: Wiring = request.app.state.web_wiring
    return wiring


def signed_in(request: Request) -> WebUser:
    """The page's signed-in user (`SignInNeeded` without a valid session)."""
    who = current_user(request, _store(request), _wiring(request))
    if who is None:
        raise SignInNeeded
    return who


async def fields(request: Request) -> dict[str, str]:
    """The fields of a posted form (URL-encoded, at most `MAX_FORM` bytes)."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise WebError(413, "the form is too large")
    if request.headers.get("content-type", "").split(";")[0].strip() != \
            "application/x-www-form-urlencoded":
        raise WebError(415, "send the form as application/x-www-form-urlencoded")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


async def posted(request: Request, form: Annotated[dict[str, str], Depends(fields)]
                 ) -> tuple[WebUser, dict[str, str]]:
    """The signed-in user and their form, once its CSRF token is the session's (else
    403: nothing is done)."""
    who = await run_in_threadpool(current_user, request, _store(request), _wiring(request))
    if who is None:
        raise SignInNeeded
    if not same(form.get(CSRF_FIELD), who.csrf):
        raise WebError(403, "the form's CSRF token is missing or wrong: nothing was "
                       "done (fix: reload the page and send the form again)")
    return who, form


Who = Annotated[WebUser, Depends(signed_in)]
Posted = Annotated[tuple[WebUser, dict[str, str]], Depends(posted)]
Form = Annotated[dict[str, str], Depends(fields)]


def make_router(wiring: Wiring) -> APIRouter:
    """The dashboard's routes, following `wiring`'s rules."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    def need(who: WebUser, roles: frozenset[Role], what: str) -> None:
        if who.role not in roles:
            raise WebError(403, f"role {who.role.value} may not {what} (allowed: "
                           f"{', '.join(r.value for r in Role if r in roles)})")

    # ------------------------------------------------------------ sign-in

    @router.get("/login", response_class=HTMLResponse)
    @friendly
    def login_page(request: Request) -> Response:
        token = signin_token(request)
        response = render(request, "login.html.j2", None, error=None, username="",
                          signin=token)
        keep_signin_token(response, request, token)
        return response

    @router.post("/login")
    @friendly
    def login(request: Request, form: Form) -> Response:
        if not same(form.get(CSRF_FIELD), request.cookies.get(SIGNIN_COOKIE) or ""):
            raise WebError(403, "the sign-in form's CSRF token is missing or wrong (fix: "
                           "reload the sign-in page)")
        name, password = form.get("username", "").strip(), form.get("password", "")
        token = request.cookies.get(SIGNIN_COOKIE, "")
        try:
            done = wiring.sign_in(request, name, password)
        except SignInRefused as e:
            page = render(request, "login.html.j2", None, error=str(e), username=name,
                          signin=token, status=e.status)
            page.headers["Retry-After"] = str(e.retry_after)
            return page
        if done is None:
            return render(request, "login.html.j2", None, username=name, signin=token,
                          error="wrong user name or password, or the account is inactive "
                          "or locked after repeated wrong passwords", status=401)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        set_session(response, request, done.record.id, done.token,
                    wiring.session_hours(request))
        return response

    @router.post("/logout")
    @friendly
    def logout(request: Request, post: Posted) -> Response:
        end_session(post[0])
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        clear_session(response, request)
        return response

    # ------------------------------------------------------------ pages

    @router.get("/", response_class=HTMLResponse)
    @friendly
    def home(request: Request, who: Who) -> Response:
        latest = views.latest_plan(who)
        plan = views.plan_view(who, latest, with_charts=False) if latest else None
        tts = views.latest_result(who, "tts")
        running = views.jobs(who, JobStatus.RUNNING) + views.jobs(who, JobStatus.QUEUED)
        return render(request, "home.html.j2", who, plan=plan, tts=tts,
                      exposed=views.exposed_nodes(tts), running=running,
                      may_plan=who.role in wiring.planners)

    @router.get("/planner", response_class=HTMLResponse)
    @friendly
    def planner(request: Request, who: Who, scenario: str | None = None) -> Response:
        found = scenario_svc.list_scenarios(who.store)
        chosen = scenario or (found[0].name if found else None)
        versions = []
        if chosen is not None:
            for v in reversed(scenario_svc.list_versions(who.store, chosen)):
                seen = scoping.version_view(who.store, who.viewer, v)
                versions.append((v, seen))
        latest = views.latest_plan(who, chosen) if chosen else None
        return render(request, "planner.html.j2", who, scenarios=found, chosen=chosen,
                      versions=versions, runs=views.plan_runs(who, chosen),
                      jobs=views.jobs(who, kind="plan", limit=10),
                      plan=views.plan_view(who, latest) if latest else None,
                      may_plan=who.role in wiring.planners)

    @router.get("/runs/{run_id}", response_class=HTMLResponse)
    @friendly
    def plan_run(request: Request, who: Who, run_id: int) -> Response:
        run = plan_svc.get_plan_run(who.store, run_id)
        return render(request, "run.html.j2", who, plan=views.plan_view(who, run),
                      may_plan=who.role in wiring.planners)

    @router.get("/runs/{run_id}/plan.xlsx")
    @friendly
    def plan_xlsx(who: Who, run_id: int) -> Response:
        run, doc = _scoped_doc(who, run_id)
        return Response(downloads.workbook(doc), media_type=downloads.XLSX,
                        headers=downloads.attachment(f"plan-{run.scenario}-{run.id}.xlsx"))

    @router.get("/runs/{run_id}/{table}.csv")
    @friendly
    def plan_csv(who: Who, run_id: int, table: str) -> Response:
        run, doc = _scoped_doc(who, run_id)
        text = downloads.table_csv(doc, table)
        if text is None:
            raise WebError(404, f"plan run {run_id} has no table {table!r} you may read")
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers=downloads.attachment(f"{run.scenario}-{run.id}-{table}.csv"))

    @router.post("/plan")
    @friendly
    def submit_plan(request: Request, post: Posted) -> Response:
        who, form = post
        need(who, wiring.planners, "run a plan")
        branch = form.get("branch", "").strip()
        return _submit(request, who, JobKind.PLAN, {**_target(form), "version": None,
                                                    "branch": branch} if branch
                       else _target(form))

    @router.get("/jobs/{job_id}", response_class=HTMLResponse)
    @friendly
    def job_page(request: Request, who: Who, job_id: str) -> Response:
        return render(request, "job.html.j2", who, job=views.job_line(who, _job_id(job_id)))

    @router.get("/jobs/{job_id}/status")
    @friendly
    def job_status(who: Who, job_id: str) -> Response:
        line = views.job_line(who, _job_id(job_id))
        j = line.job
        nxt = None
        if j.status is JobStatus.DONE:
            run = (j.result or {}).get("plan_run") if isinstance(j.result, dict) else None
            nxt = f"{PREFIX}/runs/{int(run)}" if j.kind == "plan" and run else \
                f"{PREFIX}/continuity?job={j.id}"
        return JSONResponse({"status": j.status.value, "progress": j.progress,
                             "error": line.error, "next": nxt},
                            headers={"Cache-Control": "no-store"})

    def continuity_page(request: Request, who: WebUser, scenario: str | None,
                        job: str | None, whatif: whatif_form.WhatIfForm | None = None,
                        status: int = 200) -> Response:
        found = scenario_svc.list_scenarios(who.store)
        chosen = scenario or (found[0].name if found else None)
        shown = views.job_result(who, _job_id(job)) if job else None
        targets: list[str] = []
        start = ""
        if chosen is not None and who.role in wiring.planners:
            sc = scenario_svc.load_stored(who.store, chosen)
            targets = whatif_form.targets(sc, who.viewer.cleared)
            start = sc.horizon.start.isoformat()
        return render(request, "continuity.html.j2", who, scenarios=found, chosen=chosen,
                      tts=views.latest_result(who, "tts"),
                      montecarlo=views.latest_result(who, "montecarlo"),
                      whatif=shown if shown and shown.job and shown.job.kind == "whatif"
                      else views.latest_result(who, "whatif"),
                      targets=targets, start=start,
                      form=whatif.values if whatif else {},
                      form_errors=whatif.errors if whatif else {},
                      jobs=views.jobs(who, limit=10),
                      may_whatif=who.role in wiring.planners,
                      may_exposure=who.viewer.whole,
                      may_stress=who.role in wiring.stress_testers, status=status)

    @router.get("/continuity", response_class=HTMLResponse)
    @friendly
    def continuity(request: Request, who: Who, scenario: str | None = None,
                   job: str | None = None) -> Response:
        return continuity_page(request, who, scenario, job)

    def exposure_of(who: WebUser, scenario: str, buckets: int) -> views.ExposureView:
        """The exposure as `views.exposure_view` has it, its refusals as error pages."""
        try:
            return views.exposure_view(who, scenario, buckets)
        except scoping.ScopeRefused as e:
            raise WebError(403, f"{e} (role {who.role.value}; allowed: "
                           f"{', '.join(r.value for r in Role if r in wiring.cleared)}, "
                           "without a site limit)") from None
        except views.ExposureBusy as e:
            raise WebError(503, str(e)) from None

    @router.get("/continuity/exposure", response_class=HTMLResponse)
    @friendly
    def exposure(request: Request, who: Who, scenario: str | None = None,
                 buckets: str = "13") -> Response:
        found = scenario_svc.list_scenarios(who.store)
        chosen = scenario or (found[0].name if found else None)
        n = _int(buckets, "buckets", 1, 520)
        view = exposure_of(who, chosen, n) if chosen else None
        return render(request, "exposure.html.j2", who, scenarios=found, chosen=chosen,
                      exposure=view, buckets=n)

    @router.get("/continuity/exposure/status")
    @friendly
    def exposure_status(who: Who, scenario: str, buckets: str = "13") -> Response:
        """Whether the embargo what-ifs are there (the page polls it): how far they are,
        never their figures, and only for the roles the page admits."""
        view = exposure_of(who, scenario, _int(buckets, "buckets", 1, 520))
        return JSONResponse({"done": view.done, "progress": round(view.progress, 3)},
                            headers={"Cache-Control": "no-store"})

    @router.post("/whatif")
    @friendly
    def submit_whatif(request: Request, post: Posted) -> Response:
        who, form = post
        need(who, wiring.planners, "run a what-if")
        chosen = _target(form)
        checked = whatif_form.check(
            form, scenario_svc.load_stored(who.store, chosen["scenario"], chosen["version"]),
            who.viewer.cleared)
        if checked.spec is None:  # each bad field's message next to it; nothing started
            return continuity_page(request, who, chosen["scenario"], None, checked, 422)
        return _submit(request, who, JobKind.WHATIF, {**chosen, "disruptions": [checked.spec]})

    @router.post("/tts")
    @friendly
    def submit_tts(request: Request, post: Posted) -> Response:
        who, form = post
        need(who, wiring.stress_testers, "run a time-to-survive sweep")
        return _submit(request, who, JobKind.TTS, _target(form))

    @router.post("/montecarlo")
    @friendly
    def submit_montecarlo(request: Request, post: Posted) -> Response:
        who, form = post
        need(who, wiring.stress_testers, "run a stress test")
        samples = _int(form.get("samples", "100"), "samples", 1, 5000)
        return _submit(request, who, JobKind.MONTECARLO,
                       {**_target(form), "samples": samples,
                        "seed": _int(form.get("seed", "0"), "seed", 0, 2**31 - 1),
                        "target": 0.95})

    def _submit(request: Request, who: WebUser, kind: JobKind, params: dict[str, Any]
                ) -> Response:
        job = job_svc.submit_job(who.store, kind, params)
        wiring.run_job(request, job)
        return RedirectResponse(f"{PREFIX}/jobs/{job.id}", status_code=303)

    from fabnet.web import desk_views, floor_views  # they build on this module's doors
    floor_views.add_routes(router, wiring)
    desk_views.add_routes(router, wiring)
    return router


def _scoped_doc(who: WebUser, run_id: int) -> tuple[Any, dict[str, Any]]:
    try:
        return views.plan_document(who, run_id)
    except scoping.ScopeRefused as e:
        raise WebError(403, str(e)) from None


def _job_id(text: str) -> str:
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise WebError(404, f"no job {text[:40]!r} (fix: follow a link from the jobs list)")
    return text


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise WebError(422, f"{name}: not a whole number, got {text[:20]!r}") from None
    if not low <= v <= high:
        raise WebError(422, f"{name}: must be between {low} and {high}, got {v}")
    return v


def _target(form: dict[str, str]) -> dict[str, Any]:
    """The scenario (and version) a form names."""
    scenario = form.get("scenario", "").strip()
    if not scenario:
        raise WebError(422, "scenario: missing (fix: pick a scenario)")
    version = form.get("version", "").strip()
    return {"scenario": scenario,
            "version": _int(version, "version", 1, 2**31 - 1) if version else None}


def install_handlers(app: Any, login_url: str = f"{PREFIX}/login") -> None:
    """Answer the pages' own exceptions: no session -> the sign-in page; `WebError`,
    a missing row or a refused input -> an error page (never the API's JSON)."""

    def on_sign_in(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"{login_url}?next={quote(request.url.path)}", 303)

    def on_error(request: Request, exc: Exception) -> Response:
        code = exc.status if isinstance(exc, WebError) else 404 \
            if isinstance(exc, NotFound) else 422
        return render(request, "error.html.j2", None, message=str(exc), status=code)

    handlers: dict[type[Exception], Callable[[Request, Exception], Response]] = {
        SignInNeeded: on_sign_in, WebError: on_error}
    for cls, fn in handlers.items():
        app.add_exception_handler(cls, fn)
    app.state.web_error_page = on_error
