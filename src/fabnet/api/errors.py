"""The one place where fabnet's errors become HTTP answers:

- a malformed request field (pydantic): 422, `detail` lists `{type, loc, msg}`; a body
  the JSON reader gives up on (nested too deep, a number too long): 400 with the fix;
- a broken scenario rule (`ScenarioError`): 422, `detail` lists
  `{type: "scenario", loc: [section, record, field], msg, fix, line}`, `line` being the
  problem as `fabnet validate` prints it;
- `NotFound`: 404; `Conflict` (a name taken, a merged branch, a clashing merge, an
  idempotency key in use, a job that has already ended): 409, and so is a unique key a
  concurrent request took first (`Collision`, from the unit of work), never a 503;
- `StaleEdit` (an `If-Match` tag that is not the row's now): 412 Precondition Failed;
- the floor: `NotPermitted` (a role or a site that is not the caller's): 403;
  `Shortage` (a build short of a component) and `ShipRefused` (a shipment refused):
  409, with `missing` (one line per component) or `reasons` (serial -> why) beside
  `detail`; an ECO that can't be written or moved as asked (`EcoError`): 422, its
  author reviewing it (`EcoRefused`, a `NotPermitted`): 403; any other `FloorError`: 422;
- any other `FabnetError` (a bad disruption, a short password): 422;
- the database failing (`StoreError`), a deadlock or serialization failure still there
  after the service runner's retries (`Transient`) included: 503 with Retry-After;
- anything else: 500, logged with the route but without the request's data.

Every answer is `{"detail": …}`, with the fix where fabnet knows it.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fabnet.api.logsafe import printable
from fabnet.model.errors import FabnetError, ScenarioError
from fabnet.services.editing import StaleEdit
from fabnet.services.idempotency import KeyMisuse
from fabnet.shop.eco import EcoError
from fabnet.shop.errors import NotPermitted, ShipRefused, Shortage
from fabnet.store import Conflict, NotFound, StoreError

log = logging.getLogger("fabnet.api")
UNPROCESSABLE = 422


def _plain(value: Any) -> Any:
    """A location or context value as JSON (anything else as its text)."""
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    """pydantic's errors without the values that were sent (they could be restricted, or
    not JSON at all, like NaN)."""
    out = []
    for e in errors:
        item: dict[str, Any] = {"type": e.get("type", "value_error"),
                                "loc": [_plain(x) for x in e.get("loc", ())],
                                "msg": str(e.get("msg", ""))}
        ctx = e.get("ctx")
        if isinstance(ctx, dict):
            item["ctx"] = {str(k): _plain(v) for k, v in ctx.items()}
        out.append(item)
    return out


async def _request_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_errors(exc.errors())},
                        UNPROCESSABLE)


async def _scenario_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScenarioError)
    return JSONResponse({"detail": [
        {"type": "scenario", "loc": [i.section, i.record, i.field], "msg": i.message,
         "fix": i.fix, "line": str(i)} for i in exc.issues]}, UNPROCESSABLE)


def _answer(code: int) -> Any:
    async def handler(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, code)
    return handler


async def _short(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Shortage)
    return JSONResponse({"detail": str(exc), "missing": exc.missing}, status.HTTP_409_CONFLICT)


async def _ship_refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ShipRefused)
    return JSONResponse({"detail": str(exc), "reasons": exc.reasons, "general": exc.general},
                        status.HTTP_409_CONFLICT)


#: what FastAPI says of a body its JSON reader gave up on (nested past Python's stack,
#: numbers with thousands of digits, bytes that are not text)
_UNPARSED = "There was an error parsing the body"


async def _http(request: Request, exc: Exception) -> Response:
    """FastAPI's own HTTP errors as it answers them, its unparsed-body one with the fix."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == _UNPARSED:
        return JSONResponse({"detail": "the body could not be read as JSON: nested too "
                             "deep, a number too long, or not UTF-8 text (fix: send a "
                             "JSON document as the route's schema describes it, see "
                             "/openapi.json)"}, status.HTTP_400_BAD_REQUEST)
    return await http_exception_handler(request, exc)


async def _store_failed(_: Request, exc: Exception) -> JSONResponse:
    log.error("store error: %s", printable(exc))
    return JSONResponse({"detail": str(exc)}, status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # the method and route only: the path's values and the body stay out of the log
    route = getattr(request.scope.get("route"), "path", "?")
    log.error("internal error in %s %s: %s (message withheld: it may hold request data)"
              "\n%s", printable(request.method), printable(route), type(exc).__name__,
              "".join(traceback.format_tb(exc.__traceback__)))
    return JSONResponse({"detail": "internal error (the server log has the details)"},
                        status.HTTP_500_INTERNAL_SERVER_ERROR)


def install(app: FastAPI) -> None:
    """Register the handlers (the most specific error class wins)."""
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ScenarioError, _scenario_invalid)
    app.add_exception_handler(NotFound, _answer(status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(StaleEdit, _answer(status.HTTP_412_PRECONDITION_FAILED))
    app.add_exception_handler(Conflict, _answer(status.HTTP_409_CONFLICT))
    app.add_exception_handler(KeyMisuse, _answer(UNPROCESSABLE))
    app.add_exception_handler(NotPermitted, _answer(status.HTTP_403_FORBIDDEN))
    app.add_exception_handler(EcoError, _answer(UNPROCESSABLE))
    app.add_exception_handler(Shortage, _short)
    app.add_exception_handler(ShipRefused, _ship_refused)
    app.add_exception_handler(StoreError, _store_failed)
    app.add_exception_handler(FabnetError, _answer(UNPROCESSABLE))
    app.add_exception_handler(Exception, _unexpected)
