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
- any other future is solved, each level to its own optimum: on the worker's own HiGHS
  model of the delivery levels, one combined LP re-solved from the base's basis after
  changing only the capacity bounds that differ, each level's optimality then checked
  from that basis (`_DeliveryLP`); where the check fails, or with a frozen horizon or
  firm work orders, by the full solver (`LexicographicSolver.solve(crash=True)`).

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
from typing import TYPE_CHECKING

import highspy
import numpy as np
import numpy.typing as npt

from fabnet.batch import Executor, InProcess, chunked, executor_for, worker_state
from fabnet.model.network import FloatArray, IntArray, Network
from fabnet.model.scenario import Disruption, DurationDist, Risk, Scenario
from fabnet.model.target import Target
from fabnet.plan.lp import PlanningLP
from fabnet.plan.solve import PlanResult, PlanStatus, SolverOptions, highs_status

if TYPE_CHECKING:
    from fabnet.resilience.whatif import Replanner


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

#: futures one stress test samples at most: every future is sampled before the first is
#: re-planned (about 2.5 KiB each on the Europe example), so a mistyped count stops here
#: in one line instead of filling memory; more futures: several seeds, pooled
MAX_SAMPLES = 100_000


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


class _Capacities:
    """A future's capacity bounds (`capacity_rows`' layout), found from its disruptions'
    factors on the compiled base network instead of compiling a network per future."""

    def __init__(self, sc: Scenario, net: Network, base: FloatArray) -> None:
        self.sc, self.net, self.base = sc, net, base
        T = net.buckets
        #: position of each work center's, offer's and lane's buckets in the vector
        wc_keys = [(wc.site, wc.type) for wc in sc.work_centers]
        self.wc_of_site: dict[str, list[tuple[int, str]]] = {}
        for w, (site, kind) in enumerate(wc_keys):
            self.wc_of_site.setdefault(site, []).append((w, kind))
        n_wc = len(wc_keys) * T
        self.offers: dict[str, list[tuple[int, float | None]]] = {}
        for o, off in enumerate(sc.offers):
            self.offers.setdefault(off.supplier, []).append((n_wc + o * T, off.capacity))
        n_off = n_wc + len(sc.offers) * T
        customers = {c.id for c in sc.customers}
        self.lanes: dict[str, list[tuple[int, float | None, str]]] = {}
        self.lanes_to: dict[str, list[str]] = {}
        for k, ln in enumerate(sc.lanes):
            self.lanes.setdefault(ln.id, []).append((n_off + k * T, ln.capacity, ln.destination))
            if ln.destination in customers:
                self.lanes_to.setdefault(ln.destination, []).append(ln.id)
        self.nominal = net.wc_nominal

    def of(self, extra: tuple[Disruption, ...]) -> FloatArray:
        """The capacity vector under the scenario's and `extra`'s disruptions, exactly as
        `capacity_rows(compile_network(sc, extra), lp)` gives it."""
        from fabnet.model.network import _scaled_cap, disruption_factors, work_center_factors

        if not extra:
            return self.base
        sc, T = self.sc, self.net.buckets
        out = self.base.copy()
        node_f, lane_f, _ = disruption_factors(sc, extra)
        cut = work_center_factors(sc, extra)
        ones = np.ones(T)
        sites = set(node_f) | {s for s, _ in cut}
        for site in sites & set(self.wc_of_site):
            for w, kind in self.wc_of_site[site]:
                f = node_f.get(site, ones) * cut.get((site, kind), ones)
                out[w * T:(w + 1) * T] = self.nominal[w] * f
        for sup in set(node_f) & set(self.offers):
            for at, cap in self.offers[sup]:
                out[at:at + T] = _scaled_cap(cap, node_f[sup])
        lanes = set(lane_f) | {ln for c in set(node_f) & set(self.lanes_to)
                               for ln in self.lanes_to[c]}
        for lane in lanes & set(self.lanes):
            for at, cap, dest in self.lanes[lane]:
                f = lane_f.get(lane, ones).copy()
                if dest in self.lanes_to and dest in node_f:
                    f = f * node_f[dest]
                out[at:at + T] = _scaled_cap(cap, f)
        return out


def delivery_levels(lp: PlanningLP) -> list[tuple[str, FloatArray, bool]]:
    """The delivery levels of `LexicographicSolver.objectives`: units delivered per
    priority class, class 1 first, each maximised."""
    cls = sorted(set(np.unique(lp.priority_of_col[lp.delivered > 0]).tolist()))
    return [(f"delivered_p{p}", np.where(lp.priority_of_col == p, lp.delivered, 0.0), True)
            for p in cls]


#: a reduced cost within this of the wrong sign still counts as optimal (HiGHS' dual
#: feasibility tolerance); one above FACE_TOL fixes its column or row for later levels
DUAL_TOL = 1e-7


@dataclass
class _Levels:
    """One exact solve of the delivery levels: how it ended, the plan, its row activities
    and each level's row duals (for the critical nodes)."""

    status: PlanStatus
    x: FloatArray
    row_activity: FloatArray
    duals: list[FloatArray]


def delivery_model_columns(lp: PlanningLP, net: Network | None = None
                           ) -> tuple[IntArray, IntArray, FloatArray]:
    """The columns the delivery levels' own model keeps, the lane rows it needs unlimited,
    and the solver's column upper bounds: every column not closed in every future, less,
    given `net`, the deliveries a later one dominates at these levels."""
    from fabnet.plan.reduce import later_deliveries_dominate
    from fabnet.plan.solve import solver_upper

    upper = solver_upper(lp)
    free_rows = np.zeros(0, dtype=np.int64)
    if net is not None:
        dominated, free_rows = later_deliveries_dominate(net, lp, upper)
        upper[dominated] = 0.0
    keep = np.nonzero(~((lp.col_lower == 0.0) & (upper == 0.0)))[0]
    return keep, free_rows, upper


class _DeliveryLP:
    """A worker's own HiGHS model of the delivery levels, for futures that change only
    capacity bounds (no frozen horizon, no firm work orders).

    Columns that are fixed at zero in every future (closed arcs, `zero_cols`) are left
    out, and so, given the network, are deliveries that a later delivery of the same
    demand and lane dominates at these levels (`plan.reduce.later_deliveries_dominate`;
    on the Europe example 10,143 of 17,549). The levels start, as
    `LexicographicSolver.solve(crash=True)` does, from one LP weighing them in order
    (`blend`), solved by dual simplex from the base's optimal basis of that LP with its
    costs unperturbed; each level's optimality is then checked
    from that basis without a solve: its duals y = B⁻ᵀc_B and reduced costs c − Aᵀy must
    have the optimal signs on every column and row the earlier levels leave free (those
    with a reduced cost of at most FACE_TOL). When a check fails the future goes to the
    full solver, so every answer is each level's optimum.
    """

    def __init__(self, lp: PlanningLP, options: SolverOptions | None,
                 net: Network | None = None) -> None:
        """With `net`, deliveries a later one of the same demand and lane dominates at the
        delivery levels are left out too (`later_deliveries_dominate`); `solve` then
        answers only futures that leave those lanes' last rows unlimited."""
        from fabnet.model.errors import FabnetError
        from fabnet.plan.solve import FACE_TOL, blend, new_highs, pass_lp

        self.lp = lp
        self.face_tol = FACE_TOL
        #: lane rows that must stay unlimited for the left-out deliveries to be dominated
        self.keep, self.free_rows, upper = delivery_model_columns(lp, net)
        self.a = lp.matrix[:, self.keep].tocsc()
        self.at = self.a.T.tocsr()
        self.lower = lp.col_lower[self.keep]
        self.upper = upper[self.keep]
        self.levels = delivery_levels(lp)
        # every level as a minimisation, on the kept columns
        self.costs = [(-c if maximize else c)[self.keep] for _, c, maximize in self.levels]
        h = new_highs()
        h.setOptionValue("simplex_strategy", 1)  # dual: a bound change keeps it dual feasible
        for name, value in (options or {}).items():
            if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
                raise FabnetError(f"solver option {name}={value!r}: HiGHS does not accept it "
                                  "(fix: see the HiGHS options list, e.g. time_limit=60)")
        objective = blend(self.levels) if len(self.levels) > 1 else -self.levels[0][1] \
            if self.levels else np.zeros(lp.num_cols)
        pass_lp(h, self.a, objective[self.keep], self.lower, self.upper, lp.row_lower,
                lp.row_upper)
        self.highs = h
        self.row_upper = lp.row_upper.copy()
        self.options = dict(options or {})
        self.basis: highspy.HighsBasis | None = None

    def solve_base(self) -> _Levels:
        """The intact network's levels, cold; keeps the optimal basis futures start from.

        Without solver options, by interior point and crossover: from that basis a
        future's dual simplex takes about half the pivots it takes from the basis a cold
        dual simplex ends at (on the Europe example 137-319 against 275-1,428), and the
        base solve itself is shorter. With options (limits meant for the simplex), or
        should crossover leave no basis, by dual simplex.
        """
        h = self.highs
        if not self.options:
            h.setOptionValue("solver", "ipm")
            h.run()
            h.setOptionValue("solver", "simplex")
            if highs_status(h) is PlanStatus.OPTIMAL and h.getBasis().valid:
                return self._keep_base()
            h.clearSolver()
        h.run()
        return self._keep_base()

    def _keep_base(self) -> _Levels:
        """Read the base's levels and keep its optimal basis."""
        out = self._read(highs_status(self.highs))
        if out.status is PlanStatus.OPTIMAL:
            self.basis = self.highs.getBasis()
        return out

    def solve(self, rows: IntArray, caps: FloatArray) -> _Levels | None:
        """The levels with capacity rows `rows` at `caps`, from the base's basis; None when
        the future limits a lane row the left-out deliveries need unlimited."""
        from fabnet.plan.solve import WARM_MIN_PIVOTS, WARM_PIVOTS, cost_unperturbed

        assert self.basis is not None
        self._set_upper(rows, caps)
        if not np.isinf(self.row_upper[self.free_rows]).all():
            return None
        h = self.highs
        # HiGHS keeps solver data (edge weights) from the run before, which changes the
        # pivots and, among equal optima, the plan it ends at: cleared, every future's
        # solve is the same whatever came before it (on Europe also 20-30 % faster)
        h.clearSolver()
        h.setBasis(self.basis)
        # unperturbed for at most half a pivot per row (a cold dual simplex of the base
        # takes about 0.8 per row on the Europe example), then HiGHS' own dual simplex
        guard = max(int(WARM_PIVOTS * self.lp.num_rows), WARM_MIN_PIVOTS)
        with cost_unperturbed(h, guard) as guarded:
            h.run()
        status = highs_status(h)
        if status is PlanStatus.ITERATION_LIMIT and guarded:
            h.clearSolver()
            h.setBasis(self.basis)  # stalled unperturbed: HiGHS' own dual simplex
            h.run()
            status = highs_status(h)
        return self._read(status)

    def _set_upper(self, rows: IntArray, caps: FloatArray) -> None:
        """Change the upper bounds of the capacity rows that differ from the model's."""
        cur = self.row_upper[rows]
        changed = ~((cur == caps) | (np.isinf(cur) & np.isinf(caps)))
        if changed.any():
            r = rows[changed]
            up = np.where(np.isinf(caps[changed]), highspy.kHighsInf, caps[changed])
            lo = np.where(np.isinf(self.lp.row_lower[r]), -highspy.kHighsInf,
                          self.lp.row_lower[r])
            change = self.highs.changeRowsBounds  # type: ignore[attr-defined]
            change(r.size, r.astype(np.int32), lo.astype(np.float64), up.astype(np.float64))
            self.row_upper[r] = caps[changed]

    def _read(self, status: PlanStatus) -> _Levels:
        """The plan and level optima of an ended solve; ERROR when a level's optimality
        could not be shown from the basis (the caller then re-plans with the full solver)."""
        lp = self.lp
        if status is not PlanStatus.OPTIMAL:
            return _Levels(status, np.zeros(lp.num_cols), np.zeros(lp.num_rows), [])
        sol = self.highs.getSolution()
        xk = np.asarray(sol.col_value, dtype=float)
        act = np.asarray(sol.row_value, dtype=float)
        x = np.zeros(lp.num_cols)
        x[self.keep] = xk
        if len(self.levels) == 1:  # the LP is the level itself: HiGHS' own duals
            duals = [np.asarray(sol.row_dual, dtype=float)]
        else:
            got = self._certify(xk, act)
            if got is None:
                return _Levels(PlanStatus.ERROR, x, act, [])
            duals = got
        return _Levels(PlanStatus.OPTIMAL, x, act, duals)

    def _certify(self, xk: FloatArray, act: FloatArray) -> list[FloatArray] | None:
        """Each level's duals at the blended optimum's basis when that basis is optimal for
        every level on the face the earlier ones leave (else None)."""
        from fabnet.plan.certify import certify_levels

        got = certify_levels(self.highs, self.at, self.costs, self.lower, self.upper,
                             self.lp.row_lower, self.row_upper, xk, act, self.face_tol,
                             DUAL_TOL)
        return None if got is None else [lv.y for lv in got]


class _FutureSolver:
    """A worker's re-planner for one stress test, holding the base plan's outcome.

    Futures go to the worker's own model of the delivery levels (`_DeliveryLP`) when the
    run has no frozen horizon and the network no firm work orders; otherwise, or when
    that model cannot show a future's levels optimal, to a `Replanner` (the full
    lexicographic solver), built on first need.
    """

    def __init__(self, run: _Run, own_model: bool = True) -> None:
        """`own_model=False` sends every future to the full solver (for comparisons)."""
        from fabnet.model.network import compile_network
        from fabnet.plan.lp import build_lp, capacity_rows

        self.run = run
        self.net = compile_network(run.scenario)
        self.lp = build_lp(self.net)
        self.rows, base_caps = capacity_rows(self.net, self.lp)
        self.rows = self.rows.astype(np.int64)
        self.base_caps = base_caps.copy()
        self.caps = _Capacities(run.scenario, self.net, self.base_caps)
        self.owners = _owners(self.net)
        # the items some demand asks for, whose losses each outcome reports
        asked = set(self.net.demand_item.tolist())
        self.demanded_items = [(i, item) for i, item in enumerate(self.net.items) if i in asked]
        self._rp: Replanner | None = None
        self.fast: _DeliveryLP | None = None
        self.replans = 0  # futures the full solver took
        self.base_act: FloatArray | None = None
        #: the model with every delivery column, for futures that limit a lane `fast`
        #: needs unlimited (built on first need)
        self._whole: _DeliveryLP | None = None
        if own_model and run.reference is None and self.lp.firm_cols.size == 0:
            self.fast = _DeliveryLP(self.lp, run.options, self.net)
            base = self.fast.solve_base()
            if base.status is PlanStatus.OPTIMAL:
                self.base_ok = True
                self.base_act = base.row_activity[self.rows]
                self.base = self._outcome(base, 0)
                return
            self.fast = None  # not shown optimal (or a limit): the full solver's answer
        net, full = self._replan(())
        self.base_ok = full.status is PlanStatus.OPTIMAL
        self.base_act = full.row_activity[self.rows] if self.base_ok else None
        self.base = self._outcome(_levels_of(full), 0)

    @property
    def replanner(self) -> Replanner:
        """The full solver, built the first time a future needs it."""
        from fabnet.resilience.whatif import Replanner

        if self._rp is None:
            self._rp = Replanner(self.run.scenario, options=self.run.options)
        return self._rp

    def _replan(self, extra: tuple[Disruption, ...]) -> tuple[Network, PlanResult]:
        ref, frozen = self.run.reference, self.run.frozen
        self.replans += bool(extra)
        return self.replanner.solve(extra, levels_upto="delivered", reference=ref,
                                    frozen=frozen if ref is not None else 0, crash=True)

    def keeps_base(self, caps: FloatArray) -> bool:
        """Does the base plan stay feasible under capacities `caps`? Then it stays optimal
        at every level: the future's LP differs only in capacities no larger than the
        base's, so its feasible set lies inside the base's and no level can do better than
        the base plan does, and the base plan is in it."""
        if not (self.run.shortcuts and self.base_ok and self.base_act is not None):
            return False
        lower = caps < self.base_caps
        if np.any(caps > self.base_caps):  # a capacity grew: the base may not be optimal
            return False
        return bool(np.all(self.base_act[lower] <= caps[lower] + KEEP_TOL))

    def evaluate(self, extra: tuple[Disruption, ...]) -> SampleOutcome:
        """The outcome of one future: the base's when it keeps the base plan, else re-planned."""
        caps = self.caps.of(extra)
        if self.keeps_base(caps):
            b = self.base
            return SampleOutcome(b.status, b.fill, b.lost_by_item, b.critical, len(extra),
                                 Route.KEPT_BASE)
        if self.fast is not None:
            got = self.fast.solve(self.rows, caps)
            if got is None and (whole := self._whole_model()).basis is not None:
                got = whole.solve(self.rows, caps)
            if got is not None and got.status is not PlanStatus.ERROR:
                return self._outcome(got, len(extra))
        _, result = self._replan(extra)
        return self._outcome(_levels_of(result), len(extra))

    def _whole_model(self) -> _DeliveryLP:
        """The delivery levels' model with every delivery column, its base solved."""
        if self._whole is None:
            self._whole = _DeliveryLP(self.lp, self.run.options)
            self._whole.solve_base()
        return self._whole

    def _outcome(self, result: _Levels, events: int) -> SampleOutcome:
        from fabnet.plan.plan import delivered_units, lost_units

        if result.status is not PlanStatus.OPTIMAL:
            return SampleOutcome(result.status, None, None, [], events)
        net = self.net  # demand does not depend on the disruptions
        # read from the LP's optimum as it is: settling a written plan's noise (stock
        # re-balanced bucket by bucket) would cost more than the solve, and moves nothing
        # beyond the shortfall tolerance under which losses count as 0
        lost = lost_units(net, delivered_units(net, self.lp, result.x))
        demanded = float(net.demand_qty.sum())
        per_item = np.bincount(net.demand_item, weights=lost, minlength=len(net.items))
        lost_by = {item: float(per_item[i]) for i, item in self.demanded_items}
        fill = 1.0 - float(lost.sum()) / demanded if demanded else 1.0
        return SampleOutcome(result.status, fill, lost_by,
                             _critical(net, self.lp, result.duals, self.owners), events)


def _levels_of(result: PlanResult) -> _Levels:
    """The full solver's answer in `_Levels`' terms."""
    return _Levels(result.status, result.x, result.row_activity,
                   [lv.duals for lv in result.levels])


def _solve_chunk(run: _Run, futures: Sequence[tuple[Disruption, ...]]) -> list[SampleOutcome]:
    """Re-plan a chunk of futures on this worker's re-planner for the run."""
    solver = worker_state(run.key, lambda: _FutureSolver(run))
    return [solver.evaluate(f) for f in futures]


def critical_nodes(rp: object, result: object) -> list[str]:
    """Sites, suppliers and lanes whose capacity binds with a non-zero dual at any level."""
    from fabnet.plan.solve import PlanResult
    from fabnet.resilience.whatif import Replanner

    assert isinstance(rp, Replanner) and isinstance(result, PlanResult)
    return _critical(rp.network, rp.lp, [lv.duals for lv in result.levels])


def _owners(net: Network) -> dict[str, list[str]]:
    """The site, supplier or lane each work, supply and lane row block entry belongs to."""
    return {
        "work": [net.sites[int(s)] for s in net.wc_site],
        "supply": [net.suppliers[int(v)] for v in net.offer_supplier],
        "lane": [str(Target.lane_between(a, b))
                 for a, b in zip(net.lane_from, net.lane_to, strict=True)],
    }


def _critical(net: Network, lp: PlanningLP, duals: Sequence[FloatArray],
              owners: dict[str, list[str]] | None = None) -> list[str]:
    """The owners of the work, supply and lane rows with a dual above 1e-7 in any of
    `duals` (one row-dual vector per level); `owners` as `_owners(net)` gives them."""
    owners = owners if owners is not None else _owners(net)
    names: set[str] = set()
    for y in duals:
        for block, owner in owners.items():
            b = lp.rows[block]
            if not b.count:
                continue
            d = y[b.offset:b.offset + b.size].reshape(b.count, b.per)
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

    sc.horizon.check_frozen(frozen)
    if samples > MAX_SAMPLES:
        raise FabnetError(f"samples: at most {MAX_SAMPLES:,} futures in one stress test, got "
                          f"{samples:,} (fix: sample fewer, or run several seeds and pool "
                          "their samples)")
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
