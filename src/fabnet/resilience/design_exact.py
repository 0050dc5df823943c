"""Exact first-stage choice for redundancy design: the stochastic MIP or Benders cuts.

The sample-average program over the distinct sampled futures `f` (weight `w[f]`, how
many of the `N` samples drew it), with `y[j]` in {0, 1} per candidate and `cost @ y`
within the budget, minimises units lost `theta[f]` of each future's switched re-plan LP
(`second_stage.SecondStage`), by mean (`sum(w * theta) / N`) or by the mean of the worst
5 % (`k` = ceil(5 % of N) futures): `min eta + sum(w * max(theta - eta, 0)) / k`, which
is the mean of the `k` largest.

- `extensive_form`: every future's LP in one MIP with the `y` columns (where it fits);
- `benders`: a master MIP over `y` and `theta` with cuts from each future's LP duals,
  `theta[f] >= a + g @ y`, valid for every `y` by weak duality (the dual of the LP at one
  `y` is feasible at all of them: `y` moves only bounds). Each round solves the master,
  re-solves every future at its choice and adds their cuts, until the master's bound
  meets the best choice's value, or the round or time limit stops it.

Both give the choice with the fewest LP units lost and a lower bound on that value; the
design re-plans the choice exactly over every future for every number it reports.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from fabnet.model.network import FloatArray
from fabnet.model.scenario import Disruption
from fabnet.plan.solve import new_highs, pass_lp
from fabnet.resilience.second_stage import SecondStage

#: duals smaller than this are solver noise and are dropped from a cut
DUAL_TOL = 1e-9
#: units of objective per euro-share of a candidate: of two equal choices, the cheaper
TIE = 1e-8


@dataclass
class Futures:
    """The distinct sampled futures, how often each was drawn, and their capacities."""

    futures: list[tuple[Disruption, ...]]
    weight: FloatArray
    samples: int
    caps: list[FloatArray] = field(default_factory=list)


def k_worst(samples: int) -> int:
    """How many futures the worst 5 % are (at least one)."""
    return max(1, math.ceil(0.05 * samples))


def objective_value(lost: FloatArray, fut: Futures, worst5: bool) -> float:
    """Mean units lost, or the mean of the worst 5 %, over the weighted futures."""
    if not worst5:
        return float(fut.weight @ lost) / fut.samples
    k = k_worst(fut.samples)
    order = np.argsort(-lost)
    w = np.minimum(np.cumsum(fut.weight[order]), k)
    take = np.diff(np.concatenate([[0.0], w]))
    return float(take @ lost[order]) / k


@dataclass
class Exact:
    """What an exact method found: the LP-best choice, its LP value, the bound proved."""

    chosen: tuple[str, ...]
    value: float  # LP units lost of the objective at the choice
    lower: float  # no choice within the budget loses fewer (LP units, less the slack)
    converged: bool
    rounds: int = 0
    tried: list[tuple[tuple[str, ...], float]] = field(default_factory=list)
    seconds: float = 0.0


class Subproblem:
    """One HiGHS model of the switched LP, re-solved per future and choice (warm)."""

    def __init__(self, st: SecondStage) -> None:
        from fabnet.plan.solve import _to_highs

        self.st = st
        self.h = _to_highs(st.lp)
        self.h.changeColsCost(st.lp.num_cols, np.arange(st.lp.num_cols, dtype=np.int32),
                              st.objective)
        self.h.changeObjectiveSense(highspy.ObjSense.kMinimize)

    def solve(self, caps: FloatArray, y: FloatArray) -> tuple[float, float, FloatArray]:
        """Units lost of the future at `y`, and its cut: lost >= a + g @ y' for every y'."""
        st, lp = self.st, self.st.lp
        lo, up, cu = st.bounds(caps, y)
        n, m = lp.num_cols, lp.num_rows
        change = self.h.changeRowsBounds  # type: ignore[attr-defined]
        change(m, np.arange(m, dtype=np.int32), lo, up)
        self.h.changeColsBounds(n, np.arange(n, dtype=np.int32), lp.col_lower, cu)
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.h.clearSolver()
            self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            from fabnet.model.errors import FabnetError

            raise FabnetError(f"the design's re-plan LP ended {self.h.getModelStatus()} "
                              "(fix: report this scenario)")
        sol = self.h.getSolution()
        pi = np.asarray(sol.row_dual)
        z = np.asarray(sol.col_dual)
        obj = float(st.objective @ np.asarray(sol.col_value))
        pi[np.abs(pi) < DUAL_TOL] = 0.0
        z[np.abs(z) < DUAL_TOL] = 0.0
        # weak duality: each row's dual times the bound it sits at, same for columns
        rb = np.where(pi > 0, lo, up)
        cb = np.where(z > 0, lp.col_lower, cu)
        rterm = np.where(pi != 0, pi * np.where(np.isfinite(rb), rb, 0.0), 0.0)
        cterm = np.where(z != 0, z * np.where(np.isfinite(cb), cb, 0.0), 0.0)
        g = np.zeros(len(st.ids))
        # the parts of those bounds that move with y
        on, off = st.on_off(caps)
        rows = st.cap_rows[st.gate_pos]
        neg = np.minimum(pi[rows], 0.0)
        np.add.at(g, st.gate_of, neg * (on - off))
        rterm[rows] = neg * off
        np.add.at(g, st.buf_of, pi[st.buf_rows] * st.buf_qty)
        held = np.zeros(lp.num_rows)  # every buffer's units, per row (buffers add up)
        np.add.at(held, st.buf_rows, st.buf_qty)
        rterm[st.buf_rows] = pi[st.buf_rows] * (lp.row_lower[st.buf_rows] - held[st.buf_rows])
        zc = np.minimum(z[st.col_gate], 0.0)
        capped = np.minimum(lp.col_upper[st.col_gate], st.col_m)
        np.add.at(g, st.col_of, zc * capped)
        cterm[st.col_gate] = np.maximum(z[st.col_gate], 0.0) * lp.col_lower[st.col_gate]
        a = float(rterm.sum() + cterm.sum())
        # the cut meets the optimum at y (to solver noise: what is off is taken off a)
        gap = a + float(g @ y) - obj
        a -= max(gap, 0.0) + 1e-7 * (1.0 + abs(obj))
        return st.demanded + obj, st.demanded + a, g


def _budget_row(st: SecondStage, cost: FloatArray, budget: float, width: int
                ) -> tuple[FloatArray, float]:
    row = np.zeros(width)
    row[:len(st.ids)] = cost
    return row, budget + 1e-9


def _mip(cost: FloatArray, lower: FloatArray, upper: FloatArray, integer: np.ndarray,
         a: sp.csr_matrix, rlo: FloatArray, rup: FloatArray, time_limit: float
         ) -> tuple[FloatArray, float, float, bool]:
    """Solve min cost @ x over the rows, integer where `integer`; x, value, bound, done."""
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-7)
    h.setOptionValue("time_limit", max(time_limit, 1.0))
    pass_lp(h, sp.csc_matrix(a), cost, lower, upper, rlo, rup,
            integer=np.asarray(integer, dtype=bool))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    done = status == highspy.HighsModelStatus.kOptimal
    value = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else -math.inf
    if done:
        bound = min(bound, value)
    return x, value, bound, done


def _chosen(st: SecondStage, y: FloatArray) -> tuple[str, ...]:
    return tuple(i for i, v in zip(st.ids, y, strict=True) if v > 0.5)


def extensive_form(st: SecondStage, fut: Futures, cost: FloatArray, budget: float,
                   worst5: bool, time_limit: float = 300.0) -> Exact:
    """Every future's LP and the choice in one MIP (columns: y, eta, u per future, x per
    future); its bound is HiGHS' dual bound, exact when it closes."""
    t0 = time.perf_counter()
    lp, n, F = st.lp, len(st.ids), len(fut.futures)
    nx, mx = lp.num_cols, lp.num_rows
    k = k_worst(fut.samples)
    head = n + 1 + F  # y, eta, u
    clo = [np.zeros(n), np.array([-np.inf if worst5 else 0.0]), np.zeros(F)]
    cup = [np.ones(n), np.array([np.inf if worst5 else 0.0]),
           np.full(F, np.inf if worst5 else 0.0)]
    cc = [TIE * cost / max(float(cost.max()), 1.0), np.array([1.0 if worst5 else 0.0]),
          fut.weight / k if worst5 else np.zeros(F)]
    rows_gated = st.cap_rows[st.gate_pos]
    lefts, rlo, rup = [], [], []
    for f, caps in enumerate(fut.caps):
        lo, up, _ = st.bounds(caps, np.zeros(n))  # y's share sits in y's columns
        on, off = st.on_off(caps)
        y_cap = sp.coo_matrix((-(on - off), (rows_gated, st.gate_of)), shape=(mx, n))
        y_buf = sp.coo_matrix((-st.buf_qty, (st.buf_rows, st.buf_of)), shape=(mx, n))
        lefts.append(sp.hstack([y_cap + y_buf, sp.csr_matrix((mx, 1 + F))]))
        rlo.append(lo)
        rup.append(up)
        clo.append(lp.col_lower)
        cup.append(st.bounds(caps, np.ones(n))[2])  # gated columns: rows x <= M * y
        cc.append(np.zeros(nx) if worst5 else st.objective * fut.weight[f] / fut.samples)
    parts = [sp.hstack([sp.vstack(lefts), sp.block_diag([lp.matrix] * F)])]
    g = st.col_gate.size
    if g:  # x[c] - M * y[j] <= 0, per future
        m_of = np.minimum(lp.col_upper[st.col_gate], st.col_m)
        left = sp.coo_matrix((-m_of, (np.arange(g), st.col_of)), shape=(g, head))
        pick = sp.coo_matrix((np.ones(g), (np.arange(g), st.col_gate)), shape=(g, nx))
        parts.append(sp.hstack([sp.vstack([left] * F), sp.block_diag([pick] * F)]))
        rlo.append(np.full(g * F, -np.inf))
        rup.append(np.zeros(g * F))
    if worst5:  # u_f + eta - objective @ x_f >= demanded
        left = sp.lil_matrix((F, head))
        left[:, n] = 1.0
        left[np.arange(F), n + 1 + np.arange(F)] = 1.0
        minus = sp.csr_matrix(-st.objective.reshape(1, -1))
        parts.append(sp.hstack([left.tocsr(), sp.block_diag([minus] * F)]))
        rlo.append(np.full(F, st.demanded))
        rup.append(np.full(F, np.inf))
    brow, bup = _budget_row(st, cost, budget, head + F * nx)
    parts.append(sp.csr_matrix(brow.reshape(1, -1)))
    rlo.append(np.array([-np.inf]))
    rup.append(np.array([bup]))
    integer = np.zeros(head + F * nx, dtype=bool)
    integer[:n] = True
    x, value, bound, done = _mip(np.concatenate(cc), np.concatenate(clo), np.concatenate(cup),
                                 integer, sp.vstack(parts).tocsr(), np.concatenate(rlo),
                                 np.concatenate(rup), time_limit - (time.perf_counter() - t0))
    shift = 0.0 if worst5 else st.demanded  # the mean's constant, left out of the MIP
    tie = TIE * float(n)  # the most the tie-break adds to the value
    y = np.round(x[:n])
    value -= TIE * float(cost @ y) / max(float(cost.max()), 1.0)
    return Exact(_chosen(st, y), value + shift, bound + shift - st.slack - tie, done,
                 seconds=time.perf_counter() - t0)


def extensive_size(st: SecondStage, fut: Futures) -> int:
    """Non-zeros of the extensive form: the size limit is put on this."""
    return len(fut.futures) * int(st.lp.matrix.nnz + st.gate_pos.size + st.col_gate.size)


def benders(st: SecondStage, fut: Futures, cost: FloatArray, budget: float, worst5: bool,
            rounds: int = 50, time_limit: float = 600.0, sub: Subproblem | None = None,
            cuts: list[tuple[int, float, FloatArray]] | None = None,
            seen: dict[tuple[str, ...], float] | None = None) -> Exact:
    """Cuts from every future's duals at each master choice, until the bound meets the
    best value. `cuts` and `seen` (choice -> LP value) carry over between budgets: a cut
    is valid whatever the budget."""
    t0 = time.perf_counter()
    sub = sub or Subproblem(st)
    cuts = [] if cuts is None else cuts
    seen = {} if seen is None else seen
    n, F = len(st.ids), len(fut.futures)
    k = k_worst(fut.samples)
    width = n + F + (1 + F if worst5 else 0)  # y, theta, (eta, u)
    obj = np.zeros(width)
    obj[:n] = TIE * cost / max(float(cost.max()), 1.0)
    if worst5:
        obj[n + F] = 1.0
        obj[n + F + 1:] = fut.weight / k
    else:
        obj[n:n + F] = fut.weight / fut.samples
    lower = np.concatenate([np.zeros(n + F), [-np.inf] * (1 + F) if worst5 else []])
    upper = np.concatenate([np.ones(n), np.full(F, st.demanded),
                            [np.inf] * (1 + F) if worst5 else []])
    integer = np.zeros(width, dtype=bool)
    integer[:n] = True
    if worst5:
        lower[n + F + 1:] = 0.0

    def evaluate(y: FloatArray) -> float:
        lost = np.zeros(F)
        for f, caps in enumerate(fut.caps):
            lost[f], a, g = sub.solve(caps, y)
            cuts.append((f, a, g))
        v = objective_value(lost, fut, worst5)
        seen[_chosen(st, y)] = v
        return v

    if () not in seen:
        evaluate(np.zeros(n))
    if st.ids not in seen:
        evaluate(np.ones(n))  # cuts at "everything": where candidates run out of value
    best_lower, done, r = 0.0, False, 0  # no future loses fewer than 0 units
    tried: list[tuple[tuple[str, ...], float]] = []
    while r < rounds and time.perf_counter() - t0 < time_limit:
        r += 1
        rows, rlo = [], []
        for f, a, g in cuts:  # theta_f - g @ y >= a
            row = np.zeros(width)
            row[:n] = -g
            row[n + f] = 1.0
            rows.append(row)
            rlo.append(a)
        if worst5:  # u_f - theta_f + eta >= 0
            for f in range(F):
                row = np.zeros(width)
                row[n + F + 1 + f] = 1.0
                row[n + f] = -1.0
                row[n + F] = 1.0
                rows.append(row)
                rlo.append(0.0)
        brow, bup = _budget_row(st, cost, budget, width)
        a_m = sp.csr_matrix(np.vstack([*rows, brow]))
        x, _, bound, ok = _mip(obj, lower, upper, integer, a_m,
                               np.array([*rlo, -np.inf]),
                               np.array([np.inf] * len(rlo) + [bup]),
                               time_limit - (time.perf_counter() - t0))
        best_lower = max(best_lower, bound)
        y = np.round(x[:n])
        within = {c: v for c, v in seen.items() if sum(cost[st.ids.index(i)] for i in c)
                  <= budget + 1e-9}
        best = min(within.values()) if within else math.inf
        if not ok:
            break
        if _chosen(st, y) in seen or best - best_lower <= 1e-6 * (1.0 + abs(best)):
            done = True
            break
        tried.append((_chosen(st, y), evaluate(y)))
    within = {c: v for c, v in seen.items()
              if sum(cost[st.ids.index(i)] for i in c) <= budget + 1e-9}
    least = min(within.values())
    chosen = min((c for c, v in within.items() if v <= least + 1e-6 * (1.0 + abs(least))),
                 key=lambda c: sum(cost[st.ids.index(i)] for i in c))
    value = within[chosen]
    if done:
        best_lower = min(best_lower, value)
    return Exact(chosen, value, best_lower - st.slack - TIE * float(n), done, r, tried,
                 time.perf_counter() - t0)
