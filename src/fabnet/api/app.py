"""The FastAPI application: routers, error answers, middleware and the job runner.

`create_app(settings)` builds it; nothing connects until the server starts (its
lifespan opens the store, makes the idempotency table, ends jobs a stopped server left
behind and starts the job runner). Every route that is not public states in its
OpenAPI description which roles may call it, read off its `Allow` dependency, so the
document and the checks can't drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from fabnet.api import errors, policy
from fabnet.api.deps import Allow, AllowEdit
from fabnet.api.middleware import AccessLog, BodyLimit, Idempotency
from fabnet.api.query import refuse_other_media, refuse_unknown_query
from fabnet.api.routes import (
    audit,
    auth,
    branches,
    design,
    ecos,
    floor,
    floor_more,
    health,
    jobs,
    licences,
    plan_runs,
    purchase_orders,
    scenarios,
    tokens,
    transfers,
    users,
)
from fabnet.api.routes.sections import section_routers
from fabnet.api.runner import JobRunner
from fabnet.api.settings import Settings
from fabnet.api.web_mount import mount_web
from fabnet.services import idempotency
from fabnet.services import jobs as job_svc
from fabnet.services.database import connect
from fabnet.store import Role, Store
from fabnet.store.engine import check_writable

#: routes anyone may call without a token
PUBLIC = frozenset({("GET", "/health"), ("POST", "/auth/login")})
ROLES_KEY = "x-fabnet-roles"

DESCRIPTION = """\
The shared store of fabnet over HTTP: scenarios and their versions, master data row by
row, what-if branches, plans, what-ifs and stress tests as background jobs, accounts,
API tokens and the tamper-evident audit trail.

Sign in with `POST /auth/login` (or use a token from `POST /tokens`) and send
`Authorization: Bearer TOKEN`. Every endpoint below says which roles may call it.
Every POST takes an `Idempotency-Key` header: a retry with the same key gets the first
answer back and does nothing twice. Lists are pages: `limit`, `offset`, and the answer
is `{data, count}`. Errors are `{"detail": …}` and name the field (see docs/api.md).
"""


def guards(dependant: Dependant) -> Iterator[Allow]:
    """The `Allow` dependencies of a route, however deep."""
    for dep in dependant.dependencies:
        if isinstance(dep.call, Allow):
            yield dep.call
        yield from guards(dep)


def route_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles that may call a route (None: public)."""
    found = list(guards(route.dependant))
    if not found:
        return None
    allowed = frozenset(policy.EVERYONE)
    for g in found:
        allowed &= g.roles
    return allowed


def document_roles(router: APIRouter) -> None:
    """Write each route's roles into its OpenAPI description and `x-fabnet-roles`."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        roles = route_roles(route)
        text = "Public: no token needed." if roles is None else \
            f"Roles: {policy.roles_text(roles)}."
        edit = next((g for g in guards(route.dependant) if isinstance(g, AllowEdit)), None)
        if edit is not None and roles is not None and roles - edit.editors:
            text = (f"Roles: {policy.roles_text(edit.editors)}; on a what-if branch "
                    f"(`?branch=`) also {policy.roles_text(roles - edit.editors)}.")
        route.description = f"{(route.description or '').strip()}\n\n**{text}**".strip()
        route.openapi_extra = {**(route.openapi_extra or {}),
                               ROLES_KEY: [] if roles is None else
                               [r.value for r in Role if r in roles]}


@cache
def api_routers() -> tuple[APIRouter, ...]:
    """Every router of the API, one per resource, roles documented (made once: routers
    hold no state, so every app built in a process shares them)."""
    routers = (health.router, auth.router, users.router, tokens.router, scenarios.router,
               *section_routers(), branches.router, jobs.router, plan_runs.router,
               floor.router, floor_more.router, purchase_orders.router, transfers.router,
               licences.router, design.router,
               ecos.router, audit.router)
    for r in routers:
        document_roles(r)
    return routers


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the Idempotency-Key header on every POST."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    key = {"name": "Idempotency-Key", "in": "header", "required": False,
           "description": "Retry-safe: a retry with the same key returns the first answer "
           "and never does the work twice (1 to 200 printable ASCII characters).",
           "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                      "pattern": "^[!-~]{1,200}$"}}
    for ops in doc.get("paths", {}).values():
        if "post" in ops:
            ops["post"].setdefault("parameters", []).append(key)
    app.openapi_schema = doc
    return doc


#: where fabnet serves the Swagger UI and ReDoc files itself
DOCS_ASSETS = "/docs-assets"


def docs_assets() -> Path:
    """The folder of Swagger UI's and ReDoc's JavaScript and CSS, as the fastapi-offline
    package ships them, so `/docs` works on a plant network with no way to a CDN."""
    return Path(fastapi_offline.__file__).parent / "static"


def install_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc` from files fabnet serves at `DOCS_ASSETS`: no
    script, style sheet, font or icon from another host, and no online validator."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets()), name="docs-assets")

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title}: API docs",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            oauth2_redirect_url=None, swagger_ui_parameters={"validatorUrl": None})

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title}: API reference",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """The API, for `settings` (default: from the environment). With `store`, it uses
    that store instead of connecting to `settings.database_url`, and checks at once that
    it may write to it (`StoreError` naming the fix, before any server starts)."""
    settings = settings or Settings.from_env()
    if store is not None:  # the server writes from its start: refuse a read-only store now
        check_writable(store.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        st = connect(settings.database_url, settings.server_actor) if store is None else store
        idempotency.purge(st)
        job_svc.interrupt_unfinished(st)
        runner = JobRunner(st, settings.job_workers, settings.dask_scheduler)
        app.state.store, app.state.runner, app.state.settings = st, runner, settings
        try:
            yield
        finally:
            runner.shutdown()
            if own:
                st.engine.dispose()

    extra: dict[str, Any] = {}
    if "telemetry" in inspect.signature(FastAPI).parameters:
        # no spans or log records carrying request data
        extra["telemetry"] = {"tracing": False, "metrics": False, "logs": False}
    app = FastAPI(title="fabnet", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, **extra)
    app.state.settings = settings
    install_docs(app)
    errors.install(app)
    for r in api_routers():
        app.include_router(r, dependencies=[Depends(refuse_unknown_query),
                                            Depends(refuse_other_media)])
    mount_web(app)  # the dashboard's pages, under /web
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    def current_store() -> Store:
        st: Store = app.state.store
        return st

    app.add_middleware(Idempotency, store=current_store)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog, hidden=policy.restricted_names())
    return app
