"""Idempotency keys of the API, one row per (actor, key) in `api_idempotency_keys`: the
claim a request makes before it works, and the response it then leaves under the key.

The table is the API's cache of answers, not master data, so this repository writes no
audit entries. Like every repository it never commits; the unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fabnet.store.schema import idempotency_keys as K


@dataclass(frozen=True)
class KeyRow:
    """What the store holds under a key: the request's fingerprint and, once it is done,
    its response (status None: the first request is still running)."""

    fingerprint: str
    status: int | None
    headers: str | None
    body: bytes | None


class IdempotencyRepository:
    """The idempotency keys of one actor (the unit of work's)."""

    def __init__(self, conn: sa.Connection, actor: str) -> None:
        self._conn = conn
        self.actor = actor

    def _mine(self, key: str) -> sa.ColumnElement[bool]:
        return (K.c.actor == self.actor) & (K.c.key == key)

    def get(self, key: str) -> KeyRow | None:
        """The row under `key`, or None when nobody claimed it."""
        row = self._conn.execute(sa.select(K).where(self._mine(key))).first()
        if row is None:
            return None
        return KeyRow(str(row.fingerprint), None if row.status is None else int(row.status),
                      row.headers, None if row.body is None else bytes(row.body))

    def claim(self, key: str, fingerprint: str, at: datetime) -> None:
        """Claim `key` for a request with this fingerprint (a unique violation, a
        `Collision` at commit, when another request claimed it first)."""
        self._conn.execute(sa.insert(K).values(actor=self.actor, key=key,
                                               fingerprint=fingerprint, status=None,
                                               headers=None, body=None, created_at=at))

    def remember(self, key: str, status: int, headers: str, body: bytes) -> None:
        """Keep the response of the request that claimed `key`."""
        self._conn.execute(sa.update(K).where(self._mine(key))
                           .values(status=status, headers=headers, body=body))

    def release(self, key: str) -> None:
        """Drop a claim whose request kept no response, so a retry can run."""
        self._conn.execute(sa.delete(K).where(self._mine(key) & K.c.status.is_(None)))

    def purge(self, before: datetime) -> int:
        """Forget every actor's keys claimed before `before`; how many went."""
        return int(self._conn.execute(sa.delete(K).where(K.c.created_at < before)).rowcount)
