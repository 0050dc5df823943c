"""Errors of the store: each names what was asked for and how to put it right."""

from __future__ import annotations

from fabnet.model.errors import FabnetError


class StoreError(FabnetError):
    """The database refused or failed an operation (unreachable, locked, constraint)."""


class NotFound(StoreError):
    """A scenario, version, branch, job, user or token that the store does not hold."""


class SchemaOutOfDate(StoreError):
    """The database's schema revision is not the one this fabnet expects."""


class Conflict(StoreError):
    """A change that collides with another: a name taken, a branch already merged,
    or a merge whose rows changed on the parent since the branch was made."""
