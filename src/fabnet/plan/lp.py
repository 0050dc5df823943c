"""The planning LP, built from a `Network`'s index arrays as one sparse matrix.

Columns come in blocks laid over buckets (column = block offset + arc × T + t):
production per make pair, purchases per purchase arc (by order bucket), transfers and
deliveries per arc (by departure bucket), end-of-bucket stock per stock key, and licence
draws per (licence, cover key) by arrival bucket. Rows: stock balance per (stock key,
bucket), work-center hours, supplier shipments and lane loads per bucket, one row per
demand capping its deliveries, licence cover per (cover key, bucket) and one row per
licence capping its draws. BOM and routing entries are laid only over the buckets
their lines are in effect. Each `define_*` function adds one family of entries;
`build_lp` is the recipe.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fabnet.model.network import FloatArray, IntArray, Network
from fabnet.plan.reduce import zero_columns


@dataclass
class Block:
    """A family of rows or columns: `count` entities × `per` buckets from `offset`."""

    offset: int
    count: int
    per: int

    @property
    def size(self) -> int:
        return self.count * self.per

    def at(self, entity: npt.ArrayLike, t: npt.ArrayLike) -> IntArray:
        """Positions of (entity, bucket) pairs, broadcast."""
        return np.asarray(self.offset + np.asarray(entity) * self.per + np.asarray(t),
                          dtype=np.int64)


@dataclass
class PlanningLP:
    """The LP in column-wise sparse form, with the objective vector of each level."""

    matrix: sp.csc_matrix
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    cols: dict[str, Block]
    rows: dict[str, Block]
    delivered: FloatArray  # 1 on delivery columns that arrive inside the horizon
    lateness: FloatArray  # buckets late on delivery columns
    cost: FloatArray
    priority_of_col: IntArray  # demand priority on delivery columns, 0 elsewhere
    arrival: dict[str, IntArray] = field(default_factory=dict)  # per column block, (arc, t)
    #: production columns a work order is already making, and how much of each is firm
    firm_cols: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_qty: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: columns that carry nothing, or only cost, in every optimal plan (`plan.reduce`):
    #: the solver fixes them at zero; their bounds here stay the built ones
    zero_cols: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: due bucket of each delivery arc's demand (`plan.sift` windows deliveries by it)
    deliver_due: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def num_cols(self) -> int:
        return int(self.col_lower.size)

    @property
    def num_rows(self) -> int:
        return int(self.row_lower.size)


class _Entries:
    """Coordinate-form matrix entries collected block by block."""

    def __init__(self) -> None:
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.vals: list[FloatArray] = []

    def add(self, rows: npt.ArrayLike, cols: npt.ArrayLike, vals: npt.ArrayLike) -> None:
        r, c = np.broadcast_arrays(np.asarray(rows), np.asarray(cols))
        v = np.broadcast_to(np.asarray(vals, dtype=float), r.shape)
        self.rows.append(r.ravel())
        self.cols.append(c.ravel())
        self.vals.append(v.ravel())

    def matrix(self, shape: tuple[int, int]) -> sp.csc_matrix:
        r = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        c = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        v = np.concatenate(self.vals) if self.vals else np.zeros(0)
        return sp.csc_matrix((v, (r, c)), shape=shape)


def _key_lookup(net: Network) -> npt.NDArray[np.int64]:
    """Dense (site, item) -> stock key table, -1 where no key."""
    table = np.full((len(net.sites), len(net.items)), -1, dtype=np.int64)
    table[net.stock_site, net.stock_item] = np.arange(net.stock_site.size)
    return table


def _layout(net: Network) -> tuple[dict[str, Block], dict[str, Block]]:
    T = net.buckets
    lic = net.licence_arrays
    cols: dict[str, Block] = {}
    off = 0
    # draws come after stock: everything before stock is a flow (see plan.py)
    for name, n in (("produce", net.make_site.size), ("purchase", net.pur_offer.size),
                    ("transfer", net.tr_lane.size), ("deliver", net.del_demand.size),
                    ("stock", net.stock_site.size), ("draw", lic.draw_lic.size)):
        cols[name] = Block(off, n, T)
        off += n * T
    rows: dict[str, Block] = {}
    off = 0
    for name, n, per in (("balance", net.stock_site.size, T), ("work", net.wc_site.size, T),
                         ("supply", net.offer_item.size, T), ("lane", len(net.lane_from), T),
                         ("demand", net.demand_qty.size, 1),
                         ("cover", lic.cover_item.size, T), ("licence", len(lic.ids), 1)):
        rows[name] = Block(off, n, per)
        off += n * per
    return cols, rows


def define_production(net: Network, lp: PlanningLP, e: _Entries, key: IntArray) -> None:
    """Making q: +q into the site's stock, −q×BOM qty of each component, +q×hours of load."""
    T = net.buckets
    t = np.arange(T)
    M = net.make_site.size
    if M == 0:
        return
    col = lp.cols["produce"]
    bal, work = lp.rows["balance"], lp.rows["work"]
    m = np.arange(M)
    out_key = key[net.make_site, net.make_item]
    e.add(bal.at(out_key[:, None], t), col.at(m[:, None], t), -1.0)
    # component consumption: pair every make pair with the BOM lines of its item
    order = np.argsort(net.bom_parent, kind="stable")
    starts = np.searchsorted(net.bom_parent[order], np.arange(len(net.items) + 1))
    counts = starts[net.make_item + 1] - starts[net.make_item]
    pm = np.repeat(m, counts)
    pb = order[np.concatenate([np.arange(starts[i], starts[i + 1]) for i in net.make_item])
               if M else np.zeros(0, np.int64)].astype(np.int64)
    ck = key[net.make_site[pm], net.bom_child[pb]]
    j, tj = np.nonzero(net.bom_on[pb])  # only the buckets each line is in effect
    e.add(bal.at(ck[j], tj), col.at(pm[j], tj), net.bom_qty[pb][j])
    # work-center load (a center with no hours in a bucket stops production there)
    if net.use_make.size:
        u, tu = np.nonzero(net.use_on)
        e.add(work.at(net.use_wc[u], tu), col.at(net.use_make[u], tu), net.use_hours[u])


def define_purchases(net: Network, lp: PlanningLP, e: _Entries, key: IntArray) -> None:
    """Ordered in t, shipped in t+lead, arriving at the site in t+lead+transit."""
    T = net.buckets
    P = net.pur_offer.size
    if P == 0:
        return
    col = lp.cols["purchase"]
    p = np.arange(P)[:, None]
    t = np.arange(T)[None, :]
    lead = net.offer_lead[net.pur_offer][:, None]
    ship = t + lead
    arrive = ship + net.lane_transit[net.pur_lane][:, None]
    ok = arrive < T
    pp, tt = np.nonzero(ok)
    cidx = col.at(pp, tt)
    k = key[net.pur_site, net.offer_item[net.pur_offer]]
    e.add(lp.rows["balance"].at(k[pp], arrive[pp, tt]), cidx, -1.0)
    e.add(lp.rows["supply"].at(net.pur_offer[pp], ship[pp, tt]), cidx, 1.0)
    e.add(lp.rows["lane"].at(net.pur_lane[pp], ship[pp, tt]), cidx, 1.0)
    lp.col_upper[col.at(*np.nonzero(~ok))] = 0.0
    unit = net.offer_price[net.pur_offer] + net.lane_cost[net.pur_lane]
    lp.cost[col.at(p, t).ravel()] = np.broadcast_to(unit[:, None], (P, T)).ravel()
    lp.arrival["purchase"] = np.broadcast_to(arrive, (P, T)).copy()


def define_transfers(net: Network, lp: PlanningLP, e: _Entries, key: IntArray) -> None:
    """Leaving one site's stock in t, entering the other's in t+transit."""
    T = net.buckets
    R = net.tr_lane.size
    if R == 0:
        return
    col = lp.cols["transfer"]
    t = np.arange(T)[None, :]
    arrive = t + net.lane_transit[net.tr_lane][:, None]
    ok = arrive < T
    rr, tt = np.nonzero(ok)
    cidx = col.at(rr, tt)
    bal = lp.rows["balance"]
    e.add(bal.at(key[net.tr_from, net.tr_item][rr], tt), cidx, 1.0)
    e.add(bal.at(key[net.tr_to, net.tr_item][rr], arrive[rr, tt]), cidx, -1.0)
    e.add(lp.rows["lane"].at(net.tr_lane[rr], tt), cidx, 1.0)
    lp.col_upper[col.at(*np.nonzero(~ok))] = 0.0
    lp.cost[col.at(np.arange(R)[:, None], t).ravel()] = np.repeat(
        net.lane_cost[net.tr_lane], T)
    lp.arrival["transfer"] = np.broadcast_to(arrive, (R, T)).copy()


def define_deliveries(net: Network, lp: PlanningLP, e: _Entries, key: IntArray) -> None:
    """Leaving the site in t, arriving at the customer in t+transit, at most the demand."""
    T = net.buckets
    X = net.del_demand.size
    if X == 0:
        return
    col = lp.cols["deliver"]
    t = np.arange(T)[None, :]
    arrive = t + net.lane_transit[net.del_lane][:, None]
    ok = arrive < T
    xx, tt = np.nonzero(ok)
    cidx = col.at(xx, tt)
    d = net.del_demand
    e.add(lp.rows["balance"].at(key[net.del_site, net.demand_item[d]][xx], tt), cidx, 1.0)
    e.add(lp.rows["lane"].at(net.del_lane[xx], tt), cidx, 1.0)
    e.add(lp.rows["demand"].at(d[xx], 0), cidx, 1.0)
    # Arriving before the due bucket gains nothing over holding the units at the site and
    # shipping them to arrive on time, unless the lane's capacity or a holding cost makes
    # an early shipment worth it; those early columns are left out.
    free_lane = np.isinf(net.lane_cap[net.del_lane]).all(axis=1)
    no_hold = net.stock_holding[key[net.del_site, net.demand_item[d]]] == 0
    # (a licence may close before the due bucket: early arrivals under licence stay)
    unlicensed = net.licence_arrays.del_cover < 0
    early = (arrive < net.demand_due[d][:, None]) & (free_lane & no_hold & unlicensed)[:, None]
    lp.col_upper[col.at(*np.nonzero(~ok | early))] = 0.0
    lp.delivered[cidx] = 1.0
    lp.deliver_due = np.asarray(net.demand_due[d], dtype=np.int64)
    late = np.maximum(arrive - net.demand_due[d][:, None], 0)
    lp.lateness[cidx] = late[xx, tt]
    lp.priority_of_col[cidx] = net.demand_priority[d][xx]
    lp.cost[col.at(np.arange(X)[:, None], t).ravel()] = np.repeat(net.lane_cost[net.del_lane], T)
    lp.arrival["deliver"] = np.broadcast_to(arrive, (X, T)).copy()


def define_licences(net: Network, lp: PlanningLP, e: _Entries) -> None:
    """Deliveries to a customer under licence, per item and arrival bucket, at most the
    draws on its licences open then; each licence's draws at most its quantity.

    A customer no licence names has no cover rows: its `approved` flag alone rules.
    """
    lic = net.licence_arrays
    T = net.buckets
    K, P = lic.cover_item.size, lic.draw_lic.size
    if K == 0:
        return
    cover = lp.rows["cover"]
    lp.row_upper[cover.offset:cover.offset + cover.size] = 0.0
    xb = lp.cols["deliver"]
    if xb.count:
        arrive = lp.arrival["deliver"]
        xx, tt = np.nonzero((lic.del_cover[:, None] >= 0) & (arrive < T))
        e.add(cover.at(lic.del_cover[xx], arrive[xx, tt]), xb.at(xx, tt), 1.0)
    if P == 0:
        return
    col = lp.cols["draw"]
    p = np.arange(P)[:, None]
    t = np.arange(T)[None, :]
    e.add(cover.at(lic.draw_cover[:, None], t), col.at(p, t), -1.0)
    e.add(lp.rows["licence"].at(lic.draw_lic[:, None], 0), col.at(p, t), 1.0)
    lp.col_upper[col.at(*np.nonzero(~lic.open[lic.draw_lic]))] = 0.0
    rows = lp.rows["licence"]
    lp.row_upper[rows.offset:rows.offset + rows.size] = lic.qty


def define_stock(net: Network, lp: PlanningLP, e: _Entries) -> None:
    """End-of-bucket stock carries into the next bucket; opening stock enters bucket 0."""
    T = net.buckets
    K = net.stock_site.size
    if K == 0:
        return
    col, bal = lp.cols["stock"], lp.rows["balance"]
    k = np.arange(K)[:, None]
    t = np.arange(T)[None, :]
    e.add(bal.at(k, t), col.at(k, t), 1.0)
    t1 = np.arange(T - 1)[None, :]
    e.add(bal.at(k, t1 + 1), col.at(k, t1), -1.0)
    rows = bal.at(np.arange(K), 0)
    lp.row_lower[rows] = net.stock_open
    lp.row_upper[rows] = net.stock_open
    lp.cost[col.at(k, t).ravel()] = np.repeat(net.stock_holding, T)


def capacity_rows(net: Network, lp: PlanningLP) -> tuple[IntArray, FloatArray]:
    """Rows and upper bounds of every capacity a disruption can change.

    `net` may be a re-compiled copy of the network the LP was built from (same arcs,
    other disruptions): a what-if changes only these bounds.
    """
    idx, val = [], []
    for name, cap in (("work", net.wc_hours), ("supply", net.offer_cap),
                      ("lane", net.lane_cap)):
        block = lp.rows[name]
        idx.append(np.arange(block.offset, block.offset + block.size, dtype=np.int64))
        val.append(cap.ravel())
    return np.concatenate(idx), np.concatenate(val)


def define_firm_production(net: Network, lp: PlanningLP) -> None:
    """Production a work order is already making is a floor under that column: the plan
    makes at least the firm quantity there and then, and counts it as part of its
    production, never on top of it (model/firm_supply.py)."""
    if net.firm_make.size == 0:
        return
    cols = lp.cols["produce"].at(net.firm_make, net.firm_bucket)
    lp.col_lower[cols] = np.maximum(lp.col_lower[cols], net.firm_qty)
    # the solver first makes as much of the firm work as the network allows (a level of
    # its own), so a work order short of parts is a plan that says so, not an infeasible LP
    lp.firm_cols = np.asarray(cols, dtype=np.int64)
    lp.firm_qty = np.asarray(net.firm_qty, dtype=float)


def define_firm_purchases(net: Network, lp: PlanningLP) -> None:
    """What an open purchase order still brings is a floor under its purchase column, as
    firm production is: the plan buys only what the order does not bring, and the firm
    level gets as much of it as the supplier and lane can still carry."""
    if net.firm_pur.size == 0:
        return
    cols = lp.cols["purchase"].at(net.firm_pur, net.firm_pur_bucket)
    lp.col_lower[cols] = np.maximum(lp.col_lower[cols], net.firm_pur_qty)
    lp.firm_cols = np.concatenate([lp.firm_cols, cols]).astype(np.int64)
    lp.firm_qty = np.concatenate([lp.firm_qty, net.firm_pur_qty]).astype(float)


def define_firm_arrivals(net: Network, lp: PlanningLP) -> None:
    """Units in transit between sites enter their destination's balance in the bucket
    they arrive in, as opening stock enters bucket 0 (a fixed right-hand side)."""
    if net.firm_arrive_key.size == 0:
        return
    rows = lp.rows["balance"].at(net.firm_arrive_key, net.firm_arrive_bucket)
    np.add.at(lp.row_lower, rows, net.firm_arrive_qty)
    np.add.at(lp.row_upper, rows, net.firm_arrive_qty)


def define_capacities(net: Network, lp: PlanningLP) -> None:
    """Right-hand sides of work-center, supplier, lane and demand rows."""
    rows, cap = capacity_rows(net, lp)
    lp.row_upper[rows] = cap
    d = lp.rows["demand"]
    lp.row_upper[d.offset:d.offset + d.size] = net.demand_qty


#: the network fields the LP reads only as upper bounds of work-center, supplier, lane
#: and demand rows (`define_capacities`), apart from what kind of value each entry is
#: (zero, positive or unlimited: the early-delivery columns of `define_deliveries` look
#: at unlimited lanes): `with_bounds` sets them on a copy of an LP instead of a build
BOUND_FIELDS = ("wc_hours", "offer_cap", "lane_cap", "demand_qty")
#: the network fields the LP's build never reads (the read-back's explanations do)
UNREAD_FIELDS = ("scenario", "wc_nominal", "node_factor", "lane_disrupted_by",
                 "node_disrupted_by")


def with_bounds(lp: PlanningLP, net: Network) -> PlanningLP:
    """A copy of `lp` with the capacity and demand rows' upper bounds of `net`.

    `build_lp(net)` itself when `lp` was built from a network that differs from `net`
    only in `BOUND_FIELDS`, entry by entry of the same kind (`plan.kept` checks that),
    at a fraction of a build's time. Keep this true: a new read of a network field in
    `build_lp` or `zero_columns` goes in neither tuple above, or in `BOUND_FIELDS` only
    as a row bound set here.
    """
    out = copy.deepcopy(lp)
    define_capacities(net, out)
    return out


def build_lp(net: Network, reduce: bool = True) -> PlanningLP:
    """The whole planning LP for `net`; levels differ only in their objective vectors.

    With `reduce`, `zero_cols` lists the columns the solver may fix at zero without
    changing any level's optimum (`plan.reduce`); without it, none.
    """
    cols, rows = _layout(net)
    n = sum(b.size for b in cols.values())
    m = sum(b.size for b in rows.values())
    lp = PlanningLP(
        matrix=sp.csc_matrix((m, n)), col_lower=np.zeros(n), col_upper=np.full(n, np.inf),
        row_lower=np.full(m, -np.inf), row_upper=np.full(m, np.inf), cols=cols, rows=rows,
        delivered=np.zeros(n), lateness=np.zeros(n), cost=np.zeros(n),
        priority_of_col=np.zeros(n, dtype=np.int64),
    )
    bal = rows["balance"]
    lp.row_lower[bal.offset:bal.offset + bal.size] = 0.0
    lp.row_upper[bal.offset:bal.offset + bal.size] = 0.0
    key = _key_lookup(net)
    e = _Entries()
    define_production(net, lp, e, key)
    define_purchases(net, lp, e, key)
    define_transfers(net, lp, e, key)
    define_deliveries(net, lp, e, key)
    define_stock(net, lp, e)
    define_licences(net, lp, e)
    define_firm_production(net, lp)
    define_firm_purchases(net, lp)
    define_firm_arrivals(net, lp)
    define_capacities(net, lp)
    lp.matrix = e.matrix((m, n))
    if reduce:
        lp.zero_cols = zero_columns(net, lp)
    return lp


#: the column blocks that are flows (what a plan decides), as opposed to stock
FLOW_BLOCKS = ("produce", "purchase", "transfer", "deliver")


def flow_columns(lp: PlanningLP) -> tuple[IntArray, IntArray]:
    """Every production, purchase, transfer and delivery column, and its bucket.

    The bucket is the one the plan tables name a flow by: production's bucket, a
    purchase's order bucket, a transfer's or a delivery's departure bucket.
    """
    cols = [np.arange(b.offset, b.offset + b.size, dtype=np.int64)
            for b in (lp.cols[name] for name in FLOW_BLOCKS)]
    buckets = [np.tile(np.arange(b.per, dtype=np.int64), b.count)
               for b in (lp.cols[name] for name in FLOW_BLOCKS)]
    return np.concatenate(cols), np.concatenate(buckets)
