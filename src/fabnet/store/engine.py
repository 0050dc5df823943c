"""Connecting to the store: a SQLite file by default, PostgreSQL (psycopg 3) by URL.

`database_url()` reads `FABNET_DATABASE_URL` (default `sqlite:///fabnet.sqlite`, a
file in the working directory); `make_engine()` opens it. Nothing connects at import.
On SQLite, each unit of work is one real transaction (`BEGIN IMMEDIATE` for writers, so
two writers queue instead of failing half-way), foreign keys are on, and the journal is
in WAL mode so readers never wait for a writer.

A database that can't be written (a read-only file or folder, a `mode=ro` URL, a
read-only PostgreSQL server) is reported as one `StoreError` that says so and how to
fix it, wherever fabnet first tries to write, never as a driver traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

DEFAULT_URL = "sqlite:///fabnet.sqlite"
URL_ENV = "FABNET_DATABASE_URL"
# execution option a unit of work sets on its connection to say it only reads
READ_ONLY = "fabnet_read_only"


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The store's URL from the environment, or the default SQLite file."""
    env = os.environ if env is None else env
    return normalize_url(env.get(URL_ENV) or DEFAULT_URL)


def normalize_url(url: str) -> str:
    """`postgresql://…` and `postgres://…` mean psycopg 3 (the driver fabnet ships with)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def display_url(url: str | sa.URL) -> str:
    """The URL with any password masked, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url)


def db_detail(e: BaseException) -> str:
    """The first line of what the database driver said (not SQLAlchemy's wrapper text)."""
    text = str(getattr(e, "orig", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


#: what drivers say when the database can't be written, and the fix for each
_READ_ONLY = (
    ("attempt to write a readonly database",
     "make the database file and its folder writable for the user running fabnet, or "
     "drop mode=ro from the URL; to only read it, use commands that don't change it"),
    ("unable to open database file",
     "check that the folder exists and that the user running fabnet may write in it: "
     "SQLite keeps its -wal and -shm files next to the database"),
    ("read-only transaction",
     "point the URL at the primary server, not a read-only replica, or grant the "
     "user write access"),
)


def read_only_error(url: str | sa.URL, e: BaseException) -> Exception | None:
    """A `StoreError` naming the store and the fix when `e` says the database can't be
    written or opened for writing; None for any other error."""
    from fabnet.store.errors import StoreError

    detail = db_detail(e)
    for sign, fix in _READ_ONLY:
        if sign in detail.lower():
            return StoreError(f"{display_url(url)}: the store can't be written here: {detail} "
                              f"(fix: {fix})")
    return None


def check_writable(engine: sa.Engine) -> None:
    """Raise a `StoreError` with the fix unless fabnet may write to this initialised
    store (a server checks before it starts: it writes at start and on every change).
    The probe is an update of no row, rolled back: the database refuses it all the same
    when it is read-only (SQLite's `BEGIN IMMEDIATE` alone does not tell)."""
    with engine.connect() as conn, conn.begin() as tx:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num "
                             "WHERE 1 = 0")
        tx.rollback()


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for `url`; SQLite gets real transactions, foreign keys and WAL."""
    from fabnet.store.audit import strict_loads
    from fabnet.store.errors import StoreError

    kwargs.setdefault("json_deserializer", strict_loads)  # no duplicate keys, finite numbers
    try:
        engine = sa.create_engine(normalize_url(url), **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as e:
        raise StoreError(f"{display_url(url)}: not a database URL fabnet can open ({e}) "
                         "(fix: use sqlite:///PATH or postgresql://USER@HOST/DB)") from None
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    elif engine.dialect.name == "postgresql":
        _postgresql_session(engine)

    @event.listens_for(engine, "handle_error")
    def _on_error(ctx: sa.engine.ExceptionContext) -> None:
        mapped = read_only_error(engine.url, ctx.original_exception)
        if mapped is not None:
            raise mapped

    return engine


def _postgresql_session(engine: sa.Engine) -> None:
    """Each new connection runs without PostgreSQL's JIT compiler: the store's statements
    are short index walks whose recursive CTEs the planner prices far too high, so a JIT
    compile (several to 50 ms) would cost more than the statement it speeds up."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True  # a SET that outlives no transaction of its own
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET jit = off")
        finally:
            dbapi_conn.autocommit = autocommit


def _sqlite_transactions(engine: sa.Engine) -> None:
    """SQLAlchemy's recipe for pysqlite: let SQLAlchemy, not the driver, emit BEGIN."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
            # in WAL mode NORMAL syncs at checkpoints, not at every commit: a commit stays
            # atomic and durable across a crash of fabnet (not of the machine's power)
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
