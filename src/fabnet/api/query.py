"""Query parameters a route does not take are refused, not ignored; a body that is not
JSON where a route reads JSON is a 415.

`GET /floor/yield?site=NOPE` answered every site's yield as if the filter had been
applied; every API route now answers a parameter it does not declare with a 422 that
names it (`extra_forbidden` at `["query", NAME]`, as a section list's own check says it)
and lists the ones it takes. The names come from the route's own declaration
(its query parameters and query models, however deep in its dependencies), so the
OpenAPI document and the check never differ.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

#: the attribute a route keeps its declared names in, worked out on its first request:
#: on the route itself, not in a table by `id()`, which a later app's route could reuse
_DECLARED = "fabnet_declared_query"


def declared_query(dependant: Dependant) -> frozenset[str]:
    """The query parameter names a route takes: its own, its query models' fields and its
    dependencies'."""
    names: set[str] = set()
    for p in dependant.query_params:
        kind = p.field_info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= {f.alias or n for n, f in kind.model_fields.items()}
        else:
            names.add(p.alias)
    for dep in dependant.dependencies:
        names |= declared_query(dep)
    return frozenset(names)


def refuse_unknown_query(request: Request) -> None:
    """422 for a query parameter the route does not declare (a mistyped filter would
    otherwise be ignored and the whole list answered)."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed: frozenset[str] | None = getattr(route, _DECLARED, None)
    if allowed is None:
        allowed = declared_query(route.dependant)
        setattr(route, _DECLARED, allowed)
    unknown = sorted(k for k in request.query_params if k not in allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no query parameters"
        raise RequestValidationError([
            {"type": "extra_forbidden", "loc": ("query", name[:60]),
             "msg": "this route does not take this query parameter",
             "ctx": {"fix": f"use {takes} (see /openapi.json)"}} for name in unknown])


def refuse_other_media(request: Request) -> None:
    """415 for a request body that is not JSON on a route whose body is a JSON model (a
    JSON text sent as text/plain was read as a string and refused as a wrong type)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if request.headers.get("content-length") in (None, "0") and \
            "transfer-encoding" not in request.headers:
        return
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"can't read a body of type {media[:80] or 'none'!r} here (fix: "
                            "send JSON with Content-Type: application/json)")
