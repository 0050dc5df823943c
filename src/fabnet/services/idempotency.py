"""Idempotency keys: a request retried with the same `Idempotency-Key` gets the first
answer again and never does its work twice, like a cloakroom ticket that fetches the
same coat however often it is shown.

The first request with a key claims it (a row with no response yet) before it does any
work; when it succeeds its response is kept under the key. A retry then finds the
response and gets it back; a retry that arrives while the first is still running is
told so (409); a request that fails releases its claim, so it can be tried again. Keys
belong to one user and one request: the same key with another method, path or body is
refused (422). Claims are kept for `KEEP_FOR` and purged at server start.

The keys live in a table of their own, `api_idempotency_keys` (store revision 0003; it
is the API's cache of answers, not master data, so it carries no audit entries); they
are read and written through the unit of work's `uow.idempotency` repository
(`fabnet.store.idempotency`), one short transaction per step.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from fabnet.model.errors import FabnetError
from fabnet.store import Conflict, Store, StoreError
from fabnet.store.repository import now
from fabnet.store.unit_of_work import Collision

KEEP_FOR = timedelta(days=1)
MAX_KEY = 200


class KeyMisuse(FabnetError):
    """The key was used before for a different request."""


class Claim(StrEnum):
    """What `claim` found."""

    NEW = "new"  # the key is this request's now: do the work, then `remember`
    REPLAY = "replay"  # the work was done: answer with the kept response


@dataclass(frozen=True)
class KeptResponse:
    """A response as it was first sent."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What identifies a request for its key: method, path, query and body."""
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def claim(store: Store, key: str, fp: str) -> tuple[Claim, KeptResponse | None]:
    """Claim `key` for this request of `store.actor`, or find its kept response."""
    try:
        with store.unit_of_work() as uow:
            row = uow.idempotency.get(key)
            if row is None:
                uow.idempotency.claim(key, fp, now())
                uow.commit()
                return Claim.NEW, None
    except Collision:  # another request claimed it a moment ago
        raise _running(key) from None
    except StoreError as e:
        raise StoreError(f"idempotency key look-up failed: {e} (fix: retry the request)"
                         ) from None
    if row.fingerprint != fp:
        raise KeyMisuse(f"Idempotency-Key {key!r} was used for a different request "
                        "(fix: use a new key for each new request)")
    if row.status is None:
        raise _running(key)
    headers = [(str(k), str(v)) for k, v in json.loads(row.headers or "[]")]
    return Claim.REPLAY, KeptResponse(row.status, headers, row.body or b"")


def _running(key: str) -> Conflict:
    return Conflict(f"a request with Idempotency-Key {key!r} is still being processed "
                    "(fix: wait a moment and retry with the same key)")


def remember(store: Store, key: str, response: KeptResponse) -> None:
    """Keep the response of the request that claimed `key`."""
    with store.unit_of_work() as uow:
        uow.idempotency.remember(key, response.status, json.dumps(response.headers),
                                 response.body)
        uow.commit()


def release(store: Store, key: str) -> None:
    """Give up a claim (the request failed and did nothing), so a retry can run."""
    with store.unit_of_work() as uow:
        uow.idempotency.release(key)
        uow.commit()


def purge(store: Store, older_than: timedelta = KEEP_FOR) -> int:
    """Forget keys claimed more than `older_than` ago; how many went."""
    with store.unit_of_work() as uow:
        gone = uow.idempotency.purge(now() - older_than)
        uow.commit()
    return gone
