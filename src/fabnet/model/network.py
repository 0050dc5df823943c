"""The compiled network: every engine's shared view of a scenario as index arrays.

`compile_network` reads a checked `Scenario` once and lays it out as numpy arrays:
which site can make which item (make pairs), which offers reach which site (purchase
arcs), which items may move over which lane (transfer arcs), which lanes may carry
each demand (delivery arcs), and which (site, item) pairs hold stock. Capacities come
out per bucket with ramps and disruptions already applied, so the planner only has to
lay columns over buckets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fabnet.model.errors import Issue, ScenarioError, split_issues
from fabnet.model.firm_supply import (
    FirmSupply,
    FixedProduction,
    InTransit,
    OpeningStock,
    ScheduledReceipt,
)
from fabnet.model.scenario import Disruption, Scenario
from fabnet.model.target import KnownTargets, Target, TargetKind, check_target

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Network:
    """A scenario as index arrays; item, site, supplier and customer ids map to positions."""

    scenario: Scenario
    buckets: int
    items: list[str]
    sites: list[str]
    suppliers: list[str]
    customers: list[str]
    # make pairs: site makes item (only where every routing work-center type is present)
    make_site: IntArray
    make_item: IntArray
    # bill of materials: parent item -> child item, qty per unit
    bom_parent: IntArray
    bom_child: IntArray
    bom_qty: FloatArray
    # work centers: site, type, hours per bucket after ramp and disruptions
    wc_site: IntArray
    wc_type: list[str]
    wc_hours: FloatArray  # (W, T)
    wc_nominal: FloatArray  # (W, T) before disruptions
    # routing load: make pair m uses work center w for `hours` per unit
    use_make: IntArray
    use_wc: IntArray
    use_hours: FloatArray
    # offers: supplier, item, price, lead time, capacity per departure bucket (inf = none)
    offer_supplier: IntArray
    offer_item: IntArray
    offer_price: FloatArray
    offer_lead: IntArray
    offer_cap: FloatArray  # (O, T)
    # lanes between nodes; node ids are site / supplier / customer ids
    lane_from: list[str]
    lane_to: list[str]
    lane_transit: IntArray
    lane_cost: FloatArray
    lane_cap: FloatArray  # (L, T), inf = unlimited
    # purchase arcs: offer o shipped over supplier lane l to site s
    pur_offer: IntArray
    pur_lane: IntArray
    pur_site: IntArray
    # transfer arcs: item i over site-to-site lane l
    tr_lane: IntArray
    tr_item: IntArray
    tr_from: IntArray
    tr_to: IntArray
    # delivery arcs: demand d over site-to-customer lane l from site s
    del_demand: IntArray
    del_lane: IntArray
    del_site: IntArray
    # stock keys: (site, item) pairs that can hold stock
    stock_site: IntArray
    stock_item: IntArray
    stock_open: FloatArray
    stock_holding: FloatArray
    # demand
    demand_ids: list[str]
    demand_customer: IntArray
    demand_item: IntArray
    demand_qty: FloatArray
    demand_due: IntArray
    demand_priority: IntArray
    demand_approved: BoolArray
    # disruption factor per node id and bucket, for explanations
    node_factor: dict[str, FloatArray] = field(default_factory=dict)
    lane_disrupted_by: dict[int, list[str]] = field(default_factory=dict)
    node_disrupted_by: dict[str, list[str]] = field(default_factory=dict)
    # (site, item, missing work-center types): listed in makes, made nowhere there
    unroutable: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    # effectivity: BOM line b (routing use u) is in effect in bucket t, (B, T) and (U, T)
    bom_on: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    use_on: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    # licences (docs/compliance.md): see `compile_licences`
    licences: LicenceArrays | None = None
    # firm supply (model/firm_supply.py): make pair, bucket and quantity already in work
    firm_make: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_bucket: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_qty: FloatArray = field(default_factory=lambda: np.zeros(0))
    # open purchase orders: purchase arc, order bucket and quantity still to come
    firm_pur: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_pur_bucket: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_pur_qty: FloatArray = field(default_factory=lambda: np.zeros(0))
    # units in transit between sites: origin site, stock key and bucket they arrive in, qty
    firm_arrive_from: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_arrive_key: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_arrive_bucket: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    firm_arrive_qty: FloatArray = field(default_factory=lambda: np.zeros(0))

    @property
    def licence_arrays(self) -> LicenceArrays:
        """The licence arrays (empty ones for a network compiled without licences)."""
        return self.licences or LicenceArrays.empty(len(self.customers), self.buckets,
                                                    self.del_demand.size)

    @property
    def stock_key(self) -> dict[tuple[int, int], int]:
        """Position of each (site, item) stock key."""
        return {(int(s), int(i)): k for k, (s, i) in
                enumerate(zip(self.stock_site, self.stock_item, strict=True))}


@dataclass
class LicenceArrays:
    """Export licences as arrays: which deliveries each licence may cover, and when.

    A cover key k is a (customer, item) pair of a customer under licence (one that any
    licence names); a draw pair p lets licence `draw_lic[p]` cover deliveries of cover
    key `draw_cover[p]`. Deliveries of key k arriving in bucket t are at most the draws
    of its pairs in t, and a licence's draws over the horizon at most its `qty`.
    """

    ids: list[str]
    qty: FloatArray  # (N,)
    open: BoolArray  # (N, T): counts (valid or pending) and open on every day of bucket t
    cover_customer: IntArray  # (K,)
    cover_item: IntArray  # (K,)
    draw_lic: IntArray  # (P,)
    draw_cover: IntArray  # (P,)
    del_cover: IntArray  # (X,): cover key of each delivery arc, -1 where not licensed
    customer_licensed: BoolArray  # (C,)

    @classmethod
    def empty(cls, customers: int, buckets: int, arcs: int) -> LicenceArrays:
        """No licences: every customer is ruled by its `approved` flag alone."""
        z = np.zeros(0, dtype=np.int64)
        return cls([], np.zeros(0), np.zeros((0, buckets), dtype=bool), z, z, z, z,
                   np.full(arcs, -1, dtype=np.int64), np.zeros(customers, dtype=bool))


def compile_licences(sc: Scenario, customers: list[str], items: list[str],
                     demand_customer: IntArray, demand_item: IntArray,
                     del_demand: IntArray) -> LicenceArrays:
    """Licence arrays of `sc` over its delivery arcs (see `LicenceArrays`)."""
    h, T = sc.horizon, sc.horizon.buckets
    ci, ii = _index(customers), _index(items)
    country = {c.id: c.country for c in sc.customers}
    licensed = np.zeros(len(customers), dtype=bool)
    licensed[[ci[x.customer] for x in sc.licences]] = True
    starts = h.starts()
    ends = starts[1:] + [h.end]
    lic_open = np.array([[x.status.counts and x.country == country[x.customer]
                          and x.open_over(a, b) for a, b in zip(starts, ends, strict=True)]
                         for x in sc.licences], dtype=bool).reshape(len(sc.licences), T)
    pairs = np.unique(np.stack([demand_customer, demand_item], axis=1), axis=0) \
        if demand_customer.size else np.zeros((0, 2), dtype=np.int64)
    pairs = pairs[licensed[pairs[:, 0]]]
    cover_at = {(int(c), int(i)): k for k, (c, i) in enumerate(pairs)}
    draws = [(n, cover_at[(ci[x.customer], ii[item])]) for n, x in enumerate(sc.licences)
             if lic_open[n].any() for item in x.items if (ci[x.customer], ii[item]) in cover_at]
    arc_key = np.array([cover_at.get((int(c), int(i)), -1) for c, i in
                        zip(demand_customer[del_demand], demand_item[del_demand], strict=True)],
                       dtype=np.int64)
    arr = np.asarray
    return LicenceArrays(
        ids=[x.id for x in sc.licences], qty=arr([x.qty for x in sc.licences], dtype=float),
        open=lic_open, cover_customer=pairs[:, 0].astype(np.int64),
        cover_item=pairs[:, 1].astype(np.int64),
        draw_lic=arr([d[0] for d in draws], dtype=np.int64),
        draw_cover=arr([d[1] for d in draws], dtype=np.int64),
        del_cover=arc_key, customer_licensed=licensed)


def effectivity_mask(sc: Scenario, spans: list[tuple[date | None, date | None]]) -> BoolArray:
    """(lines, T): line j is in effect in bucket t when the bucket's first day lies in its
    `from`..`until` (days included; None: open-ended)."""
    first = np.array(sc.horizon.starts(), dtype="datetime64[D]")
    lo = np.array([a or date.min for a, _ in spans], dtype="datetime64[D]")
    hi = np.array([b or date.max for _, b in spans], dtype="datetime64[D]")
    return (lo[:, None] <= first[None, :]) & (first[None, :] <= hi[:, None])


def _index(ids: list[str]) -> dict[str, int]:
    return {x: i for i, x in enumerate(ids)}


def _window(sc: Scenario, x: Disruption) -> BoolArray:
    """The buckets a disruption covers."""
    T = sc.horizon.buckets
    t0 = sc.horizon.bucket_of(x.start)
    mask = np.zeros(T, dtype=bool)
    mask[max(t0, 0):max(min(t0 + x.buckets, T), 0)] = True
    return mask


def work_center_factors(sc: Scenario, extra: tuple[Disruption, ...] = ()
                        ) -> dict[tuple[str, str], FloatArray]:
    """Capacity factor per bucket of each (site, work-center type) that a line-down (a
    disruption with a `work_center`) cuts; the rest of the site keeps its hours."""
    out: dict[tuple[str, str], FloatArray] = {}
    for x in (*sc.disruptions, *extra):
        if x.work_center is not None:
            f = out.setdefault((x.target, x.work_center), np.ones(sc.horizon.buckets))
            f[_window(sc, x)] *= x.capacity
    return out


def disruption_factors(sc: Scenario, extra: tuple[Disruption, ...] = ()
                       ) -> tuple[dict[str, FloatArray], dict[str, FloatArray],
                                  dict[str, list[str]]]:
    """Capacity factor per bucket for every node and every lane a disruption touches.

    A node's factor multiplies the factors of disruptions on the node and on its country.
    A disruption of one work center only (see `work_center_factors`) is not a node's.
    """
    h = sc.horizon
    T = h.buckets
    country = {s.id: s.country for s in sc.sites}
    country.update({v.id: v.country for v in sc.suppliers})
    country.update({c.id: c.country for c in sc.customers})
    node_f: dict[str, FloatArray] = {}
    lane_f: dict[str, FloatArray] = {}
    by: dict[str, list[str]] = defaultdict(list)
    for x in (*sc.disruptions, *extra):
        if x.work_center is not None:
            continue
        mask = _window(sc, x)
        target = Target.parse(x.target)
        if target.kind is TargetKind.LANE:
            targets, book = [target.value], lane_f
        elif target.kind is TargetKind.COUNTRY:
            targets = [n for n, c in country.items() if c == target.value]
            book = node_f
        else:
            targets, book = [target.value], node_f
        for tgt in targets:
            f = book.setdefault(tgt, np.ones(T))
            f[mask] *= x.capacity
            by[tgt].append(x.id)
    return node_f, lane_f, dict(by)


def _ramp_hours(sc: Scenario) -> tuple[list[tuple[str, str]], FloatArray]:
    h = sc.horizon
    T = h.buckets
    keys: list[tuple[str, str]] = []
    hours = np.zeros((len(sc.work_centers), T))
    for w, wc in enumerate(sc.work_centers):
        keys.append((wc.site, wc.type))
        t0 = 0 if wc.start is None else h.bucket_of(wc.start)
        row = np.full(T, wc.hours)
        row[: max(min(t0, T), 0)] = 0.0
        for j, f in enumerate(wc.ramp):
            if 0 <= t0 + j < T:
                row[t0 + j] *= f
        hours[w] = row
    return keys, hours


def compile_network(sc: Scenario, extra_disruptions: tuple[Disruption, ...] = (),
                    firm: FirmSupply | None = None) -> Network:
    """Lay a checked scenario out as index arrays (see the module docstring); `firm`
    (the floor's state) replaces opening stock and fixes production already in work."""
    from fabnet.model.consistency import check_scenario, unroutable

    errors, warnings = split_issues(check_scenario(sc))
    known = KnownTargets.of(sc)
    errors += [Issue("disruptions", x.id, "target", why.message, why.fix)
               for x in extra_disruptions if (why := check_target(x.target, known))]
    if errors:
        raise ScenarioError(errors, warnings)
    T = sc.horizon.buckets
    items = [i.id for i in sc.items]
    sites = [s.id for s in sc.sites]
    suppliers = [s.id for s in sc.suppliers]
    customers = [c.id for c in sc.customers]
    ii, si, vi, ci = _index(items), _index(sites), _index(suppliers), _index(customers)
    nI, nS = len(items), len(sites)

    node_f, lane_f, by = disruption_factors(sc, extra_disruptions)
    ones = np.ones(T)

    # work centers and routings
    wc_keys, nominal = _ramp_hours(sc)
    wc_site = np.array([si[s] for s, _ in wc_keys], dtype=np.int64)
    cut = work_center_factors(sc, extra_disruptions)
    wc_f = np.array([node_f.get(s, ones) * cut.get((s, t), ones)
                     for s, t in wc_keys]).reshape(len(wc_keys), T)
    wc_hours = nominal * wc_f
    wc_at = {k: w for w, k in enumerate(wc_keys)}
    route: dict[str, list[tuple[str, float]]] = defaultdict(list)
    route_on: dict[str, list[BoolArray]] = defaultdict(list)
    step_on = effectivity_mask(sc, [(r.start, r.until) for r in sc.routings])
    for r, on in zip(sc.routings, step_on, strict=True):
        route[r.item].append((r.work_center, r.hours))
        route_on[r.item].append(on)

    # BOM
    bom_parent = np.array([ii[b.parent] for b in sc.boms], dtype=np.int64)
    bom_child = np.array([ii[b.item] for b in sc.boms], dtype=np.int64)
    bom_qty = np.array([b.qty for b in sc.boms], dtype=float)
    need = sp.csr_matrix((np.ones(len(bom_qty)), (bom_parent, bom_child)), shape=(nI, nI))

    # candidate make pairs: site lists the item and has every routing work-center type
    cand = [(si[s.id], ii[m]) for s in sc.sites for m in s.makes
            if all((s.id, wct) in wc_at for wct, _ in route.get(m, ()))]
    can_make = np.zeros((nS, nI), dtype=bool)
    for s, i in cand:
        can_make[s, i] = True

    # offers and purchase arcs
    offer_supplier = np.array([vi[o.supplier] for o in sc.offers], dtype=np.int64)
    offer_item = np.array([ii[o.item] for o in sc.offers], dtype=np.int64)
    offer_cap = np.empty((len(sc.offers), T))
    for o, off in enumerate(sc.offers):
        f = node_f.get(off.supplier, ones)
        offer_cap[o] = _scaled_cap(off.capacity, f)
    lanes = list(sc.lanes)
    lane_transit = np.array([ln.transit for ln in lanes], dtype=np.int64)
    lane_cap = np.empty((len(lanes), T))
    lane_by: dict[int, list[str]] = {}
    for lidx, ln in enumerate(lanes):
        f = lane_f.get(ln.id, ones).copy()
        reasons = list(by.get(ln.id, []))
        if ln.destination in ci and ln.destination in node_f:
            f = f * node_f[ln.destination]
            reasons += by.get(ln.destination, [])
        lane_cap[lidx] = _scaled_cap(ln.capacity, f)
        if reasons:
            lane_by[lidx] = reasons
    offers_of: dict[int, list[int]] = defaultdict(list)
    for o, v in enumerate(offer_supplier):
        offers_of[int(v)].append(o)
    pur = [(o, lidx, si[ln.destination]) for lidx, ln in enumerate(lanes)
           if ln.origin in vi and ln.destination in si for o in offers_of[vi[ln.origin]]]
    ss_lanes = [lidx for lidx, ln in enumerate(lanes) if ln.origin in si and ln.destination in si]
    sc_lanes = [lidx for lidx, ln in enumerate(lanes) if ln.origin in si and ln.destination in ci]

    # which (site, item) can ever hold stock: a fixed point over make, buy and transfer
    have = np.zeros((nS, nI), dtype=bool)
    opening = np.zeros((nS, nI))
    for inv in sc.inventory:
        opening[si[inv.site], ii[inv.item]] += inv.qty
    if firm is not None:
        _check_firm(firm, si, ii, T)
        fs = np.array([si[x.site] for x in firm.stock], dtype=np.int64)
        fi = np.array([ii[x.item] for x in firm.stock], dtype=np.int64)
        opening[fs, fi] = np.array([x.qty for x in firm.stock], dtype=float)
    arriving = np.zeros((nS, nI), dtype=bool)  # units in transit land there
    for x in firm.in_transit if firm is not None else ():
        arriving[si[x.site], ii[x.item]] |= x.qty > 0
    have |= (opening > 0) | arriving
    for o, _, s in pur:
        have[s, offer_item[o]] = True
    ss_from = np.array([si[lanes[lidx].origin] for lidx in ss_lanes], dtype=np.int64)
    ss_to = np.array([si[lanes[lidx].destination] for lidx in ss_lanes], dtype=np.int64)
    while True:
        missing = (need @ (~have).T.astype(float)).T > 0  # (S, I): some component unavailable
        grown = have | (can_make & ~missing)
        if len(ss_lanes):
            moved = np.zeros_like(grown)
            np.logical_or.at(moved, ss_to, grown[ss_from])
            grown |= moved
        if (grown == have).all():
            break
        have = grown
    made_ok = can_make & ~((need @ (~have).T.astype(float)).T > 0)

    # which (site, item) is of use: consumed, delivered, or passed on to where it is of use
    useful = np.zeros((nS, nI), dtype=bool)
    ms, mi = np.nonzero(made_ok)
    consumes = sp.csr_matrix((np.ones(len(ms)), (ms, mi)), shape=(nS, nI)) @ need
    useful |= consumes.toarray() > 0
    dem_item = np.array([ii[d.item] for d in sc.demand], dtype=np.int64)
    dem_cust = np.array([ci[d.customer] for d in sc.demand], dtype=np.int64)
    approved = np.array([c.approved for c in sc.customers], dtype=bool)
    wanted = np.zeros((len(customers), nI), dtype=bool)
    wanted[dem_cust, dem_item] = True
    for lidx in sc_lanes:
        ln = lanes[lidx]
        if approved[ci[ln.destination]]:
            useful[si[ln.origin]] |= wanted[ci[ln.destination]]
    while len(ss_lanes):
        grown = useful.copy()
        np.logical_or.at(grown, ss_from, useful[ss_to])
        if (grown == useful).all():
            break
        useful = grown
    keep = have & useful
    keep |= (opening > 0) | arriving
    made_ok &= keep
    ms, mi = np.nonzero(made_ok)
    # a made item whose components can't be stocked at the site can't be made there
    stock_site, stock_item = np.nonzero(keep)
    key = {(int(s), int(i)): k for k, (s, i) in enumerate(zip(stock_site, stock_item,
                                                               strict=True))}
    comps_ok = np.array([all((int(s), int(c)) in key for c in need[int(i)].indices)
                         for s, i in zip(ms, mi, strict=True)], dtype=bool)
    ms, mi = ms[comps_ok], mi[comps_ok]

    use = [(m, wc_at[(sites[s], wct)], hrs, on)
           for m, (s, i) in enumerate(zip(ms, mi, strict=True))
           for (wct, hrs), on in zip(route.get(items[i], ()), route_on.get(items[i], ()),
                                     strict=True)]
    pur = [(o, lidx, s) for o, lidx, s in pur if (s, int(offer_item[o])) in key]
    tr = [(lidx, i) for lidx, s_from, s_to in zip(ss_lanes, ss_from, ss_to, strict=True)
          for i in np.nonzero(keep[s_from] & keep[s_to])[0]]
    lanes_into: dict[str, list[int]] = defaultdict(list)
    for lidx in sc_lanes:
        lanes_into[lanes[lidx].destination].append(lidx)
    dl = [(d, lidx) for d, dem in enumerate(sc.demand) if approved[dem_cust[d]]
          for lidx in lanes_into.get(dem.customer, ())
          if (si[lanes[lidx].origin], int(dem_item[d])) in key]

    holding = np.array([it.holding_cost or 0.0 for it in sc.items])
    offer_lead_of = np.array([o.lead_time for o in sc.offers], dtype=np.int64)
    arr = np.asarray
    firm_make, firm_bucket, firm_qty = _firm_production(firm, si, ii, ms, mi, nS, nI)
    receipts = firm.receipts if firm is not None else ()
    # (only with open purchase orders: a plain plan pays nothing for them)
    arc_of = {(suppliers[offer_supplier[o]], sites[s], items[offer_item[o]]): p
              for p, (o, _, s) in enumerate(pur)} if receipts else {}
    arrive_of = [int(offer_lead_of[o]) + int(lane_transit[lidx])
                 for o, lidx, _ in pur] if receipts else []
    offered = {(o.supplier, o.item) for o in sc.offers} if receipts else set()
    laned = {(ln.origin, ln.destination) for ln in lanes} if receipts else set()
    buyable = {(x.supplier, x.site, x.item) for x in receipts if x.site in si
               and (x.supplier, x.item) in offered and (x.supplier, x.site) in laned}
    firm_pur, firm_pur_bucket, firm_pur_qty = _firm_purchases(receipts, arc_of, arrive_of,
                                                              buyable, T)
    arrive_from, arrive_key, arrive_bucket, arrive_qty = _firm_arrivals(firm, si, ii, key)
    return Network(
        scenario=sc, buckets=T, items=items, sites=sites, suppliers=suppliers,
        customers=customers,
        make_site=ms.astype(np.int64), make_item=mi.astype(np.int64),
        bom_parent=bom_parent, bom_child=bom_child, bom_qty=bom_qty,
        wc_site=wc_site, wc_type=[t for _, t in wc_keys], wc_hours=wc_hours,
        wc_nominal=nominal,
        use_make=arr([u[0] for u in use], dtype=np.int64),
        use_wc=arr([u[1] for u in use], dtype=np.int64),
        use_hours=arr([u[2] for u in use], dtype=float),
        offer_supplier=offer_supplier, offer_item=offer_item,
        offer_price=arr([o.price for o in sc.offers], dtype=float),
        offer_lead=arr([o.lead_time for o in sc.offers], dtype=np.int64),
        offer_cap=offer_cap,
        lane_from=[ln.origin for ln in lanes], lane_to=[ln.destination for ln in lanes],
        lane_transit=lane_transit, lane_cost=arr([ln.cost for ln in lanes], dtype=float),
        lane_cap=lane_cap,
        pur_offer=arr([p[0] for p in pur], dtype=np.int64),
        pur_lane=arr([p[1] for p in pur], dtype=np.int64),
        pur_site=arr([p[2] for p in pur], dtype=np.int64),
        tr_lane=arr([r[0] for r in tr], dtype=np.int64),
        tr_item=arr([r[1] for r in tr], dtype=np.int64),
        tr_from=arr([si[lanes[r[0]].origin] for r in tr], dtype=np.int64),
        tr_to=arr([si[lanes[r[0]].destination] for r in tr], dtype=np.int64),
        del_demand=arr([x[0] for x in dl], dtype=np.int64),
        del_lane=arr([x[1] for x in dl], dtype=np.int64),
        del_site=arr([si[lanes[x[1]].origin] for x in dl], dtype=np.int64),
        stock_site=stock_site.astype(np.int64), stock_item=stock_item.astype(np.int64),
        stock_open=opening[stock_site, stock_item],
        stock_holding=holding[stock_item],
        demand_ids=[d.id for d in sc.demand], demand_customer=dem_cust, demand_item=dem_item,
        demand_qty=arr([d.qty for d in sc.demand], dtype=float),
        demand_due=arr([sc.horizon.bucket_of(d.due) for d in sc.demand], dtype=np.int64),
        demand_priority=arr([d.priority for d in sc.demand], dtype=np.int64),
        demand_approved=approved[dem_cust] if len(dem_cust) else np.zeros(0, dtype=bool),
        node_factor=node_f, lane_disrupted_by=lane_by, node_disrupted_by=by,
        unroutable=unroutable(sc),
        bom_on=effectivity_mask(sc, [(b.start, b.until) for b in sc.boms]),
        use_on=np.array([u[3] for u in use], dtype=bool).reshape(len(use), T),
        licences=compile_licences(sc, customers, items, dem_cust, dem_item,
                                  arr([x[0] for x in dl], dtype=np.int64)),
        firm_make=firm_make, firm_bucket=firm_bucket, firm_qty=firm_qty,
        firm_pur=firm_pur, firm_pur_bucket=firm_pur_bucket, firm_pur_qty=firm_pur_qty,
        firm_arrive_from=arrive_from, firm_arrive_key=arrive_key,
        firm_arrive_bucket=arrive_bucket, firm_arrive_qty=arrive_qty,
    )


def _check_firm(firm: FirmSupply, si: dict[str, int], ii: dict[str, int], T: int) -> None:
    """Every firm record names a site and an item of the scenario, inside the horizon."""
    bad: list[Issue] = []
    records: list[tuple[FixedProduction | OpeningStock | InTransit, str]] = [
        *((x, "production") for x in firm.production), *((x, "stock") for x in firm.stock),
        *((x, f"in transit {x.ref}") for x in firm.in_transit)]
    for rec, kind in records:
        where = f"{kind} {rec.site}/{rec.item}"
        if rec.site not in si:
            bad.append(Issue("firm_supply", where, "site", f"unknown site {rec.site!r}",
                             "the floor holds records of a site the scenario no longer has: "
                             "add the site back, or cancel its work orders and stock"))
        if rec.item not in ii:
            bad.append(Issue("firm_supply", where, "item", f"unknown item {rec.item!r}",
                             "the floor holds records of an item the scenario no longer has: "
                             "add the item back, or cancel its work orders and stock"))
        if rec.qty < 0:
            bad.append(Issue("firm_supply", where, "qty", f"must be >= 0, got {rec.qty}",
                             "firm quantities are what remains to make or is on hand"))
    for x in firm.production:
        if not 0 <= x.bucket < T:
            bad.append(Issue("firm_supply", f"production {x.site}/{x.item}", "bucket",
                             f"must be in 0..{T - 1}, got {x.bucket}",
                             "place the work order in a bucket of the horizon"))
    for y in firm.in_transit:
        if y.origin not in si:
            bad.append(Issue("firm_supply", f"in transit {y.ref}", "origin",
                             f"unknown site {y.origin!r}", "add the site back, or book the "
                             f"transfer in (`fabnet floor arrive {y.ref}`)"))
        if not 0 <= y.arrival_bucket < T:
            bad.append(Issue("firm_supply", f"in transit {y.ref}", "arrival_bucket",
                             f"must be in 0..{T - 1}, got {y.arrival_bucket}",
                             "place the arrival in a bucket of the horizon"))
    if bad:
        raise ScenarioError(bad, [])


def _firm_arrivals(firm: FirmSupply | None, si: dict[str, int], ii: dict[str, int],
                   key: dict[tuple[int, int], int]
                   ) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Units in transit as (origin site, stock key, arrival bucket, qty) arrays, one per
    record with a quantity (their destinations hold stock keys: see `arriving`)."""
    moving = [x for x in (firm.in_transit if firm is not None else ()) if x.qty > 0]
    return (np.array([si[x.origin] for x in moving], dtype=np.int64),
            np.array([key[(si[x.site], ii[x.item])] for x in moving], dtype=np.int64),
            np.array([x.arrival_bucket for x in moving], dtype=np.int64),
            np.array([x.qty for x in moving], dtype=float))


def _firm_production(firm: FirmSupply | None, si: dict[str, int], ii: dict[str, int],
                     ms: IntArray, mi: IntArray, nS: int, nI: int
                     ) -> tuple[IntArray, IntArray, FloatArray]:
    """Fixed production as (make pair, bucket, qty) arrays, summed per pair and bucket."""
    z = np.zeros(0, dtype=np.int64)
    if firm is None or not firm.production:
        return z, z.copy(), np.zeros(0)
    make_at = np.full((nS, nI), -1, dtype=np.int64)
    make_at[ms, mi] = np.arange(ms.size)
    fs = np.array([si[x.site] for x in firm.production], dtype=np.int64)
    fi = np.array([ii[x.item] for x in firm.production], dtype=np.int64)
    m = make_at[fs, fi]
    if (m < 0).any():
        raise ScenarioError([Issue(
            "firm_supply", f"production {x.site}/{x.item}", "site",
            f"{x.site} cannot make {x.item} in this scenario, but a work order makes "
            f"{x.qty:g} there", f"add {x.item} to sites[{x.site}].makes with its work "
            "centers and components, or cancel the work order")
            for x, bad in zip(firm.production, m < 0, strict=True) if bad], [])
    t = np.array([x.bucket for x in firm.production], dtype=np.int64)
    q = np.array([x.qty for x in firm.production], dtype=float)
    pairs, inv = np.unique(np.stack([m, t], axis=1), axis=0, return_inverse=True)
    qty = np.bincount(inv.ravel(), weights=q, minlength=len(pairs))
    keep = qty > 0
    return (pairs[keep, 0].astype(np.int64), pairs[keep, 1].astype(np.int64),
            qty[keep].astype(float))


def _firm_purchases(receipts: tuple[ScheduledReceipt, ...],
                    arc_of: dict[tuple[str, str, str], int], lead_transit: list[int],
                    buyable: set[tuple[str, str, str]], T: int
                    ) -> tuple[IntArray, IntArray, FloatArray]:
    """Open purchase orders as (purchase arc, order bucket, qty) arrays, summed per arc and
    bucket. An order of an item its site no longer uses (an offer and a lane, but no
    purchase arc: nothing there takes it, e.g. after an ECO removed it) brings nothing the
    plan can use and is left out; one without an offer or a lane any more, or arriving
    otherwise than its offer's lead time and lane's transit say, is an error naming the
    fix."""
    z = np.zeros(0, dtype=np.int64)
    bad: list[Issue] = []
    arcs, kept = [], []
    for x in receipts:
        p = arc_of.get((x.supplier, x.site, x.item), -1)
        where = f"purchase order {x.ref} ({x.supplier}>{x.site}/{x.item})"
        if p < 0 and (x.supplier, x.site, x.item) in buyable:
            continue
        if p < 0:
            bad.append(Issue("firm_supply", where, "supplier",
                             f"the scenario has no offer of {x.item} by {x.supplier} or no "
                             f"lane {x.supplier}>{x.site}, but {x.qty:g} are still to come "
                             "on this order",
                             f"add the offer and lane back, or cancel {x.ref} (`fabnet floor "
                             f"po cancel {x.ref}`)"))
        elif (x.order_bucket < 0 or x.arrival_bucket >= T
              or x.order_bucket + lead_transit[p] != x.arrival_bucket):
            bad.append(Issue("firm_supply", where, "arrival_bucket",
                             f"ordered in bucket {x.order_bucket}, arriving in "
                             f"{x.arrival_bucket}: lead time and transit are "
                             f"{lead_transit[p]} buckets, the horizon 0..{T - 1}",
                             "place the receipt in the horizon at order bucket + lead time "
                             "+ transit"))
        elif not x.qty >= 0:
            bad.append(Issue("firm_supply", where, "qty", f"must be >= 0, got {x.qty}",
                             "a receipt is what is still to come"))
        arcs.append(p)
        kept.append(x)
    if bad:
        raise ScenarioError(bad, [])
    if not kept:
        return z, z.copy(), np.zeros(0)
    a = np.array(arcs, dtype=np.int64)
    t = np.array([x.order_bucket for x in kept], dtype=np.int64)
    q = np.array([x.qty for x in kept], dtype=float)
    pairs, inv = np.unique(np.stack([a, t], axis=1), axis=0, return_inverse=True)
    qty = np.bincount(inv.ravel(), weights=q, minlength=len(pairs))
    keep = qty > 0
    return (pairs[keep, 0].astype(np.int64), pairs[keep, 1].astype(np.int64),
            qty[keep].astype(float))


def _scaled_cap(cap: float | None, factor: FloatArray) -> FloatArray:
    """Capacity per bucket under a disruption factor; an unlimited one closes only at 0."""
    if cap is None:
        return np.where(factor == 0.0, 0.0, np.inf)
    return cap * factor
