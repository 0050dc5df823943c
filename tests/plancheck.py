"""An independent check of a written plan against DESIGN.md's contract, and a reference LP.

`check_plan(scenario, out_dir)` reads the plan as `fabnet plan` writes it (one CSV per
table plus `plan.json`), and nothing else of it, and re-derives everything from the
scenario's records alone:
stock from opening inventory and flows, work-center hours from hours × ramp ×
disruption factors, supplier and lane capacities, arrivals from lead times and
transits, delivered / late / lost units per demand and the KPIs. It imports nothing
of the planner (`fabnet.plan`, `fabnet.model.network`), so a planner bug can't hide
in a shared helper. It returns one line per violation; an empty list means valid.

The contract holds as written, to `REL_TOL` relative: each stock balance (stock at the
end of the bucket before + inflows − outflows = stock at the end of the bucket) to
`REL_TOL` × the sum of the magnitudes of its terms, every stock at least −`REL_TOL` × that
sum, and every capacity (hours, supplier, lane, demand quantity) to `REL_TOL` × the
capacity (a capacity of 0 allows nothing). A demand is short only by more than
`shortfall_tolerance` units (1e-6 + 1e-9 × buckets × units demanded in all), and then
the shortfalls table must say how much.

`reference_levels(scenario)` solves the same planning problem with an LP written
here from scratch, one variable at a time, with `scipy.optimize.linprog`: the units
delivered per priority class (class by class), then the lateness, then the cost.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from fabnet.model.scenario import Scenario

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
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
#: the column giving the start date of each bucket column
DATE_OF = {"bucket": "bucket_start", "order_bucket": "order_start",
           "depart_bucket": "depart_start", "arrival_bucket": "arrival_start"}
INT_COLUMNS = {"bucket", "order_bucket", "arrival_bucket", "depart_bucket"}
FLOAT_COLUMNS = {"qty", "hours_used", "hours_available", "qty_late", "qty_lost", "firm"}
BUCKET_COLUMNS = {
    "production": ("bucket",), "purchases": ("order_bucket", "arrival_bucket"),
    "transfers": ("depart_bucket", "arrival_bucket"),
    "deliveries": ("depart_bucket", "arrival_bucket"), "stock": ("bucket",),
    "load": ("bucket",),
}
#: the contract's relative tolerance on balances and capacities (see the module docstring)
REL_TOL = 1e-9


def shortfall_tolerance(sc: Scenario) -> float:
    """Units late or lost at or below which a demand is not short (docs/planner.md)."""
    return 1e-6 + 1e-9 * sc.horizon.buckets * sum(d.qty for d in sc.demand)


def _over(used: float, cap: float) -> bool:
    """`used` exceeds capacity `cap` by more than `REL_TOL` relative (0 allows nothing)."""
    return used > cap + REL_TOL * cap


def _differ(a: float, b: float, scale: float = 0.0) -> bool:
    """`a` and `b` differ by more than `REL_TOL` × the larger of them and `scale`."""
    return abs(a - b) > REL_TOL * max(abs(a), abs(b), scale)


# --- reading the plan as written -------------------------------------------------------

@dataclass
class WrittenPlan:
    """A plan read back from its folder: typed table rows, KPIs and bucket start dates."""

    tables: dict[str, list[dict[str, Any]]]
    kpis: dict[str, Any]
    bucket_starts: list[str]
    problems: list[str] = field(default_factory=list)

    def total(self, table: str, **match: Any) -> float:
        """Sum of `qty` over the rows of `table` whose columns equal `match`."""
        return sum(r["qty"] for r in self.tables[table]
                   if all(r[k] == v for k, v in match.items()))


def _typed(table: str, row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k in INT_COLUMNS:
            out[k] = int(v)
        elif k in FLOAT_COLUMNS:
            out[k] = float(v)
        elif table == "kpis" and k == "value":
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
        else:
            out[k] = v
    return out


def read_plan(out: str | Path) -> WrittenPlan:
    """Read every contract table from its CSV, and KPIs and buckets from `plan.json`.

    Differences between the CSV files and `plan.json` are recorded in `problems`.
    """
    out = Path(out)
    problems: list[str] = []
    tables: dict[str, list[dict[str, Any]]] = {}
    for name, cols in TABLE_COLUMNS.items():
        path = out / f"{name}.csv"
        if not path.exists():
            problems.append(f"{name}.csv: missing")
            tables[name] = []
            continue
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != cols:
                problems.append(f"{name}.csv: columns {reader.fieldnames}, expected {list(cols)}")
            tables[name] = [_typed(name, r) for r in reader]
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    for name in TABLE_COLUMNS:
        rows = doc.get("tables", {}).get(name)
        if rows is None:
            problems.append(f"plan.json: table {name} missing")
            continue
        if len(rows) != len(tables[name]):
            problems.append(f"plan.json: table {name} has {len(rows)} rows, "
                            f"{name}.csv has {len(tables[name])}")
            continue
        for i, (a, b) in enumerate(zip(rows, tables[name], strict=True)):
            for k, v in b.items():
                w = a.get(k)
                same = (math.isclose(float(w), float(v), rel_tol=1e-9, abs_tol=1e-9)
                        if isinstance(v, int | float) and isinstance(w, int | float)
                        else str(w) == str(v))
                if not same:
                    problems.append(f"plan.json: {name}[{i}].{k} = {w!r}, CSV has {v!r}")
    kpis = dict(doc.get("kpis", {}))
    starts = [b["start"] for b in doc.get("buckets", [])]
    return WrittenPlan(tables, kpis, starts, problems)


# --- the contract's quantities, derived from the scenario alone --------------------------

def bucket_start(sc: Scenario, t: int) -> date:
    """First day of bucket `t`."""
    h = sc.horizon
    kind = str(h.bucket)
    if kind == "day":
        return h.start + timedelta(days=t)
    if kind == "week":
        return h.start + timedelta(days=7 * t)
    if t == 0:
        return h.start
    m = h.start.month - 1 + t
    return date(h.start.year + m // 12, m % 12 + 1, 1)


def bucket_of(sc: Scenario, d: date) -> int:
    """Bucket containing `d` (negative before the horizon)."""
    h = sc.horizon
    kind = str(h.bucket)
    if kind == "day":
        return (d - h.start).days
    if kind == "week":
        return (d - h.start).days // 7
    months = (d.year - h.start.year) * 12 + d.month - h.start.month
    return months if d >= h.start else min(months, -1)


class Contract:
    """Capacities, transits and allowed flows of a scenario, bucket by bucket."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        T = self.T = sc.horizon.buckets
        self.site_ids = [s.id for s in sc.sites]
        self.sites = {s.id: s for s in sc.sites}
        self.suppliers = {v.id: v for v in sc.suppliers}
        self.customers = {c.id: c for c in sc.customers}
        self.items = [i.id for i in sc.items]
        self.country = {n.id: n.country for n in (*sc.sites, *sc.suppliers)}
        self.lanes = {(ln.origin, ln.destination): ln for ln in sc.lanes}
        self.offers = {(o.supplier, o.item): o for o in sc.offers}
        self.demand = {d.id: d for d in sc.demand}
        self.due = {d.id: bucket_of(sc, d.due) for d in sc.demand}
        # BOM lines and routing steps with their effectivity (None: always)
        self.bom_lines: dict[str, list[tuple[str, float, date | None, date | None]]] = \
            defaultdict(list)
        for b in sc.boms:
            self.bom_lines[b.parent].append((b.item, b.qty, b.start, b.until))
        self.steps: dict[str, list[tuple[str, float, date | None, date | None]]] = \
            defaultdict(list)
        for r in sc.routings:
            self.steps[r.item].append((r.work_center, r.hours, r.start, r.until))
        self.routing: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for item, steps in self.steps.items():
            self.routing[item] = [(wct, h) for wct, h, _, _ in steps]
        self.wc_hours: dict[tuple[str, str], list[float]] = {}
        for w in sc.work_centers:
            t0 = 0 if w.start is None else bucket_of(sc, w.start)
            hours = []
            for t in range(T):
                if t < t0:
                    hours.append(0.0)
                    continue
                ramp = w.ramp[t - t0] if t - t0 < len(w.ramp) else 1.0
                hours.append(w.hours * ramp * self.node_factor(w.site, t))
            self.wc_hours[(w.site, w.type)] = hours
        self.opening: dict[tuple[str, str], float] = defaultdict(float)
        for inv in sc.inventory:
            self.opening[(inv.site, inv.item)] += inv.qty
        self.short_tol = shortfall_tolerance(sc)

    def _effective(self, lines: list[tuple[str, float, date | None, date | None]], t: int
                   ) -> list[tuple[str, float]]:
        """The lines in effect in bucket `t`: its first day within from..until."""
        day = bucket_start(self.sc, t)
        return [(x, q) for x, q, a, b in lines
                if (a is None or a <= day) and (b is None or day <= b)]

    def bom_at(self, item: str, t: int) -> list[tuple[str, float]]:
        """(component, qty per unit) of `item` made in bucket `t`."""
        return self._effective(self.bom_lines.get(item, []), t)

    def routing_at(self, item: str, t: int) -> list[tuple[str, float]]:
        """(work-center type, hours per unit) of `item` made in bucket `t`."""
        return self._effective(self.steps.get(item, []), t)

    def licences_open(self, customer: str, item: str, t: int) -> list[Any]:
        """The licences that may cover `item` arriving at `customer` in bucket `t`: valid
        or pending, for the customer's country, open on every day of the bucket."""
        cust = self.customers[customer]
        first = bucket_start(self.sc, t)
        last = bucket_start(self.sc, t + 1) - timedelta(days=1)
        return [x for x in self.sc.licences
                if x.customer == customer and item in x.items and x.country == cust.country
                and str(x.status) in ("valid", "pending") and x.start <= first
                and last <= x.until]

    def counted(self, short: float) -> float:
        """Units late or lost as the plan must report them: 0 up to the tolerance."""
        return short if short > self.short_tol else 0.0

    def _covers(self, start: date, buckets: int, t: int) -> bool:
        t0 = bucket_of(self.sc, start)
        return t0 <= t < t0 + buckets

    def node_factor(self, node: str, t: int) -> float:
        """Product of the factors of disruptions on `node` or its country covering `t`."""
        f = 1.0
        for x in self.sc.disruptions:
            hit = x.target == node or (node in self.country
                                       and x.target == f"country:{self.country[node]}")
            if hit and self._covers(x.start, x.buckets, t):
                f *= x.capacity
        return f

    def lane_factor(self, origin: str, destination: str, t: int) -> float:
        """Product of the factors of `lane:A>B` disruptions covering `t`."""
        f = 1.0
        for x in self.sc.disruptions:
            if x.target == f"lane:{origin}>{destination}" and self._covers(x.start, x.buckets, t):
                f *= x.capacity
        return f

    def can_make(self, site: str, item: str) -> bool:
        """The site lists the item in `makes` and has every work-center type of its routing."""
        s = self.sites.get(site)
        return (s is not None and item in s.makes
                and all((site, wct) in self.wc_hours for wct, _ in self.routing[item]))

    def offer_capacity(self, supplier: str, item: str, t: int) -> float:
        """Units the supplier may ship of `item` in departure bucket `t`."""
        cap = self.offers[(supplier, item)].capacity
        f = self.node_factor(supplier, t)
        return (math.inf if f > 0 else 0.0) if cap is None else cap * f

    def lane_capacity(self, origin: str, destination: str, t: int) -> float:
        """Units the lane may carry in departure bucket `t`.

        Only `lane:A>B` disruptions count: the contract does not say what a disruption of
        a customer does, so a planner that also closes the lanes into it is not flagged.
        """
        cap = self.lanes[(origin, destination)].capacity
        f = self.lane_factor(origin, destination, t)
        return (math.inf if f > 0 else 0.0) if cap is None else cap * f


# --- the checker ----------------------------------------------------------------------

def _add(d: dict[Any, float], key: Any, q: float) -> None:
    d[key] = d.get(key, 0.0) + q


def check_plan(sc: Scenario, out: str | Path) -> list[str]:
    """Every way the plan in folder `out` breaks the contract for `sc` (empty: valid)."""
    plan = read_plan(out)
    return plan.problems + check_tables(sc, plan)


def check_tables(sc: Scenario, plan: WrittenPlan) -> list[str]:
    """Every contract violation of a plan already read back (see `check_plan`)."""
    c = Contract(sc)
    T = c.T
    bad: list[str] = []
    tb = plan.tables

    # buckets, their dates and signs
    want_starts = [bucket_start(sc, t).isoformat() for t in range(T)]
    if plan.bucket_starts != want_starts:
        bad.append(f"plan.json buckets: {plan.bucket_starts}, expected {want_starts}")
    for name, cols in BUCKET_COLUMNS.items():
        for i, r in enumerate(tb[name]):
            for col in cols:
                if not 0 <= r[col] < T:
                    bad.append(f"{name}[{i}].{col} = {r[col]} outside 0..{T - 1}")
                elif str(r.get(DATE_OF[col])) != want_starts[r[col]]:
                    bad.append(f"{name}[{i}].{DATE_OF[col]} = {r.get(DATE_OF[col])}, bucket "
                               f"{r[col]} starts {want_starts[r[col]]}")
    for name in ("production", "purchases", "transfers", "deliveries", "stock"):
        for i, r in enumerate(tb[name]):
            if not math.isfinite(r["qty"]) or r["qty"] < 0:
                bad.append(f"{name}[{i}].qty = {r['qty']} is negative or not finite")

    inflow: dict[tuple[str, str, int], float] = {}
    outflow: dict[tuple[str, str, int], float] = {}
    lane_load: dict[tuple[str, str, int], float] = {}
    hours_used: dict[tuple[str, str, int], float] = {}
    keys: set[tuple[str, str]] = set(c.opening)

    # production: where it may happen, what it consumes, what hours it takes
    for i, r in enumerate(tb["production"]):
        s, item, t, q = r["site"], r["item"], r["bucket"], r["qty"]
        firm = r.get("firm", 0.0)  # plans written before firm supply have none
        if not 0 <= firm or _over(firm, q):
            bad.append(f"production[{i}].firm = {firm!r}: the firm part of {q!r} "
                       "units must be between 0 and the quantity")
        if not c.can_make(s, item):
            bad.append(f"production[{i}]: {s} makes {item}, but it does not list it in makes "
                       "or lacks a work center of its routing")
        _add(inflow, (s, item, t), q)
        keys.add((s, item))
        for comp, per in c.bom_at(item, t):
            _add(outflow, (s, comp, t), q * per)
            keys.add((s, comp))
        for wct, h in c.routing_at(item, t):
            _add(hours_used, (s, wct, t), q * h)

    for (s, wct, t), used in sorted(hours_used.items()):
        avail = c.wc_hours.get((s, wct), [0.0] * T)[t] if 0 <= t < T else 0.0
        if _over(used, avail):
            bad.append(f"work center {s}/{wct} bucket {t}: {used!r} hours used, "
                       f"{avail!r} available (hours x ramp x disruptions)")
    load_rows = {(r["site"], r["work_center"], r["bucket"]): r for r in tb["load"]}
    for (s, wct, t), r in load_rows.items():
        avail = c.wc_hours.get((s, wct), [0.0] * T)[t] if 0 <= t < T else 0.0
        if _differ(r["hours_available"], avail):
            bad.append(f"load {s}/{wct} bucket {t}: hours_available {r['hours_available']}, "
                       f"expected {avail!r}")
        need = hours_used.get((s, wct, t), 0.0)
        if _differ(r["hours_used"], need):
            bad.append(f"load {s}/{wct} bucket {t}: hours_used {r['hours_used']}, production "
                       f"needs {need!r}")
    for (s, wct, t), used in hours_used.items():
        if used > 0 and (s, wct, t) not in load_rows:
            bad.append(f"load {s}/{wct} bucket {t}: missing, production uses {used!r} hours")

    # purchases: an offer, a lane, arrival = order + lead time + transit, supplier capacity
    shipped: dict[tuple[str, str, int], float] = {}
    for i, r in enumerate(tb["purchases"]):
        v, s, item, t, a, q = (r["supplier"], r["site"], r["item"], r["order_bucket"],
                               r["arrival_bucket"], r["qty"])
        firm = r.get("firm", 0.0)  # plans written before purchase orders have none
        if not 0 <= firm or _over(firm, q):
            bad.append(f"purchases[{i}].firm = {firm!r}: the firm part of {q!r} "
                       "units must be between 0 and the quantity")
        off, lane = c.offers.get((v, item)), c.lanes.get((v, s))
        if off is None or lane is None or s not in c.sites:
            bad.append(f"purchases[{i}]: no offer of {item} by {v} or no lane {v}>{s}")
            continue
        dep = t + off.lead_time
        if a != dep + lane.transit:
            bad.append(f"purchases[{i}]: arrival {a}, expected order {t} + lead time "
                       f"{off.lead_time} + transit {lane.transit} = {dep + lane.transit}")
        _add(shipped, (v, item, dep), q)
        _add(lane_load, (v, s, dep), q)
        _add(inflow, (s, item, a), q)
        keys.add((s, item))
    for (v, item, dep), q in sorted(shipped.items()):
        cap = c.offer_capacity(v, item, dep) if dep < T else 0.0
        if _over(q, cap):
            bad.append(f"supplier {v} ships {q!r} of {item} in bucket {dep}, capacity "
                       f"x disruptions allows {cap!r}")

    # transfers
    for i, r in enumerate(tb["transfers"]):
        a_, b_, item, t, a, q = (r["from"], r["to"], r["item"], r["depart_bucket"],
                                 r["arrival_bucket"], r["qty"])
        firm = r.get("firm", 0.0)  # plans written before transfers in transit have none
        if firm > 0:  # units in transit when the plan starts: they only arrive
            if _differ(firm, q) or t != 0 or b_ not in c.sites:
                bad.append(f"transfers[{i}]: in transit ({firm!r} of {q!r} firm) must be "
                           "all firm, depart in bucket 0 and arrive at a site")
            _add(inflow, (b_, item, a), q)
            keys.add((b_, item))
            continue
        lane = c.lanes.get((a_, b_))
        if lane is None or a_ not in c.sites or b_ not in c.sites:
            bad.append(f"transfers[{i}]: no site-to-site lane {a_}>{b_}")
            continue
        if a != t + lane.transit:
            bad.append(f"transfers[{i}]: arrival {a}, expected {t} + transit {lane.transit}")
        _add(lane_load, (a_, b_, t), q)
        _add(outflow, (a_, item, t), q)
        _add(inflow, (b_, item, a), q)
        keys |= {(a_, item), (b_, item)}

    # deliveries
    delivered: dict[str, float] = defaultdict(float)
    on_time: dict[str, float] = defaultdict(float)
    lateness = 0.0
    for i, r in enumerate(tb["deliveries"]):
        did, s, cust, item, t, a, q = (r["demand"], r["site"], r["customer"], r["item"],
                                       r["depart_bucket"], r["arrival_bucket"], r["qty"])
        d = c.demand.get(did)
        if d is None:
            bad.append(f"deliveries[{i}]: unknown demand {did}")
            continue
        if cust != d.customer or item != d.item:
            bad.append(f"deliveries[{i}]: {item} to {cust}, demand {did} is {d.item} "
                       f"for {d.customer}")
        if not c.customers[d.customer].approved and q > 0:
            bad.append(f"deliveries[{i}]: {q} units to customer {d.customer}, "
                       "which is not approved")
        lane = c.lanes.get((s, d.customer))
        if lane is None or s not in c.sites:
            bad.append(f"deliveries[{i}]: no lane {s}>{d.customer}")
            continue
        if a != t + lane.transit:
            bad.append(f"deliveries[{i}]: arrival {a}, expected {t} + transit {lane.transit}")
        _add(lane_load, (s, d.customer, t), q)
        _add(outflow, (s, d.item, t), q)
        keys.add((s, d.item))
        delivered[did] += q
        if a <= c.due[did]:
            on_time[did] += q
        lateness += q * max(0, a - c.due[did])

    bad += _check_licences(c, tb["deliveries"])

    for (o, dst, t), q in sorted(lane_load.items()):
        cap = c.lane_capacity(o, dst, t) if 0 <= t < T else 0.0
        if _over(q, cap):
            bad.append(f"lane {o}>{dst} carries {q!r} departing in bucket {t}, capacity "
                       f"x disruptions allows {cap!r}")

    # stock: opening + in − out, bucket by bucket, never below zero, equal to the table;
    # each balance to REL_TOL × the sum of its terms' magnitudes
    stock_tab: dict[tuple[str, str, int], float] = {}
    for r in tb["stock"]:
        if r["site"] not in c.sites:
            bad.append(f"stock at {r['site']}, which is not a site")
        stock_tab[(r["site"], r["item"], r["bucket"])] = r["qty"]
        keys.add((r["site"], r["item"]))
    for s, item in sorted(keys):
        level = c.opening.get((s, item), 0.0)
        moved = abs(level)  # magnitude of everything that went into `level`
        prev_tab = level
        for t in range(T):
            got, gone = inflow.get((s, item, t), 0.0), outflow.get((s, item, t), 0.0)
            level += got - gone
            moved += got + gone
            tab = stock_tab.get((s, item, t), 0.0)
            mag = abs(prev_tab) + got + gone
            if level < -REL_TOL * moved:
                bad.append(f"stock {s}/{item} bucket {t}: {level!r} < 0 "
                           "(opening + arrivals + production - consumption - shipments)")
            if tab < -REL_TOL * mag:
                bad.append(f"stock {s}/{item} bucket {t}: {tab} < 0")
            if abs(prev_tab + got - gone - tab) > REL_TOL * mag:
                bad.append(f"stock {s}/{item} bucket {t}: table says {tab}, balance gives "
                           f"{prev_tab + got - gone!r} (from {prev_tab} at the end of bucket "
                           f"{t - 1})")
            prev_tab = tab
    for (s, item, t), q in stock_tab.items():
        if (s, item) not in keys or not 0 <= t < T:
            bad.append(f"stock {s}/{item} bucket {t}: {q} has no balance")

    # demands: at most qty delivered; shortfalls = late and lost units beyond the
    # shortfall tolerance, each with a reason, and no row for a demand that is not short
    short = {}
    for i, r in enumerate(tb["shortfalls"]):
        if r["demand"] in short:
            bad.append(f"shortfalls[{i}]: demand {r['demand']} listed twice")
        short[r["demand"]] = r
        if r["demand"] not in c.demand:
            bad.append(f"shortfalls[{i}]: unknown demand {r['demand']}")
        if not str(r["reason"]).strip():
            bad.append(f"shortfalls[{i}]: demand {r['demand']} has no reason")
        if r["qty_late"] <= 0 and r["qty_lost"] <= 0:
            bad.append(f"shortfalls[{i}]: demand {r['demand']} is listed but neither late "
                       "nor lost")
    for d in sc.demand:
        got = delivered.get(d.id, 0.0)
        if _over(got, d.qty):
            bad.append(f"demand {d.id}: {got!r} delivered, only {d.qty} ordered")
        lost, late = c.counted(max(d.qty - got, 0.0)), c.counted(got - on_time.get(d.id, 0.0))
        row = short.get(d.id, {"qty_late": 0.0, "qty_lost": 0.0})
        for col, want in (("qty_lost", lost), ("qty_late", late)):
            if (want == 0) != (row[col] == 0) or _differ(row[col], want, d.qty):
                bad.append(f"shortfalls {d.id}: {col} {row[col]}, expected {want!r} "
                           f"(short only beyond {c.short_tol!r} units)")

    bad += _check_kpis(c, plan, delivered, on_time, lateness)
    return bad


def _check_licences(c: Contract, deliveries: list[dict[str, Any]]) -> list[str]:
    """A customer some licence names gets, of each item in each arrival bucket, only what
    its open licences cover, and over the horizon never more than each licence's qty:
    the deliveries must be shared out over the licences (a transportation LP)."""
    licensed = {x.customer for x in c.sc.licences}
    arrived: dict[tuple[str, str, int], float] = defaultdict(float)
    for r in deliveries:
        if r["customer"] in licensed and r["qty"] > 0:
            arrived[(r["customer"], r["item"], r["arrival_bucket"])] += r["qty"]
    bad: list[str] = []
    for cust in sorted(licensed):
        cells = [(k, q) for k, q in sorted(arrived.items()) if k[0] == cust]
        pairs: list[tuple[int, str]] = []  # (cell, licence id)
        for n, ((_, item, t), q) in enumerate(cells):
            open_now = c.licences_open(cust, item, t) if 0 <= t < c.T else []
            if not open_now:
                bad.append(f"deliveries: {q!r} of {item} reach {cust} in bucket {t}, where no "
                           "valid or pending licence for them is open")
            pairs += [(n, x.id) for x in open_now]
        if not cells or not pairs:
            continue
        ids = sorted({lid for _, lid in pairs})
        qty = {x.id: x.qty for x in c.sc.licences}
        nv = len(pairs)
        # draw a_j >= 0 per pair, shortfall s_n >= 0 per cell: sum a + s = q; minimize sum s
        a_eq = np.zeros((len(cells), nv + len(cells)))
        for j, (n, _) in enumerate(pairs):
            a_eq[n, j] = 1.0
        a_eq[np.arange(len(cells)), nv + np.arange(len(cells))] = 1.0
        a_ub = np.zeros((len(ids), nv + len(cells)))
        for j, (_, lid) in enumerate(pairs):
            a_ub[ids.index(lid), j] = 1.0
        cost = np.r_[np.zeros(nv), np.ones(len(cells))]
        res = linprog(cost, A_ub=a_ub, b_ub=[qty[i] for i in ids], A_eq=a_eq,
                      b_eq=[q for _, q in cells], bounds=(0, None), method="highs")
        total = sum(q for _, q in cells)
        if res.status != 0 or res.fun > REL_TOL * total + 1e-9:
            bad.append(f"deliveries to {cust}: {total!r} units under licence, but licences "
                       f"{', '.join(ids)} can cover only {total - float(res.fun or 0.0)!r} "
                       "of them (quantities over their windows)")
    return bad


def _check_kpis(c: Contract, plan: WrittenPlan, delivered: dict[str, float],
                on_time: dict[str, float], lateness: float) -> list[str]:
    sc, k = c.sc, plan.kpis
    bad: list[str] = []
    demanded = sum(d.qty for d in sc.demand)
    dlv = sum(delivered.values())
    ont = sum(on_time.values())
    units = max(demanded, dlv)
    want: dict[str, tuple[float, float]] = {
        "units_demanded": (demanded, units),
        "units_delivered": (dlv, units),
        "units_on_time": (ont, units),
        "units_late": (sum(c.counted(delivered.get(d.id, 0.0) - on_time.get(d.id, 0.0))
                           for d in sc.demand), units),
        "units_lost": (sum(c.counted(max(d.qty - delivered.get(d.id, 0.0), 0.0))
                           for d in sc.demand), units),
        "lateness_unit_buckets": (lateness, units * c.T),
    }
    if demanded > 0:
        want["fill_rate"] = (dlv / demanded, 1.0)
        want["on_time_rate"] = (ont / demanded, 1.0)
    else:
        for name in ("fill_rate", "on_time_rate"):
            if name in k:
                bad.append(f"kpis: {name} = {k[name]} for a scenario without demand")
        if k.get("note") != "no demand":
            bad.append(f"kpis: note = {k.get('note')!r}, expected 'no demand'")
    for p in sorted({d.priority for d in sc.demand}):
        dem = sum(d.qty for d in sc.demand if d.priority == p)
        got = sum(delivered.get(d.id, 0.0) for d in sc.demand if d.priority == p)
        want[f"fill_rate_p{p}"] = (got / dem, 1.0)
    # cost: purchase price, lane cost on every flow, holding cost on end-of-bucket stock
    terms: dict[str, list[float]] = {"cost_purchase": [], "cost_transport": [],
                                     "cost_holding": []}
    for r in plan.tables["purchases"]:
        if (r["supplier"], r["item"]) in c.offers:
            terms["cost_purchase"].append(r["qty"] * c.offers[(r["supplier"], r["item"])].price)
        if (r["supplier"], r["site"]) in c.lanes:
            terms["cost_transport"].append(r["qty"] * c.lanes[(r["supplier"], r["site"])].cost)
    for r in plan.tables["transfers"]:
        if (r["from"], r["to"]) in c.lanes and not r.get("firm", 0.0) > 0:
            terms["cost_transport"].append(r["qty"] * c.lanes[(r["from"], r["to"])].cost)
    for r in plan.tables["deliveries"]:
        if (r["site"], r["customer"]) in c.lanes:
            terms["cost_transport"].append(r["qty"] * c.lanes[(r["site"], r["customer"])].cost)
    hold = {i.id: i.holding_cost or 0.0 for i in sc.items}
    terms["cost_holding"] = [r["qty"] * hold.get(r["item"], 0.0) for r in plan.tables["stock"]]
    for name, ts in terms.items():
        want[name] = (math.fsum(ts), math.fsum(abs(x) for x in ts))
    want["cost_total"] = (sum(want[n][0] for n in terms), sum(want[n][1] for n in terms))
    for name in ("units_delivered", "units_demanded"):
        if name not in k:
            bad.append(f"kpis: {name} missing")
    for name, (value, scale) in want.items():
        if name not in k:
            bad.append(f"kpis: {name} missing")
        elif _differ(float(k[name]), value, 10 * scale):
            bad.append(f"kpis: {name} = {k[name]}, expected {value!r}")
    return bad


# --- a reference optimum, from an LP written here from scratch ------------------------

class _LP:
    """Variables and rows added one at a time, in coordinate form, for `linprog`."""

    def __init__(self) -> None:
        self.n = 0
        self.eq: list[tuple[dict[int, float], float]] = []
        self.ub: list[tuple[dict[int, float], float]] = []

    def var(self) -> int:
        self.n += 1
        return self.n - 1

    @staticmethod
    def _matrix(rows: list[tuple[dict[int, float], float]], n: int
                ) -> tuple[sp.csr_matrix | None, np.ndarray | None]:
        if not rows:
            return None, None
        r, cidx, v = [], [], []
        for i, (coef, _) in enumerate(rows):
            for j, a in coef.items():
                r.append(i)
                cidx.append(j)
                v.append(a)
        return (sp.csr_matrix((v, (r, cidx)), shape=(len(rows), n)),
                np.array([b for _, b in rows], dtype=float))

    def solve(self, c: np.ndarray, hold: list[tuple[dict[int, float], float]]
              ) -> tuple[int, float]:
        """linprog's status and objective, with `hold` rows added to the `<=` rows."""
        a_ub, b_ub = self._matrix(self.ub + hold, self.n)
        a_eq, b_eq = self._matrix(self.eq, self.n)
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                      method="highs")
        return int(res.status), float(res.fun) if res.status == 0 else math.nan


def reference_levels(sc: Scenario) -> dict[str, float]:
    """Optimum of each objective level, solved lexicographically by `linprog`.

    Keys: `delivered_p{p}` per priority class (units arriving inside the horizon),
    `lateness` (units × buckets late), `cost` (price + lane cost + holding cost).
    """
    c = Contract(sc)
    T = c.T
    lp = _LP()
    balance: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    cost: dict[int, float] = {}
    late: dict[int, float] = {}
    delivered: dict[int, dict[int, float]] = defaultdict(dict)
    demand_rows: dict[str, dict[int, float]] = defaultdict(dict)
    licensed = {x.customer for x in sc.licences}
    cover: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)

    def flow(key: tuple[str, str, int], j: int, sign: float) -> None:
        row = balance[key]
        row[j] = row.get(j, 0.0) + sign

    hold = {i.id: i.holding_cost or 0.0 for i in sc.items}
    # stock: end of bucket t = end of t-1 (opening at t = 0) + in − out
    for s in c.site_ids:
        for item in c.items:
            prev = None
            for t in range(T):
                j = lp.var()
                flow((s, item, t), j, 1.0)
                if prev is not None:
                    flow((s, item, t), prev, -1.0)
                cost[j] = hold[item]
                prev = j
    work: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    for s in c.site_ids:
        for item in c.items:
            if not c.can_make(s, item):
                continue
            for t in range(T):
                j = lp.var()
                flow((s, item, t), j, -1.0)
                for comp, per in c.bom_at(item, t):
                    flow((s, comp, t), j, per)
                for wct, h in c.routing_at(item, t):
                    work[(s, wct, t)][j] = h
    lanes: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    supply: dict[tuple[str, str, int], dict[int, float]] = defaultdict(dict)
    for (v, item), off in c.offers.items():
        for s in c.site_ids:
            lane = c.lanes.get((v, s))
            if lane is None:
                continue
            for t in range(T):
                dep = t + off.lead_time
                if dep + lane.transit >= T:
                    continue
                j = lp.var()
                flow((s, item, dep + lane.transit), j, -1.0)
                supply[(v, item, dep)][j] = 1.0
                lanes[(v, s, dep)][j] = 1.0
                cost[j] = off.price + lane.cost
    for (a, b), lane in c.lanes.items():
        if a not in c.sites or b not in c.sites:
            continue
        for item in c.items:
            for t in range(T - lane.transit):
                j = lp.var()
                flow((a, item, t), j, 1.0)
                flow((b, item, t + lane.transit), j, -1.0)
                lanes[(a, b, t)][j] = 1.0
                cost[j] = lane.cost
    for d in sc.demand:
        if not c.customers[d.customer].approved:
            continue
        for s in c.site_ids:
            lane = c.lanes.get((s, d.customer))
            if lane is None:
                continue
            for t in range(T - lane.transit):
                j = lp.var()
                flow((s, d.item, t), j, 1.0)
                lanes[(s, d.customer, t)][j] = 1.0
                delivered[d.priority][j] = 1.0
                late[j] = max(0, t + lane.transit - c.due[d.id])
                cost[j] = lane.cost
                demand_rows[d.id][j] = 1.0
                if d.customer in licensed:
                    cover[(d.customer, d.item, t + lane.transit)][j] = 1.0
    # licences: deliveries under licence per (customer, item, arrival bucket) at most the
    # draws on the licences open then; a licence's draws at most its qty
    for x in sc.licences:
        row: dict[int, float] = {}
        for (cust, item, t), cov in cover.items():
            if cust == x.customer and x in c.licences_open(cust, item, t):
                j = lp.var()
                cov[j] = -1.0
                row[j] = 1.0
        if row:
            lp.ub.append((row, x.qty))
    for cov in cover.values():
        lp.ub.append((cov, 0.0))
    for d in sc.demand:
        if demand_rows[d.id]:
            lp.ub.append((demand_rows[d.id], d.qty))
    for (s, item, t), row in balance.items():
        lp.eq.append((row, c.opening.get((s, item), 0.0) if t == 0 else 0.0))
    for (s, wct, t), row in work.items():
        lp.ub.append((row, c.wc_hours[(s, wct)][t]))
    for (v, item, t), row in supply.items():
        cap = c.offer_capacity(v, item, t)
        if math.isfinite(cap):
            lp.ub.append((row, cap))
    for (a, b, t), row in lanes.items():
        cap = c.lane_capacity(a, b, t)
        if math.isfinite(cap):
            lp.ub.append((row, cap))

    levels: dict[str, float] = {}
    objectives: list[tuple[str, dict[int, float], bool]] = [
        (f"delivered_p{p}", delivered.get(p, {}), True)
        for p in sorted({d.priority for d in sc.demand})]
    objectives += [("lateness", late, False), ("cost", cost, False)]
    held: list[tuple[dict[int, float], float, bool]] = []  # (objective, optimum, maximize)
    for name, coef, maximize in objectives:
        vec = np.zeros(lp.n)
        for j, a in coef.items():
            vec[j] = a
        # each solved level is held at its optimum, give or take a slack far below the
        # tests' tolerances; widened only if the solver finds that too tight to be feasible
        for rel in (1e-10, 1e-9, 1e-8, 1e-7):
            hold = [({j: -a for j, a in obj.items()}, -(v - rel * max(1.0, abs(v)))) if mx
                    else (dict(obj), v + rel * max(1.0, abs(v))) for obj, v, mx in held]
            status, fun = lp.solve(-vec if maximize else vec, hold)
            if status != 2:  # 2: infeasible
                break
        if status != 0:
            raise RuntimeError(f"reference LP failed at level {name}: linprog status {status}")
        value = -fun if maximize else fun
        levels[name] = value
        held.append((coef, value, maximize))
    return levels


def written_levels(sc: Scenario, plan: WrittenPlan) -> dict[str, float]:
    """The same levels as `reference_levels`, read from a written plan's tables."""
    c = Contract(sc)
    prio = {d.id: d.priority for d in sc.demand}
    levels: dict[str, float] = {f"delivered_p{p}": 0.0 for p in sorted(set(prio.values()))}
    lateness = 0.0
    for r in plan.tables["deliveries"]:
        levels[f"delivered_p{prio[r['demand']]}"] += r["qty"]
        lateness += r["qty"] * max(0, r["arrival_bucket"] - c.due[r["demand"]])
    levels["lateness"] = lateness
    levels["cost"] = float(plan.kpis.get("cost_total", math.nan))
    return levels


# --- planning through the public service, as a user would ----------------------------

@dataclass
class CheckedPlan:
    """A scenario planned through `plan_scenario`, read back from disk and checked."""

    scenario: Scenario
    plan: WrittenPlan
    violations: list[str]

    def shortfall(self, demand: str) -> dict[str, Any]:
        """The shortfall row of `demand` (zeros and no reason when it has none)."""
        return next((r for r in self.plan.tables["shortfalls"] if r["demand"] == demand),
                    {"demand": demand, "qty_late": 0.0, "qty_lost": 0.0, "reason": ""})


def plan_and_check(path: str | Path, out: str | Path) -> CheckedPlan:
    """Plan the scenario file at `path` into `out`, read the plan back and check it."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.services.planning import plan_scenario

    plan_scenario(path, out, report=False)
    sc = load_scenario(path)
    plan = read_plan(out)
    return CheckedPlan(sc, plan, plan.problems + check_tables(sc, plan))
