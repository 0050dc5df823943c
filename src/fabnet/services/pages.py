"""Pages of long lists for the API: jobs, plan runs and audit entries, filtered and
counted in the database rather than read whole.

The repositories of the unit of work make the pages (`uow.jobs.page`,
`uow.plan_runs.page`, `uow.audit.page`): `limit` rows from `offset` and the total
count a page needs, read in one snapshot. These only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fabnet.store import Store


@dataclass(frozen=True)
class PageOf:
    """Some rows of a list and how many rows match in all."""

    rows: list[Any]
    count: int


def job_page(store: Store, limit: int, offset: int = 0, status: str | None = None,
             kind: str | None = None, created_by: str | None = None) -> PageOf:
    """Jobs, newest first, optionally of one status, kind or creator."""
    with store.unit_of_work(read_only=True) as uow:
        return PageOf(*uow.jobs.page(limit, offset, status, kind, created_by))


def plan_run_page(store: Store, limit: int, offset: int = 0, scenario: str | None = None,
                  branch: str | None = None) -> PageOf:
    """Plan runs, newest first, optionally of one scenario or branch."""
    with store.unit_of_work(read_only=True) as uow:
        return PageOf(*uow.plan_runs.page(limit, offset, scenario, branch))


def audit_page(store: Store, limit: int, offset: int = 0, actor: str | None = None,
               action: str | None = None, entity: str | None = None) -> PageOf:
    """Audit entries in chain order, optionally of one actor or action, or of entities
    starting with `entity` (e.g. `scenario:europe`)."""
    with store.unit_of_work(read_only=True) as uow:
        return PageOf(*uow.audit.page(limit, offset, actor, action, entity))
