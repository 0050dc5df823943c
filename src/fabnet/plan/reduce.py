"""Exact reductions of the planning LP: columns fixed at zero before any solve.

Two kinds, both from the network's structure alone (arcs, BOM and routing effectivity,
lead times, transit, opening stock, units in transit; never a capacity or a demand
quantity, which what-ifs and kept models change on the built LP):

- **Columns that can carry nothing.** A stock key can hold units only from the first
  bucket anything can reach it: opening stock, units in transit, a purchase (lead time
  plus transit), a transfer from a key that holds something by then, production whose
  components in effect are all there by then. Before that bucket its stock, the
  deliveries and transfers leaving it and the production consuming it are zero in every
  feasible plan (the balance rows leave them no other value), except transfers that
  arrive in the bucket they leave, which can move units round a cycle of such keys.
- **Purchases and transfers that only cost.** Units arriving at a key after the last
  bucket anything can leave it (by transfer, delivery or production) only sit in its
  stock to the horizon's end. Not buying them saves their price and holding cost, not
  moving them the lane cost and the destination's holding cost, less the source's;
  where that saving is positive every cost-optimal plan has them at zero, and so has
  every later level's optimum (they are held at the cost optimum).

Both keep every level's optimum and every optimal plan from the cost level on; a column
with a positive lower bound (firm work) is never touched.

A third reduction, `later_deliveries_dominate`, holds at the delivery levels only (units
delivered per class; lateness and cost tell the buckets apart) and reads lane row bounds:
it is for the stress test's own model of those levels and is never part of `zero_cols`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fabnet.model.network import BoolArray, FloatArray, IntArray, Network

if TYPE_CHECKING:
    from fabnet.plan.lp import PlanningLP


def _bom_pairs(net: Network, key: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Each (make pair, BOM line) with a positive quantity, and its component's key."""
    order = np.argsort(net.bom_parent, kind="stable")
    starts = np.searchsorted(net.bom_parent[order], np.arange(len(net.items) + 1))
    counts = starts[net.make_item + 1] - starts[net.make_item]
    pm = np.repeat(np.arange(net.make_site.size), counts)
    first = np.repeat(starts[net.make_item], counts)
    within = np.arange(pm.size) - np.repeat(np.cumsum(counts) - counts, counts)
    pb = order[first + within].astype(np.int64)
    ck = key[net.make_site[pm], net.bom_child[pb]]
    ok = (net.bom_qty[pb] > 0) & (ck >= 0)
    return pm[ok], pb[ok], ck[ok]


def earliest_stock(net: Network, key: IntArray) -> IntArray:
    """First bucket each stock key can hold anything in (the horizon's length if never)."""
    T, K = net.buckets, net.stock_site.size
    first = np.full(K, T, dtype=np.int64)
    first[net.stock_open > 0] = 0
    if net.firm_arrive_key.size:
        np.minimum.at(first, net.firm_arrive_key, net.firm_arrive_bucket)
    if net.pur_offer.size:
        arrive = net.offer_lead[net.pur_offer] + net.lane_transit[net.pur_lane]
        k = key[net.pur_site, net.offer_item[net.pur_offer]]
        np.minimum.at(first, k, np.where(arrive < T, arrive, T))
    pm, pb, ck = _bom_pairs(net, key)
    out_key = key[net.make_site, net.make_item]
    tf = key[net.tr_from, net.tr_item]
    tt = key[net.tr_to, net.tr_item]
    transit = net.lane_transit[net.tr_lane]
    while True:
        before = first.copy()
        if out_key.size:
            blocked = _blocked_production(net, first, pm, pb, ck)
            start = np.where(blocked.all(axis=1), T, np.argmax(~blocked, axis=1))
            np.minimum.at(first, out_key, start)
        if tf.size:
            np.minimum.at(first, tt, np.minimum(first[tf] + transit, T))
        if np.array_equal(first, before):
            return first


def _blocked_production(net: Network, first: IntArray, pm: IntArray, pb: IntArray,
                        ck: IntArray) -> BoolArray:
    """(make pair, bucket): True where a component in effect can't be there yet."""
    T = net.buckets
    blocked = np.zeros((net.make_site.size, T), dtype=bool)
    if pm.size:
        t = np.arange(T)[None, :]
        short = net.bom_on[pb] & (t < first[ck][:, None])
        j, tj = np.nonzero(short)
        blocked[pm[j], tj] = True
    return blocked


def unusable_columns(net: Network, lp: PlanningLP) -> IntArray:
    """LP columns that are zero in every feasible plan (see the module docstring)."""
    T = net.buckets
    key = np.full((len(net.sites), len(net.items)), -1, dtype=np.int64)
    key[net.stock_site, net.stock_item] = np.arange(net.stock_site.size)
    first = earliest_stock(net, key)
    t = np.arange(T)[None, :]
    out: list[IntArray] = []
    pm, pb, ck = _bom_pairs(net, key)
    if net.make_site.size:
        m, tm = np.nonzero(_blocked_production(net, first, pm, pb, ck))
        out.append(lp.cols["produce"].at(m, tm))
    if net.tr_lane.size:
        # transfers that arrive in the bucket they leave can carry units round a cycle of
        # sites that hold nothing (a circulation): feasible, so they stay
        moves = net.lane_transit[net.tr_lane] > 0
        early = (t < first[key[net.tr_from, net.tr_item]][:, None]) & moves[:, None]
        out.append(lp.cols["transfer"].at(*np.nonzero(early)))
    if net.del_demand.size:
        src = key[net.del_site, net.demand_item[net.del_demand]]
        x, tx = np.nonzero(t < first[src][:, None])
        out.append(lp.cols["deliver"].at(x, tx))
    if net.stock_site.size:
        k, tk = np.nonzero(t < first[:, None])
        out.append(lp.cols["stock"].at(k, tk))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _last_outflow(net: Network, lp: PlanningLP, key: IntArray, open_col: BoolArray,
                  pm: IntArray, pb: IntArray, ck: IntArray) -> IntArray:
    """Last bucket anything can leave each stock key in (-1 if never), over the columns
    still open (`open_col`: upper bound above zero)."""
    T = net.buckets
    last = np.full(net.stock_site.size, -1, dtype=np.int64)
    t = np.arange(T)[None, :]

    def note(block: str, src: IntArray, on: BoolArray) -> None:
        b = lp.cols[block]
        live = on & open_col[b.offset:b.offset + b.size].reshape(b.count, T)
        np.maximum.at(last, src, np.where(live, t, -1).max(axis=1, initial=-1))

    if net.tr_lane.size:
        note("transfer", key[net.tr_from, net.tr_item], np.ones((net.tr_lane.size, T), bool))
    if net.del_demand.size:
        note("deliver", key[net.del_site, net.demand_item[net.del_demand]],
             np.ones((net.del_demand.size, T), bool))
    if pm.size:
        b = lp.cols["produce"]
        live = net.bom_on[pb] & open_col[b.at(pm[:, None], t)]
        np.maximum.at(last, ck, np.where(live, t, -1).max(axis=1, initial=-1))
    return last


def costly_idle_columns(net: Network, lp: PlanningLP, open_col: BoolArray) -> IntArray:
    """Purchases and transfers that only bring units to a key after its last outflow,
    where zeroing them lowers the cost (see the module docstring); `open_col` marks the
    columns not already fixed at zero. Transfers fixed here are outflows of their source
    key, so the search repeats until nothing more is fixed."""
    T = net.buckets
    key = np.full((len(net.sites), len(net.items)), -1, dtype=np.int64)
    key[net.stock_site, net.stock_item] = np.arange(net.stock_site.size)
    pm, pb, ck = _bom_pairs(net, key)
    open_col = open_col.copy()
    t = np.arange(T)[None, :]
    hold = net.stock_holding
    fixed: list[IntArray] = []
    while True:
        last = _last_outflow(net, lp, key, open_col, pm, pb, ck)
        new: list[IntArray] = []
        if net.pur_offer.size:
            b = lp.cols["purchase"]
            k = key[net.pur_site, net.offer_item[net.pur_offer]]
            arrive = lp.arrival["purchase"]
            price = net.offer_price[net.pur_offer] + net.lane_cost[net.pur_lane]
            saving = price[:, None] + hold[k][:, None] * (T - arrive)
            idle = (arrive > last[k][:, None]) & (saving > 0)
            new.append(b.at(*np.nonzero(idle)))
        if net.tr_lane.size:
            b = lp.cols["transfer"]
            kf, kt = key[net.tr_from, net.tr_item], key[net.tr_to, net.tr_item]
            arrive = lp.arrival["transfer"]
            saving = (net.lane_cost[net.tr_lane][:, None] + hold[kt][:, None] * (T - arrive)
                      - hold[kf][:, None] * (T - t))
            idle = (arrive > last[kt][:, None]) & (saving > 0)
            new.append(b.at(*np.nonzero(idle)))
        cols = np.concatenate(new) if new else np.zeros(0, dtype=np.int64)
        cols = cols[open_col[cols] & (lp.col_lower[cols] == 0)]
        if cols.size == 0:
            return np.concatenate(fixed) if fixed else np.zeros(0, dtype=np.int64)
        open_col[cols] = False
        fixed.append(cols)


def zero_columns(net: Network, lp: PlanningLP) -> IntArray:
    """Every column of `lp` that can carry nothing, or only costs, and is not already
    fixed at zero by its bounds: the solver may fix them at zero (sorted, unique)."""
    open_col = (lp.col_upper > 0) & (lp.col_lower == 0)
    cols = unusable_columns(net, lp)
    dead = np.zeros(lp.num_cols, dtype=bool)
    dead[cols[open_col[cols]]] = True
    idle = costly_idle_columns(net, lp, (lp.col_upper > 0) & ~dead)
    dead[idle] = True
    return np.nonzero(dead & open_col)[0].astype(np.int64)


def later_deliveries_dominate(net: Network, lp: PlanningLP, upper: FloatArray
                              ) -> tuple[IntArray, IntArray]:
    """Delivery columns that the delivery levels alone can do without, and the lane rows
    that must stay unlimited for that to hold.

    For the units-delivered levels (not lateness, not cost) a delivery of a demand on a
    lane that leaves in bucket t is worth exactly as much as the same delivery leaving in
    the last bucket whose arrival is still inside the horizon (t*): the units wait at the
    origin in stock from t to t* instead. That move stays feasible when the origin's stock
    columns from t to t* - 1 are unbounded (`upper`, the solver's bounds), the delivery
    is under no licence (cover rows count arrivals per bucket), and the lane's row in t*
    is unlimited (`upper` rows are checked by the caller per future: the second array).
    So every such earlier column can be fixed at zero without changing any delivery
    level's optimum, and an optimal dual of the smaller LP stays optimal for the whole
    one (the earlier column's reduced cost is bounded by t*'s and the stock columns').
    Returns the sorted dominated columns and, for their arcs, the lane rows in t*.
    """
    from fabnet.plan.lp import _key_lookup

    X, T = net.del_demand.size, net.buckets
    none = np.zeros(0, dtype=np.int64)
    if X == 0 or "deliver" not in lp.cols:
        return none, none
    deliver, stock = lp.cols["deliver"], lp.cols["stock"]
    key = _key_lookup(net)[net.del_site, net.demand_item[net.del_demand]]
    last = T - 1 - net.lane_transit[net.del_lane].astype(np.int64)  # t* per arc
    lane_row = lp.rows["lane"].at(net.del_lane, np.maximum(last, 0))
    arc_ok = (last >= 0) & (net.licence_arrays.del_cover < 0) & (key >= 0) \
        & np.isinf(lp.row_upper[lane_row])
    arc_ok[arc_ok] &= upper[deliver.at(np.nonzero(arc_ok)[0], last[arc_ok])] > 0
    if not arc_ok.any():
        return none, none
    # finite stock bounds per key, counted up to each bucket: none in [t, t*) lets t wait
    K = net.stock_site.size
    finite = ~np.isinf(upper[stock.offset:stock.offset + K * T].reshape(K, T))
    before = np.zeros((K, T + 1), dtype=np.int64)
    np.cumsum(finite, axis=1, out=before[:, 1:])
    xs = np.nonzero(arc_ok)[0]
    t = np.arange(T)[None, :]
    k, ls = key[xs][:, None], last[xs][:, None]
    waits = (t < ls) & (before[k, np.clip(ls, 0, T)] - before[k, t] == 0)
    cols = deliver.at(xs[:, None], t)
    dominated = waits & (upper[cols] > 0)
    used = dominated.any(axis=1)
    return np.sort(cols[dominated]).astype(np.int64), lane_row[xs[used]].astype(np.int64)
