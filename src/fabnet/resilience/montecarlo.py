"""Stress test: sample many futures from the scenario's risks and re-plan each exactly.

Each risk says how likely an event is per bucket at a node, in a country or on a lane,
how long it lasts and what capacity is left. A sample draws events for every risk and
bucket from its own random stream (`SeedSequence(seed).spawn(n)`), so the same seed
gives the same futures wherever they run. Each future is re-planned on the delivery
levels of the planning LP (units delivered, by priority). The reference level (closest
to the base plan) is not solved: fill and units lost are fixed by the delivery levels,
and it would cost each future a solve as long as the cost level's. A frozen horizon
(`frozen`) keeps the base plan's first buckets in every future.

Every number is an exact re-plan's, found the cheapest exact way (`Route`):

- a future with the same disruptions as an earlier one has its answer;
- a future under which the base plan stays feasible keeps it: its LP differs from the
  base's only in smaller capacities, so no level can beat the base plan, which is in it;
- any other future is solved, each level to its own optimum, starting from one combined
  LP warm from the base's basis (`LexicographicSolver.solve(crash=True)`).

Futures run in chunks on an executor (`fabnet.batch`): this process, a local pool or a
Dask cluster; each worker keeps its own re-planner for the run.

Every future carries its `PlanStatus`. A future that did not solve (infeasible under a
frozen horizon, a solver limit) is counted and listed as failed, never turned into a
fill rate or a loss: statistics are over the futures that solved, next to the count of
those that did not.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from fabnet.batch import Executor, InProcess, chunked, executor_for, worker_state
from fabnet.model.network import FloatArray, Network
from fabnet.model.scenario import Disruption, DurationDist, Risk, Scenario
from fabnet.model.target import Target
from fabnet.plan.solve import PlanResult, PlanStatus, SolverOptions


def sample_risk(risk: Risk, buckets: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(start bucket, duration) of each event of one risk over the horizon."""
    starts = np.nonzero(rng.random(buckets) < risk.rate)[0]
    if risk.dist is DurationDist.UNIFORM:
        hi = risk.duration_max if risk.duration_max is not None else risk.duration
        dur = rng.integers(risk.duration, hi + 1, size=starts.size)
    elif risk.dist is DurationDist.GEOMETRIC:
        dur = rng.geometric(1.0 / max(risk.duration, 1), size=starts.size)
    else:
        dur = np.full(starts.size, risk.duration)
    return [(int(s), int(d)) for s, d in zip(starts, dur, strict=True) if d > 0]


def sample_future(sc: Scenario, rng: np.random.Generator, n: int) -> tuple[Disruption, ...]:
    """One sampled future: the disruptions every risk produces."""
    out = []
    h = sc.horizon
    for risk in sc.risks:
        for k, (start, dur) in enumerate(sample_risk(risk, h.buckets, rng)):
            out.append(Disruption(f"mc{n}-{risk.id}-{k}", risk.target, h.bucket_start(start),
                                  dur, risk.capacity))
    return tuple(out)


@dataclass
class SampleOutcome:
    """What one sampled future costs; `fill` and losses are None unless it solved."""

    status: PlanStatus
    fill: float | None
    lost_by_item: dict[str, float] | None
    critical: list[str]
    events: int
    route: str = "replanned"


@dataclass
class StressResult:
    """Distributions over the samples.

    `fill` and `lost_by_item` hold one value per future, NaN where the future did not
    solve (its `status` says why); every statistic is over the solved futures only.
    """

    samples: int
    seed: int
    target: float
    fill: FloatArray
    lost_by_item: dict[str, FloatArray]
    critical_counts: dict[str, int]
    events: list[int] = field(default_factory=list)
    status: list[PlanStatus] = field(default_factory=list)
    #: futures per `Route` (replanned, kept_base, repeated): how the numbers were found
    routes: dict[str, int] = field(default_factory=dict)

    @property
    def solved_mask(self) -> npt.NDArray[np.bool_]:
        """True for the futures that solved."""
        if not self.status:
            return np.ones(self.fill.size, dtype=bool)
        return np.array([s is PlanStatus.OPTIMAL for s in self.status], dtype=bool)

    @property
    def solved(self) -> int:
        """How many futures solved."""
        return int(self.solved_mask.sum())

    @property
    def failed(self) -> int:
        """How many futures did not solve (counted, never given a number)."""
        return self.samples - self.solved

    @property
    def failed_by_status(self) -> dict[str, int]:
        """Failed futures per status, e.g. {"infeasible": 3}."""
        return dict(Counter(str(s) for s in self.status if s is not PlanStatus.OPTIMAL))

    @property
    def solved_fill(self) -> FloatArray:
        """Fill rates of the futures that solved."""
        return self.fill[self.solved_mask]

    def solved_lost(self, item: str) -> FloatArray:
        """Units of `item` lost in each future that solved."""
        return self.lost_by_item[item][self.solved_mask]

    @property
    def p_target(self) -> float | None:
        """Share of solved futures whose fill rate reaches the target (None: none solved)."""
        f = self.solved_fill
        return float((f >= self.target - 1e-9).mean()) if f.size else None

    @property
    def worst5_mean(self) -> float | None:
        """Mean fill rate of the worst 5 % of solved futures (at least one; None: none)."""
        f = self.solved_fill
        if not f.size:
            return None
        k = max(1, int(np.ceil(0.05 * f.size)))
        return float(np.sort(f)[:k].mean())

    def units_lost_mean_by_item(self) -> dict[str, float | None]:
        """Mean units lost per product over the solved futures (None: none solved)."""
        return {k: float(self.solved_lost(k).mean()) if self.solved else None
                for k in self.lost_by_item}

    def summary(self) -> dict[str, float | int | None]:
        """Headline statistics over the solved futures, with how many failed."""
        f = self.solved_fill
        out: dict[str, float | int | None] = {
            "samples": self.samples, "solved": self.solved, "failed": self.failed}
        out.update({f"failed_{k}": v for k, v in sorted(self.failed_by_status.items())})
        if not f.size:
            return out | dict.fromkeys(("fill_mean", "fill_p5", "fill_p50", "fill_min",
                                        "p_fill_ge_target", "worst5_mean_fill",
                                        "units_lost_mean"))
        return out | {
            "fill_mean": float(f.mean()),
            "fill_p5": float(np.percentile(f, 5)), "fill_p50": float(np.percentile(f, 50)),
            "fill_min": float(f.min()), "p_fill_ge_target": self.p_target,
            "worst5_mean_fill": self.worst5_mean,
            "units_lost_mean": float(sum(self.solved_lost(k).mean()
                                         for k in self.lost_by_item)),
        }


#: a capacity row of the base plan counts as kept by a future when its activity is at most
#: the future's capacity plus this (far inside HiGHS' primal feasibility tolerance, 1e-7)
KEEP_TOL = 1e-9


class Route(StrEnum):
    """How a future's numbers were found; all three are exact re-plans."""

    #: its lexicographic LP was solved (warm, from the base's combined basis)
    REPLANNED = "replanned"
    #: the base plan stays feasible under it, so it is optimal at every level (no LP)
    KEPT_BASE = "kept_base"
    #: the same disruptions as an earlier future: that future's answer
    REPEATED = "repeated"


@dataclass(frozen=True)
class _Run:
    """What every worker needs for one stress test (sent to each worker once)."""

    key: str
    scenario: Scenario
    options: dict[str, bool | int | float | str] | None
    reference: FloatArray | None
    frozen: int
    shortcuts: bool


class _FutureSolver:
    """A worker's re-planner for one stress test, holding the base plan's outcome."""

    def __init__(self, run: _Run) -> None:
        from fabnet.plan.lp import capacity_rows
        from fabnet.resilience.whatif import Replanner

        self.run = run
        self.rp = Replanner(run.scenario, options=run.options)
        self.rows, self.base_caps = capacity_rows(self.rp.network, self.rp.lp)
        self.base_caps = self.base_caps.copy()
        net, base = self._solve(())  # a fresh model: its combined LP is solved from scratch
        self.base_ok = base.status is PlanStatus.OPTIMAL
        self.base_act = base.row_activity[self.rows] if self.base_ok else None
        self.base = self._outcome(net, base, 0)

    def _solve(self, extra: tuple[Disruption, ...]) -> tuple[Network, PlanResult]:
        ref, frozen = self.run.reference, self.run.frozen
        return self.rp.solve(extra, levels_upto="delivered", reference=ref,
                             frozen=frozen if ref is not None else 0, crash=True)

    def keeps_base(self, extra: tuple[Disruption, ...]) -> bool:
        """Does the base plan stay feasible under `extra`? Then it stays optimal at every
        level: the future's LP differs only in capacities no larger than the base's, so
        its feasible set lies inside the base's and no level can do better than the base
        plan does, and the base plan is in it."""
        from fabnet.plan.lp import capacity_rows

        if not (self.run.shortcuts and self.base_ok and self.base_act is not None):
            return False
        caps = capacity_rows(self.rp.network_with(extra), self.rp.lp)[1]
        lower = caps < self.base_caps
        if np.any(caps > self.base_caps):  # a capacity grew: the base may not be optimal
            return False
        return bool(np.all(self.base_act[lower] <= caps[lower] + KEEP_TOL))

    def evaluate(self, extra: tuple[Disruption, ...]) -> SampleOutcome:
        """The outcome of one future: the base's when it keeps the base plan, else re-planned."""
        if self.keeps_base(extra):
            b = self.base
            return SampleOutcome(b.status, b.fill, b.lost_by_item, b.critical, len(extra),
                                 Route.KEPT_BASE)
        net, result = self._solve(extra)
        return self._outcome(net, result, len(extra))

    def _outcome(self, net: Network, result: PlanResult, events: int) -> SampleOutcome:
        from fabnet.plan.plan import demand_outcome

        if result.status is not PlanStatus.OPTIMAL:
            return SampleOutcome(result.status, None, None, [], events)
        rp = self.rp
        # read from the LP's optimum as it is: settling a written plan's noise (stock
        # re-balanced bucket by bucket) would cost more than the solve, and moves nothing
        # beyond the shortfall tolerance under which losses count as 0
        out = demand_outcome(net, rp.lp, result.x, settled=True)
        demanded = float(net.demand_qty.sum())
        lost_by: dict[str, float] = {}
        for i, item in enumerate(net.items):
            mask = net.demand_item == i
            if mask.any():
                lost_by[item] = float(out["lost"][mask].sum())
        fill = 1.0 - float(out["lost"].sum()) / demanded if demanded else 1.0
        return SampleOutcome(result.status, fill, lost_by, critical_nodes(rp, result), events)


def _solve_chunk(run: _Run, futures: Sequence[tuple[Disruption, ...]]) -> list[SampleOutcome]:
    """Re-plan a chunk of futures on this worker's re-planner for the run."""
    solver = worker_state(run.key, lambda: _FutureSolver(run))
    return [solver.evaluate(f) for f in futures]


def critical_nodes(rp: object, result: object) -> list[str]:
    """Sites, suppliers and lanes whose capacity binds with a non-zero dual at any level."""
    from fabnet.plan.solve import PlanResult
    from fabnet.resilience.whatif import Replanner

    assert isinstance(rp, Replanner) and isinstance(result, PlanResult)
    net, lp = rp.network, rp.lp
    owners = {
        "work": [net.sites[int(s)] for s in net.wc_site],
        "supply": [net.suppliers[int(v)] for v in net.offer_supplier],
        "lane": [str(Target.lane_between(a, b))
                 for a, b in zip(net.lane_from, net.lane_to, strict=True)],
    }
    names: set[str] = set()
    for lv in result.levels:
        for block, owner in owners.items():
            b = lp.rows[block]
            if not b.count:
                continue
            d = lv.duals[b.offset:b.offset + b.size].reshape(b.count, b.per)
            names.update(owner[e] for e in np.nonzero((np.abs(d) > 1e-7).any(axis=1))[0])
    return sorted(names)


def _same_disruptions(future: tuple[Disruption, ...]) -> tuple[object, ...]:
    """What a future's LP depends on: its disruptions without their ids, in order."""
    return tuple(sorted((d.target, d.start, d.buckets, d.capacity) for d in future))


def stress_test(sc: Scenario, samples: int, seed: int, target: float = 0.95,
                workers: int = 1, progress: Callable[[int], None] | None = None,
                frozen: int = 0, options: SolverOptions | None = None,
                executor: Executor | None = None, shortcuts: bool = True) -> StressResult:
    """Sample `samples` futures from `sc.risks` and re-plan each; same seed, same numbers.

    `frozen` keeps the base plan's flows in buckets 0 … frozen-1 of every future (the
    base plan is solved once, here); `options` go to HiGHS (e.g. a time limit). The
    futures run on `executor` (this process, a local pool, a Dask cluster), else on a
    local pool of `workers` processes. `shortcuts=False` re-plans every future, even one
    that keeps the base plan or repeats another (for checking the shortcuts: the same
    numbers).
    """
    from fabnet.model.errors import FabnetError
    from fabnet.resilience.whatif import Replanner

    if frozen < 0:
        raise FabnetError(f"frozen: must be >= 0, got {frozen} (fix: give 0 or more buckets)")
    streams = np.random.SeedSequence(seed).spawn(samples)
    futures = [sample_future(sc, np.random.default_rng(s), n) for n, s in enumerate(streams)]
    reference = Replanner(sc, options=options).base_solution() if frozen else None
    first: dict[tuple[object, ...], int] = {}
    todo: list[int] = []  # the futures to re-plan; the others repeat one of them
    same_as = np.arange(samples)
    for n, f in enumerate(futures):
        k = _same_disruptions(f)
        if shortcuts and k in first:
            same_as[n] = first[k]
        else:
            first.setdefault(k, n)
            todo.append(n)
    repeats: dict[int, int] = Counter(int(same_as[n]) for n in range(samples))
    run = _Run(uuid.uuid4().hex, sc, dict(options) if options else None, reference, frozen,
               shortcuts)
    own = executor is None
    ex = executor_for(workers) if executor is None else executor
    most = 1 if isinstance(ex, InProcess) else 16
    chunks = chunked(todo, ex, most=most)
    solved: dict[int, SampleOutcome] = {}

    def done(i: int, got: list[SampleOutcome]) -> None:
        for n, o in zip(chunks[i], got, strict=True):
            solved[n] = o
        if progress:
            progress(sum(repeats[n] for n in chunks[i]))

    try:
        ex.run(_solve_chunk, run, [[futures[n] for n in c] for c in chunks], done)
    finally:
        if own:
            ex.close()
    outcomes: list[SampleOutcome] = []
    for n in range(samples):
        o = solved[int(same_as[n])]
        outcomes.append(o if same_as[n] == n else replace(o, route=Route.REPEATED))
    items = sorted({k for o in outcomes for k in (o.lost_by_item or {})})
    counts: Counter[str] = Counter()
    for o in outcomes:
        counts.update(o.critical)
    nan = float("nan")
    return StressResult(
        samples, seed, target, np.array([nan if o.fill is None else o.fill for o in outcomes]),
        {i: np.array([nan if o.lost_by_item is None else o.lost_by_item.get(i, 0.0)
                      for o in outcomes]) for i in items},
        dict(counts.most_common()), [o.events for o in outcomes], [o.status for o in outcomes],
        dict(Counter(str(o.route) for o in outcomes)))
