"""The `Plan`: the contract's tables and KPIs, read back from the LP's solution in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from fabnet.model.network import FloatArray, Network
from fabnet.plan.lp import PlanningLP
from fabnet.plan.solve import PlanResult, PlanStatus

#: quantities below this are solver noise and left out of the tables
EPS = 1e-4
#: decimals kept in the tables (the LP's tolerances are around 1e-7)
DECIMALS = 4

PLAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("site", "item", "bucket", "qty"),
    "purchases": ("supplier", "site", "item", "order_bucket", "arrival_bucket", "qty"),
    "transfers": ("from", "to", "item", "depart_bucket", "arrival_bucket", "qty"),
    "deliveries": ("demand", "site", "customer", "item", "depart_bucket", "arrival_bucket",
                   "qty"),
    "stock": ("site", "item", "bucket", "qty"),
    "load": ("site", "work_center", "bucket", "hours_used", "hours_available"),
    "shortfalls": ("demand", "qty_late", "qty_lost", "reason"),
    "kpis": ("name", "value"),
}


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


def _q(x: FloatArray) -> list[float]:
    return [float(v) for v in np.round(x, DECIMALS)]


def _rows(*cols: Any) -> list[tuple[Any, ...]]:
    return list(zip(*cols, strict=True))


def extract_tables(net: Network, lp: PlanningLP, x: FloatArray
                   ) -> dict[str, list[tuple[Any, ...]]]:
    """Read every flow, stock and load table from the solution vector."""
    T = net.buckets
    items, sites = np.array(net.items, dtype=object), np.array(net.sites, dtype=object)
    out: dict[str, list[tuple[Any, ...]]] = {}

    def grid(name: str) -> tuple[np.ndarray, np.ndarray, FloatArray]:
        b = lp.cols[name]
        v = x[b.offset:b.offset + b.size].reshape(b.count, T) if b.count else np.zeros((0, T))
        a, t = np.nonzero(v > EPS)
        return a, t, v[a, t]

    a, t, q = grid("produce")
    out["production"] = _rows(sites[net.make_site[a]], items[net.make_item[a]], t.tolist(),
                              _q(q))
    a, t, q = grid("purchase")
    arr = lp.arrival.get("purchase", np.zeros((0, T), dtype=np.int64))
    sup = np.array(net.suppliers, dtype=object)
    o = net.pur_offer[a]
    out["purchases"] = _rows(sup[net.offer_supplier[o]], sites[net.pur_site[a]],
                             items[net.offer_item[o]], t.tolist(), arr[a, t].tolist(), _q(q))
    a, t, q = grid("transfer")
    arr = lp.arrival.get("transfer", np.zeros((0, T), dtype=np.int64))
    out["transfers"] = _rows(sites[net.tr_from[a]], sites[net.tr_to[a]],
                             items[net.tr_item[a]], t.tolist(), arr[a, t].tolist(), _q(q))
    a, t, q = grid("deliver")
    arr = lp.arrival.get("deliver", np.zeros((0, T), dtype=np.int64))
    d = net.del_demand[a]
    cust = np.array(net.customers, dtype=object)
    out["deliveries"] = _rows(np.array(net.demand_ids, dtype=object)[d], sites[net.del_site[a]],
                              cust[net.demand_customer[d]], items[net.demand_item[d]],
                              t.tolist(), arr[a, t].tolist(), _q(q))
    a, t, q = grid("stock")
    out["stock"] = _rows(sites[net.stock_site[a]], items[net.stock_item[a]], t.tolist(), _q(q))
    # load: hours used per work center and bucket, where any are available or used
    used = np.zeros((net.wc_site.size, T))
    if net.use_make.size:
        b = lp.cols["produce"]
        prod = x[b.offset:b.offset + b.size].reshape(b.count, T)
        np.add.at(used, net.use_wc, prod[net.use_make] * net.use_hours[:, None])
    w, t = np.nonzero((net.wc_hours > 0) | (used > EPS))
    out["load"] = _rows(sites[net.wc_site[w]], np.array(net.wc_type, dtype=object)[w],
                        t.tolist(), _q(used[w, t]), _q(net.wc_hours[w, t]))
    return out


def demand_outcome(net: Network, lp: PlanningLP, x: FloatArray) -> dict[str, FloatArray]:
    """Per demand: units delivered, on time, late, lost, and unit-buckets of lateness."""
    n = net.demand_qty.size
    b = lp.cols["deliver"]
    v = x[b.offset:b.offset + b.size]
    d = np.repeat(net.del_demand, net.buckets)
    late = lp.lateness[b.offset:b.offset + b.size]
    delivered = np.bincount(d, weights=v, minlength=n)
    on_time = np.bincount(d, weights=v * (late == 0), minlength=n)
    lateness = np.bincount(d, weights=v * late, minlength=n)
    delivered = np.minimum(delivered, net.demand_qty)
    lost = np.maximum(net.demand_qty - delivered, 0.0)
    lost[lost < EPS + 1e-9 * net.demand_qty] = 0.0
    late_q = np.maximum(delivered - on_time, 0.0)
    late_q[late_q < EPS] = 0.0
    return {"delivered": delivered, "on_time": on_time, "late": late_q, "lost": lost,
            "lateness": lateness}


def compute_kpis(net: Network, lp: PlanningLP, x: FloatArray, outcome: dict[str, FloatArray]
                 ) -> dict[str, float | str]:
    """Headline figures: fill and on-time rates, units, lateness, cost by kind."""
    demanded = float(net.demand_qty.sum())
    delivered = float(outcome["delivered"].sum())
    on_time = float(outcome["on_time"].sum())
    kpis: dict[str, float | str] = {
        "units_demanded": round(demanded, DECIMALS),
        "units_delivered": round(delivered, DECIMALS),
        "units_on_time": round(on_time, DECIMALS),
        "units_late": round(float(outcome["late"].sum()), DECIMALS),
        "units_lost": round(float(outcome["lost"].sum()), DECIMALS),
        "fill_rate": round(delivered / demanded, 6) if demanded else 1.0,
        "on_time_rate": round(on_time / demanded, 6) if demanded else 1.0,
        "lateness_unit_buckets": round(float(outcome["lateness"].sum()), DECIMALS),
    }
    for p in sorted(set(net.demand_priority.tolist())):
        mask = net.demand_priority == p
        dem = float(net.demand_qty[mask].sum())
        kpis[f"fill_rate_p{p}"] = round(float(outcome["delivered"][mask].sum()) / dem, 6) \
            if dem else 1.0
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
    kpis["cost_purchase"] = round(cost["purchase"], 2)
    kpis["cost_transport"] = round(cost["transport"], 2)
    kpis["cost_holding"] = round(cost["holding"], 2)
    kpis["cost_total"] = round(cost["purchase"] + cost["transport"] + cost["holding"], 2)
    return kpis


def assemble_plan(net: Network, lp: PlanningLP, result: PlanResult,
                  shortfalls: list[tuple[str, float, float, str]]) -> Plan:
    """Put tables, shortfalls and KPIs of a solved LP together into a `Plan`."""
    tables = extract_tables(net, lp, result.x)
    outcome = demand_outcome(net, lp, result.x)
    kpis = compute_kpis(net, lp, result.x, outcome)
    kpis["status"] = str(result.status)
    kpis["solve_seconds"] = round(result.solve_seconds, 4)
    tables["shortfalls"] = [(d, round(late, DECIMALS), round(lost, DECIMALS), r)
                            for d, late, lost, r in shortfalls]
    tables["kpis"] = [(k, v) for k, v in kpis.items()]
    return Plan(net.scenario.name, result.status, tables, kpis,
                net.scenario.horizon.starts(), {lv.name: lv.objective for lv in result.levels},
                outcome)
