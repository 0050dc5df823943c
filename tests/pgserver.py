"""Finding the PostgreSQL server the store and API tests run against, or skipping."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("FABNET_TEST_POSTGRES_URL")
PG_CANDIDATES = [PG_URL] if PG_URL else [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


def find_pg_server() -> str:
    """The URL of the first reachable candidate; skips the test with the reasons if none."""
    reasons = []
    for url in PG_CANDIDATES:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
            return url
        except sa.exc.SQLAlchemyError as e:
            reasons.append(str(getattr(e, "orig", e)).strip().splitlines()[0])
        finally:
            engine.dispose()
    pytest.skip(f"PostgreSQL not reachable at {', '.join(PG_CANDIDATES)} ({'; '.join(reasons)})"
                "; set FABNET_TEST_POSTGRES_URL to test against another server")
