"""Time-to-survive and performance impact of every node, on the aggregate rate model.

After Simchi-Levi, Schmidt, Wei et al., "Identifying Risks and Mitigating Disruptions
in the Automotive Supply Chain", Interfaces 45(5), 2015. Over an outage of length t
(days) starting now, totals of production u, purchases b, transfers y, deliveries x and
lost demand l must satisfy: stock balance (opening stock + inflow >= outflow at every
site and item), capacities scaled by t (work centers, supplier offers, lanes, each at
its average rate over the horizon), and demand rows x + l = rate × t. The node under
study contributes nothing: its production, offer or lane flows are fixed at 0.

- TTS: the largest t with l = 0 (capped at the horizon's length).
- PI: the least total l with t = TTR.

The LP is solved in rate form: dividing every total by t > 0 turns flows into rates per
day and stock into s0 × τ with τ = 1/t, so TTS = 1 / (least τ). An outage then changes
only the flows near the node (the rest of the network stays at its steady rates), which
is what makes warm starts cheap. One HiGHS model serves every node: an outage only
changes column bounds, and each LP starts from the intact network's basis.

Stock enters the rate form as s0 × τ, with s0 up to 1e7 units next to rates near 1, so
the model is handed to HiGHS equilibrated (row and column factors, powers of 2) with
tight tolerances, and every answer is certified on the unscaled model: feasible, and
equal to the bound its duals give (`fabnet.resilience.certify`). A warm answer that
fails the check is solved again cold; one that still fails, or a solve that ends
otherwise (a limit, an error), leaves that node's TTS/PI None with its `PlanStatus`.
An infeasible TTS LP (no outage survived, TTS 0) is confirmed by a certified positive
least loss with τ at its cap.

The demand rate is what the intact network can serve for ever (its steady-state rate,
found by one LP without stock); a network that can't meet its orders even intact is
not "exposed" to every node at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from fabnet.batch import Executor, executor_for
from fabnet.model.errors import FabnetError
from fabnet.model.network import FloatArray, IntArray, Network
from fabnet.model.scenario import NodeKind, Scenario
from fabnet.plan.solve import PlanStatus, new_highs, pass_lp
from fabnet.resilience.certify import CERTIFY_TOL, Certificate, certify, equilibrate

#: time-to-recover in days when the scenario gives none
DEFAULT_TTR_DAYS = 28.0


@dataclass(frozen=True)
class NodeRisk:
    """One node's time-to-survive, time-to-recover (days) and performance impact (units).

    `status` is OPTIMAL when TTS and PI are the LP's certified optima; otherwise how the
    solve ended, and the value it did not prove is None.
    """

    node: str
    kind: NodeKind
    tts: float | None
    ttr: float
    pi: float | None
    status: PlanStatus = PlanStatus.OPTIMAL

    @property
    def failed(self) -> bool:
        """The solver did not prove this node's TTS and PI: they are unknown."""
        return self.status is not PlanStatus.OPTIMAL

    @property
    def exposed(self) -> bool:
        """The network can't ride out this node's recovery (unknown for a failed node)."""
        return not self.failed and self.tts is not None and self.tts < self.ttr - 1e-9


def node_ids(net: Network) -> list[tuple[str, NodeKind]]:
    """Every site, supplier offer (`SUPPLIER/ITEM`) and lane (`lane:A>B`) of the network."""
    out = [(s, NodeKind.SITE) for s in net.sites]
    out += [(f"{net.suppliers[int(v)]}/{net.items[int(i)]}", NodeKind.OFFER)
            for v, i in zip(net.offer_supplier, net.offer_item, strict=True)]
    out += [(f"lane:{a}>{b}", NodeKind.LANE) for a, b in zip(net.lane_from, net.lane_to,
                                                             strict=True)]
    return out


def recovery_days(sc: Scenario, node: str, kind: NodeKind) -> float:
    """TTR of a node: its own entry, its supplier's (for an offer), its kind's, the default."""
    table = {r.target: r.days for r in sc.recovery}
    keys = [node]
    if kind is NodeKind.OFFER:
        keys.append(node.split("/", 1)[0])
        keys.append("kind:supplier")
    keys += [f"kind:{kind}", "default"]
    for k in keys:
        if k in table:
            return float(table[k])
    return DEFAULT_TTR_DAYS


@dataclass
class AggregateModel:
    """The aggregate LP in rate form, with each node's columns."""

    matrix: sp.csc_matrix
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    tau_col: int
    lost_cols: IntArray
    node_cols: list[IntArray]
    nodes: list[tuple[str, NodeKind]]
    horizon_days: float
    demand_rate: FloatArray
    row_scale: FloatArray
    col_scale: FloatArray


#: shortest outage the model tells apart from none (days): τ's upper bound is its inverse
MIN_DAYS = 1e-6


def demand_groups(net: Network) -> tuple[IntArray, IntArray, FloatArray]:
    """Approved demand grouped by (customer, item): group keys, group of each demand
    (-1 for unapproved), and demand per day of each group."""
    days = float(net.scenario.horizon.days)
    gkey = net.demand_customer * len(net.items) + net.demand_item
    groups, ginv = np.unique(gkey[net.demand_approved], return_inverse=True)
    g_of_d = np.full(net.demand_qty.size, -1, dtype=np.int64)
    g_of_d[np.nonzero(net.demand_approved)[0]] = ginv
    rate = np.bincount(ginv, weights=net.demand_qty[net.demand_approved],
                       minlength=groups.size) / days
    return groups, g_of_d, rate


def _pass_through(net: Network, key: IntArray, lane_free: np.ndarray,
                  keep_lanes: np.ndarray) -> tuple[IntArray, np.ndarray]:
    """Transfers that only feed consumption at the receiving site, folded away.

    A transfer into a (site, item) with no opening stock, no other inflow and no other
    use carries exactly what the site consumes of it (any more would sit idle). So the
    consumption can be charged to the sending site's stock directly and the transfer and
    the receiving balance row dropped: an exact reduction that shrinks Willems-like
    networks several times. Lanes in `keep_lanes` (those being swept) and lanes with a
    capacity keep their transfers. Returns the balance row each key's consumption is
    charged to, and which transfers were folded.
    """
    K = net.stock_site.size
    k_to = key[net.tr_to, net.tr_item]
    k_from = key[net.tr_from, net.tr_item]
    inflow = (np.bincount(key[net.make_site, net.make_item], minlength=K)
              + np.bincount(key[net.pur_site, net.offer_item[net.pur_offer]], minlength=K)
              + np.bincount(k_to, minlength=K))
    outflow = (np.bincount(k_from, minlength=K)
               + np.bincount(key[net.del_site, net.demand_item[net.del_demand]], minlength=K))
    folded = ((inflow[k_to] == 1) & (outflow[k_to] == 0) & (net.stock_open[k_to] == 0)
              & lane_free[net.tr_lane] & ~keep_lanes[net.tr_lane])
    charge = np.arange(K, dtype=np.int64)
    charge[k_to[folded]] = k_from[folded]
    return charge, folded


def build_aggregate(net: Network, demand_rate: FloatArray | None = None,
                    keep_lanes: np.ndarray | None = None) -> AggregateModel:
    """Build the aggregate LP in rate form from the network's arcs (module docstring).

    `keep_lanes` (a mask over lanes; default all) marks lanes whose outage will be
    studied: their transfers stay explicit; others may be folded (`_pass_through`).
    """
    days = float(net.scenario.horizon.days)
    M, P, R = net.make_site.size, net.pur_offer.size, net.tr_lane.size
    groups, g_of_d, rate = demand_groups(net)
    if demand_rate is not None:
        rate = demand_rate
    G = groups.size
    ok = net.demand_approved[net.del_demand]
    arc_key = np.stack([g_of_d[net.del_demand[ok]], net.del_lane[ok], net.del_site[ok]], axis=1)
    arcs = np.unique(arc_key, axis=0) if arc_key.size else np.zeros((0, 3), dtype=np.int64)
    X = arcs.shape[0]
    c_u, c_b, c_y, c_x, c_l = 0, M, M + P, M + P + R, M + P + R + X
    tau = c_l + G
    n = tau + 1
    key = np.full((len(net.sites), len(net.items)), -1, dtype=np.int64)
    key[net.stock_site, net.stock_item] = np.arange(net.stock_site.size)
    K, W = net.stock_site.size, net.wc_site.size
    # only capacities that bind get rows; an outage is a column bound, not a row
    off_rate = net.offer_cap.sum(axis=1) / days
    lane_rate = net.lane_cap.sum(axis=1) / days
    off_row = np.cumsum(np.isfinite(off_rate)) - 1
    lane_row = np.cumsum(np.isfinite(lane_rate)) - 1
    n_off, n_lane = int(np.isfinite(off_rate).sum()), int(np.isfinite(lane_rate).sum())
    r_bal, r_wc, r_off, r_lane = 0, K, K + W, K + W + n_off
    r_dem = r_lane + n_lane
    m_rows = r_dem + G
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []

    def add(r: IntArray, c: IntArray, v: FloatArray | float, keep: IntArray | None = None
            ) -> None:
        r, c = np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)
        v = np.broadcast_to(np.asarray(v, dtype=float), r.shape)
        if keep is not None:
            r, c, v = r[keep], c[keep], v[keep]
        rows.append(r)
        cols.append(c)
        vals.append(np.array(v))

    m = np.arange(M)
    add(r_bal + key[net.make_site, net.make_item], c_u + m, 1.0)
    keep = np.ones(len(net.lane_from), dtype=bool) if keep_lanes is None else keep_lanes
    charge, folded = _pass_through(net, key, ~np.isfinite(lane_rate), keep)
    # effectivity: a rate model has one BOM and routing, each line weighted by the share
    # of the horizon's buckets it is in effect (lines always in effect weigh 1)
    bom_share = net.bom_on.mean(axis=1) if net.bom_on.size else np.ones(net.bom_qty.size)
    for b_idx in range(net.bom_parent.size):  # per BOM line, all make pairs at once
        sel = np.nonzero(net.make_item == net.bom_parent[b_idx])[0]
        add(r_bal + charge[key[net.make_site[sel], net.bom_child[b_idx]]], c_u + sel,
            -net.bom_qty[b_idx] * bom_share[b_idx])
    if net.use_make.size:
        add(r_wc + net.use_wc, c_u + net.use_make, net.use_hours * net.use_on.mean(axis=1))
    p = np.arange(P)
    add(r_bal + key[net.pur_site, net.offer_item[net.pur_offer]], c_b + p, 1.0)
    add(r_off + off_row[net.pur_offer], c_b + p, 1.0, np.isfinite(off_rate[net.pur_offer]))
    add(r_lane + lane_row[net.pur_lane], c_b + p, 1.0, np.isfinite(lane_rate[net.pur_lane]))
    r = np.nonzero(~folded)[0]
    add(r_bal + key[net.tr_to[r], net.tr_item[r]], c_y + r, 1.0)
    add(r_bal + key[net.tr_from[r], net.tr_item[r]], c_y + r, -1.0)
    add(r_lane + lane_row[net.tr_lane[r]], c_y + r, 1.0, np.isfinite(lane_rate[net.tr_lane[r]]))
    x = np.arange(X)
    if X:
        item_of_g = groups % len(net.items)
        add(r_bal + key[arcs[:, 2], item_of_g[arcs[:, 0]]], c_x + x, -1.0)
        add(r_lane + lane_row[arcs[:, 1]], c_x + x, 1.0, np.isfinite(lane_rate[arcs[:, 1]]))
        add(r_dem + arcs[:, 0], c_x + x, 1.0)
    g = np.arange(G)
    add(r_dem + g, c_l + g, 1.0)
    stocked = np.nonzero(net.stock_open > 0)[0]
    add(r_bal + stocked, np.full(stocked.size, tau), net.stock_open[stocked])
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(m_rows, n))
    row_lower = np.full(m_rows, -np.inf)
    row_upper = np.full(m_rows, np.inf)
    row_lower[r_bal:r_bal + K] = 0.0
    row_upper[r_wc:r_wc + W] = net.wc_hours.sum(axis=1) / days
    row_upper[r_off:r_off + n_off] = off_rate[np.isfinite(off_rate)]
    row_upper[r_lane:r_lane + n_lane] = lane_rate[np.isfinite(lane_rate)]
    row_lower[r_dem:r_dem + G] = rate
    row_upper[r_dem:r_dem + G] = rate
    # rows left empty by folding (and any other empty row that 0 satisfies) are dropped
    used = np.diff(A.indptr) > 0
    used |= (row_lower > 0) | (row_upper < 0)
    A, row_lower, row_upper = A[used].tocsc(), row_lower[used], row_upper[used]
    # folded transfers are dropped as columns too; positions are renumbered
    alive = np.ones(n, dtype=bool)
    alive[c_y + np.nonzero(folded)[0]] = False
    new_pos = np.cumsum(alive) - 1
    A = A[:, alive]
    col_upper = np.full(int(alive.sum()), np.inf)
    col_upper[new_pos[tau]] = 1.0 / MIN_DAYS

    def live(cols: IntArray) -> IntArray:
        return np.asarray(new_pos[cols[alive[cols]]], dtype=np.int64)

    nodes = node_ids(net)
    node_cols: list[IntArray] = [live(c_u + np.nonzero(net.make_site == s)[0])
                                 for s in range(len(net.sites))]
    node_cols += [live(c_b + np.nonzero(net.pur_offer == o)[0])
                  for o in range(net.offer_item.size)]
    for ln in range(len(net.lane_from)):
        node_cols.append(live(np.concatenate([c_b + np.nonzero(net.pur_lane == ln)[0],
                                              c_y + np.nonzero(net.tr_lane == ln)[0],
                                              c_x + np.nonzero(arcs[:, 1] == ln)[0]])))
    row_scale, col_scale = equilibrate(A)
    return AggregateModel(A, col_upper, row_lower, row_upper, int(new_pos[tau]),
                          live(c_l + g), node_cols, nodes, days, rate, row_scale, col_scale)


#: HiGHS tolerances for the node LPs (on the equilibrated model; answers are certified)
TOLERANCES: dict[str, float] = {"primal_feasibility_tolerance": 1e-9,
                                "dual_feasibility_tolerance": 1e-9}

#: an option value handed to HiGHS (`time_to_survive(options=...)`)
Option = bool | int | float | str


def _highs(model: AggregateModel, options: Mapping[str, Option] | None = None
           ) -> highspy.Highs:
    """A HiGHS model of the equilibrated aggregate LP, with zero costs."""
    h = new_highs()
    for k, v in {**TOLERANCES, **(options or {})}.items():
        h.setOptionValue(k, v)
    r, c = model.row_scale, model.col_scale
    A = sp.csc_matrix(sp.diags(r) @ model.matrix @ sp.diags(c))
    n = A.shape[1]
    pass_lp(h, A, np.zeros(n), np.zeros(n), model.col_upper / c, model.row_lower * r,
            model.row_upper * r)
    return h


def _status(h: highspy.Highs) -> PlanStatus:
    """HiGHS' model status as a `PlanStatus` (a time or iteration limit: TIME_LIMIT)."""
    s = h.getModelStatus()
    if s == highspy.HighsModelStatus.kOptimal:
        return PlanStatus.OPTIMAL
    if s == highspy.HighsModelStatus.kInfeasible:
        return PlanStatus.INFEASIBLE
    if s in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kIterationLimit):
        return PlanStatus.TIME_LIMIT
    return PlanStatus.ERROR


class AggregateSolver:
    """One HiGHS model of an aggregate LP whose every answer is certified.

    Bounds and costs are set in the model's own units and handed to HiGHS scaled. A
    solve starts warm (from a given basis); an answer that `certify` does not accept on
    the unscaled model is solved again cold, and if that fails too its status says so.
    """

    def __init__(self, model: AggregateModel, options: Mapping[str, Option] | None = None
                 ) -> None:
        self.model = model
        self.h = _highs(model, options)
        n = model.matrix.shape[1]
        self.col_lo = np.zeros(n)
        self.col_hi = model.col_upper.copy()
        self.cost = np.zeros(n)
        self._weight = 1.0
        self._all = np.arange(n, dtype=np.int32)
        self._abs = sp.csc_matrix(abs(model.matrix))

    def set_bounds(self, cols: IntArray, lo: FloatArray | float, hi: FloatArray | float
                   ) -> None:
        """Column bounds in the model's units (an outage: lo = hi = 0)."""
        if not cols.size:
            return
        lo_a = np.broadcast_to(np.asarray(lo, dtype=float), cols.shape)
        hi_a = np.broadcast_to(np.asarray(hi, dtype=float), cols.shape)
        self.col_lo[cols], self.col_hi[cols] = lo_a, hi_a
        c = self.model.col_scale[cols]
        up = np.where(np.isinf(hi_a), highspy.kHighsInf, hi_a / c)
        idx = cols.astype(np.int32)
        self.h.changeColsBounds(idx.size, idx, lo_a / c, up)

    def set_cost(self, cost: FloatArray) -> None:
        """Minimize costᵀx; HiGHS gets it scaled so that its largest cost is 1."""
        self.cost = cost
        scaled = cost * self.model.col_scale
        top = float(np.max(np.abs(scaled), initial=0.0))
        self._weight = 1.0 / top if top > 0 else 1.0
        self.h.changeColsCost(self._all.size, self._all, scaled * self._weight)

    def certificate(self, floor: float) -> Certificate:
        """The last solution, unscaled and checked (`certify`)."""
        sol = self.h.getSolution()
        m = self.model
        x = np.asarray(sol.col_value, dtype=float) * m.col_scale
        y = np.asarray(sol.row_dual, dtype=float) * m.row_scale / self._weight
        return certify(m.matrix, m.row_lower, m.row_upper, self.col_lo, self.col_hi,
                       self.cost, x, y, m.col_scale, floor, abs_a=self._abs)

    def solve(self, basis: highspy.HighsBasis | None, floor: float,
              cold_if_infeasible: bool = True) -> tuple[PlanStatus, Certificate | None]:
        """Solve from `basis` (None: from where the model is); OPTIMAL only if certified."""
        if basis is not None:
            self.h.setBasis(basis)
        self.h.run()
        status = _status(self.h)
        if status is PlanStatus.OPTIMAL:
            cert = self.certificate(floor)
            if cert.ok:
                return status, cert
        elif status is PlanStatus.INFEASIBLE and not cold_if_infeasible:
            return status, None
        self.h.clearSolver()
        self.h.run()
        status = _status(self.h)
        if status is not PlanStatus.OPTIMAL:
            return status, None
        cert = self.certificate(floor)
        return (status, cert) if cert.ok else (PlanStatus.ERROR, None)


def served_rate(net: Network, options: Mapping[str, Option] | None = None) -> FloatArray:
    """Per demand group, the rate the intact network sustains with no stock (units/day).

    Raises FabnetError when the solver does not prove its answer optimal.
    """
    model = build_aggregate(net)
    s = AggregateSolver(model, options)
    n = model.matrix.shape[1]
    s.set_bounds(np.array([model.tau_col]), 0.0, 0.0)  # no stock: a steady state
    cost = np.zeros(n)
    cost[model.lost_cols] = 1.0
    s.set_cost(cost)
    status, cert = s.solve(None, max(float(model.demand_rate.sum()), 1.0))
    if cert is None:
        raise FabnetError(f"{net.scenario.name}: the steady-state demand rate LP of the "
                          f"time-to-survive model ended {status} (fix: lift the solver "
                          "limit if one was set, otherwise report this scenario)")
    sol = s.h.getSolution()
    lost = np.asarray(sol.col_value, dtype=float)[model.lost_cols] * \
        model.col_scale[model.lost_cols]
    return np.asarray(np.maximum(model.demand_rate - lost, 0.0))


@dataclass
class SweepResult:
    """TTS and PI of swept nodes (NaN where unproven) and each node's status."""

    tts: FloatArray
    pi: FloatArray
    status: list[PlanStatus]


def _sweep_nodes(model: AggregateModel, chosen: list[int], ttr: FloatArray,
                 progress: Callable[[int], None] | None = None,
                 options: Mapping[str, Option] | None = None) -> SweepResult:
    """TTS and PI of the `chosen` nodes, on one certified HiGHS model of `model`."""
    s = AggregateSolver(model, options)
    n = model.matrix.shape[1]
    lost = model.lost_cols
    tau = np.array([model.tau_col])
    nan = float("nan")
    tts, pi = np.full(len(chosen), nan), np.full(len(chosen), nan)
    status = [PlanStatus.OPTIMAL] * len(chosen)
    tau_floor = 1.0 / model.horizon_days
    rate_floor = max(float(model.demand_rate.sum()), 1.0)

    def outage(i: int, on: bool) -> None:
        cols = model.node_cols[i]
        s.set_bounds(cols, 0.0, 0.0 if on else np.inf)

    def base_basis(floor: float) -> highspy.HighsBasis | None:
        """The intact network's optimal basis: every node's LP starts from it."""
        st, _ = s.solve(None, floor)
        return s.h.getBasis() if st is PlanStatus.OPTIMAL else None

    def tts_pass() -> None:
        cost = np.zeros(n)
        cost[model.tau_col] = 1.0
        s.set_cost(cost)
        s.set_bounds(lost, 0.0, 0.0)
        s.set_bounds(tau, tau_floor, 1.0 / MIN_DAYS)

    # pass 1: TTS = 1 / least τ with no loss (infeasible: no outage survived)
    tts_pass()
    base = base_basis(tau_floor)
    for j, i in enumerate(chosen):
        outage(i, True)
        st, cert = s.solve(base, tau_floor, cold_if_infeasible=False)
        if cert is not None:
            t = 1.0 / cert.objective
            tts[j] = 0.0 if t <= 2 * MIN_DAYS else min(t, model.horizon_days)
        elif st is PlanStatus.INFEASIBLE:
            st = _no_outage_survived(s, base, rate_floor)
            tts_pass()
            if st is PlanStatus.OPTIMAL:
                tts[j] = 0.0
        status[j] = st
        outage(i, False)
        if progress:
            progress(1)
    # pass 2: PI = least loss over an outage of length TTR
    cost = np.zeros(n)
    cost[lost] = 1.0
    s.set_cost(cost)
    s.set_bounds(lost, 0.0, np.inf)
    exposed = [j for j in range(len(chosen)) if tts[j] < ttr[j] - 1e-9]
    survives = np.array([st is PlanStatus.OPTIMAL for st in status], dtype=bool)
    survives[exposed] = False
    pi[survives] = 0.0  # it survives its recovery: nothing lost
    if progress:
        progress(len(chosen) - len(exposed))
    base = base_basis(rate_floor) if exposed else None
    for j in exposed:
        outage(chosen[j], True)
        s.set_bounds(tau, 1.0 / float(ttr[j]), 1.0 / float(ttr[j]))
        st, cert = s.solve(base, rate_floor)
        if cert is not None:
            pi[j] = cert.objective * float(ttr[j])
        status[j] = st
        outage(chosen[j], False)
        if progress:
            progress(1)
    return SweepResult(tts, pi, status)


def _no_outage_survived(s: AggregateSolver, basis: highspy.HighsBasis | None,
                        floor: float) -> PlanStatus:
    """Confirm an infeasible TTS LP: even with τ at its cap some demand is lost.

    The least loss at τ = 1/MIN_DAYS, certified, must be positive; the TTS LP is the
    zero-loss slice of that LP, so it is infeasible at every τ and TTS is 0.
    """
    m = s.model
    cost = np.zeros(m.matrix.shape[1])
    cost[m.lost_cols] = 1.0
    s.set_cost(cost)
    s.set_bounds(m.lost_cols, 0.0, np.inf)
    s.set_bounds(np.array([m.tau_col]), 1.0 / MIN_DAYS, 1.0 / MIN_DAYS)
    st, cert = s.solve(None, floor)
    if cert is None:
        return st
    return PlanStatus.OPTIMAL if cert.bound > 10 * CERTIFY_TOL * floor else PlanStatus.ERROR


def _sweep_chunk(context: tuple[AggregateModel, Mapping[str, Option] | None],
                 nodes: Sequence[tuple[int, float]]) -> list[SweepResult]:
    """One chunk of a sweep on a worker: (node, TTR days) pairs, on its own HiGHS model."""
    model, options = context
    ttr = np.array([t for _, t in nodes], dtype=float)
    return [_sweep_nodes(model, [i for i, _ in nodes], ttr, options=options)]


def _value(v: float) -> float | None:
    """A swept value as reported: None where unproven, rounded to 1e-6 otherwise."""
    return None if np.isnan(v) else round(max(float(v), 0.0), 6) + 0.0


def time_to_survive(net: Network, nodes: list[str] | None = None,
                    progress: Callable[[int], None] | None = None,
                    demand_rate: FloatArray | None = None, workers: int = 1,
                    chunk: int = 64, fold: bool = True,
                    options: Mapping[str, Option] | None = None,
                    executor: Executor | None = None) -> list[NodeRisk]:
    """TTS, TTR and PI for every node (or the named ones), ranked (`rank`).

    Every TTS and PI is the aggregate LP's optimum, certified on the unscaled model; a
    node whose LP the solver did not solve to a certified optimum gets None and its
    status. With `workers` > 1 (a local pool) or an `executor` (e.g. a Dask cluster)
    the nodes are shared out in chunks of `chunk`, each worker holding its own copy of
    the model; results do not depend on the split. `fold=False` keeps every transfer
    explicit (the reduction is exact; this is for checking it). `options` go to HiGHS
    (e.g. a time limit).
    """
    rate = served_rate(net, options) if demand_rate is None else demand_rate
    wanted = None if nodes is None else set(nodes)
    lanes = [f"lane:{a}>{b}" for a, b in zip(net.lane_from, net.lane_to, strict=True)]
    keep = np.array([not fold or wanted is None or ln in wanted for ln in lanes], dtype=bool)
    model = build_aggregate(net, rate, keep)
    chosen = [i for i, (nid, _) in enumerate(model.nodes) if wanted is None or nid in wanted]
    ttr = np.array([recovery_days(net.scenario, *model.nodes[i]) for i in chosen])
    if (executor is None and workers <= 1) or len(chosen) <= chunk:
        res = _sweep_nodes(model, chosen, ttr, progress, options)
    else:
        res = SweepResult(np.zeros(len(chosen)), np.zeros(len(chosen)),
                          [PlanStatus.OPTIMAL] * len(chosen))
        parts = [list(range(k, min(k + chunk, len(chosen))))
                 for k in range(0, len(chosen), chunk)]

        def done(k: int, got: list[SweepResult]) -> None:
            part = parts[k]
            res.tts[part], res.pi[part] = got[0].tts, got[0].pi
            for j, st in zip(part, got[0].status, strict=True):
                res.status[j] = st
            if progress:
                progress(2 * len(part))

        ex = executor_for(workers) if executor is None else executor
        try:
            ex.run(_sweep_chunk, (model, options),
                   [[(chosen[j], float(ttr[j])) for j in part] for part in parts], done)
        finally:
            if executor is None:
                ex.close()
    out = [NodeRisk(model.nodes[i][0], model.nodes[i][1], _value(res.tts[j]),
                    float(ttr[j]), _value(res.pi[j]), res.status[j])
           for j, i in enumerate(chosen)]
    return rank(out)


def rank(risks: list[NodeRisk]) -> list[NodeRisk]:
    """Exposed nodes first, by PI (largest first), then by TTS (shortest first); nodes
    whose LPs failed come last, apart, by name."""
    return sorted(risks, key=lambda r: (r.failed, not r.exposed, -(r.pi or 0.0),
                                        r.tts if r.tts is not None else 0.0, r.node))
