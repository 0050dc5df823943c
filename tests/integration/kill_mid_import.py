"""Run `fabnet db import` and SIGKILL it (no clean-up) once it has written master-data
rows into two section tables, inside its still-open transaction, so a test can check
that a crash half-way through an import leaves the store as it was.

    python tests/integration/kill_mid_import.py SCENARIO_FILE NAME

The hook is installed here, on SQLAlchemy's cursor events and psycopg's `COPY` (the
bulk insert on PostgreSQL), so no production code carries it; the store comes from
FABNET_DATABASE_URL.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from fabnet.cli import app
from fabnet.store.schema import SECTION_TABLES

#: how many section tables get rows before the process is killed
KILL_AFTER_SECTIONS = 2

_SECTION_NAMES = {t.name for t in SECTION_TABLES.values()}
_written: set[str] = set()


def _table_inserted(statement: str) -> str | None:
    """The table an INSERT statement writes to, else None."""
    words = statement.split(None, 3)
    if len(words) < 3 or [w.upper() for w in words[:2]] != ["INSERT", "INTO"]:
        return None
    return words[2].strip('"').split("(")[0]


@sa.event.listens_for(sa.engine.Engine, "after_cursor_execute")
def _kill_mid_import(conn: sa.Connection, cursor: Any, statement: str, parameters: Any,
                     context: Any, executemany: bool) -> None:
    """SIGKILL this process once rows have gone into `KILL_AFTER_SECTIONS` section tables."""
    table = _table_inserted(statement)
    if table in _SECTION_NAMES:
        _written.add(table)
        if len(_written) >= KILL_AFTER_SECTIONS:
            os.kill(os.getpid(), signal.SIGKILL)


def _copied(table: str) -> None:
    """Count a section table written by `COPY` (PostgreSQL's bulk insert, which goes past
    SQLAlchemy's cursor events) and kill as for an INSERT."""
    if table in _SECTION_NAMES:
        _written.add(table)
        if len(_written) >= KILL_AFTER_SECTIONS:
            os.kill(os.getpid(), signal.SIGKILL)


try:
    import psycopg
except ImportError:  # pragma: no cover - SQLite only
    psycopg = None  # type: ignore[assignment]
if psycopg is not None:
    _copy = psycopg.Cursor.copy

    @contextmanager
    def _copy_then_count(self: Any, statement: Any, *args: Any, **kwargs: Any
                         ) -> Iterator[Any]:
        with _copy(self, statement, *args, **kwargs) as copy:
            yield copy
        words = str(statement).split(None, 2)
        if len(words) > 1 and words[0].upper() == "COPY":
            _copied(words[1].strip('"').split("(")[0])

    psycopg.Cursor.copy = _copy_then_count  # type: ignore[method-assign]


if __name__ == "__main__":
    app(["db", "import", sys.argv[1], "--name", sys.argv[2]])
