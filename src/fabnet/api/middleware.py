"""What wraps every request, outermost first:

1. `AccessLog`: one log line per request (method, path, query, status, time, user),
   with the values of restricted query parameters and of secret-looking ones
   (`access_token`, `password`, `api_key`, …) masked, so neither a site's location nor
   a credential reaches a log file, and every value escaped (`fabnet.api.logsafe`), so a
   newline in a path can't forge a second line;
2. `BodyLimit`: a body over the limit is refused with 413 before anything reads it;
3. `Idempotency`: a POST with an `Idempotency-Key` header is done once; a retry gets
   the first answer back (see `fabnet.services.idempotency`); sign-ins ignore the key.

They are plain ASGI middleware, so they see the raw request and response.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fabnet.api.logsafe import printable
from fabnet.services import accounts, idempotency
from fabnet.store import Conflict, Store, StoreError

access_log = logging.getLogger("fabnet.api.access")
log = logging.getLogger("fabnet.api")

BODY = "fabnet.body"  # scope key: the request body, read once by BodyLimit
KEY_HEADER = b"idempotency-key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
MASK = "***"
#: query parameter names whose values are credentials: never logged
SECRET_PARAM = re.compile(r"token|passw|pwd|secret|key|auth|credential|session|signature",
                          re.IGNORECASE)
#: POSTs that never replay: a sign-in is checked each time and hands out its own token
NO_REPLAY = frozenset({"/auth/login"})


async def _answer(send: Send, status: int, doc: dict[str, Any],
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(doc).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def masked_query(query: str, hidden: frozenset[str]) -> str:
    """The query string with the values of `hidden` parameters, and of parameters named
    like a credential (`SECRET_PARAM`), replaced by ***."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, MASK if k in hidden or SECRET_PARAM.search(k) else v)
                      for k, v in pairs], safe="*:/,>")


class AccessLog:
    """Logs each request once it is answered, restricted query values masked."""

    def __init__(self, app: ASGIApp, hidden: frozenset[str]) -> None:
        self.app, self.hidden = app, hidden

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        code = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                code[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            query = masked_query(scope.get("query_string", b"").decode("latin-1"), self.hidden)
            user = (scope.get("state") or {}).get("user_name", "-")
            access_log.info("%s %s%s %d %.1fms user=%s", printable(scope["method"]),
                            printable(scope["path"]), printable(f"?{query}" if query else ""),
                            code[0], 1000 * (time.perf_counter() - started), printable(user))


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, by its Content-Length or, when
    it streams without one, by counting; otherwise hands the body on in one piece."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._too_large(send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        scope[BODY] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        await _answer(send, 413, {"detail": f"the request body is larger than {self.limit} "
                                  "bytes (fix: send less per request, e.g. edit rows one "
                                  "at a time instead of importing a huge scenario)"})


class Idempotency:
    """Does a POST with an `Idempotency-Key` once per user and key; a retry gets the
    kept answer (with `Idempotent-Replayed: true`). Tokens in answers marked
    `Cache-Control: no-store` are not kept: a replay shows them as null."""

    def __init__(self, app: ASGIApp, store: Callable[[], Store]) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        raw_key = headers.get(KEY_HEADER)
        if (scope["type"] != "http" or scope["method"] != "POST" or raw_key is None
                or scope["path"] in NO_REPLAY):
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not KEY_PATTERN.fullmatch(key):
            await _answer(send, 422, {"detail": "Idempotency-Key: use 1 to 200 printable "
                                      "ASCII characters (fix: e.g. a UUID)"})
            return
        auth = headers.get(b"authorization", b"").decode("latin-1")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        server = self.store()
        user = await anyio.to_thread.run_sync(accounts.user_for_token, server, token) \
            if token else None
        if user is None:  # not signed in: the app answers 401
            await self.app(scope, receive, send)
            return
        store = server.acting_as(user.name)
        fp = idempotency.fingerprint(scope["method"], scope["path"],
                                     scope.get("query_string", b"").decode("latin-1"),
                                     scope.get(BODY, b""))
        try:
            found, kept = await anyio.to_thread.run_sync(idempotency.claim, store, key, fp)
        except Conflict as e:
            await _answer(send, 409, {"detail": str(e)})
            return
        except idempotency.KeyMisuse as e:
            await _answer(send, 422, {"detail": str(e)})
            return
        except StoreError as e:
            await _answer(send, 503, {"detail": str(e)})
            return
        if found is idempotency.Claim.REPLAY and kept is not None:
            await self._replay(send, kept)
            return
        await self._first(scope, receive, send, store, key)

    async def _first(self, scope: Scope, receive: Receive, send: Send, store: Store,
                     key: str) -> None:
        status, body = [0], [b""]
        out_headers: list[list[tuple[bytes, bytes]]] = [[]]

        async def keeping(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                out_headers[0] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                body[0] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, keeping)
        except BaseException:
            await anyio.to_thread.run_sync(idempotency.release, store, key)
            raise
        if 200 <= status[0] < 300:
            kept = _keepable(status[0], out_headers[0], body[0])
            await anyio.to_thread.run_sync(idempotency.remember, store, key, kept)
        else:
            await anyio.to_thread.run_sync(idempotency.release, store, key)

    async def _replay(self, send: Send, kept: idempotency.KeptResponse) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers]
        headers += [(b"content-length", str(len(kept.body)).encode()),
                    (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": kept.status, "headers": headers})
        await send({"type": "http.response.body", "body": kept.body})


def _keepable(status: int, headers: list[tuple[bytes, bytes]], body: bytes
              ) -> idempotency.KeptResponse:
    """The response as it may be kept: no length header, and no secret token."""
    pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
             if k.lower() != b"content-length"]
    if any(k.lower() == "cache-control" and "no-store" in v for k, v in pairs):
        try:
            doc = json.loads(body)
            if isinstance(doc, dict):
                for field in ("token", "access_token"):
                    if field in doc:
                        doc[field] = None
                body = json.dumps(doc).encode()
        except ValueError:
            body = b""
    return idempotency.KeptResponse(status, pairs, body)
