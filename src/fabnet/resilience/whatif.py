"""What-if: re-plan around disruptions and show what changed against the base plan.

A continuity officer asks "what if UA-PARTNER is struck for six weeks from May?".
The `Replanner` builds the planning LP once; each what-if only changes the capacity
bounds the disruptions touch and re-solves warm from the base plan's basis. The re-plan
is, among its optimal plans, the one closest to the base plan (least total change of
production, purchases, transfers and deliveries), so equal-cost reshuffles the LP could
pick don't show up as moved orders; a frozen horizon keeps the base plan's first buckets.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from fabnet.batch import Executor, InProcess, chunked, worker_state
from fabnet.model.errors import FabnetError
from fabnet.model.network import FloatArray, Network, compile_network
from fabnet.model.scenario import Disruption, Scenario
from fabnet.model.target import KnownTargets, Target, TargetError, check_target
from fabnet.plan.lp import PlanningLP, build_lp, capacity_rows
from fabnet.plan.plan import Plan, assemble_plan, demand_outcome
from fabnet.plan.shortfall import explain_shortfalls
from fabnet.plan.solve import (
    LexicographicSolver,
    PlanResult,
    PlanStatus,
    SolvePath,
    SolverOptions,
)

_SPEC = re.compile(r"^(?P<target>[^@]+)@(?P<date>\d{4}-\d{2}-\d{2})\+(?P<n>\d+)"
                   r"(?:x(?P<f>\d+(?:\.\d+)?))?$")


def parse_disruption(text: str, sc: Scenario, n: int = 1, *, where: str = "--disrupt",
                     known: KnownTargets | None = None) -> Disruption:
    """`TARGET@DATE+BUCKETS[xFACTOR]`, e.g. `UA-PARTNER@2027-05-03+6` or `lane:A>B@…+2x0.5`.

    Every part is checked against `sc` (or `known`, its targets, when parsing many): the
    target names a node, country or lane (else the closest id is offered), the date is a
    real day inside the horizon, 1 <= BUCKETS <= the horizon's length, FACTOR >= 0.
    """
    h = sc.horizon
    head = f"{where} {text!r}"
    m = _SPEC.match(text.strip())
    if not m:
        raise FabnetError(f"{head}: expected TARGET@YYYY-MM-DD+BUCKETS[xFACTOR] "
                          "(fix: e.g. UA-PARTNER@2027-05-03+6 or country:CN@2027-03-01+13x0.5)")
    try:
        day = date.fromisoformat(m["date"])
    except ValueError as e:
        raise FabnetError(f"{head}: date: {m['date']} is not a calendar date ({e}) "
                          f"(fix: give a real day as YYYY-MM-DD, e.g. {h.start})") from None
    if not h.contains(day):
        raise FabnetError(f"{head}: date: {day} is outside the horizon "
                          f"{h.start} .. {h.end} (fix: pick a date inside it)")
    buckets = int(m["n"])
    if not 1 <= buckets <= h.buckets:
        raise FabnetError(f"{head}: buckets: {buckets} is not in 1 .. {h.buckets} (fix: give "
                          f"the length in {h.bucket}s, at most the horizon's {h.buckets})")
    factor = float(m["f"]) if m["f"] is not None else 0.0
    if not math.isfinite(factor):
        raise FabnetError(f"{head}: capacity factor: {m['f']} is not a finite number "
                          "(fix: 0 is down, 0.5 half capacity, 1 intact)")
    why = check_target(m["target"], known or KnownTargets.of(sc))
    if why is not None:
        raise TargetError(f"{head}: target: {why}")
    return Disruption(f"whatif-{n}", str(Target.parse(m["target"])), day, buckets, factor)


class Replanner:
    """One planning LP kept in HiGHS; re-plans under other disruptions by changing bounds."""

    def __init__(self, sc: Scenario, threads: int | None = None,
                 options: SolverOptions | None = None) -> None:
        self.scenario = sc
        self.network = compile_network(sc)
        self.lp: PlanningLP = build_lp(self.network)
        # kept for re-plans: the perturbed start's basis re-solves warm in fewer pivots
        self.solver = LexicographicSolver(self.lp, threads, options, perturbed_start=True)
        self.base_rows, self.base_caps = capacity_rows(self.network, self.lp)
        self._base: PlanResult | None = None
        #: `levels_upto` values whose base has been solved with `crash` (its start kept)
        self._crashed: set[str | None] = set()
        self._last: tuple[tuple[Disruption, ...], Network] | None = None

    def network_with(self, extra: tuple[Disruption, ...]) -> Network:
        """The base network's arcs with capacities under `extra` disruptions as well."""
        if not extra:
            return self.network
        if self._last is None or self._last[0] != extra:  # asked twice in a row: once
            self._last = (extra, compile_network(self.scenario, extra))
        return self._last[1]

    def solve(self, extra: tuple[Disruption, ...] = (), levels_upto: str | None = None,
              reference: FloatArray | None = None, frozen: int = 0,
              crash: bool | None = None) -> tuple[Network, PlanResult]:
        """Re-solve with `extra` disruptions (none: the base plan).

        Every re-plan starts from the intact network's first-level basis (with `crash`,
        from its combined basis), so the base is solved first if it hasn't been: a
        re-plan never depends on what came before it. `reference`, `frozen` and `crash`
        are `LexicographicSolver.solve`'s (`crash=None`: the solver's own path).
        """
        weighted = crash if crash is not None else self.solver.path is SolvePath.WEIGHTED
        if extra and not weighted and not self.solver.has_start_basis:
            self.solve((), levels_upto="delivered", crash=False)
        if extra and weighted and levels_upto not in self._crashed:
            self.solve((), levels_upto, reference, frozen, crash=True)
        if weighted:
            self._crashed.add(levels_upto)
        net = self.network_with(extra)
        rows, caps = capacity_rows(net, self.lp)
        self.solver.set_row_upper(rows, caps)
        result = self.solver.solve(levels_upto, reference, frozen, crash)
        if not extra and levels_upto is None and reference is None \
                and result.status is PlanStatus.OPTIMAL:
            self._base = result
        return net, result

    def base_solution(self) -> FloatArray:
        """The intact network's plan (every level) as LP values: a re-plan's reference."""
        if self._base is None:
            _, result = self.solve(())
            if result.status is not PlanStatus.OPTIMAL:
                raise FabnetError(f"{self.scenario.name}: the base plan ended {result.status}, "
                                  "so there is no plan to compare a what-if with "
                                  "(fix: plan the scenario first and look at its status)")
        assert self._base is not None
        return self._base.x

    def plan(self, extra: tuple[Disruption, ...] = (), reference: FloatArray | None = None,
             frozen: int = 0) -> Plan:
        """A full plan (all levels, tables, shortfall reasons) under `extra` disruptions.

        With `reference` (LP values, e.g. `base_solution()`), the plan closest to it
        among the optimal ones; `frozen` keeps its flows in the first buckets.
        """
        net, result = self.solve(extra, reference=reference, frozen=frozen)
        out = demand_outcome(net, self.lp, result.x)
        short = explain_shortfalls(net, self.lp, result, out["late"], out["lost"])
        return assemble_plan(net, self.lp, result, short)

    def units_lost(self, extra: tuple[Disruption, ...] = ()) -> float:
        """Units of demand lost under `extra` disruptions (delivery levels only)."""
        net, result = self.solve(extra, levels_upto="delivered")
        return float(demand_outcome(net, self.lp, result.x)["lost"].sum())


@dataclass(frozen=True)
class WhatIfKpis:
    """One what-if of a batch: how its re-plan ended and, when it solved, its KPIs."""

    disruptions: tuple[Disruption, ...]
    status: PlanStatus
    #: the re-plan's KPIs (units delivered, lost, fill rate, cost, …; no timings), empty
    #: unless it solved
    kpis: dict[str, float]


@dataclass(frozen=True)
class _Batch:
    """What every worker needs for one batch of what-ifs (sent to each worker once)."""

    key: str
    scenario: Scenario
    options: dict[str, bool | int | float | str] | None
    frozen: int


class _BatchWorker:
    """A worker's re-planner for one batch, with the base plan every what-if is steered to."""

    def __init__(self, batch: _Batch) -> None:
        self.rp = Replanner(batch.scenario, options=batch.options)
        self.reference = self.rp.base_solution()
        self.frozen = batch.frozen

    def evaluate(self, extra: tuple[Disruption, ...]) -> WhatIfKpis:
        plan = self.rp.plan(extra, reference=self.reference, frozen=self.frozen)
        if plan.status is not PlanStatus.OPTIMAL:
            return WhatIfKpis(extra, plan.status, {})
        kpis = {k: float(v) for k, v in plan.kpis.items()
                if isinstance(v, int | float) and not k.endswith("_seconds")}  # no timings
        return WhatIfKpis(extra, plan.status, kpis)


def _whatif_chunk(batch: _Batch, extras: Sequence[tuple[Disruption, ...]]
                  ) -> list[WhatIfKpis]:
    worker = worker_state(batch.key, lambda: _BatchWorker(batch))
    return [worker.evaluate(e) for e in extras]


def whatif_batch(sc: Scenario, extras: Sequence[tuple[Disruption, ...]],
                 executor: Executor | None = None, frozen: int = 0,
                 options: SolverOptions | None = None,
                 progress: Callable[[int], None] | None = None) -> list[WhatIfKpis]:
    """Re-plan `sc` under each set of disruptions in `extras`, on `executor` (this process
    when none), and return each what-if's KPIs in the order given.

    Each what-if is a full re-plan (every level, then the plan closest to the base plan,
    whose first `frozen` buckets it keeps), as `Replanner.plan` makes it; each worker
    solves the base plan once and re-plans its share warm from it.
    """
    ex = executor if executor is not None else InProcess()
    batch = _Batch(uuid.uuid4().hex, sc, dict(options) if options else None, frozen)
    chunks = chunked(list(extras), ex, per_worker=2)
    out: dict[int, WhatIfKpis] = {}

    def done(i: int, got: list[WhatIfKpis]) -> None:
        start = sum(len(c) for c in chunks[:i])
        out.update({start + k: w for k, w in enumerate(got)})
        if progress:
            progress(len(got))

    ex.run(_whatif_chunk, batch, chunks, done)
    return [out[i] for i in range(len(extras))]


@dataclass
class WhatIfDiff:
    """What a disruption changes: per customer and product, moved orders, purchases, cost."""

    disruptions: list[Disruption]
    by_customer_item: list[dict[str, object]] = field(default_factory=list)
    moved: list[dict[str, object]] = field(default_factory=list)
    purchases: list[dict[str, object]] = field(default_factory=list)
    kpis: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: total absolute change of production, purchases, transfers and deliveries against
    #: the base plan (the reference level's optimum); None when it was not solved
    flow_change: float | None = None

    @property
    def cost_delta(self) -> float:
        base, new = self.kpis["cost_total"]
        return new - base

    @property
    def units_lost_delta(self) -> float:
        base, new = self.kpis["units_lost"]
        return new - base


def _per(rows: list[dict[str, object]], keys: tuple[str, str], value: str
         ) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = defaultdict(float)
    for r in rows:
        out[(str(r[keys[0]]), str(r[keys[1]]))] += float(str(r[value]))
    return out


def compare_plans(sc: Scenario, base: Plan, new: Plan, disruptions: list[Disruption],
                  tol: float = 1e-3) -> WhatIfDiff:
    """The difference a what-if makes, from the base plan's point of view.

    Both plans must be optimal: a plan that did not solve has no numbers to compare.
    """
    for label, plan in (("base plan", base), ("what-if plan", new)):
        if plan.status is not PlanStatus.OPTIMAL:
            what = ", ".join(f"{d.target}@{d.start}+{d.buckets}" for d in disruptions)
            raise FabnetError(f"what-if {what}: the {label} ended {plan.status}, so there "
                              "is nothing to compare (fix: with a frozen horizon, freeze "
                              "fewer buckets than the disruption's start; else plan the "
                              "scenario and look at its status)")
    diff = WhatIfDiff(disruptions, flow_change=new.levels.get("reference"))
    demand = {d.id: d for d in sc.demand}
    outcome: dict[str, dict[tuple[str, str], np.ndarray]] = {}
    for label, plan in (("base", base), ("new", new)):
        acc: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(3))
        for d, lost, late in zip(sc.demand, plan.per_demand["lost"], plan.per_demand["late"],
                                 strict=True):
            acc[(d.customer, d.item)] += (d.qty, late, lost)
        outcome[label] = acc
    for key in sorted(outcome["base"]):
        b, n = outcome["base"][key], outcome["new"][key]
        if abs(n[1] - b[1]) > tol or abs(n[2] - b[2]) > tol:
            diff.by_customer_item.append({
                "customer": key[0], "item": key[1], "demanded": round(float(b[0]), 4),
                "late_base": round(float(b[1]), 4), "late": round(float(n[1]), 4),
                "lost_base": round(float(b[2]), 4), "lost": round(float(n[2]), 4)})
    bsite = _per(base.rows("deliveries"), ("demand", "site"), "qty")
    nsite = _per(new.rows("deliveries"), ("demand", "site"), "qty")
    for d_id in [d.id for d in sc.demand]:
        sites = sorted({s for (dd, s) in (*bsite, *nsite) if dd == d_id})
        moved = {s: nsite.get((d_id, s), 0.0) - bsite.get((d_id, s), 0.0) for s in sites}
        losing = [s for s, v in moved.items() if v < -tol]
        gaining = [s for s, v in moved.items() if v > tol]
        if losing and gaining:
            qty = min(-sum(moved[s] for s in losing), sum(moved[s] for s in gaining))
            diff.moved.append({"demand": d_id, "customer": demand[d_id].customer,
                               "item": demand[d_id].item, "from": ", ".join(losing),
                               "to": ", ".join(gaining), "qty": round(qty, 4)})
    bp = _per(base.rows("purchases"), ("supplier", "item"), "qty")
    nb = _per(new.rows("purchases"), ("supplier", "item"), "qty")
    for sup, item in sorted(set(bp) | set(nb)):
        was, now = bp.get((sup, item), 0.0), nb.get((sup, item), 0.0)
        if abs(now - was) > tol:
            diff.purchases.append({"supplier": sup, "item": item, "base": round(was, 4),
                                   "new": round(now, 4), "delta": round(now - was, 4)})
    for k in ("units_delivered", "units_late", "units_lost", "fill_rate", "on_time_rate",
              "cost_total", "cost_purchase", "cost_transport"):
        if k in base.kpis and k in new.kpis:  # rates are absent when there is no demand
            diff.kpis[k] = (float(base.kpis[k]), float(new.kpis[k]))
    return diff
