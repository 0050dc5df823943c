"""The `Plan`: the contract's tables and KPIs, read back from the LP's solution in bulk.

What is written must hold as written: a reader who re-derives stock from the written
flows finds it never below zero, and every capacity kept, to `REL_TOL` relative (see
docs/planner.md). The solver's answer meets its rows only to its own tolerances (about
1e-7 absolute), so the solution vector is settled once (`settle_solution`) before any
table, outcome or KPI is read from it, and the tables then carry full-precision floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fabnet.model.network import FloatArray, Network
from fabnet.plan.lp import PlanningLP
from fabnet.plan.solve import PlanResult, PlanStatus

#: a flow below this many units is solver noise (HiGHS' primal feasibility tolerance)
SNAP_TOL = 1e-7
#: the contract's tolerance: a balance or capacity may miss by this times its magnitude
REL_TOL = 1e-9
#: float round-off allowed while settling, relative to a balance's magnitude
_ROUNDOFF = 1e-12
#: after this many repair passes in one bucket, transfers out of a short stock are cut
_PASSES = 25

PLAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("site", "item", "bucket", "qty", "bucket_start", "firm"),
    "purchases": ("supplier", "site", "item", "order_bucket", "arrival_bucket", "qty",
                  "order_start", "arrival_start", "firm"),
    "transfers": ("from", "to", "item", "depart_bucket", "arrival_bucket", "qty",
                  "depart_start", "arrival_start", "firm"),
    "deliveries": ("demand", "site", "customer", "item", "depart_bucket", "arrival_bucket",
                   "qty", "depart_start", "arrival_start"),
    "stock": ("site", "item", "bucket", "qty", "bucket_start"),
    "load": ("site", "work_center", "bucket", "hours_used", "hours_available",
             "bucket_start"),
    "shortfalls": ("demand", "qty_late", "qty_lost", "reason"),
    "kpis": ("name", "value"),
}
#: the note a plan's KPIs carry when the scenario has no demand (no rate is defined)
NO_DEMAND = "no demand"


@dataclass
class Plan:
    """A plan: one list of rows per contract table, KPIs, and each bucket's start date."""

    scenario: str
    status: PlanStatus
    tables: dict[str, list[tuple[Any, ...]]]
    kpis: dict[str, float | str]
    bucket_starts: list[date]
    levels: dict[str, float] = field(default_factory=dict)
    per_demand: dict[str, FloatArray] = field(default_factory=dict)

    def rows(self, table: str) -> list[dict[str, Any]]:
        """A table as dicts keyed by the contract's column names."""
        cols = PLAN_COLUMNS[table]
        return [dict(zip(cols, r, strict=True)) for r in self.tables[table]]


# --- settling the solution -------------------------------------------------------------

def _scale_columns(x: FloatArray, rows: sp.csr_matrix, factor: FloatArray) -> None:
    """Multiply each column met by `rows` by the smallest factor of the rows it meets."""
    col_f = np.ones(x.size)
    np.minimum.at(col_f, rows.indices, np.repeat(factor, np.diff(rows.indptr)))
    x *= col_f


class ReadBack:
    """The parts of settling a solution that depend only on the LP's structure.

    Row slices of the matrix (capacity, licence and cover rows; each bucket's stock
    balance rows split into outflows and inflows): the same for every LP with the same
    columns, rows and matrix, so a kept model (`plan.kept`) builds them once and every
    re-plan of it settles without slicing the matrix again. Bounds are never kept here:
    they are read from the LP being settled.
    """

    def __init__(self, lp: PlanningLP) -> None:
        self.shape = (lp.num_rows, lp.num_cols, int(lp.matrix.nnz))
        self.layout = ({k: (b.offset, b.count, b.per) for k, b in lp.cols.items()},
                       {k: (b.offset, b.count, b.per) for k, b in lp.rows.items()})
        names = ("work", "supply", "lane", "demand")
        self.cap_lo = min(lp.rows[n].offset for n in names)
        self.cap_hi = max(lp.rows[n].offset + lp.rows[n].size for n in names)
        self.cap_rows = lp.matrix[self.cap_lo:self.cap_hi].tocsr()
        lb, cb = lp.rows["licence"], lp.rows["cover"]
        self.licence_rows = (lp.matrix[lb.offset:lb.offset + lb.size].tocsr()
                             if lb.size else None)
        self.cover: tuple[sp.csr_matrix, sp.csr_matrix] | None = None
        if cb.size:
            a = lp.matrix[cb.offset:cb.offset + cb.size].tocsr()
            self.cover = (a.maximum(0).tocsr(), (-a).maximum(0).tocsr())
        bal, sb, tb = lp.rows["balance"], lp.cols["stock"], lp.cols["transfer"]
        nf = sb.offset
        self.is_transfer = np.zeros(nf, dtype=bool)
        self.is_transfer[tb.offset:tb.offset + tb.size] = True
        #: every stock key's balance rows, bucket by bucket (bucket-major, so each
        #: bucket's keys are one slice), split into outflows and inflows
        K, T = bal.count, bal.per
        self.keys = K
        self.balance_out = self.balance_in = sp.csr_matrix((0, nf))
        self._bucket: dict[int, tuple[sp.csr_matrix, sp.csr_matrix]] = {}
        if K:
            a = lp.matrix[bal.offset:bal.offset + bal.size, :nf].tocsr()
            out_m, in_m = a.maximum(0).tocsr(), (-a).maximum(0).tocsr()
            # rows by bucket, then key (one reordering), so each bucket's are a slice
            order = (np.arange(K)[None, :] * T + np.arange(T)[:, None]).ravel()
            self.balance_out, self.balance_in = out_m[order], in_m[order]

    def bucket(self, t: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Bucket `t`'s outflow and inflow rows, one per stock key (sliced when first asked)."""
        if t not in self._bucket:
            K = self.keys
            self._bucket[t] = (self.balance_out[t * K:(t + 1) * K],
                               self.balance_in[t * K:(t + 1) * K])
        return self._bucket[t]

    def fits(self, lp: PlanningLP) -> bool:
        """Whether `lp` has the shape and layout these parts were made from."""
        return self.shape == (lp.num_rows, lp.num_cols, int(lp.matrix.nnz)) and \
            self.layout == ({k: (b.offset, b.count, b.per) for k, b in lp.cols.items()},
                            {k: (b.offset, b.count, b.per) for k, b in lp.rows.items()})


def _keep_capacities(lp: PlanningLP, x: FloatArray, rb: ReadBack) -> None:
    """Scale down the flows of every work-center, supplier, lane or demand row over its cap."""
    upper = lp.row_upper[rb.cap_lo:rb.cap_hi]
    act = rb.cap_rows @ x
    over = np.nonzero(act > upper)[0]
    if over.size:
        factor = np.where(upper[over] > 0, upper[over] / act[over], 0.0)
        _scale_columns(x, rb.cap_rows[over], np.clip(factor, 0.0, 1.0))


def _keep_licences(lp: PlanningLP, x: FloatArray, rb: ReadBack) -> None:
    """Scale down draws over a licence's quantity, then deliveries over their draws."""
    lb = lp.rows["licence"]
    if rb.licence_rows is not None:
        rows = rb.licence_rows
        act, upper = rows @ x, lp.row_upper[lb.offset:lb.offset + lb.size]
        over = np.nonzero(act > upper)[0]
        if over.size:
            factor = np.where(upper[over] > 0, upper[over] / act[over], 0.0)
            _scale_columns(x, rows[over], np.clip(factor, 0.0, 1.0))
    if rb.cover is not None:
        deliveries, draws = rb.cover
        need, have = deliveries @ x, draws @ x
        over = np.nonzero(need > have)[0]
        if over.size:
            _scale_columns(x, deliveries[over], np.clip(have[over] / need[over], 0.0, 1.0))


def _balance_stock(net: Network, lp: PlanningLP, x: FloatArray, rb: ReadBack) -> None:
    """Stock from opening + inflows − outflows, bucket by bucket; overdrawn outflows cut.

    Writes the derived stock into the stock block of `x`. Where a stock would fall below
    zero (solver residuals, noise snapped away), that bucket's outflows of the stock
    (deliveries, consumption, transfers) are scaled down to what is there; the cut
    carries forward (less made or transferred arrives less), so buckets go in order.
    """
    T = net.buckets
    bal, sb = lp.rows["balance"], lp.cols["stock"]
    K, nf = bal.count, sb.offset
    if K == 0:
        return
    is_transfer = rb.is_transfer
    flows = x[:nf]  # a view: scaling it scales x
    stock = np.zeros((K, T))
    landing = np.zeros((K, T))  # units in transit, arriving (a fixed inflow)
    np.add.at(landing, (net.firm_arrive_key, net.firm_arrive_bucket), net.firm_arrive_qty)
    prev = net.stock_open.astype(float)
    # every bucket's inflows and outflows in two products; a cut in one bucket changes
    # the flows of later ones, so they are worked out again after it
    moves: tuple[FloatArray, FloatArray] | None = None
    for t in range(T):
        if moves is None:
            moves = ((rb.balance_in @ flows).reshape(T, K),
                     (rb.balance_out @ flows).reshape(T, K))
        inflow, outflow = moves[0][t], moves[1][t]
        prev = prev + landing[:, t]
        for attempt in range(10 * _PASSES):
            level, mag = prev + inflow - outflow, prev + inflow + outflow
            short = np.nonzero(level < -_ROUNDOFF * mag)[0]
            if short.size == 0:
                break
            moves = None
            out_t, in_t = rb.bucket(t)
            have = prev[short] + inflow[short]
            rows = out_t[short]
            if attempt < _PASSES:
                factor = np.clip(have / outflow[short], 0.0, 1.0)
            else:
                # a deficit running round a loop of same-bucket transfers: cut the loop
                moving = rows.copy()
                moving.data = moving.data * is_transfer[moving.indices]
                moved = moving @ flows
                flows[rows.indices[is_transfer[rows.indices]]] = 0.0
                factor = np.clip(have / np.maximum(outflow[short] - moved, 1e-300), 0.0, 1.0)
            _scale_columns(flows, rows, factor)
            inflow, outflow = in_t @ flows, out_t @ flows
        else:
            raise RuntimeError(f"stock could not be balanced in bucket {t}")
        level[np.abs(level) <= _ROUNDOFF * mag] = 0.0
        stock[:, t] = level
        prev = level
    x[sb.offset:sb.offset + sb.size] = stock.ravel()


def settle_solution(net: Network, lp: PlanningLP, x: FloatArray,
                    readback: ReadBack | None = None) -> FloatArray:
    """The solution as it is written: noise snapped to 0, capacities kept, stock balanced.

    Flows below `SNAP_TOL` and negatives become 0, flows over a column bound or a capacity
    are scaled down to it, and stock is re-derived from the flows (see `_balance_stock`).
    The changes are of the size of the solver's tolerances. Settling a settled vector
    changes nothing. `readback` (made from an LP of the same structure) saves slicing
    the matrix; without it the parts are made here.
    """
    if readback is None:
        readback = ReadBack(lp)
    elif not readback.fits(lp):
        raise ValueError("the read-back parts were made for an LP of another structure")
    x = np.minimum(np.asarray(x, dtype=float).copy(), lp.col_upper)
    for _ in range(5):
        before = x.copy()
        x[x < SNAP_TOL] = 0.0
        _keep_capacities(lp, x, readback)
        _keep_licences(lp, x, readback)
        _balance_stock(net, lp, x, readback)
        x[x < SNAP_TOL] = 0.0  # a cut may leave a residue of noise
        if np.array_equal(x, before):
            break
    _balance_stock(net, lp, x, readback)
    return x


# --- tables ----------------------------------------------------------------------------

def _rows(*cols: Any) -> list[tuple[Any, ...]]:
    return list(zip(*cols, strict=True))


def extract_tables(net: Network, lp: PlanningLP, x: FloatArray
                   ) -> dict[str, list[tuple[Any, ...]]]:
    """Every flow, stock and load table of a settled solution, at full precision.

    Each row gives its buckets as numbers and, after the contract's first columns, the
    start date of each bucket (ISO), so a reader needs no calendar.
    """
    T = net.buckets
    items, sites = np.array(net.items, dtype=object), np.array(net.sites, dtype=object)
    day = np.array([d.isoformat() for d in net.scenario.horizon.starts()], dtype=object)
    out: dict[str, list[tuple[Any, ...]]] = {}

    def grid(name: str) -> tuple[np.ndarray, np.ndarray, list[float]]:
        b = lp.cols[name]
        v = x[b.offset:b.offset + b.size].reshape(b.count, T) if b.count else np.zeros((0, T))
        a, t = np.nonzero(v > 0)
        return a, t, v[a, t].tolist()

    a, t, q = grid("produce")
    firm = np.zeros((net.make_site.size, T))
    np.add.at(firm, (net.firm_make, net.firm_bucket), net.firm_qty)
    # the firm part of a production row is what of the work orders' quantity it makes
    # (all of it, unless the network is short of what those orders need)
    firm_part = np.minimum(firm[a, t], np.asarray(q, dtype=float))
    out["production"] = _rows(sites[net.make_site[a]], items[net.make_item[a]], t.tolist(),
                              q, day[t], firm_part.tolist())
    a, t, q = grid("purchase")
    arr = lp.arrival.get("purchase", np.zeros((0, T), dtype=np.int64))[a, t]
    sup = np.array(net.suppliers, dtype=object)
    o = net.pur_offer[a]
    firm = np.zeros((net.pur_offer.size, T))
    np.add.at(firm, (net.firm_pur, net.firm_pur_bucket), net.firm_pur_qty)
    # the firm part of a purchase row is what open purchase orders bring of it
    out["purchases"] = _rows(sup[net.offer_supplier[o]], sites[net.pur_site[a]],
                             items[net.offer_item[o]], t.tolist(), arr.tolist(), q,
                             day[t], day[arr],
                             np.minimum(firm[a, t], np.asarray(q, dtype=float)).tolist())
    a, t, q = grid("transfer")
    arr = lp.arrival.get("transfer", np.zeros((0, T), dtype=np.int64))[a, t]
    out["transfers"] = _rows(sites[net.tr_from[a]], sites[net.tr_to[a]],
                             items[net.tr_item[a]], t.tolist(), arr.tolist(), q,
                             day[t], day[arr], [0.0] * len(q))
    # units in transit when the plan starts: on their way from bucket 0, all of it firm
    k, t = net.firm_arrive_key, net.firm_arrive_bucket
    q = net.firm_arrive_qty.tolist()
    out["transfers"] += _rows(sites[net.firm_arrive_from], sites[net.stock_site[k]],
                              items[net.stock_item[k]], [0] * len(q), t.tolist(), q,
                              day[np.zeros(len(q), dtype=np.int64)], day[t], q)
    a, t, q = grid("deliver")
    arr = lp.arrival.get("deliver", np.zeros((0, T), dtype=np.int64))[a, t]
    d = net.del_demand[a]
    cust = np.array(net.customers, dtype=object)
    out["deliveries"] = _rows(np.array(net.demand_ids, dtype=object)[d], sites[net.del_site[a]],
                              cust[net.demand_customer[d]], items[net.demand_item[d]],
                              t.tolist(), arr.tolist(), q, day[t], day[arr])
    a, t, q = grid("stock")
    out["stock"] = _rows(sites[net.stock_site[a]], items[net.stock_item[a]], t.tolist(), q,
                         day[t])
    # load: hours used per work center and bucket, where any are available or used
    used = np.zeros((net.wc_site.size, T))
    if net.use_make.size:
        b = lp.cols["produce"]
        prod = x[b.offset:b.offset + b.size].reshape(b.count, T)
        np.add.at(used, net.use_wc, prod[net.use_make] * net.use_hours[:, None] * net.use_on)
    w, t = np.nonzero((net.wc_hours > 0) | (used > 0))
    out["load"] = _rows(sites[net.wc_site[w]], np.array(net.wc_type, dtype=object)[w],
                        t.tolist(), used[w, t].tolist(), net.wc_hours[w, t].tolist(), day[t])
    return out


# --- what each demand got --------------------------------------------------------------

def shortfall_tolerance(net: Network) -> float:
    """Units late or lost at or below which a demand is not short: 1e-6 + 1e-9·T·D.

    D is the units demanded in all and T the buckets. The solver holds each level's
    optimum with a slack of 1e-7 + 1e-9 × the level's value (units delivered of a class,
    at most D; unit-buckets late, at most T·D), so later levels may shift that much;
    anything above this tolerance is a real shortfall, however small.
    """
    return 1e-6 + 1e-9 * net.buckets * float(net.demand_qty.sum())


def delivered_units(net: Network, lp: PlanningLP, x: FloatArray) -> FloatArray:
    """Per demand, units the delivery columns of `x` bring it (on time or late)."""
    b = lp.cols["deliver"]
    got = np.bincount(np.repeat(net.del_demand, net.buckets),
                      weights=x[b.offset:b.offset + b.size], minlength=net.demand_qty.size)
    return got.astype(np.float64, copy=False)  # weighted: already float, no copy


def lost_units(net: Network, delivered: npt.ArrayLike) -> FloatArray:
    """Per demand, units not delivered (`delivered` per demand), 0 at or below
    `shortfall_tolerance`."""
    lost: FloatArray = np.maximum(net.demand_qty - np.asarray(delivered, dtype=float), 0.0)
    lost[lost <= shortfall_tolerance(net)] = 0.0
    return lost


def demand_outcome(net: Network, lp: PlanningLP, x: FloatArray, settled: bool = False,
                   readback: ReadBack | None = None) -> dict[str, FloatArray]:
    """Per demand: units delivered, on time, late, lost, and unit-buckets of lateness.

    Read from the solution as written (settled first, with `readback`'s parts, unless
    `settled`); late and lost units at or below `shortfall_tolerance` are 0.
    """
    if not settled:
        x = settle_solution(net, lp, x, readback)
    n = net.demand_qty.size
    b = lp.cols["deliver"]
    v = x[b.offset:b.offset + b.size]
    d = np.repeat(net.del_demand, net.buckets)
    late = lp.lateness[b.offset:b.offset + b.size]
    delivered = delivered_units(net, lp, x)
    on_time = np.bincount(d, weights=v * (late == 0), minlength=n)
    lateness = np.bincount(d, weights=v * late, minlength=n)
    tol = shortfall_tolerance(net)
    lost = lost_units(net, delivered)
    late_q = np.maximum(delivered - on_time, 0.0)
    late_q[late_q <= tol] = 0.0
    return {"delivered": delivered, "on_time": on_time, "late": late_q, "lost": lost,
            "lateness": lateness}


def compute_kpis(net: Network, lp: PlanningLP, x: FloatArray, outcome: dict[str, FloatArray]
                 ) -> dict[str, float | str]:
    """Headline figures of a settled solution: rates, units, lateness, cost by kind.

    Full precision (reports round for people). Without demand no rate is defined: the
    rates are left out and `note` says "no demand".
    """
    demanded = float(net.demand_qty.sum())
    delivered = float(outcome["delivered"].sum())
    on_time = float(outcome["on_time"].sum())
    kpis: dict[str, float | str] = {
        "units_demanded": demanded,
        "units_delivered": delivered,
        "units_on_time": on_time,
        "units_late": float(outcome["late"].sum()),
        "units_lost": float(outcome["lost"].sum()),
    }
    if demanded > 0:
        kpis["fill_rate"] = delivered / demanded
        kpis["on_time_rate"] = on_time / demanded
    else:
        kpis["note"] = NO_DEMAND
    kpis["lateness_unit_buckets"] = float(outcome["lateness"].sum())
    for p in sorted(set(net.demand_priority.tolist())):
        mask = net.demand_priority == p
        dem = float(net.demand_qty[mask].sum())
        if dem > 0:
            kpis[f"fill_rate_p{p}"] = float(outcome["delivered"][mask].sum()) / dem
    cost = {}
    for kind, block in (("purchase", "purchase"), ("transport", "transfer"),
                        ("delivery_transport", "deliver"), ("holding", "stock")):
        b = lp.cols[block]
        sl = slice(b.offset, b.offset + b.size)
        cost[kind] = float(x[sl] @ lp.cost[sl])
    b = lp.cols["purchase"]
    if b.count:
        sl = slice(b.offset, b.offset + b.size)
        lane_part = np.repeat(net.lane_cost[net.pur_lane], net.buckets)
        cost["transport"] += float(x[sl] @ lane_part)
        cost["purchase"] -= float(x[sl] @ lane_part)
    cost["transport"] += cost.pop("delivery_transport")
    kpis["cost_purchase"] = cost["purchase"]
    kpis["cost_transport"] = cost["transport"]
    kpis["cost_holding"] = cost["holding"]
    kpis["cost_total"] = cost["purchase"] + cost["transport"] + cost["holding"]
    return kpis


def assemble_plan(net: Network, lp: PlanningLP, result: PlanResult,
                  shortfalls: list[tuple[str, float, float, str]],
                  settled: FloatArray | None = None,
                  outcome: dict[str, FloatArray] | None = None) -> Plan:
    """Put tables, shortfalls and KPIs of a solved LP together into a `Plan`.

    Everything is read from the settled solution (`settled`: `result.x` already settled,
    and `outcome` its `demand_outcome`, when the caller has them); `shortfalls` gives each
    short demand's reason, and its units late and lost are those the written deliveries
    leave.
    """
    x = settle_solution(net, lp, result.x) if settled is None else settled
    tables = extract_tables(net, lp, x)
    if outcome is None or settled is None:
        outcome = demand_outcome(net, lp, x, settled=True)
    kpis = compute_kpis(net, lp, x, outcome)
    kpis["status"] = str(result.status)
    if result.reference_status is not None:  # the closest-to-reference level's outcome
        kpis["reference_status"] = str(result.reference_status)
    if result.firm_short > 1e-6:  # released work orders the network can't finish
        kpis["firm_short"] = result.firm_short
    kpis["solve_seconds"] = round(result.solve_seconds, 4)
    reason = {d: r for d, _, _, r in shortfalls}
    pos = {d: i for i, d in enumerate(net.demand_ids)}
    rows = []
    for d, _, _, r in shortfalls:
        late, lost = float(outcome["late"][pos[d]]), float(outcome["lost"][pos[d]])
        if late > 0 or lost > 0:
            rows.append((d, late, lost, r))
    for i in np.nonzero((outcome["late"] > 0) | (outcome["lost"] > 0))[0]:
        if net.demand_ids[i] not in reason:  # short only after settling: solver tolerance
            rows.append((net.demand_ids[i], float(outcome["late"][i]),
                         float(outcome["lost"][i]),
                         "solver tolerance: the solution was settled to keep stock and "
                         "capacities"))
    tables["shortfalls"] = rows
    tables["kpis"] = [(k, v) for k, v in kpis.items()]
    return Plan(net.scenario.name, result.status, tables, kpis,
                net.scenario.horizon.starts(), {lv.name: lv.objective for lv in result.levels},
                outcome)
