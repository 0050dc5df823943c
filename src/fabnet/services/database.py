"""The database itself: create its schema, migrate it, and open it as a `Store`.

Every other service takes the `Store` that `connect` returns; each opens one unit of
work per action, does its work and commits once, so a change and its audit entries land
together or not at all.
"""

from __future__ import annotations

from pathlib import Path

from fabnet.store import (
    SchemaOutOfDate,
    Store,
    check_schema,
    current_revision,
    display_url,
    head_revision,
    make_engine,
    upgrade,
)


def init_store(url: str, audit_key_file: str | Path | None = None) -> tuple[str | None, str]:
    """Create the schema in an empty database; (revision before, after). A store that is
    already current is left alone; an older one must be upgraded on purpose. The audit
    key file (`audit_key_file`, FABNET_AUDIT_KEY_FILE, or beside a SQLite file) is
    created if missing, and the trail signed with it."""
    from fabnet.services.audit_trail import start_signing

    engine = make_engine(url)
    try:
        rev = current_revision(engine)
        if rev is not None and rev != head_revision():
            check_schema(engine)  # raises, naming `fabnet db upgrade`
        revisions = (rev, rev) if rev is not None else upgrade(engine)
    finally:
        engine.dispose()
    start_signing(url, audit_key_file)
    return revisions


def upgrade_store(url: str) -> tuple[str | None, str]:
    """Migrate the database to the newest schema; (revision before, after)."""
    engine = make_engine(url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def connect(url: str, actor: str, audit_key_file: str | Path | None = None) -> Store:
    """The store at `url`, for `actor`, after checking its schema is current; with its
    audit key file (see `init_store`) when there is one, so its changes are signed."""
    from fabnet.services.audit_trail import open_keys

    engine = make_engine(url)
    db = engine.url.database
    if engine.dialect.name == "sqlite" and db not in (None, "", ":memory:") \
            and not db.startswith("file:") and not Path(db).exists():
        raise SchemaOutOfDate(f"{display_url(engine.url)}: no store at {Path(db).resolve()} "
                              "(fix: run `fabnet db init` there, or set FABNET_DATABASE_URL "
                              "to the store you meant)")
    check_schema(engine)
    return Store(engine, actor, open_keys(url, audit_key_file))
