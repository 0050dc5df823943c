"""Pegging of a kept plan, as one caller may see it: for a demand, the production,
transfers, purchases and stock that serve it (`fabnet.plan.pegging`, first in first
out along the plan's flows).

The trace runs over the whole plan (a demand served from a site's stock may have been
made elsewhere), then is cut to the caller as the plan's tables are cut
(`scoping.plan_run_view`): a site manager pegs only the demands their sites serve and
sees only the flows at their sites; a transfer with one end elsewhere names that end
"(another site)", and what flows only through other sites is summed as withheld, never
named.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from fabnet.model.errors import FabnetError
from fabnet.model.scenario import Scenario
from fabnet.plan.pegging import FlowKind, Pegging, peg_plan
from fabnet.services import branches as branch_svc
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services import scoping
from fabnet.services.scoping import ANOTHER_SITE, Viewer
from fabnet.store import NotFound, PlanRun, Store

#: pegged plans kept (plan runs never change): the oldest is dropped first
CACHE = 16
_CACHE: OrderedDict[tuple[str, int], Pegging] = OrderedDict()
_GUARD = threading.Lock()


@dataclass(frozen=True)
class PegLine:
    """One flow serving the demand: `qty` of its `flow_qty` units serve it."""

    depth: int
    kind: str
    site: str
    item: str
    bucket: int
    start: str
    qty: float
    flow_qty: float
    #: a transfer's from-site, a purchase's supplier, a delivery's customer
    partner: str


@dataclass(frozen=True)
class DemandPegging:
    """What serves one demand of a plan run, as the caller may see it."""

    run: PlanRun
    demand: str
    customer: str
    item: str
    due: str
    qty: float
    delivered: float
    lines: list[PegLine]
    #: units of flows at sites the caller may not see, and how many such flows
    withheld_units: float
    withheld_flows: int


def scenario_of_run(store: Store, run: PlanRun) -> Scenario:
    """The scenario a plan run was made from (its branch as it stands now)."""
    if run.branch is not None:
        return branch_svc.materialize(store, run.branch)
    return scenario_svc.load_stored(store, run.scenario, run.version)


def plan_pegging(store: Store, run: PlanRun) -> Pegging:
    """The whole plan's pegging (computed once per run and kept)."""
    key = (str(store.engine.url), run.id)
    with _GUARD:
        have = _CACHE.get(key)
        if have is not None:
            _CACHE.move_to_end(key)
            return have
    tables = (run.document or {}).get("tables") or {}
    made = peg_plan(scenario_of_run(store, run), tables)
    with _GUARD:
        _CACHE[key] = made
        while len(_CACHE) > CACHE:
            _CACHE.popitem(last=False)
    return made


def served_demands(store: Store, run: PlanRun) -> frozenset[str]:
    """The demands something of the plan delivers to."""
    return frozenset(plan_pegging(store, run).deliveries)


def pegged_demands(store: Store, viewer: Viewer, run: PlanRun) -> list[str]:
    """The demands of a plan run the caller may peg: every demand for a whole viewer,
    else those the caller's scoped plan shows (delivered from or short at their sites);
    `ScopeRefused` when the plan is withheld from them."""
    _, doc, _ = scoping.plan_run_view(run, viewer, scoping.Sources(store), with_tables=True)
    tables = (doc or {}).get("tables") or {}
    seen = {str(r.get("demand")) for r in tables.get("deliveries", [])} | \
        {str(r.get("demand")) for r in tables.get("shortfalls", [])}
    if viewer.whole:
        seen |= {d.id for d in scenario_of_run(store, run).demand}
    return sorted(seen)


def demand_pegging(store: Store, viewer: Viewer, run_id: int, demand: str) -> DemandPegging:
    """What serves `demand` in plan run `run_id`, cut to `viewer`."""
    run = plan_svc.get_plan_run(store, run_id)
    if demand not in pegged_demands(store, viewer, run):
        raise NotFound(f"plan run {run_id} has no demand {demand[:80]!r} you may trace "
                       "(fix: pick one from the list)")
    sc = scenario_of_run(store, run)
    d = next((x for x in sc.demand if x.id == demand), None)
    if d is None:
        raise FabnetError(f"demand {demand!r} is no longer in the scenario of plan run "
                          f"{run_id}")
    starts = [b.get("start") for b in (run.document or {}).get("buckets") or []]
    lines: list[PegLine] = []
    withheld, hidden = 0.0, 0
    for p in plan_pegging(store, run).demand(demand):
        f = p.flow
        partner = f.origin
        ends = [f.site] + ([f.origin] if f.kind is FlowKind.TRANSFER else [])
        if not any(viewer.site_visible(s) for s in ends):
            withheld += p.qty
            hidden += 1
            continue
        if f.kind is FlowKind.TRANSFER and not viewer.site_visible(f.origin):
            partner = ANOTHER_SITE
        site = f.site if viewer.site_visible(f.site) else ANOTHER_SITE
        start = str(starts[min(f.bucket, len(starts) - 1)]) if starts else ""
        lines.append(PegLine(p.depth, str(f.kind), site, f.item, f.bucket,
                             "" if f.kind in (FlowKind.STOCK, FlowKind.OTHER) else start,
                             p.qty, f.qty, partner))
    delivered = sum(x.qty for x in lines if x.kind == FlowKind.DELIVERY)
    return DemandPegging(run, demand, d.customer, d.item, d.due.isoformat(), d.qty,
                         delivered, lines, withheld, hidden)
