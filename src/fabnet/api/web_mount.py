"""Mounting the dashboard (`fabnet.web`) on the API: the pages get the API's rules
(roles, site scoping, restricted fields), its sign-in throttle and lockout, and its
job runner, so a page can do nothing the same user could not do through the API."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request

from fabnet import web
from fabnet.api import policy
from fabnet.api.deps import get_login_guard, get_runner, get_settings, get_store
from fabnet.api.throttle import Busy
from fabnet.services import accounts
from fabnet.store import Job


def sign_in(request: Request, name: str, password: str) -> accounts.Login | None:
    """The API's login, for a page: per-address and per-user limits, the bounded
    password checks, and the lockout; `web.SignInRefused` when throttled."""
    settings, guard = get_settings(request), get_login_guard(request)
    lockout = accounts.Lockout(settings.lockout_failures,
                               timedelta(minutes=settings.lockout_minutes))
    try:
        guard.admit(request.client.host if request.client else "-", name)
        return accounts.login(get_store(request), name, password,
                              accounts.token_lifetime(settings.token_hours),
                              lockout=lockout, gate=guard.gate.turn)
    except Busy as e:
        raise web.SignInRefused(e.what, e.status, e.retry_after) from None


def run_job(request: Request, job: Job) -> None:
    """Hand a recorded job to the server's runner."""
    get_runner(request).submit(job)


def wiring() -> web.Wiring:
    """The API's rules and doors, as the dashboard uses them."""
    return web.Wiring(viewer=policy.viewer, cleared=policy.CLEARED,
                      planners=policy.PLANNERS, stress_testers=policy.STRESS_TESTERS,
                      sign_in=sign_in, run_job=run_job,
                      session_hours=lambda request: get_settings(request).token_hours,
                      section_editors=policy.SECTION_EDITORS,
                      audit_readers=policy.AUDIT_READERS,
                      branch_makers=policy.BRANCH_MAKERS)


def mount_web(app: FastAPI) -> None:
    """Serve the dashboard from `app` (pages under /web, `/` leads there)."""
    web.install(app, wiring())
