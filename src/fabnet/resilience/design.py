"""Redundancy design: which mitigations, within a budget, save the most units over the risks.

A two-stage stochastic program by sample average: the first stage picks a set of the
scenario's `mitigations` (offers, hours, buffers, lanes) costing at most the budget; the
second re-plans each sampled future of the stress test (`stress_test`, same seed, so the
same futures) with the set applied. A set's value is the units lost over those futures,
their mean (`expected`) or the mean of the worst 5 % (`worst5`).

Every number comes from exact re-plans of every future with the set applied; the search
only decides which sets to re-plan:

- `enumeration` (few affordable candidates): every affordable subset is re-planned, so
  the set chosen is optimal over the sampled futures, and that is the bound proved;
- `greedy+swap` (otherwise): each candidate alone, then candidates added by units saved
  per euro while the budget lasts (kept only when the re-planned set loses fewer units),
  then single swaps of a chosen for an unchosen candidate; no bound is proved (sums of
  singles are no bound: candidates can complement each other).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from fabnet.batch import Executor
from fabnet.model.errors import FabnetError
from fabnet.model.mitigation import apply
from fabnet.model.network import FloatArray
from fabnet.model.scenario import Scenario
from fabnet.plan.solve import SolverOptions
from fabnet.resilience.montecarlo import StressResult, stress_test


class Objective(StrEnum):
    """What a design minimises over the sampled futures."""

    EXPECTED = "expected"  # mean units lost
    WORST5 = "worst5"  # mean units lost in the worst 5 % of futures


class Method(StrEnum):
    """How the set was found."""

    ENUMERATION = "enumeration"
    GREEDY_SWAP = "greedy+swap"


#: a set must lose this many units fewer to count as better (re-plans agree to 1e-6)
TOL = 1e-6


def units_lost(r: StressResult) -> FloatArray:
    """Units lost in each future (all products), NaN where the future did not solve."""
    if not r.lost_by_item:
        return np.where(r.solved_mask, 0.0, np.nan)
    total: FloatArray = np.sum(np.vstack(list(r.lost_by_item.values())), axis=0)
    return total


def worst5_mean(lost: FloatArray) -> float:
    """Mean units lost in the worst 5 % (at least one) of the futures that solved."""
    ok = lost[~np.isnan(lost)]
    if not ok.size:
        return float("nan")
    k = max(1, int(np.ceil(0.05 * ok.size)))
    return float(np.sort(ok)[::-1][:k].mean())


@dataclass(frozen=True)
class Evaluation:
    """One set of mitigations re-planned over every future."""

    chosen: tuple[str, ...]
    cost: float
    lost: FloatArray
    failed: int
    result: StressResult = field(repr=False, compare=False)

    @property
    def expected(self) -> float:
        """Mean units lost over the futures that solved."""
        ok = self.lost[~np.isnan(self.lost)]
        return float(ok.mean()) if ok.size else float("nan")

    @property
    def worst5(self) -> float:
        """Mean units lost in the worst 5 % of futures."""
        return worst5_mean(self.lost)

    def value(self, objective: Objective) -> float:
        """What the design minimises."""
        return self.expected if objective is Objective.EXPECTED else self.worst5


@dataclass
class Design:
    """The chosen set, its cost and savings against no mitigation, and how it was found."""

    objective: Objective
    budget: float
    method: Method
    bound: str
    before: Evaluation
    after: Evaluation
    singles: dict[str, Evaluation]
    evaluations: int
    #: extra expected/worst-5 % units saved with `marginal_step` more budget (None: not run)
    marginal: Evaluation | None = None
    marginal_step: float = 1_000_000.0

    @property
    def saved_expected(self) -> float:
        """Mean units saved per future by the chosen set."""
        return self.before.expected - self.after.expected

    @property
    def saved_worst5(self) -> float:
        """Units saved in the mean of the worst 5 % of futures."""
        return self.before.worst5 - self.after.worst5

    @property
    def marginal_saved(self) -> float | None:
        """What `marginal_step` more euros buy, in units of the objective saved."""
        if self.marginal is None:
            return None
        return self.after.value(self.objective) - self.marginal.value(self.objective)


class Evaluator:
    """Re-plans sets of mitigations over the same futures, once per set."""

    def __init__(self, sc: Scenario, samples: int, seed: int, executor: Executor | None,
                 options: SolverOptions | None = None, workers: int = 1) -> None:
        self.sc, self.samples, self.seed = sc, samples, seed
        self.executor, self.options, self.workers = executor, options, workers
        self.by_id = {m.id: m for m in sc.mitigations}
        self.cache: dict[frozenset[str], Evaluation] = {}

    def cost(self, ids: tuple[str, ...] | frozenset[str]) -> float:
        """One-off cost of a set (buffers with their holding over the horizon)."""
        return sum(self.by_id[i].total_cost(self.sc.horizon.buckets) for i in ids)

    def __call__(self, ids: tuple[str, ...] | frozenset[str]) -> Evaluation:
        key = frozenset(ids)
        if key not in self.cache:
            chosen = tuple(m for m in self.sc.mitigations if m.id in key)
            r = stress_test(apply(self.sc, chosen), self.samples, self.seed,
                            options=self.options, executor=self.executor,
                            workers=self.workers)
            self.cache[key] = Evaluation(tuple(m.id for m in chosen), self.cost(key),
                                         units_lost(r), r.failed, r)
        return self.cache[key]


def _better(a: Evaluation, b: Evaluation, objective: Objective) -> bool:
    """Does `a` lose fewer units than `b` (or as few, for less money)?"""
    va, vb = a.value(objective), b.value(objective)
    return va < vb - TOL or (abs(va - vb) <= TOL and a.cost < b.cost - 1e-9)


def _enumerate(ev: Evaluator, ids: list[str], budget: float, objective: Objective,
               best: Evaluation) -> Evaluation:
    """Every affordable subset of `ids`, re-planned: the best is optimal over the futures."""
    for k in range(1, len(ids) + 1):
        for subset in itertools.combinations(ids, k):
            if ev.cost(subset) <= budget + 1e-9:
                e = ev(subset)
                if _better(e, best, objective):
                    best = e
    return best


def _greedy_swap(ev: Evaluator, ids: list[str], budget: float, objective: Objective,
                 best: Evaluation, base: Evaluation, singles: dict[str, Evaluation]
                 ) -> Evaluation:
    """Add by units saved per euro (kept when the set improves), then single swaps."""
    def ratio(i: str) -> float:
        saved = base.value(objective) - singles[i].value(objective)
        if saved <= TOL:
            return -singles[i].cost
        return saved / singles[i].cost if singles[i].cost > 0 else float("inf")

    # the ones saving nothing alone are tried too, last: with others they may save
    order = sorted(ids, key=ratio, reverse=True)
    for i in order:
        cand = tuple(sorted({*best.chosen, i}))
        if ev.cost(cand) <= budget + 1e-9:
            e = ev(cand)
            if _better(e, best, objective):
                best = e
    improved = True
    while improved:
        improved = False
        for out, inn in itertools.product(best.chosen, [i for i in order
                                                        if i not in best.chosen]):
            cand = tuple(sorted({*best.chosen, inn} - {out}))
            if ev.cost(cand) <= budget + 1e-9:
                e = ev(cand)
                if _better(e, best, objective):
                    best, improved = e, True
                    break
    return best


def _search(ev: Evaluator, budget: float, objective: Objective, enumerate_upto: int
            ) -> tuple[Evaluation, Method, dict[str, Evaluation], Evaluation]:
    base = ev(())
    ids = [m.id for m in ev.sc.mitigations if ev.cost((m.id,)) <= budget + 1e-9]
    singles = {i: ev((i,)) for i in ids}
    if len(ids) <= enumerate_upto:
        return _enumerate(ev, ids, budget, objective, base), Method.ENUMERATION, singles, base
    best = base
    for i in ids:
        if _better(singles[i], best, objective):
            best = singles[i]
    return (_greedy_swap(ev, ids, budget, objective, best, base, singles),
            Method.GREEDY_SWAP, singles, base)


def design(sc: Scenario, budget: float, samples: int, seed: int,
           objective: Objective = Objective.EXPECTED, executor: Executor | None = None,
           workers: int = 1, options: SolverOptions | None = None, enumerate_upto: int = 8,
           marginal_step: float | None = 1_000_000.0) -> Design:
    """The set of `sc.mitigations` within `budget` EUR that loses the fewest units over
    `samples` futures of the stress test (`seed`); with `marginal_step`, the search is run
    again with that much more budget to say what it buys."""
    if budget < 0:
        raise FabnetError(f"budget: must be >= 0, got {budget:g} (fix: give 0 or more EUR)")
    if not sc.mitigations:
        raise FabnetError("mitigations: the scenario lists none (fix: add a mitigations: "
                          "section of candidates, see docs/resilience.md)")
    apply(sc, sc.mitigations)  # every candidate applies: a bad one is named before solving
    ev = Evaluator(sc, samples, seed, executor, options, workers)
    best, method, singles, base = _search(ev, budget, objective, enumerate_upto)
    bound = ("exact over the sampled futures: every affordable subset was re-planned"
             if method is Method.ENUMERATION else "no bound proved")
    marginal = None
    if marginal_step:
        marginal = _search(ev, budget + marginal_step, objective, enumerate_upto)[0]
        if _better(best, marginal, objective):  # a greedy search can do worse with more
            marginal = best
    # candidates over the budget alone were re-planned alone by the marginal search
    singles |= {m.id: e for m in sc.mitigations
                if (e := ev.cache.get(frozenset((m.id,)))) is not None}
    return Design(objective, budget, method, bound, base, best, singles, len(ev.cache),
                  marginal, marginal_step or 0.0)
