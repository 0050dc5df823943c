"""Bulk inserts of master-data rows: tens of thousands of rows in a few round trips.

An import writes every row of a large scenario inside one transaction. Asking the
database for each new row's id (`INSERT … RETURNING`) makes the driver build and parse
statements with thousands of placeholders, which on PostgreSQL cost more than the
inserts themselves. So the ids are taken first, in one query, and the rows then go in
with their ids: on PostgreSQL through `COPY … FROM STDIN` on the transaction's own
connection, on SQLite through one driver `executemany` (it holds the write lock, so the
ids after the largest one are free), like a clerk who numbers a stack of forms before
filing them in one go instead of asking for each form's number at the counter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

#: the primary key column of every section table (see `schema._section`)
ROW_ID = "row_id"


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
                ) -> list[int]:
    """Insert `rows` (each with the same keys, `row_id` excepted) into `table` in this
    transaction; the new rows' ids, in the order of `rows`."""
    if not rows:
        return []
    ids = take_ids(conn, table, len(rows))
    if conn.dialect.name == "postgresql":
        _copy(conn, table, rows, ids)
    else:
        _executemany(conn, table, rows, ids)
    return ids


def take_ids(conn: sa.Connection, table: sa.Table, n: int) -> list[int]:
    """`n` unused row ids of `table`: from its sequence on PostgreSQL (one query, and no
    other transaction gets them), else the ones after the largest (SQLite's writer holds
    the database's write lock until it commits, so nobody else can take them)."""
    if conn.dialect.name == "postgresql":
        got = conn.execute(sa.text(
            "SELECT array_agg(nextval(pg_get_serial_sequence(:t, :c))) "
            "FROM generate_series(1, :n)"),
            {"t": conn.dialect.identifier_preparer.format_table(table), "c": ROW_ID,
             "n": n}).scalar_one()
        return sorted(int(i) for i in got)
    top = conn.execute(sa.select(sa.func.max(table.c[ROW_ID]))).scalar()
    first = 1 + (0 if top is None else int(top))
    return list(range(first, first + n))


def _executemany(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                 ids: list[int]) -> None:
    """One `INSERT … VALUES (?, …)` sent with the driver's `executemany` (through
    SQLAlchemy's connection, so its events see it, but without its per-row parameter
    processing), the values stored as SQLAlchemy stores them on SQLite: JSON as JSON
    text, dates as `YYYY-MM-DD`."""
    names = [ROW_ID, *rows[0]]
    as_json = {n for n in names if isinstance(table.c[n].type, sa.JSON)}
    as_day = {n for n in names if isinstance(table.c[n].type, sa.Date)}
    prep = conn.dialect.identifier_preparer
    sql = (f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.quote(n) for n in names)}) "
           f"VALUES ({', '.join('?' for _ in names)})")
    values = itemgetter(*names[1:])
    if as_json or as_day:
        def plain(n: str, v: Any) -> Any:
            if n in as_json:
                return json.dumps(v)
            return v.isoformat() if n in as_day and v is not None else v
        got = [(rid, *(plain(n, v) for n, v in zip(names[1:], values(r), strict=True)))
               for rid, r in zip(ids, rows, strict=True)]
    else:
        got = [(rid, *values(r)) for rid, r in zip(ids, rows, strict=True)]
    conn.exec_driver_sql(sql, got)


def _copy(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
          ids: list[int]) -> None:
    """`COPY table (…) FROM STDIN` on the psycopg connection under `conn`, inside its
    transaction; JSON columns go as JSON text, as SQLAlchemy's JSON type writes them."""
    names = [ROW_ID, *rows[0]]
    as_json = {n for n in names if isinstance(table.c[n].type, sa.JSON)}
    prep = conn.dialect.identifier_preparer
    cols = ", ".join(prep.quote(n) for n in names)
    raw: Any = conn.connection.driver_connection
    values = itemgetter(*names[1:])
    with raw.cursor() as cur, cur.copy(f"COPY {prep.format_table(table)} ({cols}) "
                                       "FROM STDIN") as copy:
        for rid, r in zip(ids, rows, strict=True):
            got = values(r)
            copy.write_row((rid, *(json.dumps(v) if n in as_json else v
                                   for n, v in zip(names[1:], got, strict=True)))
                           if as_json else (rid, *got))
