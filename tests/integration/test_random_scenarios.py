"""Random small networks: every plan meets the contract and reaches every objective level.

Hypothesis draws networks of 2-3 sites, 1-2 products (sometimes with a sub-assembly),
2-4 components, 1-2 suppliers and 1-3 customers over 4-10 weekly buckets, with random
lanes, capacities, ramps, lead times, stock, prioritized demand, disruptions and
unapproved customers. Each is written to YAML, planned through `plan_scenario`, read
back from disk and checked by `tests.plancheck`; its units delivered per priority class,
lateness and cost must equal the optimum of the reference LP written there from scratch.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.io.scenario_io import save_scenario
from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.scenario import (
    BomLine,
    Customer,
    Demand,
    Disruption,
    InventoryRecord,
    Item,
    ItemKind,
    Lane,
    Offer,
    RoutingStep,
    Scenario,
    Site,
    Supplier,
    WorkCenter,
)
from tests.plancheck import CheckedPlan, plan_and_check, reference_levels, written_levels

START = date(2027, 1, 4)  # a Monday
SITE_COUNTRIES = ["FR", "DE", "GB", "PL"]
SUPPLIER_COUNTRIES = ["TW", "CN", "FR", "US"]
CUSTOMER_COUNTRIES = ["UA", "NO", "CA"]  # never disrupted: the contract leaves that open


def _in_bucket(h: Horizon, t: int, offset: int = 0) -> date:
    """A day in bucket `t`: `offset` days after its start, kept inside the bucket."""
    first, nxt = h.bucket_start(t), h.bucket_start(t + 1)
    return first + timedelta(days=min(offset, (nxt - first).days - 1))


@st.composite
def scenarios(draw: st.DrawFn, sites: tuple[int, int] = (2, 3),
              bom_qtys: tuple[float, ...] = (1.0, 2.0, 3.0, 0.5),
              demands: tuple[int, int] = (1, 5)) -> Scenario:
    """A random valid scenario (see the module docstring).

    `sites` and `demands` bound the number of sites and demands; `bom_qtys` lists the
    BOM quantities drawn.
    """
    T = draw(st.sampled_from([8, 6, 10, 4, 5, 7, 9]))  # hypothesis favours the first
    h = Horizon(START, draw(st.sampled_from([BucketKind.WEEK, BucketKind.DAY,
                                             BucketKind.MONTH])), T)
    n_sites, n_prod = draw(st.integers(*sites)), draw(st.integers(1, 2))
    n_comp, n_sup, n_cust = draw(st.integers(2, 4)), draw(st.integers(1, 2)), draw(
        st.integers(1, 3))
    with_sub = draw(st.booleans())
    site_ids = [f"S{i}" for i in range(n_sites)]
    products = [f"P{i}" for i in range(n_prod)]
    comps = [f"C{i}" for i in range(n_comp)]
    suppliers = [f"V{i}" for i in range(n_sup)]
    customers = [f"K{i}" for i in range(n_cust)]
    hold = st.one_of(st.none(), st.sampled_from([0.01, 0.05, 0.1]))

    items = [Item(p, kind=ItemKind.PRODUCT, holding_cost=draw(hold)) for p in products]
    items += [Item(c, kind=ItemKind.COMPONENT, holding_cost=draw(hold)) for c in comps]
    boms: list[BomLine] = []
    routings: list[RoutingStep] = []
    for p in products:
        for c in draw(st.lists(st.sampled_from(comps), min_size=1, max_size=3, unique=True)):
            boms.append(BomLine(p, c, draw(st.sampled_from(bom_qtys))))
        if draw(st.integers(0, 7)) < 7:  # otherwise made without any work center
            routings.append(RoutingStep(p, "asm", draw(st.sampled_from([0.5, 1.0, 2.0, 2.5]))))
        if draw(st.booleans()):
            routings.append(RoutingStep(p, "test", draw(st.sampled_from([0.25, 0.5, 1.0]))))
    made = list(products)
    if with_sub:  # a sub-assembly made from components, built into the first product
        items.append(Item("SUB", kind=ItemKind.ASSEMBLY))
        for c in draw(st.lists(st.sampled_from(comps), min_size=1, max_size=2, unique=True)):
            boms.append(BomLine("SUB", c, draw(st.sampled_from([1.0, 2.0]))))
        boms.append(BomLine(products[0], "SUB", 1.0))
        routings.append(RoutingStep("SUB", "asm", 0.5))
        made.append("SUB")
    route_types = {i: {r.work_center for r in routings if r.item == i} for i in made}

    site_recs: list[Site] = []
    wcs: list[WorkCenter] = []
    for k, s in enumerate(site_ids):
        types = ["asm", "test"] if k == 0 else draw(
            st.sampled_from([["asm"], ["asm", "test"], ["test"]]))
        for wct in types:
            start = [None, None, None, _in_bucket(h, draw(st.integers(0, T - 1))),
                     START - timedelta(days=draw(st.integers(1, 70)))][draw(st.integers(0, 4))]
            ramp = tuple(draw(st.lists(st.sampled_from([0.25, 0.5, 0.75]), max_size=3)))
            wcs.append(WorkCenter(s, wct, float(draw(st.integers(0, 20)) * 10), start, ramp))
        can = [i for i in made if route_types[i] <= set(types)]
        makes = can if k == 0 else draw(st.lists(st.sampled_from(can), unique=True)) \
            if can else []
        site_recs.append(Site(s, draw(st.sampled_from(SITE_COUNTRIES)), makes=tuple(makes)))

    offers: list[Offer] = []
    for c in comps:
        for v in draw(st.lists(st.sampled_from(suppliers), min_size=1, unique=True)):
            cap = draw(st.one_of(st.none(), st.integers(1, 20).map(lambda x: x * 10.0)))
            offers.append(Offer(v, c, float(draw(st.integers(1, 20))), draw(st.integers(0, 3)),
                                cap))
    if draw(st.integers(0, 5)) == 5:  # a product bought in, dearer than its components
        offers.append(Offer(suppliers[-1], products[-1], 100.0, draw(st.integers(0, 3)), 10.0))
    lane_cap = st.one_of(st.none(), st.none(), st.integers(1, 15).map(lambda x: x * 10.0))
    transit, cost = st.integers(0, 2), st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0])
    lanes: list[Lane] = []
    for v in suppliers:  # every supplier reaches S0, which can make everything
        for s in [site_ids[0]] + draw(st.lists(st.sampled_from(site_ids[1:]), unique=True)):
            lanes.append(Lane(v, s, draw(transit), draw(cost), draw(lane_cap)))
    for a in site_ids:
        for b in site_ids:
            if a != b and draw(st.integers(0, 9)) < 4:
                lanes.append(Lane(a, b, draw(transit), draw(cost), draw(lane_cap)))
    for k in customers:  # mostly from S0, sometimes only through a transfer
        near = [site_ids[0]] if draw(st.integers(0, 2)) < 2 else []
        for s in near + draw(st.lists(st.sampled_from(site_ids[1:]), min_size=1 - len(near),
                                      unique=True)):
            lanes.append(Lane(s, k, draw(transit), draw(cost), draw(lane_cap)))

    stock_keys = draw(st.lists(st.tuples(st.sampled_from(site_ids),
                                         st.sampled_from([i.id for i in items])),
                               max_size=4, unique=True))
    inventory = [InventoryRecord(s, i, float(draw(st.integers(0, 60)))) for s, i in stock_keys]
    cust_recs = [Customer(k, draw(st.sampled_from(CUSTOMER_COUNTRIES)),
                          approved=draw(st.integers(0, 6)) < 6) for k in customers]
    wanted = st.sampled_from(products) if draw(st.integers(0, 5)) < 5 else st.sampled_from(
        [i.id for i in items])  # now and then spare parts: components, sub-assemblies
    demand = [Demand(f"D{j}", draw(st.sampled_from(customers)), draw(wanted),
                     float(draw(st.integers(5, 120))),
                     _in_bucket(h, draw(st.integers(0, T - 1)), draw(st.integers(0, 30))),
                     draw(st.integers(1, 3)))
              for j in range(draw(st.integers(*demands)))]
    sup_recs = [Supplier(v, draw(st.sampled_from(SUPPLIER_COUNTRIES))) for v in suppliers]
    targets = (site_ids + suppliers + [f"lane:{ln.id}" for ln in lanes]
               + sorted({f"country:{n.country}" for n in (*site_recs, *sup_recs)}))
    disruptions = [Disruption(f"X{j}", draw(st.sampled_from(targets)),
                              _in_bucket(h, draw(st.integers(0, T - 1)), draw(st.integers(0, 3))),
                              draw(st.integers(1, 3)), draw(st.sampled_from([0.0, 0.5])))
                   for j in range(draw(st.integers(0, 2)))]
    return Scenario(
        name="random", horizon=h, items=tuple(items), boms=tuple(boms),
        routings=tuple(routings), sites=tuple(site_recs),
        work_centers=tuple(wcs), suppliers=tuple(sup_recs), offers=tuple(offers),
        customers=tuple(cust_recs), lanes=tuple(lanes), inventory=tuple(inventory),
        demand=tuple(demand), disruptions=tuple(disruptions))


def plan_written(sc: Scenario) -> CheckedPlan:
    """Save `sc` as YAML, plan it through the service and check the plan read from disk."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "scenario.yaml"
        save_scenario(sc, path)
        return plan_and_check(path, Path(d) / "plan")


RANDOM = settings(max_examples=40, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@RANDOM
@given(sc=scenarios())
def test_random_plan_meets_the_contract_and_reaches_every_level(sc: Scenario) -> None:
    cp = plan_written(sc)
    assert cp.violations == []
    want = reference_levels(cp.scenario)
    got = written_levels(cp.scenario, cp.plan)
    scale = max(1.0, sum(d.qty for d in sc.demand))
    rounding = 0.0  # tables keep full precision
    for p in sorted({d.priority for d in sc.demand}):
        level = f"delivered_p{p}"
        assert got[level] == pytest.approx(want[level], abs=1e-5 * scale + rounding), level
    assert got["lateness"] == pytest.approx(want["lateness"],
                                            abs=1e-5 * scale * sc.horizon.buckets + rounding)
    if any(i.holding_cost for i in sc.items):
        # The contract charges holding cost on end-of-bucket stock at sites only, so its
        # literal optimum may build unneeded products from costlier-to-hold components,
        # or keep stock moving between sites, to dodge it; the planner never makes flows
        # that serve no demand, so it may cost a little more there, never less.
        assert got["cost"] >= want["cost"] - 0.02 - 1e-5 * want["cost"]
    else:
        assert got["cost"] == pytest.approx(want["cost"], rel=1e-5, abs=0.02)
