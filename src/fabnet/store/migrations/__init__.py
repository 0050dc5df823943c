"""Alembic migrations of the store (run by `fabnet.store.migrate`, not imported)."""
