"""The unit of work: one transaction, the repositories that work inside it, one commit.

    with UnitOfWork(engine, actor="alice") as uow:
        uow.scenarios.add_version("europe", sc)
        uow.commit()

Nothing commits implicitly: leaving the block without `commit()`, or with an exception,
rolls everything back, audit entries included. Database errors come out as
`StoreError`s that say what failed, never as driver tracebacks: a key another
transaction took first (a unique violation) as a `Collision`, which is a `Conflict`;
a serialization failure, a deadlock or a busy SQLite file as `Transient`.

`Store.run(work)` is the service runner: it runs `work(uow)` in a fresh unit of work
and, when the database reports a `Transient` failure or a `Collision`, runs it again
(up to `ATTEMPTS` times, with jittered exponential backoff), the way a clerk whose
form crossed another's in the post simply fills it in again from what is now on file.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

import sqlalchemy as sa

from fabnet.store.accounts import TokenRepository, UserRepository
from fabnet.store.audit import AuditLog
from fabnet.store.audit_keys import Keyring
from fabnet.store.branches import BranchRepository
from fabnet.store.engine import READ_ONLY, db_detail, display_url
from fabnet.store.errors import Conflict, StoreError
from fabnet.store.idempotency import IdempotencyRepository
from fabnet.store.runs import JobRepository, PlanRunRepository
from fabnet.store.scenarios import ScenarioRepository

T = TypeVar("T")

#: how many times `Store.run` tries a unit of work, and its first wait (doubling)
ATTEMPTS = 5
FIRST_WAIT_S = 0.02
#: PostgreSQL's SQLSTATEs for a serialization failure and a deadlock
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
#: what SQLite says when another connection holds the lock past the busy timeout
_TRANSIENT_SQLITE = ("database is locked", "database table is locked")


class Transient(StoreError):
    """The database gave up on a transaction that can succeed if run again: a
    serialization failure, a deadlock, a SQLite file locked past its busy timeout."""


class Collision(Conflict):
    """A unique key that a concurrent transaction took first (two creates of one name)."""


class UnitOfWork:
    """A transaction on the store and its repositories; use it in a `with` block."""

    scenarios: ScenarioRepository
    branches: BranchRepository
    plan_runs: PlanRunRepository
    jobs: JobRepository
    users: UserRepository
    tokens: TokenRepository
    idempotency: IdempotencyRepository
    audit: AuditLog

    def __init__(self, engine: sa.Engine, actor: str, read_only: bool = False,
                 audit_keys: Keyring | None = None) -> None:
        self.engine = engine
        self.actor = actor
        self.read_only = read_only
        self.audit_keys = audit_keys
        self._conn: sa.Connection | None = None

    @property
    def connection(self) -> sa.Connection:
        """The open connection (for audit verification and tests)."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._conn

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already open")
        options: dict[str, object] = {READ_ONLY: self.read_only}
        if self.read_only and self.engine.dialect.name == "postgresql":
            # one snapshot for every read (SQLite's deferred transaction gives one anyway)
            options |= {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        try:
            conn = self.engine.connect().execution_options(**options)
            conn.begin()
        except sa.exc.SQLAlchemyError as e:
            raise _store_error(self.engine, "opening", e) from None
        self._conn = conn
        self.audit = AuditLog(conn, self.actor, self.audit_keys)
        self.scenarios = ScenarioRepository(conn, self.audit)
        self.branches = BranchRepository(conn, self.audit)
        self.plan_runs = PlanRunRepository(conn, self.audit)
        self.jobs = JobRepository(conn, self.audit)
        self.users = UserRepository(conn, self.audit)
        self.tokens = TokenRepository(conn, self.audit)
        self.idempotency = IdempotencyRepository(conn, self.actor)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                if exc is None and self.read_only and conn.dialect.name == "postgresql":
                    # the server's READ ONLY transaction wrote nothing, so this is a
                    # rollback, but psycopg forgets its prepared statements at every
                    # ROLLBACK, and each read would plan its statements again (on a
                    # trace up, more time than running them)
                    conn.commit()
                else:
                    conn.rollback()
        finally:
            conn.close()
        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise _store_error(self.engine, "working on", exc) from None

    def commit(self) -> None:
        """Make everything done since the last commit permanent, all at once."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work can't commit")
        try:
            self.connection.commit()
        except sa.exc.SQLAlchemyError as e:
            raise _store_error(self.engine, "committing to", e) from None

    def rollback(self) -> None:
        """Throw away everything done since the last commit."""
        self.connection.rollback()


@dataclass(frozen=True)
class Store:
    """Where units of work come from: the database, who is acting on it, and the keys
    that sign its audit trail (None: a store whose trail is not signed)."""

    engine: sa.Engine
    actor: str
    audit_keys: Keyring | None = None

    def acting_as(self, actor: str) -> Store:
        """The same database, for another actor (e.g. the user of an API request)."""
        return Store(self.engine, actor, self.audit_keys)

    def unit_of_work(self, read_only: bool = False) -> UnitOfWork:
        """A new, unopened unit of work; a service opens it with `with`."""
        return UnitOfWork(self.engine, self.actor, read_only, self.audit_keys)

    def run(self, work: Callable[[UnitOfWork], T], read_only: bool = False) -> T:
        """`work(uow)` in its own unit of work, retried when the database reports a
        transient failure or a concurrent create (see `run_retried`); `work` commits."""
        return run_retried(self, work, read_only)


def _store_error(engine: sa.Engine, doing: str, e: sa.exc.SQLAlchemyError) -> StoreError:
    detail = db_detail(e)
    where = display_url(engine.url)
    if _is_unique_violation(e):
        return Collision(f"{where}: a concurrent change got there first ({detail}) "
                         "(fix: read it again; what you meant to create may exist now)")
    if isinstance(e, sa.exc.IntegrityError):
        return StoreError(f"{where}: the store refused the change ({detail}) (fix: check "
                          "that what it refers to still exists, and run it again)")
    if _is_transient(e):
        return Transient(f"{where}: the database gave up on a transaction that crossed "
                         f"another ({detail}) (fix: run it again)")
    return StoreError(f"{where}: {doing} the store failed: {detail} (fix: check that the "
                      "database is reachable and initialised: `fabnet db upgrade`)")


def _sqlstate(e: sa.exc.SQLAlchemyError) -> str | None:
    code = getattr(getattr(e, "orig", None), "sqlstate", None)
    return code if isinstance(code, str) else None


def _is_unique_violation(e: sa.exc.SQLAlchemyError) -> bool:
    """A duplicate key: SQLSTATE 23505 on PostgreSQL, "UNIQUE constraint failed" (or a
    primary key's) on SQLite."""
    if not isinstance(e, sa.exc.IntegrityError):
        return False
    text = str(getattr(e, "orig", e))
    return _sqlstate(e) == "23505" or "UNIQUE constraint failed" in text


def _is_transient(e: sa.exc.SQLAlchemyError) -> bool:
    """A failure that running the same transaction again can cure."""
    if _sqlstate(e) in _TRANSIENT_SQLSTATES:
        return True
    return isinstance(e, sa.exc.OperationalError) and any(
        sign in str(getattr(e, "orig", e)).lower() for sign in _TRANSIENT_SQLITE)


def run_retried(store: Store, work: Callable[[UnitOfWork], T], read_only: bool = False,
                attempts: int = ATTEMPTS) -> T:
    """`work(uow)` in a fresh unit of work, run again after a `Transient` failure or a
    `Collision` (the next try sees what the other transaction committed), waiting
    FIRST_WAIT_S, then twice as long, … with jitter; the last failure is raised."""
    wait = FIRST_WAIT_S
    for attempt in range(1, attempts + 1):
        try:
            with store.unit_of_work(read_only) as uow:
                return work(uow)
        except (Transient, Collision):
            if attempt == attempts:
                raise
        time.sleep(wait * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
        wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover
