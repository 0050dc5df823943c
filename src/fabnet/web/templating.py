"""Rendering the dashboard's pages: one Jinja2 environment (autoescaping on), the
security headers every page carries, and the page-level errors.

A page's scripts and styles come from fabnet only (`Content-Security-Policy` allows
nothing else, and no inline script runs); chart data travels as JSON in a
`<script type="application/json">` block, escaped so it can't close the block.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from fabnet.model.errors import FabnetError
from fabnet.plan.summary import format_kpi, kpi_label
from fabnet.services.scoping import ScopeRefused
from fabnet.store import Conflict, NotFound

P = ParamSpec("P")
R = TypeVar("R")

#: what a page may load: its own server's files only; Plotly sets inline styles
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
           "Cache-Control": "no-store"}


class WebError(Exception):
    """A page that can't be shown or a form that is refused: the status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the services' errors into page errors (403 refused, 404 missing, 409
    conflict, 422 a bad input) instead of the API's JSON answers."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except WebError:
            raise
        except ScopeRefused as e:
            raise WebError(403, str(e)) from None
        except NotFound as e:
            raise WebError(404, str(e)) from None
        except Conflict as e:
            raise WebError(409, str(e)) from None
        except FabnetError as e:
            raise WebError(422, str(e)) from None
    return wrapper


def figure(fig_json: str) -> Markup:
    """A figure's JSON, safe inside a `<script type="application/json">` block."""
    text = fig_json.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text)  # noqa: S704 - escaped above: the block can't be closed


def _fmt(v: Any) -> str:
    """A number as a person reads it (whole units past 100, else up to 3 decimals)."""
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v)
    if isinstance(v, int | float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3f}".rstrip("0").rstrip(".")
    return str(v)


@functools.cache
def environment() -> jinja2.Environment:
    """The pages' templates, from the package (made once)."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("fabnet.web", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(fmt=_fmt, kpi_label=kpi_label, format_kpi=format_kpi)
    env.filters["figure"] = figure
    env.filters["tojson_compact"] = lambda v: Markup(  # noqa: S704 - escaped
        json.dumps(v).replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("&", "\\u0026"))
    return env


def render(request: Request, template: str, who: Any, status: int = 200, **ctx: Any
           ) -> HTMLResponse:
    """A page, with its security headers; `who` is the signed-in `WebUser` or None."""
    html = environment().get_template(template).render(
        request=request, who=who, root="/web", **ctx)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
