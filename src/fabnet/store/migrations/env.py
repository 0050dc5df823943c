"""Alembic's entry point: migrate the connection `fabnet.store.migrate` hands over.

Run from the command line (`alembic -x url=… upgrade head`), it opens the URL itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from fabnet.store.engine import database_url, make_engine
from fabnet.store.schema import metadata


def _run(conn: sa.Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata,
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Offline: print SQL. Online: migrate the given connection, or open the URL."""
    config = context.config
    url = context.get_x_argument(as_dictionary=True).get("url") or database_url()
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    conn = config.attributes.get("connection")
    if isinstance(conn, sa.Connection):
        _run(conn)
        return
    engine = make_engine(url)
    with engine.begin() as new_conn:
        _run(new_conn)


run_migrations()
