"""Redundancy design: which mitigations, within a budget, save the most units over the risks.

A two-stage stochastic program by sample average: the first stage picks a set of the
scenario's `mitigations` (offers, hours, buffers, lanes) costing at most the budget; the
second re-plans each sampled future of the stress test (`stress_test`, same seed, so the
same futures) with the set applied. A set's value is the units lost over those futures,
their mean (`expected`) or the mean of the worst 5 % (`worst5`).

Every number comes from exact re-plans of every future with the set applied; the search
only decides which sets to re-plan. By default (`Search.AUTO`) the choice is exact
(`design_exact`): the second stage as one LP switched by the choice (`second_stage`),

- `mip` (the extensive form fits `extensive_limit` non-zeros): every future's LP and the
  choice in one HiGHS MIP;
- `benders` (otherwise): a master MIP over the choice with cuts from each future's duals,
  until its bound meets the best choice;
- `dual-guided` (Benders stopped by its round or time limit before closing): the best
  of the choices the duals led to, with the master's bound;

each stating the bound it proved: no affordable set saves more than `bound_saved` units
of the objective over the sampled futures. With one priority class and a closed MIP the
choice is optimal over the futures; with several, the LP's second stage (most units in
all) is a relaxation of the re-plan (class by class), so the bound holds and the choice
is checked against the other sets tried by exact re-plans. Candidates whose effects
overlap (two on one work center) fall back to re-planning sets (`Search.REPLAN`):

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
from fabnet.model.scenario import Disruption, Scenario
from fabnet.plan.solve import SolverOptions
from fabnet.resilience.design_exact import (
    Exact,
    Futures,
    Subproblem,
    benders,
    extensive_form,
    extensive_size,
    objective_value,
)
from fabnet.resilience.montecarlo import (
    MAX_SAMPLES,
    StressResult,
    _same_disruptions,
    sample_future,
    stress_test,
)
from fabnet.resilience.second_stage import SecondStage, SecondStageError, build_second_stage


class Objective(StrEnum):
    """What a design minimises over the sampled futures."""

    EXPECTED = "expected"  # mean units lost
    WORST5 = "worst5"  # mean units lost in the worst 5 % of futures


class Method(StrEnum):
    """How the set was found."""

    MIP = "mip"
    BENDERS = "benders"
    DUAL_GUIDED = "dual-guided"
    ENUMERATION = "enumeration"
    GREEDY_SWAP = "greedy+swap"


class Search(StrEnum):
    """Which method a design may use."""

    AUTO = "auto"  # the MIP where it fits, else Benders
    MIP = "mip"
    BENDERS = "benders"
    REPLAN = "replan"  # enumeration up to `enumerate_upto` candidates, else greedy+swap


#: units by which the chosen set may miss the bound and still be called optimal (the
#: bound allows for the losses a re-plan settles to 0 and the solver's tolerances)
EXACT_TOL = 1e-4

#: the extensive form's size limit, in non-zeros (futures × the LP's)
EXTENSIVE_LIMIT = 500_000


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
    #: no affordable set saves more units of the objective than this (None: not proved)
    bound_saved: float | None = None
    #: expected units each candidate saves at the margin of no mitigation, by the duals
    dual_value: dict[str, float] = field(default_factory=dict)
    #: LP solves and seconds of the exact method (0 for the re-planning search)
    lp_solves: int = 0
    exact_seconds: float = 0.0

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


@dataclass
class _ExactState:
    """What the exact method keeps between the budget and the marginal budget."""

    stage: SecondStage
    futures: Futures
    cost: FloatArray
    sub: Subproblem | None = None
    cuts: list[tuple[int, float, FloatArray]] = field(default_factory=list)
    seen: dict[tuple[str, ...], float] = field(default_factory=dict)
    solves: int = 0
    seconds: float = 0.0


def distinct_futures(sc: Scenario, samples: int, seed: int) -> Futures:
    """The stress test's futures (same seed, same futures), each distinct one once with
    how many samples drew it."""
    streams = np.random.SeedSequence(seed).spawn(samples)
    weight: dict[tuple[object, ...], int] = {}
    first: dict[tuple[object, ...], tuple[Disruption, ...]] = {}
    for n, s in enumerate(streams):
        f = sample_future(sc, np.random.default_rng(s), n)
        k = _same_disruptions(f)
        first.setdefault(k, f)
        weight[k] = weight.get(k, 0) + 1
    return Futures(list(first.values()), np.array([float(weight[k]) for k in first]),
                   samples)


def _exact_choice(state: _ExactState, budget: float, objective: Objective, search: Search,
                  extensive_limit: int, rounds: int, time_limit: float
                  ) -> tuple[Exact, Method]:
    """The LP-best set within `budget` and the bound proved, by the MIP or by Benders."""
    st, fut = state.stage, state.futures
    worst5 = objective is Objective.WORST5
    fits = extensive_size(st, fut) <= extensive_limit
    if search is Search.MIP or (search is Search.AUTO and fits):
        ex = extensive_form(st, fut, state.cost, budget, worst5, time_limit)
        state.seen[ex.chosen] = ex.value
        state.seconds += ex.seconds
        return ex, Method.MIP
    state.sub = state.sub or Subproblem(st)
    before = len(state.cuts)
    ex = benders(st, fut, state.cost, budget, worst5, rounds, time_limit, state.sub,
                 state.cuts, state.seen)
    state.solves += len(state.cuts) - before
    state.seconds += ex.seconds
    return ex, Method.BENDERS if ex.converged else Method.DUAL_GUIDED


def _dual_values(state: _ExactState, objective: Objective) -> dict[str, float]:
    """Expected units each candidate saves at the margin of none, from the futures'
    duals (the cuts at no mitigation)."""
    st, fut = state.stage, state.futures
    state.sub = state.sub or Subproblem(st)
    g = np.zeros(len(st.ids))
    zero = np.zeros(len(st.ids))
    lost = np.zeros(len(fut.caps))
    for f, caps in enumerate(fut.caps):
        lost[f], a, gf = state.sub.solve(caps, zero)
        state.cuts.append((f, a, gf))
        g += fut.weight[f] * gf
    state.seen[()] = objective_value(lost, fut, objective is Objective.WORST5)
    state.solves += len(fut.caps)
    return {i: float(-v) / fut.samples for i, v in zip(st.ids, g, strict=True)}


def _verified(ev: Evaluator, ex: Exact, state: _ExactState, budget: float,
              objective: Objective, base: Evaluation, check: int) -> Evaluation:
    """The best, by exact re-plans, of the LP-best set and the next `check - 1` sets the
    method tried within the budget (never worse than no mitigation)."""
    affordable = sorted((v, c) for c, v in state.seen.items()
                        if ev.cost(c) <= budget + 1e-9 and c != ex.chosen)
    best = base
    for c in [ex.chosen, *(c for _, c in affordable[:check - 1])]:
        e = ev(c)
        if _better(e, best, objective):
            best = e
    return best


def _bound_text(method: Method, ex: Exact, saved_bound: float, after: Evaluation,
                base: Evaluation, objective: Objective) -> str:
    """The bound in words: what the method proved and whether the choice is optimal."""
    gap = after.value(objective) - (base.value(objective) - saved_bound)
    how = {Method.MIP: "the stochastic MIP over every future" +
           ("" if ex.converged else ", stopped by its time limit"),
           Method.BENDERS: f"Benders' master after {ex.rounds} rounds of cuts",
           Method.DUAL_GUIDED: f"Benders' master, stopped after {ex.rounds} rounds"}[method]
    head = (f"no affordable set saves more than {saved_bound:,.3f} units ({objective}) "
            f"over the sampled futures ({how})")
    if gap <= EXACT_TOL + 1e-6 * abs(after.value(objective)):
        return "exact over the sampled futures: " + head
    return f"{head}; the chosen set is within {gap:,.3f} units of it"


def _exact_search(ev: Evaluator, state: _ExactState, budget: float, objective: Objective,
                  search: Search, extensive_limit: int, rounds: int, time_limit: float,
                  base: Evaluation) -> tuple[Evaluation, Method, float, str]:
    ex, method = _exact_choice(state, budget, objective, search, extensive_limit, rounds,
                               time_limit)
    classes = len({d.priority for d in ev.sc.demand})
    best = _verified(ev, ex, state, budget, objective, base, 1 if classes <= 1 else 3)
    saved_bound = base.value(objective) - ex.lower
    return best, method, saved_bound, _bound_text(method, ex, saved_bound, best, base,
                                                  objective)


def design(sc: Scenario, budget: float, samples: int, seed: int,
           objective: Objective = Objective.EXPECTED, executor: Executor | None = None,
           workers: int = 1, options: SolverOptions | None = None, enumerate_upto: int = 8,
           marginal_step: float | None = 1_000_000.0, search: Search = Search.AUTO,
           extensive_limit: int = EXTENSIVE_LIMIT, rounds: int = 40,
           time_limit: float = 900.0) -> Design:
    """The set of `sc.mitigations` within `budget` EUR that loses the fewest units over
    `samples` futures of the stress test (`seed`); with `marginal_step`, the search is run
    again with that much more budget to say what it buys. `search` picks the method
    (`Search.AUTO`: the MIP up to `extensive_limit` non-zeros, else Benders for at most
    `rounds` rounds and `time_limit` seconds)."""
    if budget < 0:
        raise FabnetError(f"budget: must be >= 0, got {budget:g} (fix: give 0 or more EUR)")
    if samples > MAX_SAMPLES:
        raise FabnetError(f"futures: at most {MAX_SAMPLES:,} in one design, got {samples:,} "
                          "(fix: give fewer futures)")
    if not sc.mitigations:
        raise FabnetError("mitigations: the scenario lists none (fix: add a mitigations: "
                          "section of candidates, see docs/resilience.md)")
    apply(sc, sc.mitigations)  # every candidate applies: a bad one is named before solving
    ev = Evaluator(sc, samples, seed, executor, options, workers)
    state = None
    if search is not Search.REPLAN:
        try:
            stage = build_second_stage(sc)
        except SecondStageError as e:
            if search is not Search.AUTO:
                raise FabnetError(f"mitigations: {e} (fix: use --method auto or replan)"
                                  ) from None
        else:
            fut = distinct_futures(sc, samples, seed)
            fut.caps = [stage.caps(f) for f in fut.futures]
            cost = np.array([ev.cost((m.id,)) for m in sc.mitigations])
            state = _ExactState(stage, fut, cost)
    if state is None:
        return _replan_design(ev, sc, budget, objective, enumerate_upto, marginal_step)
    base = ev(())
    duals = _dual_values(state, objective)
    best, method, saved_bound, bound = _exact_search(
        ev, state, budget, objective, search, extensive_limit, rounds, time_limit, base)
    marginal = None
    if marginal_step:
        marginal = _exact_search(ev, state, budget + marginal_step, objective, search,
                                 extensive_limit, rounds, time_limit, base)[0]
        if _better(best, marginal, objective):
            marginal = best
    alone = {m.id: ev.cache.get(frozenset((m.id,))) for m in sc.mitigations}
    singles = {i: a for i, a in alone.items() if a is not None}
    return Design(objective, budget, method, bound, base, best, singles, len(ev.cache),
                  marginal, marginal_step or 0.0, saved_bound, duals, state.solves,
                  state.seconds)


def _replan_design(ev: Evaluator, sc: Scenario, budget: float, objective: Objective,
                   enumerate_upto: int, marginal_step: float | None) -> Design:
    """The search by re-planning sets: enumeration, or greedy with swaps."""
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
    saved = (base.value(objective) - best.value(objective)
             if method is Method.ENUMERATION else None)
    return Design(objective, budget, method, bound, base, best, singles, len(ev.cache),
                  marginal, marginal_step or 0.0, saved)
