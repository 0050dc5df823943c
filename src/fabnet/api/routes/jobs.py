"""Jobs: plans, what-ifs, time-to-survive sweeps and Monte Carlo stress tests run in the
background. Submit one (202 and its id), poll it for progress, cancel it, fetch its
result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from fabnet.api import policy
from fabnet.api.deps import (
    Anyone,
    JobCanceller,
    Planner,
    Principal,
    RunnerDep,
    SettingsDep,
    StressTester,
)
from fabnet.api.runner import JobRunner
from fabnet.api.schemas import (
    NAME,
    JobPublic,
    JobResult,
    JobTarget,
    MonteCarloJob,
    Page,
    PlanJob,
    TtsJob,
    WhatIfJob,
)
from fabnet.services import jobs, pages, scoping
from fabnet.services.jobs import JobKind
from fabnet.store import Job, JobStatus, Role

router = APIRouter(prefix="/jobs", tags=["jobs"])
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the id a submit gave")]


def _public(who: Principal, job: Job, sources: scoping.Sources | None = None) -> JobPublic:
    """A job as `who` may see it: parameters and error scoped to their sites."""
    params, error = scoping.job_view(job, policy.viewer(who.sites, who.cleared),
                                     sources or scoping.Sources(who.store))
    return JobPublic.of(job, params, error)


def _submit(who: Principal, runner: JobRunner, kind: JobKind, body: JobTarget,
            response: Response) -> JobPublic:
    job = jobs.submit_job(who.store, kind, body.model_dump(mode="json"))
    runner.submit(job)
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobPublic.of(job)


@router.post("/plan", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def submit_plan(body: PlanJob, who: Planner, runner: RunnerDep, response: Response
                ) -> JobPublic:
    """Plan a version or branch; the result names the plan run kept in the store and
    carries its KPIs and tables."""
    return _submit(who, runner, JobKind.PLAN, body, response)


@router.post("/whatif", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def submit_whatif(body: WhatIfJob, who: Planner, runner: RunnerDep, response: Response
                  ) -> JobPublic:
    """Re-plan around disruptions and compare with the plan without them."""
    return _submit(who, runner, JobKind.WHATIF, body, response)


@router.post("/tts", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def submit_tts(body: TtsJob, who: StressTester, runner: RunnerDep, response: Response
               ) -> JobPublic:
    """Time-to-survive, time-to-recover and performance impact of every node (or of the
    node kinds asked for), after Simchi-Levi et al. (Interfaces 2015)."""
    return _submit(who, runner, JobKind.TTS, body, response)


@router.post("/montecarlo", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def submit_montecarlo(body: MonteCarloJob, who: StressTester, runner: RunnerDep,
                      settings: SettingsDep, response: Response) -> JobPublic:
    """A stress test: `samples` futures drawn from the scenario's risks, each re-planned;
    the result has the fill-rate distribution and the nodes most often critical."""
    if body.samples > settings.max_samples:
        raise HTTPException(422, f"samples: at most {settings.max_samples} per job on this "
                            f"server, got {body.samples} (fix: ask for fewer)")
    return _submit(who, runner, JobKind.MONTECARLO, body, response)


@router.get("", response_model=Page[JobPublic])
def list_jobs(who: Anyone, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
              status_: Annotated[JobStatus | None, Query(alias="status")] = None,
              kind: JobKind | None = None,
              created_by: Annotated[str | None, Query(pattern=NAME)] = None) -> Page[JobPublic]:
    """Jobs, newest first (filters: `status`, `kind`, `created_by`)."""
    page = pages.job_page(who.store, limit, offset, None if status_ is None else status_.value,
                          None if kind is None else kind.value, created_by)
    sources = scoping.Sources(who.store)
    return Page(data=[_public(who, j, sources) for j in page.rows], count=page.count)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: JobId, who: Anyone) -> JobPublic:
    """A job: its status (queued, running, done, failed) and progress from 0 to 1."""
    return _public(who, jobs.get_job(who.store, job_id))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_job(job_id: JobId, who: JobCanceller, runner: RunnerDep) -> JobPublic:
    """Cancel your queued or running job (an admin: anyone's). It ends as cancelled,
    "cancelled by …" in its error; 409 if it has already ended."""
    job = jobs.get_job(who.store, job_id)
    if job.created_by != who.name and who.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"job {job_id} is {job.created_by}'s to cancel (fix: ask them "
                            "or an admin)")
    cancelled = jobs.cancel_job(who.store, job_id)
    runner.cancel(job_id)
    return JobPublic.of(cancelled)


@router.get("/{job_id}/result", response_model=JobResult)
def get_result(job_id: JobId, who: Anyone) -> JobResult:
    """A finished job's result; for a plan, the plan run with every table of the plan
    contract. 409 while the job is queued or running, or when it failed. A site manager
    gets the part of it that concerns their sites (with a `scope` note); a result that
    can't be cut that way is a 403 (see "What each role sees of a result")."""
    viewer = policy.viewer(who.sites, who.cleared)
    with policy.refused_as_403():
        job, result = scoping.job_result(who.store, viewer, job_id)
    if job.status is not JobStatus.DONE:
        ended = job.status.finished
        error = _public(who, job).error
        why = f"{job.status.value}: {error}" if ended else \
            f"{job.status.value} ({job.progress:.0%} done; poll GET /jobs/{job_id})"
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} has no result: it {why}"
                            if ended else f"job {job_id} has no result yet: it is {why}")
    return JobResult(id=job.id, kind=job.kind, status=job.status.value, result=result)
