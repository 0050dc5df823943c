"""An independent time-to-survive / performance-impact LP, in totals form, for checking.

Built straight from a `Network`'s arrays with scipy (not with fabnet's aggregate builder)
and solved cold, one LP per node, with `scipy.optimize.linprog` (HiGHS dual simplex).
Variables are totals over an outage of length t days (Simchi-Levi et al. 2015):
production U, purchases B, transfers Y, deliveries X per (demand group, lane, site),
lost demand L per (customer, item), and t itself:

- stock: opening stock + inflow - outflow >= 0 at every (site, item);
- capacity: work-center hours, offer and lane flows <= average rate per day × t;
- demand: X + L = demand per day × t, per (customer, item) of approved demand;
- the node under study carries nothing (a site: no production; an offer: no purchases;
  a lane: nothing over it).

TTS = the largest t <= horizon with L = 0; PI = the least sum of L with t = TTR.
Every answer is checked by its own duals: the dual bound must equal the objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from fabnet.model.network import Network

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: scipy's HiGHS tolerances for the reference solves (tighter than its defaults)
OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10,
           "presolve": True}


@dataclass
class TotalsLP:
    """A_ub z <= b_ub, A_eq z = 0, z >= 0 with z = (U, B, Y, X, L, t)."""

    a_ub: sp.csr_matrix
    b_ub: Floats
    a_eq: sp.csr_matrix
    lost: Ints
    t: int
    node_cols: dict[str, Ints]
    horizon_days: float
    total_rate: float


def totals_lp(net: Network) -> TotalsLP:
    """The totals-form LP of `net` with every node up (module docstring)."""
    days = float(net.scenario.horizon.days)
    n_items = len(net.items)
    M, P, R = net.make_site.size, net.pur_offer.size, net.tr_lane.size
    ok = np.asarray(net.demand_approved, dtype=bool)
    cust_item = net.demand_customer * n_items + net.demand_item
    group_keys, group_of_ok = np.unique(cust_item[ok], return_inverse=True)
    demand_per_day = np.zeros(group_keys.size)
    np.add.at(demand_per_day, group_of_ok, net.demand_qty[ok] / days)
    group = np.full(ok.size, -1)
    group[ok] = group_of_ok
    d_ok = ok[net.del_demand]
    arc_raw = np.stack([group[net.del_demand[d_ok]], net.del_lane[d_ok], net.del_site[d_ok]])
    arcs = np.unique(arc_raw, axis=1) if arc_raw.size else np.zeros((3, 0), dtype=np.int64)
    X, G = arcs.shape[1], group_keys.size
    off_u, off_b, off_y, off_x, off_l = 0, M, M + P, M + P + R, M + P + R + X
    t_col = off_l + G
    n = t_col + 1

    # stock rows: one per (site, item) that anything touches, keyed site * items + item
    def k(site: Ints, item: Ints) -> Ints:
        return np.asarray(site * n_items + item, dtype=np.int64)

    bom = sp.csc_matrix((net.bom_qty, (net.bom_child, net.bom_parent)),
                        shape=(n_items, n_items))
    use = bom[:, net.make_item].tocoo()  # child × make pair: units used per unit made
    flows = [  # (key, column, coefficient of inflow)
        (k(net.make_site, net.make_item), off_u + np.arange(M), np.ones(M)),
        (k(net.make_site[use.col], use.row), off_u + use.col, -use.data),
        (k(net.pur_site, net.offer_item[net.pur_offer]), off_b + np.arange(P), np.ones(P)),
        (k(net.tr_to, net.tr_item), off_y + np.arange(R), np.ones(R)),
        (k(net.tr_from, net.tr_item), off_y + np.arange(R), -np.ones(R)),
        (k(arcs[2], group_keys[arcs[0]] % n_items), off_x + np.arange(X), -np.ones(X)),
    ]
    stock_key = k(net.stock_site, net.stock_item)
    keys, inv = np.unique(np.concatenate([f[0] for f in flows] + [stock_key]),
                          return_inverse=True)
    s0 = np.zeros(keys.size)
    np.add.at(s0, inv[-stock_key.size:] if stock_key.size else [], net.stock_open)
    bal_rows = inv[:-stock_key.size] if stock_key.size else inv
    rows = [bal_rows]
    cols = [np.concatenate([f[1] for f in flows])]
    vals = [-np.concatenate([f[2] for f in flows])]  # -(inflow - outflow) <= s0
    b_ub = [s0]
    nrow = keys.size

    def cap(member_rows: Ints, member_cols: Ints, coef: Floats, rate: Floats) -> None:
        """Rows sum(coef × members) - rate × t <= 0, one per finite rate."""
        nonlocal nrow
        finite = np.isfinite(rate)
        idx = np.cumsum(finite) - 1
        sel = finite[member_rows]
        rows.append(nrow + idx[member_rows[sel]])
        cols.append(member_cols[sel])
        vals.append(coef[sel])
        r_t = np.nonzero(finite)[0]
        rows.append(nrow + idx[r_t])
        cols.append(np.full(r_t.size, t_col))
        vals.append(-rate[r_t])
        b_ub.append(np.zeros(int(finite.sum())))
        nrow += int(finite.sum())

    cap(net.use_wc, off_u + net.use_make, net.use_hours, net.wc_hours.sum(axis=1) / days)
    cap(net.pur_offer, off_b + np.arange(P), np.ones(P), net.offer_cap.sum(axis=1) / days)
    lane_rows = np.concatenate([net.pur_lane, net.tr_lane, arcs[1]])
    lane_cols = np.concatenate([off_b + np.arange(P), off_y + np.arange(R),
                                off_x + np.arange(X)])
    cap(lane_rows, lane_cols, np.ones(lane_rows.size), net.lane_cap.sum(axis=1) / days)
    a_ub = sp.csr_matrix((np.concatenate(vals).astype(float),
                          (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, n))
    eq_rows = np.concatenate([arcs[0], np.arange(G), np.arange(G)])
    eq_cols = np.concatenate([off_x + np.arange(X), off_l + np.arange(G), np.full(G, t_col)])
    eq_vals = np.concatenate([np.ones(X), np.ones(G), -demand_per_day])
    a_eq = sp.csr_matrix((eq_vals, (eq_rows, eq_cols)), shape=(G, n))

    node_cols: dict[str, Ints] = {}
    for s, name in enumerate(net.sites):
        node_cols[name] = off_u + np.nonzero(net.make_site == s)[0]
    for o in range(net.offer_item.size):
        name = f"{net.suppliers[int(net.offer_supplier[o])]}/{net.items[int(net.offer_item[o])]}"
        node_cols[name] = off_b + np.nonzero(net.pur_offer == o)[0]
    for ln, (a, b) in enumerate(zip(net.lane_from, net.lane_to, strict=True)):
        node_cols[f"lane:{a}>{b}"] = lane_cols[lane_rows == ln]
    return TotalsLP(a_ub, np.concatenate(b_ub), a_eq, off_l + np.arange(G), t_col,
                    node_cols, days, float(demand_per_day.sum()))


def _solve(a_ub: sp.csr_matrix, b_ub: Floats, a_eq: sp.csr_matrix, b_eq: Floats,
           cost: Floats, upper: Floats, scale: float) -> float:
    """Solve cold; check the optimum against the dual bound of scipy's marginals."""
    bounds = np.stack([np.zeros(upper.size), upper], axis=1)
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds,
                  method="highs-ds", options=OPTIONS)
    assert res.status == 0, f"reference LP: {res.message}"
    # the dual bound of any y_ub <= 0, y_eq: y'b + sum over columns of min(d_j x_j)
    y_ub = np.minimum(res.ineqlin.marginals, 0.0)
    y_eq = res.eqlin.marginals
    d = cost - a_ub.T @ y_ub - a_eq.T @ y_eq
    noise = 1e3 * np.finfo(float).eps * (np.abs(cost) + abs(a_ub).T @ np.abs(y_ub)
                                         + abs(a_eq).T @ np.abs(y_eq))
    neg = d < -noise  # round-off on basic columns is no dual infeasibility
    bound = float(y_ub @ b_ub) + float(y_eq @ b_eq) + float((d[neg] * upper[neg]).sum())
    assert abs(float(res.fun) - bound) <= 1e-7 * max(1.0, scale), (res.fun, bound)
    return float(res.fun)


def reference_tts_pi(lp: TotalsLP, node: str, ttr: float) -> tuple[float, float]:
    """(TTS, PI) of `node` down, each from its own cold solve."""
    n = lp.a_ub.shape[1]
    upper = np.full(n, np.inf)
    upper[lp.node_cols[node]] = 0.0
    no_eq = np.zeros(lp.a_eq.shape[0])
    # TTS: maximize t <= horizon with nothing lost
    tts_upper = upper.copy()
    tts_upper[lp.lost] = 0.0
    tts_upper[lp.t] = lp.horizon_days
    cost = np.zeros(n)
    cost[lp.t] = -1.0
    tts = -_solve(lp.a_ub, lp.b_ub, lp.a_eq, no_eq, cost, tts_upper, lp.horizon_days)
    # PI: least loss with t = TTR, substituted so every column keeps a zero lower bound
    keep = np.arange(n) != lp.t
    t_ub = lp.a_ub[:, [lp.t]].toarray().ravel()
    t_eq = lp.a_eq[:, [lp.t]].toarray().ravel()
    cost = np.zeros(n)
    cost[lp.lost] = 1.0
    pi = _solve(lp.a_ub[:, keep], lp.b_ub - ttr * t_ub, lp.a_eq[:, keep], -ttr * t_eq,
                cost[keep], upper[keep], lp.total_rate * ttr)
    return tts, pi
