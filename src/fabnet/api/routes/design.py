"""Redundancy design jobs: which mitigations, within a budget, save the most units over
the scenario's risks (the CLI's `fabnet design`), run in the background like the other
continuity jobs. Roles: admin, planner, continuity officer. The result comes from
`GET /jobs/{id}/result`, scoped to the caller's sites like every result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import Field

from fabnet.api.deps import RunnerDep, SettingsDep, StressTester
from fabnet.api.schemas import MAX_INT, JobPublic, JobTarget
from fabnet.resilience.design import Objective, Search
from fabnet.services import design_job

router = APIRouter(prefix="/jobs", tags=["jobs"])


class DesignJob(JobTarget):
    """Choose the scenario's mitigations within `budget` EUR against its risks' futures."""

    budget: Annotated[float, Field(ge=0, le=1e13, description="EUR for the one-off costs "
                                   "of the mitigations chosen")]
    objective: Objective = Field(default=Objective.EXPECTED, description="expected: mean "
                                 "units lost over the futures; worst5: mean of the worst 5 %")
    futures: Annotated[int, Field(ge=1, le=100_000, description="futures sampled from the "
                                  "risks")] = 50
    seed: Annotated[int, Field(ge=0, le=MAX_INT)] = 0
    method: Search = Field(default=Search.AUTO, description="auto: the stochastic MIP where "
                           "it fits, else Benders cuts; mip; benders; replan")
    matrix: bool = Field(default=True, description="also the TTS/TTR risk matrix before "
                         "and after the chosen set")
    marginal_step: Annotated[float, Field(ge=0, le=1e13, description="EUR more to say "
                                          "what they buy (0: not asked)")] = 1_000_000.0


@router.post("/design", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def submit_design(body: DesignJob, who: StressTester, runner: RunnerDep,
                  settings: SettingsDep, response: Response) -> JobPublic:
    """Redundancy design: the set of the scenario's mitigations within the budget that
    loses the fewest units over `futures` sampled futures, the method and the bound it
    proved, units saved (expected, worst 5 %), the risk matrix before and after, and what
    `marginal_step` more EUR buy. 422 without risks or mitigations."""
    if body.futures > settings.max_samples:
        raise HTTPException(422, f"futures: at most {settings.max_samples} per job on this "
                            f"server, got {body.futures} (fix: ask for fewer)")
    job = design_job.submit_design(who.store, body.model_dump(mode="json"))
    runner.submit(job)
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobPublic.of(job)
