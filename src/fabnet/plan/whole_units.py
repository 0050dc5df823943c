"""Whole-unit plans: the planning LP with integer flows and order sizes, solved as a MIP.

A planner can't release 130.8 drones or order 28 motors from a supplier that sells them
in boxes of 50. On top of the LP that `build_lp` lays out, every production, purchase,
transfer, delivery and licence-draw column is an integer, and:

- a supplier offer's `multiple` (pack size): each order x = multiple · k, k integer;
- its `moq`: each order is 0 or at least moq, with a binary "order placed" y per order,
  moq · y <= x <= M · y (M: the supplier's and lane's capacity in the shipping bucket,
  or, where both are unlimited, the most the network could ever use of the item);
- a work center's `batch`: each item made on it is made in multiples of the batch in
  every bucket (x = lcm of the batches of the centers its routing uses then · k).

An order is one row of the purchases table: one offer, one destination site, one order
bucket. Firm columns (work orders and open purchase orders from the floor) are exempt
from batches, packs and minimum orders.

The levels are solved in `LexicographicSolver`'s order (the firm level when work orders
are firm, then units delivered class by class, lateness, cost), each one as a MIP with
HiGHS under a share of the time limit, its value then held by a row. The first level
starts from the LP's optimum rounded down to valid whole-unit values and repaired to a
feasible plan (`WholeUnitRounding`): capacities cut, then stock balanced bucket by
bucket by cutting what draws on a short stock; every cut keeps whole units, packs,
minimum orders and batches. Each later level starts from the level before, so every
level has a feasible plan and a time limit never leaves the planner without one. The
KPIs give each level's LP optimum, its whole-unit value, the difference, the MIP gap
reached and whether the time limit stopped a level (docs/planner.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import highspy
import numpy as np
import scipy.sparse as sp

from fabnet.model.errors import FabnetError
from fabnet.model.network import BoolArray, FloatArray, IntArray, Network
from fabnet.model.scenario import Scenario, in_effect
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.mip_worker import MipAnswer, model_arrays, solve_here, solve_isolated
from fabnet.plan.plan import (
    Plan,
    assemble_plan,
    compute_kpis,
    demand_outcome,
    extract_tables,
    shortfall_tolerance,
)
from fabnet.plan.shortfall import explain_shortfalls
from fabnet.plan.solve import HOLD_ABS, HOLD_REL, Level, LexicographicSolver, PlanResult, PlanStatus

#: the MIP's default time limit, in seconds, for all levels together
DEFAULT_TIME_LIMIT = 60.0
#: a capacity is kept when its use is at most this much over it, relative (the contract
#: allows 1e-9, `plan.REL_TOL`); a stock is short below -this × its turnover
_KEEP = 1e-11
#: levels of a MIP with at least this many integer columns are solved in a process of
#: their own, killed at 1.25 × their share of the time limit + `ISOLATE_GRACE` seconds
#: (HiGHS may run far past its own limit: `fabnet.plan.mip_worker`)
ISOLATE_COLUMNS = 2000
ISOLATE_GRACE = 5.0
#: the gap of a level the time limit stopped before HiGHS had any bound
UNKNOWN_GAP = "unknown (the time limit came before a bound)"
#: relative MIP gap at which the cost level stops (unit levels are integral: a gap
#: under one unit is optimal)
COST_GAP = 1e-6


@dataclass
class OrderSizes:
    """Whole-unit rules per LP column: the step its value moves in (1: any whole number),
    the least non-zero value (0: none) and the bound M of its "order placed" binary."""

    integer: BoolArray  # every flow and licence-draw column
    step: FloatArray
    least: FloatArray
    big: FloatArray

    @property
    def packed(self) -> IntArray:
        """Columns made or ordered in steps of more than one unit."""
        return np.nonzero(self.integer & (self.step > 1))[0].astype(np.int64)

    @property
    def minimum(self) -> IntArray:
        """Columns with a minimum order quantity."""
        return np.nonzero(self.integer & (self.least > 0))[0].astype(np.int64)

    def valid_down(self, x: FloatArray, cols: IntArray | None = None) -> None:
        """Round the integer columns `cols` (default: all) of `x` down, in place, to the
        nearest valid value: a whole number of steps, 0 below the minimum, at most M."""
        c = np.nonzero(self.integer)[0] if cols is None else cols[self.integer[cols]]
        v = np.minimum(np.maximum(x[c], 0.0), self.big[c])
        s = self.step[c]
        # 1e-9: a value the solver left at 3.9999999996 is 4 whole units
        v = np.floor(v / s + 1e-9) * s
        v[v < self.least[c]] = 0.0
        x[c] = v


    def valid_up(self, x: FloatArray, cols: IntArray) -> None:
        """Round the columns `cols` of `x` up, in place, to the nearest valid value (at
        most M): an order of 28 motors in boxes of 50 becomes 50; noise stays 0."""
        v = np.maximum(x[cols], 0.0)
        s = self.step[cols]
        up = np.ceil(v / s - 1e-9) * s
        up = np.where(v < 1e-6, 0.0, np.maximum(up, np.where(v > 0, self.least[cols], 0.0)))
        x[cols] = np.where(up <= self.big[cols], up, v)


def _lcm_batches(net: Network, batch_of_wc: IntArray) -> IntArray:
    """(make pair, bucket) -> the lcm of the batches of the work centers it uses then."""
    out = np.ones((net.make_site.size, net.buckets), dtype=np.int64)
    if net.use_make.size:
        u, t = np.nonzero(net.use_on)
        np.lcm.at(out, (net.use_make[u], t), batch_of_wc[net.use_wc[u]])
    return out


def _most_useful(net: Network) -> FloatArray:
    """Per item: the most of it the network could ever use (demand and firm production
    exploded through every BOM line, effective or not): an upper bound on any one order."""
    n = len(net.items)
    need = np.bincount(net.demand_item, weights=net.demand_qty, minlength=n).astype(float)
    need += np.bincount(net.make_item[net.firm_make], weights=net.firm_qty, minlength=n)
    bom = sp.csr_matrix((net.bom_qty, (net.bom_parent, net.bom_child)), shape=(n, n))
    total, level = need.copy(), need
    for _ in range(n):
        level = bom.T @ level
        if not level.any():
            break
        total += level
    return np.asarray(total, dtype=float)


def order_sizes(net: Network, lp: PlanningLP) -> OrderSizes:
    """The whole-unit rules of every column of `lp` (see the module docstring)."""
    n, T = lp.num_cols, net.buckets
    sc = net.scenario
    integer = np.zeros(n, dtype=bool)
    integer[:lp.cols["stock"].offset] = True
    draw = lp.cols["draw"]
    integer[draw.offset:draw.offset + draw.size] = True
    step, least, big = np.ones(n), np.zeros(n), np.full(n, np.inf)
    batch_of_wc = np.array([w.batch or 1 for w in sc.work_centers], dtype=np.int64)
    prod = lp.cols["produce"]
    if prod.count:
        step[prod.offset:prod.offset + prod.size] = _lcm_batches(net, batch_of_wc).ravel()
    pur = lp.cols["purchase"]
    if pur.count:
        multiple = np.array([o.multiple or 1 for o in sc.offers], dtype=float)[net.pur_offer]
        moq = np.array([o.moq or 0.0 for o in sc.offers], dtype=float)[net.pur_offer]
        sl = slice(pur.offset, pur.offset + pur.size)
        step[sl] = np.repeat(multiple, T)
        least_valid = np.ceil(moq / multiple - 1e-9) * multiple
        least[sl] = np.repeat(least_valid, T)
        # M: capacities where the order ships (real), else the most the item is of use
        ship = np.minimum(np.arange(T)[None, :] + net.offer_lead[net.pur_offer][:, None], T - 1)
        cap = np.minimum(net.offer_cap[net.pur_offer[:, None], ship],
                         net.lane_cap[net.pur_lane[:, None], ship])
        useful = _most_useful(net)[net.offer_item[net.pur_offer]]
        bound = np.maximum(np.ceil(useful / multiple) * multiple + multiple, least_valid)
        m = np.minimum(cap, bound[:, None])
        big[sl] = np.floor(m / multiple[:, None] + 1e-9).ravel() * np.repeat(multiple, T)
    # firm columns (work orders, open purchase orders) are exempt: an order already placed
    # is as large as it is, and what the plan adds to it is any whole number
    step[lp.firm_cols], least[lp.firm_cols], big[lp.firm_cols] = 1.0, 0.0, np.inf
    return OrderSizes(integer, step, least, big)


class WholeUnitRounding:
    """Turns any vector of LP columns into a feasible whole-unit plan.

    Valid values first: purchases rounded up (to a pack, to the minimum order; they only
    bring stock in), everything else down. Then every work-center, supplier, lane,
    demand and licence row over its bound has its columns cut to the row's share, then
    deliveries under licence to the draws, then stock is balanced bucket by bucket: where
    a stock would go below zero, what draws on it then (deliveries, consumption by
    production, transfers out) is cut, and what that cut production or transfer would
    have brought is gone too. Every cut rounds down to a valid value, and after the first
    step nothing is raised, so the result keeps every row of the LP.
    """

    def __init__(self, net: Network, lp: PlanningLP, sizes: OrderSizes) -> None:
        self.net, self.lp, self.sizes = net, lp, sizes
        rows = lp.rows
        lo = rows["work"].offset
        hi = rows["demand"].offset + rows["demand"].size
        lic = rows["licence"]
        idx = np.r_[np.arange(lo, hi), np.arange(lic.offset, lic.offset + lic.size)]
        self.cap = lp.matrix[idx].tocsr()
        self.cap_upper = lp.row_upper[idx]
        cb = rows["cover"]
        cover = lp.matrix[cb.offset:cb.offset + cb.size].tocsr()
        self.cover_need = cover.maximum(0).tocsr()
        self.cover_have = (-cover).maximum(0).tocsr()
        bal = rows["balance"]
        self.nf = lp.cols["stock"].offset
        a = lp.matrix[bal.offset:bal.offset + bal.size, :self.nf].tocsr()
        self.out_m, self.in_m = a.maximum(0).tocsr(), (-a).maximum(0).tocsr()

    def _cut(self, x: FloatArray, rows: sp.csr_matrix, factor: FloatArray) -> None:
        """Scale every column met by `rows` by the smallest factor of those rows, rounded
        down to a valid value (a cut column always loses at least one step)."""
        col_f = np.ones(x.size)
        np.minimum.at(col_f, rows.indices, np.repeat(factor, np.diff(rows.indptr)))
        cut = np.nonzero(col_f < 1.0)[0].astype(np.int64)
        x[cut] *= col_f[cut]
        self.sizes.valid_down(x, cut)

    def _keep_rows(self, x: FloatArray) -> None:
        """Capacities and licence quantities, then deliveries under licence to the draws."""
        for _ in range(1000):
            act = self.cap @ x
            over = np.nonzero(act > self.cap_upper * (1 + _KEEP))[0]
            if over.size == 0:
                break
            factor = np.where(self.cap_upper[over] > 0, self.cap_upper[over] / act[over], 0.0)
            self._cut(x, self.cap[over], np.clip(factor, 0.0, 1.0))
        for _ in range(1000):
            need, have = self.cover_need @ x, self.cover_have @ x
            over = np.nonzero(need > have * (1 + _KEEP))[0]
            if over.size == 0:
                break
            self._cut(x, self.cover_need[over], np.clip(have[over] / need[over], 0.0, 1.0))

    def _balance(self, x: FloatArray) -> None:
        """Stock from opening + inflows − outflows; what overdraws a stock is cut."""
        net, lp = self.net, self.lp
        T, K = net.buckets, lp.rows["balance"].count
        if K == 0:
            return
        stock = np.zeros((K, T))
        prev = net.stock_open.astype(float)
        keys = np.arange(K) * T
        flows = x[:self.nf]  # a view: cutting it cuts x
        for t in range(T):
            out_t, in_t = self.out_m[keys + t], self.in_m[keys + t]
            while True:
                inflow, outflow = in_t @ flows, out_t @ flows
                level, mag = prev + inflow - outflow, prev + inflow + outflow
                short = np.nonzero(level < -_KEEP * mag)[0]
                if short.size == 0:
                    break
                have = np.maximum(prev[short] + inflow[short], 0.0)
                factor = np.clip(have / outflow[short], 0.0, 1.0)
                self._cut(flows, out_t[short], factor)
            level[np.abs(level) <= _KEEP * mag] = 0.0
            stock[:, t] = level
            prev = level
        sb = lp.cols["stock"]
        x[sb.offset:sb.offset + sb.size] = stock.ravel()

    def __call__(self, x: FloatArray, upper: FloatArray | None = None) -> FloatArray:
        """A feasible whole-unit plan from `x` (column values; `upper`: bounds in force)."""
        bound = self.lp.col_upper if upper is None else upper
        out: FloatArray = np.minimum(np.maximum(np.asarray(x, dtype=float).copy(), 0.0), bound)
        # purchases only bring stock in: rounded up (to a pack, to the minimum) they never
        # short a stock, and a supplier or lane they overload is cut back below
        pur = self.lp.cols["purchase"]
        cols = np.arange(pur.offset, pur.offset + pur.size, dtype=np.int64)
        self.sizes.valid_up(out, cols)
        out[cols] = np.minimum(out[cols], bound[cols])
        self.sizes.valid_down(out)
        self._keep_rows(out)
        self._balance(out)
        return out


@dataclass
class MipLevel:
    """One whole-unit level: its value, the best bound HiGHS proved, and how it ended."""

    name: str
    maximize: bool
    value: float
    bound: float | None  # None: the time limit came before HiGHS had a bound
    seconds: float
    time_limited: bool

    @property
    def gap(self) -> float | None:
        """Relative MIP gap reached, |value − bound| / max(|value|, 1); None: unknown."""
        if self.bound is None:
            return None
        return abs(self.value - self.bound) / max(abs(self.value), 1.0)


@dataclass
class WholeUnitResult:
    """The whole-unit plan's solution, its levels, and the LP it was compared with."""

    x: FloatArray
    levels: list[MipLevel]
    lp_result: PlanResult
    firm_short: float
    seconds: float

    @property
    def time_limited(self) -> bool:
        """True when the time limit stopped a level before it was proved optimal."""
        return any(lv.time_limited for lv in self.levels)


class WholeUnitSolver:
    """The planning MIP on one HiGHS model: integrality and order-size rows added to the
    LP's model after its levels were solved, then the same levels solved as MIPs."""

    def __init__(self, net: Network, lp: PlanningLP, threads: int | None = None) -> None:
        self.net, self.lp = net, lp
        self.solver = LexicographicSolver(lp, threads)
        self.highs = self.solver.highs
        self.sizes = order_sizes(net, lp)
        self.rounding = WholeUnitRounding(net, lp, self.sizes)
        self._all = np.arange(lp.num_cols, dtype=np.int32)
        self.isolate = int(self.sizes.integer.sum()) >= ISOLATE_COLUMNS

    # --- the model ---------------------------------------------------------------------

    def _add_integrality(self) -> None:
        """Integer flows; k columns for packs and batches; y binaries for minimum orders."""
        h, s, n = self.highs, self.sizes, self.lp.num_cols
        ints = np.nonzero(s.integer)[0].astype(np.int32)
        h.changeColsIntegrality(ints.size, ints,
                                np.full(ints.size, highspy.HighsVarType.kInteger))
        self.packed, self.minimum = s.packed, s.minimum
        p, m = self.packed.size, self.minimum.size
        self.k_cols = np.arange(n, n + p, dtype=np.int32)
        self.y_cols = np.arange(n + p, n + p + m, dtype=np.int32)
        inf = highspy.kHighsInf
        empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0)
        if p + m == 0:
            return
        h.addCols(p + m, np.zeros(p + m), np.zeros(p + m),
                  np.r_[np.full(p, inf), np.ones(m)], 0, empty_i, empty_i, empty_f)
        new = np.r_[self.k_cols, self.y_cols].astype(np.int32)
        h.changeColsIntegrality(new.size, new, np.full(new.size, highspy.HighsVarType.kInteger))
        # x - step·k = 0; x - moq·y >= 0; x - M·y <= 0 (two entries per row)
        xs = np.r_[self.packed, self.minimum, self.minimum].astype(np.int32)
        aux = np.r_[self.k_cols, self.y_cols, self.y_cols].astype(np.int32)
        coef = np.r_[-s.step[self.packed], -s.least[self.minimum], -s.big[self.minimum]]
        lo = np.r_[np.zeros(p), np.zeros(m), np.full(m, -inf)]
        hi = np.r_[np.zeros(p), np.full(m, inf), np.zeros(m)]
        r = xs.size
        h.addRows(r, lo, hi, 2 * r, np.arange(0, 2 * r, 2, dtype=np.int32),
                  np.column_stack([xs, aux]).ravel().astype(np.int32),
                  np.column_stack([np.ones(r), coef]).ravel())

    def _full(self, x: FloatArray) -> FloatArray:
        """`x` with the values of its k and y columns, as HiGHS takes a start."""
        k = x[self.packed] / self.sizes.step[self.packed]
        y = (x[self.minimum] > 0).astype(float)
        return np.asarray(np.r_[x, k, y], dtype=float)

    # --- one level ---------------------------------------------------------------------

    def _solve_level(self, name: str, c: FloatArray, maximize: bool, start: FloatArray,
                     seconds: float, integral: bool, lp_bound: float | None = None
                     ) -> tuple[MipLevel, FloatArray]:
        """Solve one level as a MIP from the feasible `start`; returns it and its plan.

        `lp_bound` is a bound known to hold (the LP optimum of the first level)."""
        h = self.highs
        t0 = time.perf_counter()
        h.changeColsCost(self.lp.num_cols, self._all, c.astype(np.float64))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximize
                               else highspy.ObjSense.kMinimize)
        # every level has a feasible start; HiGHS 1.16's feasibility jump heuristic adds
        # nothing to it and, on the synthetic networks, ran for minutes past the limit
        options: dict[str, bool | float] = {
            "time_limit": max(seconds, 0.05), "mip_heuristic_run_feasibility_jump": False,
            "mip_rel_gap": 0.0 if integral else COST_GAP,
            "mip_abs_gap": 0.5 if integral else 1e-6}
        full = self._full(start)
        if self.isolate:
            answer = solve_isolated(model_arrays(h), options, full, c,
                                    wait=1.25 * seconds + ISOLATE_GRACE)
        else:
            answer = solve_here(h, options, full, c)
        if answer is None:  # killed at its deadline: the start stands
            answer = MipAnswer(highspy.HighsModelStatus.kTimeLimit, None, math.nan, math.nan)
        status = answer.status
        got = None if answer.values is None else answer.values[: self.lp.num_cols]
        x = start
        if got is not None:
            x = self.rounding(np.where(self.sizes.integer, np.round(got), got),
                              self._bounds[1])
            if (c @ x < c @ start) if maximize else (c @ x > c @ start):
                x = start  # the solver's answer lost a tolerance's worth: keep the start
        value = float(c @ x)
        optimal = status == highspy.HighsModelStatus.kOptimal
        if not optimal and status not in (highspy.HighsModelStatus.kTimeLimit,
                                          highspy.HighsModelStatus.kInterrupt):
            raise FabnetError(f"the whole-unit solver ended with {h.modelStatusToString(status)}"
                              f" at level {name} (fix: report this scenario)")
        bound: float | None = answer.bound
        if not math.isfinite(answer.bound):
            bound = value if optimal else None
        if lp_bound is not None:
            bound = lp_bound if bound is None else \
                (min(bound, lp_bound) if maximize else max(bound, lp_bound))
        if bound is not None and integral:  # a whole number of units or unit-buckets
            bound = math.floor(bound + 1e-6) if maximize else math.ceil(bound - 1e-6)
        if bound is not None:
            bound = max(bound, value) if maximize else min(bound, value)
        level = MipLevel(name, maximize, value, bound, time.perf_counter() - t0, False)
        # stopped by the limit and not proved by its bound either (a bound that meets the
        # value proves the level, whatever stopped the search)
        level.time_limited = not optimal and level.gap != 0
        return level, x

    def _hold(self, c: FloatArray, value: float, maximize: bool) -> None:
        """Keep a solved level at its value while later levels are solved."""
        idx = np.nonzero(c)[0].astype(np.int32)
        slack = HOLD_ABS + HOLD_REL * abs(value)
        lo, hi = (value - slack, highspy.kHighsInf) if maximize else \
            (-highspy.kHighsInf, value + slack)
        self.highs.addRow(lo, hi, idx.size, idx, c[idx].astype(np.float64))

    def _set_bounds(self, cols: IntArray, lower: FloatArray, upper: FloatArray) -> None:
        up = np.where(np.isinf(upper), highspy.kHighsInf, upper)
        self.highs.changeColsBounds(cols.size, cols.astype(np.int32),
                                    lower.astype(np.float64), up.astype(np.float64))
        self._bounds[0][cols], self._bounds[1][cols] = lower, upper

    # --- all levels --------------------------------------------------------------------

    def solve(self, time_limit: float = DEFAULT_TIME_LIMIT) -> WholeUnitResult:
        """The LP's levels, then the MIP's, under `time_limit` seconds for all MIP levels."""
        if not time_limit > 0:
            raise FabnetError(f"mip time limit: must be > 0 seconds, got {time_limit}")
        lp_result = self.solver.solve()
        if not lp_result.status.solved:
            return WholeUnitResult(lp_result.x, [], lp_result, lp_result.firm_short, 0.0)
        t_start = time.perf_counter()
        self.solver.release_holds()
        if (self.highs.getNumCol(), self.highs.getNumRow()) != (self.lp.num_cols,
                                                                 self.lp.num_rows):
            raise FabnetError("the LP solver left rows or columns of its own in the model "
                              "(fix: report this scenario)")
        self._add_integrality()
        lp = self.lp
        self._bounds = (lp.col_lower.copy(), lp.col_upper.copy())
        objectives = self.solver.objectives()
        firm = lp.firm_cols
        n_levels = len(objectives) + (1 if firm.size else 0)
        deadline = t_start + time_limit
        levels: list[MipLevel] = []
        firm_short = 0.0

        def share() -> float:
            # what is left, split over the levels left; HiGHS checks its limit between
            # steps and may run over it, so a level never gets less than half its even
            # share (the later levels would otherwise be left with nothing)
            left = (deadline - time.perf_counter()) / max(n_levels - len(levels), 1)
            return max(left, time_limit / (2 * n_levels))

        if firm.size:
            upper = np.floor(np.minimum(lp.firm_qty, lp.col_upper[firm]) + 1e-9)
            self._set_bounds(firm, np.zeros(firm.size), upper)
            c = np.zeros(lp.num_cols)
            c[firm] = 1.0
            start = self.rounding(lp_result.x, self._bounds[1])
            level, x = self._solve_level("firm", c, True, start, share(), True,
                                         next((lv.objective for lv in lp_result.levels
                                               if lv.name == "firm"), None))
            levels.append(level)
            keep = np.clip(np.round(x[firm]), 0.0, upper)
            self._set_bounds(firm, keep, lp.col_upper[firm])
            firm_short = float(np.maximum(lp.firm_qty - keep, 0.0).sum())
        else:
            x = self.rounding(lp_result.x, self._bounds[1])
        lp_value = {lv.name: lv.objective for lv in lp_result.levels}
        for name, c, maximize in objectives:
            # the LP's optimum bounds the first level (later ones hold other values)
            known = lp_value.get(name) if not levels else None
            level, x = self._solve_level(name, c, maximize, x, share(), name != "cost", known)
            levels.append(level)
            self._hold(c, level.value, maximize)
        return WholeUnitResult(x, levels, lp_result, firm_short, time.perf_counter() - t_start)


# --- the plan ---------------------------------------------------------------------------

def whole_unit_kpis(result: WholeUnitResult, time_limit: float) -> dict[str, float | str]:
    """Per level: the LP optimum, the whole-unit value and their difference (whole − LP),
    the MIP gap reached; overall: the largest gap, the time and whether the limit hit."""
    lp_value = {lv.name: lv.objective for lv in result.lp_result.levels}
    out: dict[str, float | str] = {"whole_units": 1.0}
    for lv in result.levels:
        out[f"mip_{lv.name}"] = lv.value
        if lv.name in lp_value:
            out[f"lp_{lv.name}"] = lp_value[lv.name]
            out[f"whole_minus_lp_{lv.name}"] = lv.value - lp_value[lv.name]
        out[f"mip_gap_{lv.name}"] = UNKNOWN_GAP if lv.gap is None else lv.gap
    gaps = [lv.gap for lv in result.levels]
    out["mip_gap"] = UNKNOWN_GAP if None in gaps else max((g for g in gaps if g is not None),
                                                          default=0.0)
    out["mip_time_limit_reached"] = 1.0 if result.time_limited else 0.0
    out["mip_time_limit_seconds"] = float(time_limit)
    out["mip_seconds"] = round(result.seconds, 4)
    return out


def _whole_unit_reasons(net: Network, lp: PlanningLP, result: WholeUnitResult,
                        outcome: dict[str, FloatArray]) -> list[tuple[str, float, float, str]]:
    """Each short demand's reason: the LP's explanation, and what whole units added."""
    lp_out = demand_outcome(net, lp, result.lp_result.x)
    base = explain_shortfalls(net, lp, result.lp_result, outcome["late"], outcome["lost"])
    tol = shortfall_tolerance(net)
    rows = []
    for d, late, lost, why in base:
        i = net.demand_ids.index(d)
        more_lost = lost - float(lp_out["lost"][i])
        more_late = late - float(lp_out["late"][i])
        extra = []
        if more_lost > tol:
            extra.append(f"{more_lost:,.6g} more lost")
        if more_late > tol:
            extra.append(f"{more_late:,.6g} more late")
        if extra:
            note = (f"whole units: {' and '.join(extra)} than in the continuous plan "
                    "(whole units, packs, minimum orders and batches)")
            was_short = lp_out["lost"][i] > tol or lp_out["late"][i] > tol
            why = f"{why}; {note}" if why and was_short else note
        rows.append((d, late, lost, why))
    return rows


def assemble_whole_unit_plan(net: Network, lp: PlanningLP, result: WholeUnitResult,
                             time_limit: float) -> Plan:
    """The `Plan` of a whole-unit solution, as written: tables, shortfalls and KPIs.

    The solution is already exact (whole units, every row kept by `WholeUnitRounding`),
    so it is not settled again: settling would scale flows by a float's last digit.
    """
    x = result.x
    tables = extract_tables(net, lp, x)
    outcome = demand_outcome(net, lp, x, settled=True)
    kpis = compute_kpis(net, lp, x, outcome)
    status = PlanStatus.TIME_LIMIT if result.time_limited else PlanStatus.OPTIMAL
    kpis["status"] = str(status)
    if result.firm_short > 1e-6:
        kpis["firm_short"] = result.firm_short
    kpis["solve_seconds"] = round(result.lp_result.solve_seconds + result.seconds, 4)
    kpis.update(whole_unit_kpis(result, time_limit))
    tables["shortfalls"] = [r for r in _whole_unit_reasons(net, lp, result, outcome)
                            if r[1] > 0 or r[2] > 0]
    tables["kpis"] = [(k, v) for k, v in kpis.items()]
    levels = {lv.name: lv.value for lv in result.levels}
    return Plan(net.scenario.name, status, tables, kpis, net.scenario.horizon.starts(),
                levels, outcome)


def make_whole_unit_plan(net: Network, threads: int | None = None,
                         time_limit: float = DEFAULT_TIME_LIMIT) -> Plan:
    """Build the LP, solve its levels, then the whole-unit MIP's, and read the plan back.

    A scenario whose LP has no optimum gets the LP's plan and status, as `make_plan`.
    """
    t0 = time.perf_counter()
    lp = build_lp(net)
    build_s = time.perf_counter() - t0
    ws = WholeUnitSolver(net, lp, threads)
    result = ws.solve(time_limit)
    t1 = time.perf_counter()
    if not result.lp_result.status.solved:
        r = result.lp_result
        outcome = demand_outcome(net, lp, r.x)
        plan = assemble_plan(net, lp, r, explain_shortfalls(net, lp, r, outcome["late"],
                                                            outcome["lost"]))
        plan.kpis["whole_units"] = 1.0
    else:
        plan = assemble_whole_unit_plan(net, lp, result, time_limit)
    plan.kpis["build_seconds"] = round(build_s, 4)
    plan.kpis["readback_seconds"] = round(time.perf_counter() - t1, 4)
    plan.kpis["lp_columns"] = lp.num_cols
    plan.kpis["lp_rows"] = lp.num_rows
    plan.kpis["mip_columns"] = int(ws.highs.getNumCol())
    plan.kpis["mip_rows"] = int(ws.highs.getNumRow())
    return plan


def batch_on(sc: Scenario, site: str, item: str, day: date) -> int:
    """The batch `item` is made in at `site` on `day`: the lcm of the batches of the
    work centers of the routing steps in effect then (1: none), as the MIP has it."""
    types = {r.work_center for r in sc.routings
             if r.item == item and in_effect(r.start, r.until, day)}
    return math.lcm(1, *(w.batch or 1 for w in sc.work_centers
                         if w.site == site and w.type in types))


def release_quantity(qty: float, whole: bool, batch: int) -> int:
    """A work order's quantity for `qty` planned units: as planned in a whole-unit plan;
    from a continuous plan, rounded up to whole units and then to a whole batch."""
    if whole:
        return int(round(qty))
    units = math.ceil(qty - 1e-6)
    return math.ceil(units / batch) * batch


def is_whole_unit(kpis: Mapping[str, object]) -> bool:
    """Whether a plan's KPIs say it was planned in whole units."""
    v = kpis.get("whole_units")
    return isinstance(v, int | float) and v >= 1


__all__ = ["DEFAULT_TIME_LIMIT", "Level", "OrderSizes", "WholeUnitResult", "WholeUnitRounding",
           "WholeUnitSolver", "batch_on", "is_whole_unit", "make_whole_unit_plan",
           "order_sizes", "release_quantity"]
