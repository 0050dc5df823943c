"""Plan runs (a plan computed from a stored version, kept with its KPIs and tables) and
jobs (long work such as a stress test, polled by its id while it runs)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from fabnet.store.audit import Action
from fabnet.store.errors import Conflict, NotFound
from fabnet.store.records import Job, JobStatus, PlanRun
from fabnet.store.repository import Repository, as_utc, count_of, now
from fabnet.store.schema import branches, jobs, plan_runs, scenario_versions, scenarios

P, J, V, S, B = plan_runs, jobs, scenario_versions, scenarios, branches

_UNSET: Any = object()


class PlanRunRepository(Repository):
    """Plans computed from stored versions and branches."""

    def add(self, scenario: str, version: int, branch: str | None, status: str,
            kpis: dict[str, Any], document: dict[str, Any]) -> PlanRun:
        """Keep a plan: the KPIs and the plan document (every table, as JSON records)."""
        vid = self._conn.execute(sa.select(V.c.id).join(S).where(
            (S.c.name == scenario) & (V.c.version == version))).scalar()
        if vid is None:
            raise NotFound(f"scenario {scenario!r} has no version {version} "
                           "(fix: see `fabnet db list`)")
        bid = None
        if branch is not None:
            bid = self._conn.execute(sa.select(B.c.id).where(B.c.name == branch)).scalar()
            if bid is None:
                raise NotFound(f"no branch {branch!r} (fix: see `fabnet db branch list`)")
        rid = self._conn.execute(sa.insert(P).values(
            version_id=vid, branch_id=bid, status=status, kpis=kpis, document=document,
            created_at=now(), created_by=self.actor).returning(P.c.id)).scalar_one()
        self._audit.append(Action.PLAN_RUN_ADD, f"plan_run:{rid}", None,
                           {"scenario": scenario, "version": version, "branch": branch,
                            "status": status, "kpis": kpis})
        return self.get(int(rid))

    def get(self, run_id: int) -> PlanRun:
        """One plan run with its document."""
        rows = self._select(P.c.id == run_id)
        if not rows:
            raise NotFound(f"no plan run {run_id} (fix: see `fabnet db runs`)")
        return rows[0]

    def all(self, scenario: str | None = None, limit: int = 50) -> list[PlanRun]:
        """The newest plan runs first, of one scenario or of all."""
        where = S.c.name == scenario if scenario is not None else sa.true()
        return self._select(where, limit)

    def _select(self, where: sa.ColumnElement[bool], limit: int = 1) -> list[PlanRun]:
        q = (sa.select(P, S.c.name.label("scenario"), V.c.version, B.c.name.label("branch"))
             .join(V, V.c.id == P.c.version_id).join(S, S.c.id == V.c.scenario_id)
             .outerjoin(B, B.c.id == P.c.branch_id)
             .where(where).order_by(P.c.id.desc()).limit(limit))
        return [PlanRun(int(r.id), r.scenario, int(r.version), r.branch, r.status, r.kpis,
                        r.document, as_utc(r.created_at), r.created_by)
                for r in self._conn.execute(q)]


    def page(self, limit: int, offset: int = 0, scenario: str | None = None,
             branch: str | None = None) -> tuple[list[PlanRun], int]:
        """Plan runs, newest first, optionally of one scenario or branch: `limit` of
        them from `offset`, and how many match in all."""
        q = (sa.select(plan_runs.c.id)
             .join(scenario_versions, scenario_versions.c.id == plan_runs.c.version_id)
             .join(scenarios, scenarios.c.id == scenario_versions.c.scenario_id)
             .outerjoin(branches, branches.c.id == plan_runs.c.branch_id))
        if scenario is not None:
            q = q.where(scenarios.c.name == scenario)
        if branch is not None:
            q = q.where(branches.c.name == branch)
        ids = self._conn.execute(q.order_by(plan_runs.c.id.desc()).limit(limit)
                                 .offset(offset)).scalars().all()
        return [self.get(int(i)) for i in ids], count_of(self._conn, q)


class JobRepository(Repository):
    """Long-running jobs. Creation and the final outcome are audited, progress ticks not."""

    def add(self, kind: str, params: dict[str, Any] | None = None) -> Job:
        """A new queued job; its id is a random hex string."""
        jid = uuid.uuid4().hex
        t = now()
        self._conn.execute(sa.insert(J).values(
            id=jid, kind=kind, status=JobStatus.QUEUED.value, progress=0.0,
            params=params or {}, result=None, error=None, created_at=t, updated_at=t,
            created_by=self.actor))
        self._audit.append(Action.JOB_CREATE, f"job:{jid}", None,
                           {"kind": kind, "params": params or {}})
        return self.get(jid)

    def get(self, job_id: str) -> Job:
        """One job."""
        r = self._conn.execute(sa.select(J).where(J.c.id == job_id)).one_or_none()
        if r is None:
            raise NotFound(f"no job {job_id!r} (fix: check the id; jobs are listed by "
                           "`fabnet db jobs`)")
        return _job(r)

    def update(self, job_id: str, status: JobStatus | None = None,
               progress: float | None = None, result: Any = _UNSET,
               error: str | None = None) -> Job:
        """Move a job on: its status, progress (0..1), result or error.

        A compare-and-set: the job's row is locked, its status checked against the ones
        `status` may come from (`JobStatus.comes_from`; progress alone: queued or
        running), and the UPDATE repeats that condition, so of two writers racing (a
        worker finishing, a client cancelling) exactly one wins and the other gets a
        `Conflict`. A cancelled job thus never gets a result, nor turns done.
        """
        seen = self._conn.execute(sa.select(J.c.status).where(J.c.id == job_id)
                                  .with_for_update()).scalar()
        if seen is None:
            self.get(job_id)  # raises NotFound with the fix
        old = JobStatus(str(seen))
        allowed = _UNFINISHED if status is None else \
            status.comes_from | (_UNFINISHED & {status})
        if old not in allowed:
            raise _refused(job_id, old, status)
        values: dict[str, Any] = {"updated_at": now()}
        if status is not None:
            values["status"] = status.value
        if progress is not None:
            values["progress"] = min(max(float(progress), 0.0), 1.0)
        if result is not _UNSET:
            values["result"] = result
        if error is not None:
            values["error"] = error
        done = self._conn.execute(sa.update(J).where(
            (J.c.id == job_id) & J.c.status.in_(sorted(s.value for s in allowed)))
            .values(**values))
        if done.rowcount != 1:  # another writer moved it between the check and here
            raise _refused(job_id, self.get(job_id).status, status)
        new = self.get(job_id)
        if new.status.finished:
            self._audit.append(Action.JOB_FINISH, f"job:{job_id}",
                               {"status": old.value},
                               {"status": new.status.value, "error": new.error})
        return new

    def all(self, status: JobStatus | None = None, limit: int = 50) -> list[Job]:
        """The newest jobs first, optionally of one status."""
        q = sa.select(J).order_by(J.c.created_at.desc()).limit(limit)
        if status is not None:
            q = q.where(J.c.status == status.value)
        return [_job(r) for r in self._conn.execute(q)]

    def page(self, limit: int, offset: int = 0, status: str | None = None,
             kind: str | None = None, created_by: str | None = None
             ) -> tuple[list[Job], int]:
        """Jobs, newest first, optionally of one status, kind or creator: `limit` of them
        from `offset`, and how many match in all."""
        q = sa.select(jobs.c.id)
        for col, value in ((jobs.c.status, status), (jobs.c.kind, kind),
                           (jobs.c.created_by, created_by)):
            if value is not None:
                q = q.where(col == value)
        ids = self._conn.execute(q.order_by(jobs.c.created_at.desc(), jobs.c.id)
                                 .limit(limit).offset(offset)).scalars().all()
        return [self.get(str(i)) for i in ids], count_of(self._conn, q)


_UNFINISHED = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


def _refused(job_id: str, now_: JobStatus, wanted: JobStatus | None) -> Conflict:
    """Why a job can't move on: it has ended, or it is not yet where the move starts."""
    if now_.finished:
        return Conflict(f"job {job_id} is already {now_} (fix: start a new job)")
    return Conflict(f"job {job_id} is {now_}, so it can't become {wanted} (fix: wait for it "
                    "to run, or cancel it)")


def _job(r: Any) -> Job:
    return Job(r.id, r.kind, JobStatus(r.status), float(r.progress), r.params, r.result,
               r.error, as_utc(r.created_at), as_utc(r.updated_at), r.created_by)
