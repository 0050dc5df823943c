"""Long work run as jobs: a plan, a what-if, a time-to-survive sweep or a Monte Carlo
stress test of a stored scenario version or branch.

A client submits a job and gets its id at once; a worker thread runs it, writing its
progress (0 to 1) into the store's jobs table as it goes, then its result or its error,
as a print shop files an order, works on it, and marks it ready. A job can be
cancelled: a sweep or a stress test stops at its next step, while a single LP solve
can't be cut short, so a cancelled plan ends when its solve does and its result is
dropped. Results are plain JSON; numbers that are not finite (a node that survives the
whole horizon) become null.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import traceback
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from fabnet.batch import executor_for
from fabnet.model.errors import FabnetError
from fabnet.model.scenario import Disruption, NodeKind, Scenario
from fabnet.services.plan_runs import plan_stored
from fabnet.store import Conflict, Job, JobStatus, NotFound, Store
from fabnet.store.branches import apply_changes

log = logging.getLogger("fabnet.jobs")

#: seconds between two progress writes of one job (the last one is always written)
PROGRESS_EVERY_S = 0.5
#: the Monte Carlo engine keeps its re-planner in a module global: one stress test at a time
_MONTECARLO = threading.Lock()


class JobKind(StrEnum):
    """What a job computes."""

    PLAN = "plan"
    WHATIF = "whatif"
    TTS = "tts"
    MONTECARLO = "montecarlo"
    DESIGN = "design"  # redundancy design (services/design_job.py registers it)


class Cancelled(FabnetError):
    """The job was cancelled while it ran."""


def create_job(store: Store, kind: str, params: dict[str, Any] | None = None) -> Job:
    """Register a job before starting it; its id is what a client polls."""
    with store.unit_of_work() as uow:
        job = uow.jobs.add(kind, params)
        uow.commit()
    return job


def update_job(store: Store, job_id: str, status: JobStatus | None = None,
               progress: float | None = None, result: Any = None,
               error: str | None = None) -> Job:
    """Record a job's progress, or its result (status DONE) or error (status FAILED)."""
    with store.unit_of_work() as uow:
        if result is not None:
            job = uow.jobs.update(job_id, status, progress, result=result, error=error)
        else:
            job = uow.jobs.update(job_id, status, progress, error=error)
        uow.commit()
    return job


def get_job(store: Store, job_id: str) -> Job:
    """A job and where it is."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.jobs.get(job_id)


def submit_job(store: Store, kind: JobKind, params: dict[str, Any]) -> Job:
    """Check that the job's scenario (version or branch) exists and its parameters make
    sense, then record it as queued; the caller hands its id to a worker."""
    sc, _ = _target(store, params)
    if kind is JobKind.WHATIF:
        _disruptions(sc, params.get("disruptions") or [])
    if kind is JobKind.MONTECARLO and not sc.risks:
        raise FabnetError(f"scenario {params['scenario']!r}: risks: the scenario has no risks "
                          "to sample (fix: add rows to its risks section)")
    return create_job(store, kind.value, params)


def run_job(store: Store, job_id: str, cancel: threading.Event,
            scheduler: str | None = None) -> Job:
    """Run a queued job to its end (done, failed or cancelled) and return its record.

    `store` acts for the job's creator, so the plan run and the job's outcome are
    audited in their name. With `scheduler` (the server's setting, never a client's),
    a stress test's futures and a sweep's node chunks run on that Dask cluster.
    """
    job = get_job(store, job_id)
    if job.status is not JobStatus.QUEUED or cancel.is_set():
        return job
    try:
        update_job(store, job_id, JobStatus.RUNNING, 0.0)
        ticker = Ticker(store, job_id, cancel, scheduler)
        result = RUNNERS[JobKind(job.kind)](store, job.params, ticker)
        if cancel.is_set():
            raise Cancelled(f"job {job_id} was cancelled")
        return update_job(store, job_id, JobStatus.DONE, 1.0, result=plain_json(result))
    except (Cancelled, Conflict):
        job = get_job(store, job_id)  # a client's cancel has marked it already
        if job.status.finished:
            return job
        return _fail(store, job_id, "cancelled: the server was stopping (fix: submit it again)")
    except FabnetError as e:
        return _fail(store, job_id, str(e))
    except Exception as e:  # noqa: BLE001 - a job must end, whatever went wrong
        log.error("job %s (%s) failed: %s (message withheld: it may hold restricted data)"
                  "\n%s", job_id, job.kind, type(e).__name__,
                  "".join(traceback.format_tb(e.__traceback__)))
        return _fail(store, job_id, f"internal error ({type(e).__name__}); the server log "
                     "has the details")


def _fail(store: Store, job_id: str, error: str) -> Job:
    try:
        return update_job(store, job_id, JobStatus.FAILED, error=error)
    except Conflict:
        return get_job(store, job_id)


def cancel_job(store: Store, job_id: str) -> Job:
    """Mark a queued or running job cancelled, with "cancelled by …" (audited); 409 for a
    finished one. The worker stops at its next step. The store moves the status by
    compare-and-set, so a cancel and a worker finishing can't both win: the job ends
    either cancelled, without a result, or done, and then the cancel is a 409."""
    try:
        return update_job(store, job_id, JobStatus.CANCELLED,
                                    error=f"cancelled by {store.actor}")
    except Conflict:
        job = get_job(store, job_id)
        raise Conflict(f"job {job_id} is already {job.status} (fix: nothing to cancel)"
                       ) from None


def interrupt_unfinished(store: Store) -> list[str]:
    """At server start: jobs left queued or running by a server that stopped are marked
    failed, so no client polls them for ever. Returns their ids."""
    with store.unit_of_work(read_only=True) as uow:
        stale = [j for s in (JobStatus.QUEUED, JobStatus.RUNNING)
                 for j in uow.jobs.all(s, limit=1_000_000)]
    for j in stale:
        _fail(store.acting_as(j.created_by), j.id,
              "interrupted: the server stopped before the job ended (fix: submit it again)")
    return [j.id for j in stale]


class Ticker:
    """A progress callback for the engines: counts steps, writes the fraction done now and
    then, and raises `Cancelled` once the job is cancelled."""

    def __init__(self, store: Store, job_id: str, cancel: threading.Event,
                 scheduler: str | None = None) -> None:
        self.store, self.job_id, self.cancel = store, job_id, cancel
        #: the Dask scheduler the job's independent solves go to (None: this thread)
        self.scheduler = scheduler
        self.total, self.done, self._last = 1, 0, 0.0

    def expect(self, total: int) -> None:
        """How many steps the work has."""
        self.total, self.done = max(total, 1), 0

    def __call__(self, steps: int = 1) -> None:
        self.done += steps
        self.check()
        t = time.monotonic()
        if t - self._last >= PROGRESS_EVERY_S or self.done >= self.total:
            self._last = t
            try:
                update_job(self.store, self.job_id,
                                     progress=min(self.done / self.total, 0.99))
            except Conflict:
                raise Cancelled(f"job {self.job_id} was cancelled") from None

    def check(self) -> None:
        """Raise `Cancelled` if the job was cancelled."""
        if self.cancel.is_set():
            raise Cancelled(f"job {self.job_id} was cancelled")


# ---------------------------------------------------------------- what each kind computes


def _target(store: Store, params: dict[str, Any]) -> tuple[Scenario, int]:
    """The scenario a job works on (a version, or a branch of the scenario) and its version."""
    name, version, branch = params["scenario"], params.get("version"), params.get("branch")
    with store.unit_of_work(read_only=True) as uow:
        if branch is not None:
            b = uow.branches.get(branch)
            if b.scenario != name:
                raise NotFound(f"branch {branch!r} belongs to scenario {b.scenario!r}, not "
                               f"{name!r} (fix: name its scenario)")
            return apply_changes(uow.scenarios.get(b.scenario, b.base_version),
                                 b.changes), b.base_version
        info = uow.scenarios.info(name, version)
        return uow.scenarios.get(name, info.version), info.version


def _disruptions(sc: Scenario, specs: list[str]) -> tuple[Disruption, ...]:
    from fabnet.model.target import KnownTargets
    from fabnet.resilience.whatif import parse_disruption

    known = KnownTargets.of(sc)
    taken = {d.id for d in sc.disruptions}
    out: list[Disruption] = []
    n = 0
    for spec in specs:
        n += 1
        while f"whatif-{n}" in taken:
            n += 1
        out.append(parse_disruption(spec, sc, n, where="disruptions", known=known))
    return tuple(out)


def _plan(store: Store, params: dict[str, Any], tick: Ticker) -> dict[str, Any]:
    tick.check()
    branch = params.get("branch")
    run = plan_stored(store, params["scenario"], None if branch else
                                params.get("version"), branch,
                                frozen=int(params.get("frozen") or 0),
                                whole_units=bool(params.get("whole_units")),
                                mip_time_limit=params.get("mip_time_limit"))
    return {"plan_run": run.id, "scenario": run.scenario, "version": run.version,
            "branch": run.branch, "status": run.status, "kpis": run.kpis}


def _whatif(store: Store, params: dict[str, Any], tick: Ticker) -> dict[str, Any]:
    from fabnet.resilience.whatif import Replanner
    from fabnet.services.continuity import whatif_disruptions

    sc, version = _target(store, params)
    extra = _disruptions(sc, params.get("disruptions") or [])
    tick.expect(2)
    rp = Replanner(sc)
    base = rp.plan()
    tick()
    run = whatif_disruptions(sc, extra, replanner=rp, base=base,
                             frozen=int(params.get("frozen") or 0))
    diff = run.diff
    return {"version": version,
            "disruptions": [{"id": d.id, "target": d.target, "from": d.start.isoformat(),
                             "buckets": d.buckets, "capacity": d.capacity} for d in extra],
            "kpis": {k: {"base": b, "whatif": n} for k, (b, n) in diff.kpis.items()},
            "by_customer_item": diff.by_customer_item, "moved": diff.moved,
            "purchases": diff.purchases}


def _tts(store: Store, params: dict[str, Any], tick: Ticker) -> dict[str, Any]:
    from fabnet.model.network import compile_network
    from fabnet.resilience.tts import node_ids, time_to_survive

    sc, version = _target(store, params)
    net = compile_network(sc)
    kinds = set(params.get("kinds") or [k.value for k in NodeKind])
    chosen = [n for n, k in node_ids(net) if str(k) in kinds]
    tick.expect(2 * len(chosen))
    with executor_for(1, tick.scheduler) as ex:
        risks = time_to_survive(net, chosen, tick, executor=ex if tick.scheduler else None
                                ) if chosen else []
    return {"version": version, "nodes": [
        {"node": r.node, "kind": str(r.kind), "tts_days": r.tts, "ttr_days": r.ttr,
         "pi_units": r.pi, "exposed": r.exposed, "status": str(r.status)} for r in risks]}


def _montecarlo(store: Store, params: dict[str, Any], tick: Ticker) -> dict[str, Any]:
    from fabnet.resilience.montecarlo import stress_test

    sc, version = _target(store, params)
    samples = int(params["samples"])
    tick.expect(samples)
    with _MONTECARLO, executor_for(1, tick.scheduler) as ex:
        res = stress_test(sc, samples, int(params.get("seed", 0)),
                          float(params.get("target", 0.95)), 1, tick, executor=ex)
    return {"version": version, "summary": res.summary(),
            "critical_nodes": res.critical_counts,
            "units_lost_mean_by_item": res.units_lost_mean_by_item(),
            "failed_futures": res.failed_by_status,
            # one value per solved future, for the distributions (histograms)
            "futures": {"fill": res.solved_fill.tolist(),
                        "units_lost": [float(sum(v)) for v in zip(
                            *(res.solved_lost(k) for k in res.lost_by_item),
                            strict=True)] if res.lost_by_item else []}}


Runner = Callable[[Store, dict[str, Any], Ticker], dict[str, Any]]
RUNNERS: dict[JobKind, Runner] = {JobKind.PLAN: _plan, JobKind.WHATIF: _whatif,
                                  JobKind.TTS: _tts, JobKind.MONTECARLO: _montecarlo}


def plain_json(value: Any) -> Any:
    """`value` as plain JSON: numpy numbers as Python ones, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
