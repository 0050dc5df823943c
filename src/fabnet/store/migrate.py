"""Schema migrations with Alembic, run from code: the scripts ship inside the package.

`upgrade(engine)` brings a database to the newest revision (creating every table in an
empty one) in one transaction; `check_schema(engine)` tells a command, before it starts,
whether the database needs `fabnet db init` or `fabnet db upgrade`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from fabnet.store.engine import db_detail, display_url
from fabnet.store.errors import SchemaOutOfDate, StoreError


@contextmanager
def _script_location() -> Iterator[Path]:
    with as_file(files("fabnet.store") / "migrations") as path:
        yield Path(path)


def alembic_config(conn: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and `conn`, when given)."""
    cfg = Config()
    with _script_location() as loc:
        cfg.set_main_option("script_location", str(loc))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


@cache
def head_revision() -> str:
    """The newest revision this fabnet knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The database's revision (None for a database fabnet never initialised)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.SQLAlchemyError as e:
        raise StoreError(f"{display_url(engine.url)}: cannot open the store: {db_detail(e)} "
                         "(fix: check the URL given by --url or FABNET_DATABASE_URL, and that "
                         "the server or folder exists)") from None


def upgrade(engine: sa.Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to `revision` in one transaction; returns (revision before, revision after)."""
    before = current_revision(engine)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    except sa.exc.SQLAlchemyError as e:
        raise StoreError(f"{display_url(engine.url)}: migrating the store failed, nothing was "
                         f"changed: {db_detail(e)} (fix: check that this "
                         "database is a fabnet store, or use an empty one)") from None
    after = current_revision(engine)
    assert after is not None
    return before, after


def check_schema(engine: sa.Engine) -> None:
    """Raise `SchemaOutOfDate`, naming the command to run, unless the schema is current."""
    rev, head = current_revision(engine), head_revision()
    where = display_url(engine.url)
    if rev is None:
        raise SchemaOutOfDate(f"{where}: no fabnet store here yet (fix: run `fabnet db init`, "
                              "or set FABNET_DATABASE_URL to the store you meant)")
    if rev != head:
        known = {s.revision for s in
                 ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if rev not in known:
            raise SchemaOutOfDate(f"{where}: the store is at revision {rev}, newer than this "
                                  f"fabnet ({head}) (fix: upgrade fabnet)")
        raise SchemaOutOfDate(f"{where}: the store is at revision {rev}, this fabnet needs "
                              f"{head} (fix: run `fabnet db upgrade`)")
