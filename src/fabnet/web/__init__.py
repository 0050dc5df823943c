"""The dashboard: server-rendered pages on the store, for every role, in a browser.

`install(app, wiring)` mounts it on the API's FastAPI app: the pages under `/web`,
their own files under `/web/static` (style sheet, a few lines of JavaScript, and
plotly.js from the installed plotly package), so nothing is fetched from another host
and the dashboard works on an air-gapped plant network. The API hands in its rules and
doors as a `Wiring`; the pages call the same services as the API's endpoints.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from fabnet.web.routes import PREFIX, install_handlers, make_router
from fabnet.web.wiring import SignInRefused, Wiring

__all__ = ["PREFIX", "SignInRefused", "Wiring", "install", "plotly_js"]

STATIC = Path(__file__).parent / "static"


def plotly_js() -> Path:
    """plotly.js as the installed plotly package bundles it (no CDN)."""
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def install(app: FastAPI, wiring: Wiring) -> None:
    """Mount the dashboard on `app`: pages, static files, `/` to the home page."""
    js = plotly_js()
    app.state.web_wiring = wiring

    async def plotly_file() -> FileResponse:
        return FileResponse(js, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400",
                                     "X-Content-Type-Options": "nosniff"})

    async def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    app.add_api_route(f"{PREFIX}/static/plotly.min.js", plotly_file, methods=["GET"],
                      include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    app.include_router(make_router(wiring))
    from fabnet.web import design_page, planner_pages  # build on the routes' doors
    app.include_router(planner_pages.make_router(wiring))
    app.include_router(design_page.make_router(wiring))
    install_handlers(app)
