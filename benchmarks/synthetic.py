"""Synthetic drone-manufacturing networks of any size, for benchmarking the planner.

`synthetic_scenario` draws a `Scenario` from a seed: finished products built from
sub-assemblies and components, routings on 2-3 work-center types, feeder sites that
make sub-assemblies and ship them to final-assembly sites, suppliers offering
components with lead times and capacities, customers fed from a few final sites,
demand with due dates and priorities 1-3, some opening stock and a few disruptions.

Site-to-site lanes only run from feeders to final sites (plus a few pairs of final
sites backing each other up), so the set of (site, item) pairs that can hold stock
grows linearly with the number of sites, as it does in a real network.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from fabnet.model import (
    BomLine,
    BucketKind,
    Customer,
    Demand,
    Disruption,
    Horizon,
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

START = date(2027, 1, 4)  # a Monday
WC_TYPES = ("assembly", "electronics", "integration", "flight-test", "calibration", "potting")
#: types a sub-assembly may be routed on (products use any)
ASSEMBLY_TYPES = ("electronics", "potting", "calibration", "assembly")
COUNTRIES = ("FR", "DE", "PL", "UA", "GB", "CZ", "RO", "IT", "ES", "NL", "SE", "LT")
SUPPLIER_COUNTRIES = ("CN", "TW", "US", "JP", "KR", "DE", "FR", "PL", "UA", "IN")


def _pick(rng: np.random.Generator, pool: list[str] | tuple[str, ...], k: int) -> list[str]:
    """`k` distinct elements of `pool` (all of them when `k` is larger)."""
    k = min(k, len(pool))
    return [pool[int(i)] for i in rng.choice(len(pool), size=k, replace=False)]


def _week(t: int) -> date:
    return START + timedelta(weeks=int(t))


def synthetic_scenario(n_sites: int, n_items: int, n_suppliers: int, n_customers: int,
                       buckets: int, seed: int = 0) -> Scenario:
    """A random but valid weekly scenario of the given size (same seed, same scenario)."""
    rng = np.random.default_rng(seed)
    T = buckets
    n_sites = max(n_sites, 2)
    n_prod = max(2, round(0.08 * n_items))
    n_asm = max(2, round(0.12 * n_items))
    n_comp = max(4, n_items - n_prod - n_asm)
    products = [f"P{i:04d}" for i in range(n_prod)]
    assemblies = [f"A{i:04d}" for i in range(n_asm)]
    components = [f"C{i:05d}" for i in range(n_comp)]
    comp_cost = {c: float(np.round(rng.lognormal(2.5, 1.0), 2)) for c in components}

    items = [Item(p, f"Drone model {p}", ItemKind.PRODUCT, holding_cost=0.5) for p in products]
    items += [Item(a, f"Sub-assembly {a}", ItemKind.ASSEMBLY, holding_cost=0.2)
              for a in assemblies]
    items += [Item(c, f"Component {c}", ItemKind.COMPONENT, unit_cost=comp_cost[c],
                   origin=str(rng.choice(SUPPLIER_COUNTRIES)),
                   holding_cost=round(0.002 * comp_cost[c], 4)) for c in components]

    # bills of materials and routings
    boms: list[BomLine] = []
    routings: list[RoutingStep] = []
    route: dict[str, set[str]] = {}
    children: dict[str, list[str]] = {}
    for a in assemblies:
        kids = _pick(rng, components, int(rng.integers(3, 6)))
        children[a] = kids
        boms += [BomLine(a, c, float(rng.integers(1, 5))) for c in kids]
        types = _pick(rng, ASSEMBLY_TYPES, 2)
        route[a] = set(types)
        routings += [RoutingStep(a, w, round(float(rng.uniform(0.1, 0.8)), 2)) for w in types]
    for p in products:
        kids = _pick(rng, assemblies, int(rng.integers(1, 3)))
        kids += _pick(rng, components, int(rng.integers(3, 7)))
        children[p] = kids
        boms += [BomLine(p, c, 1.0 if c.startswith("A") else float(rng.integers(1, 5)))
                 for c in kids]
        types = ["assembly", *_pick(rng, WC_TYPES[1:], int(rng.integers(1, 3)))]
        route[p] = set(types)
        routings += [RoutingStep(p, w, round(float(rng.uniform(0.3, 3.0)), 2)) for w in types]

    # sites: about 40 % feeders (sub-assemblies), the rest final assembly (products)
    site_ids = [f"S{i:04d}" for i in range(n_sites)]
    n_feed = max(1, int(0.4 * n_sites))
    feeders, finals = site_ids[:n_feed], site_ids[n_feed:]
    types_at: dict[str, list[str]] = {}
    makes: dict[str, list[str]] = {}
    for s in site_ids:
        hub = s in (feeders[0], finals[0])
        types_at[s] = list(WC_TYPES) if hub else \
            _pick(rng, WC_TYPES, int(rng.integers(3, len(WC_TYPES) + 1)))
        pool = assemblies if s in feeders else products
        ok = [x for x in pool if route[x] <= set(types_at[s])]
        makes[s] = _pick(rng, ok, int(rng.integers(1, 4)))
    for x, home in [(a, feeders[0]) for a in assemblies] + [(p, finals[0]) for p in products]:
        if not any(x in makes[s] for s in site_ids):
            makes[home].append(x)
    # a final site also makes some sub-assemblies of its own products where it can
    for s in finals:
        own = {a for p in makes[s] for a in children[p] if a.startswith("A")}
        makes[s] += [a for a in sorted(own)
                     if route[a] <= set(types_at[s]) and rng.random() < 0.5]

    sites = [Site(s, str(rng.choice(COUNTRIES)), f"Plant {s}", tuple(makes[s]))
             for s in site_ids]
    work_centers: list[WorkCenter] = []
    for s in site_ids:
        for w in types_at[s]:
            hours = float(np.round(rng.uniform(150, 1500), 0))
            if rng.random() < 0.15:  # a line that opens later and ramps up
                t0 = int(rng.integers(1, max(2, T // 3)))
                work_centers.append(WorkCenter(s, w, hours, _week(t0), (0.25, 0.5, 0.75)))
            else:
                work_centers.append(WorkCenter(s, w, hours))

    # which components each site consumes
    needs: dict[str, set[str]] = {s: set() for s in site_ids}
    for s in site_ids:
        for x in makes[s]:
            needs[s] |= {c for c in children[x] if c.startswith("C")}

    # suppliers: every component offered at least once, a few offered twice
    sup_ids = [f"V{i:04d}" for i in range(max(n_suppliers, 1))]
    offers_of: dict[str, list[str]] = {v: [] for v in sup_ids}
    order = rng.permutation(n_comp)
    for j, ci in enumerate(order):
        offers_of[sup_ids[j % len(sup_ids)]].append(components[int(ci)])
    for v in sup_ids:
        extra = [c for c in _pick(rng, components, int(rng.integers(0, 3)))
                 if c not in offers_of[v]]
        offers_of[v] += extra
    suppliers = [Supplier(v, str(rng.choice(SUPPLIER_COUNTRIES)), f"Supplier {v}")
                 for v in sup_ids]
    offers: list[Offer] = []
    for v in sup_ids:
        for c in offers_of[v]:
            cap = None if rng.random() < 0.2 else float(np.round(rng.uniform(500, 8000), 0))
            offers.append(Offer(v, c, round(comp_cost[c] * float(rng.uniform(0.9, 1.3)), 2),
                                int(rng.integers(1, 7)), cap))

    # lanes: supplier -> the sites that need its components, feeder -> final, final -> customer
    lanes: dict[tuple[str, str], Lane] = {}

    def lane(a: str, b: str, transit: int, cost: float, cap: float | None) -> None:
        if a != b and (a, b) not in lanes:
            lanes[(a, b)] = Lane(a, b, transit, round(cost, 3), cap)

    users: dict[str, list[str]] = {c: [] for c in components}
    for s in site_ids:
        for c in needs[s]:
            users[c].append(s)
    for v in sup_ids:
        cand = sorted({s for c in offers_of[v] for s in users[c]})
        for s in _pick(rng, cand, int(rng.integers(1, 4))):
            lane(v, s, int(rng.integers(1, 4)), float(rng.uniform(0.05, 1.0)), None)
    # every component a site consumes reaches it from at least one of its suppliers
    offered_by: dict[str, list[str]] = {c: [] for c in components}
    for v in sup_ids:
        for c in offers_of[v]:
            offered_by[c].append(v)
    for s in site_ids:
        for c in sorted(needs[s]):
            if not any((v, s) in lanes for v in offered_by[c]):
                v = offered_by[c][int(rng.integers(len(offered_by[c])))]
                lane(v, s, int(rng.integers(1, 4)), float(rng.uniform(0.05, 1.0)), None)
    # feeders ship sub-assemblies to final sites that use them
    for f in feeders:
        cand = [s for s in finals if any(a in children[p] for p in makes[s] for a in makes[f])]
        for s in _pick(rng, cand or finals, int(rng.integers(1, 3))):
            lane(f, s, int(rng.integers(1, 3)), float(rng.uniform(0.1, 2.0)),
                 float(np.round(rng.uniform(2000, 20000), 0)))
    # pairs of final sites back each other up
    for i in range(0, len(finals) - 1, 4):
        a, b = finals[i], finals[i + 1]
        lane(a, b, 1, 0.5, 5000.0)
        lane(b, a, 1, 0.5, 5000.0)

    # customers, fed from 2-4 final sites that make what they order
    cust_ids = [f"K{i:04d}" for i in range(max(n_customers, 1))]
    customers = [Customer(k, str(rng.choice(COUNTRIES)), f"Customer {k}",
                          approved=bool(rng.random() > 0.03)) for k in cust_ids]
    demand: list[Demand] = []
    made_by: dict[str, list[str]] = {p: [s for s in finals if p in makes[s]] for p in products}
    for k in cust_ids:
        wants = _pick(rng, products, int(rng.integers(1, 4)))
        cand = sorted({s for p in wants for s in made_by[p]})
        for s in _pick(rng, cand, int(rng.integers(2, 5))):
            lane(s, k, int(rng.integers(1, 4)), float(rng.uniform(0.5, 5.0)),
                 None if rng.random() < 0.5 else float(np.round(rng.uniform(300, 3000), 0)))
        for p in wants:
            for j in range(int(rng.integers(2, 6))):
                due = int(rng.integers(min(4, T - 1), T))
                demand.append(Demand(f"D-{k}-{p}-{j}", k, p,
                                     float(np.round(rng.uniform(20, 400), 0)), _week(due),
                                     int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))))

    # opening stock: some components at the sites that consume them, some finished drones
    inventory: list[InventoryRecord] = []
    for s in site_ids:
        for c in sorted(needs[s]):
            if rng.random() < 0.3:
                inventory.append(InventoryRecord(s, c, float(np.round(rng.uniform(50, 2000)))))
    for s in finals:
        for p in makes[s]:
            if rng.random() < 0.2:
                inventory.append(InventoryRecord(s, p, float(np.round(rng.uniform(10, 200)))))

    # a strike on a final site, a partial embargo, a closed lane
    mid = max(T // 3, 0)
    disruptions = [
        Disruption("strike-1", finals[0] if len(finals) > 1 else site_ids[0], _week(mid),
                   min(4, T - mid), 0.0),
        Disruption("embargo-1", f"country:{suppliers[0].country}", _week(T // 2),
                   max(T // 4, 1), 0.5),
    ]
    first_lane = next(iter(lanes.values()))
    disruptions.append(Disruption("lane-1", f"lane:{first_lane.id}", _week(max(T // 4, 0)), 2,
                                  0.0))

    return Scenario(
        name=f"synthetic-{n_sites}s-{n_items}i-{n_suppliers}v-{n_customers}c-{T}b-{seed}",
        horizon=Horizon(START, BucketKind.WEEK, T),
        items=tuple(items), boms=tuple(boms), routings=tuple(routings), sites=tuple(sites),
        work_centers=tuple(work_centers), suppliers=tuple(suppliers), offers=tuple(offers),
        customers=tuple(customers), lanes=tuple(lanes.values()), inventory=tuple(inventory),
        demand=tuple(demand), disruptions=tuple(disruptions),
    )
