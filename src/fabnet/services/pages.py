"""Pages of long lists for the API: jobs, plan runs and audit entries, filtered and
counted in the database rather than read whole.

The repositories hand out the newest N of a list; these add an offset, filters and the
total count a page needs. They only read. (They would sit well as repository methods,
`JobRepository.page` and friends; until then they live here.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from fabnet.store import Job, PlanRun, Store
from fabnet.store.records import AuditEntry
from fabnet.store.schema import audit, branches, jobs, plan_runs, scenario_versions, scenarios


@dataclass(frozen=True)
class PageOf:
    """Some rows of a list and how many rows match in all."""

    rows: list[Any]
    count: int


def _count(conn: sa.Connection, q: sa.Select[Any]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one())


def job_page(store: Store, limit: int, offset: int = 0, status: str | None = None,
             kind: str | None = None, created_by: str | None = None) -> PageOf:
    """Jobs, newest first, optionally of one status, kind or creator."""
    q = sa.select(jobs.c.id)
    for col, value in ((jobs.c.status, status), (jobs.c.kind, kind),
                       (jobs.c.created_by, created_by)):
        if value is not None:
            q = q.where(col == value)
    with store.unit_of_work(read_only=True) as uow:
        conn = uow.connection
        ids = conn.execute(q.order_by(jobs.c.created_at.desc(), jobs.c.id)
                           .limit(limit).offset(offset)).scalars().all()
        found: list[Job] = [uow.jobs.get(str(i)) for i in ids]
        return PageOf(found, _count(conn, q))


def plan_run_page(store: Store, limit: int, offset: int = 0, scenario: str | None = None,
                  branch: str | None = None) -> PageOf:
    """Plan runs, newest first, optionally of one scenario or branch."""
    q = (sa.select(plan_runs.c.id)
         .join(scenario_versions, scenario_versions.c.id == plan_runs.c.version_id)
         .join(scenarios, scenarios.c.id == scenario_versions.c.scenario_id)
         .outerjoin(branches, branches.c.id == plan_runs.c.branch_id))
    if scenario is not None:
        q = q.where(scenarios.c.name == scenario)
    if branch is not None:
        q = q.where(branches.c.name == branch)
    with store.unit_of_work(read_only=True) as uow:
        conn = uow.connection
        ids = conn.execute(q.order_by(plan_runs.c.id.desc()).limit(limit).offset(offset)
                           ).scalars().all()
        runs: list[PlanRun] = [uow.plan_runs.get(int(i)) for i in ids]
        return PageOf(runs, _count(conn, q))


def audit_page(store: Store, limit: int, offset: int = 0, actor: str | None = None,
               action: str | None = None, entity: str | None = None) -> PageOf:
    """Audit entries in chain order, optionally of one actor or action, or of entities
    starting with `entity` (e.g. `scenario:europe`)."""
    q = sa.select(audit)
    if actor is not None:
        q = q.where(audit.c.actor == actor)
    if action is not None:
        q = q.where(audit.c.action == action)
    if entity is not None:
        q = q.where(sa.func.substr(audit.c.entity, 1, len(entity)) == entity)
    with store.unit_of_work(read_only=True) as uow:
        conn = uow.connection
        rows = conn.execute(q.order_by(audit.c.seq).limit(limit).offset(offset)).all()
        entries = [AuditEntry(int(r.seq), r.at, r.actor, r.action, r.entity,
                              None if r.before is None else json.loads(r.before),
                              None if r.after is None else json.loads(r.after),
                              r.prev_hash, r.hash) for r in rows]
        return PageOf(entries, _count(conn, q))
