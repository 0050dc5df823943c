"""What every repository shares: the unit of work's connection, its audit log, a clock.

A repository is the only door to its tables. It never commits: the unit of work that
made it does, once, for everything done through it (audit entries included).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from fabnet.store.audit import AuditLog


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite gives them back naive)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def as_utc_or_none(dt: datetime | None) -> datetime | None:
    """`as_utc` that lets None through."""
    return None if dt is None else as_utc(dt)


def count_of(conn: sa.Connection, q: sa.Select[Any]) -> int:
    """How many rows `q` matches, counted by the database (for a page's total)."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one())


class Repository:
    """Base of the repositories: a connection inside a transaction, and the audit log."""

    def __init__(self, conn: sa.Connection, audit: AuditLog) -> None:
        self._conn = conn
        self._audit = audit

    @property
    def actor(self) -> str:
        """Who the unit of work acts for (written into `created_by` and the audit trail)."""
        return self._audit.actor
