"""Checks of a scenario's records against each other, one `check_*` function per rule.

Each rule returns the `Issue`s it finds; `check_scenario` runs them all so a planner
sees every problem at once. Field-level checks (types, signs) happen when records are
read; these rules need the whole scenario.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from fabnet.model.errors import Issue
from fabnet.model.scenario import Scenario


def _duplicates(section: str, ids: Iterable[str], what: str = "id") -> list[Issue]:
    counts = Counter(ids)
    return [
        Issue(section, key, what, f"duplicate {what} {key!r} ({n} records)",
              f"give each record in {section} its own {what}")
        for key, n in counts.items() if n > 1
    ]


def check_unique_ids(sc: Scenario) -> list[Issue]:
    """Ids are unique per section; lanes, offers, BOM lines, routing steps per their key."""
    out: list[Issue] = []
    out += _duplicates("items", (i.id for i in sc.items))
    out += _duplicates("sites", (s.id for s in sc.sites))
    out += _duplicates("suppliers", (s.id for s in sc.suppliers))
    out += _duplicates("customers", (c.id for c in sc.customers))
    out += _duplicates("demand", (d.id for d in sc.demand))
    out += _duplicates("disruptions", (d.id for d in sc.disruptions))
    out += _duplicates("lanes", (lane.id for lane in sc.lanes), "from>to")
    out += _duplicates("work_centers", (f"{w.site}/{w.type}" for w in sc.work_centers), "type")
    out += _duplicates("offers", (f"{o.supplier}/{o.item}" for o in sc.offers), "item")
    out += _duplicates("boms", (f"{b.parent}/{b.item}" for b in sc.boms), "item")
    out += _duplicates("routings", (f"{r.item}/{r.work_center}" for r in sc.routings),
                       "work_center")
    nodes = Counter([s.id for s in sc.sites] + [s.id for s in sc.suppliers]
                    + [c.id for c in sc.customers])
    out += [Issue("sites", k, "id", f"node id {k!r} is used by more than one site, supplier "
                  "or customer", "node ids must be unique across sites, suppliers and customers")
            for k, n in nodes.items() if n > 1 and k in {s.id for s in sc.sites}]
    return out


def _unknown(section: str, record: str, field: str, value: str, known: set[str],
             what: str) -> list[Issue]:
    if value in known:
        return []
    return [Issue(section, record, field, f"unknown {what} {value!r}",
                  f"add {what} {value!r} to the scenario or correct the id")]


def check_references(sc: Scenario) -> list[Issue]:
    """Every id a record refers to exists in the section it belongs to."""
    items = {i.id for i in sc.items}
    sites = {s.id for s in sc.sites}
    suppliers = {s.id for s in sc.suppliers}
    customers = {c.id for c in sc.customers}
    out: list[Issue] = []
    for b in sc.boms:
        rec = f"{b.parent}/{b.item}"
        out += _unknown("boms", rec, "parent", b.parent, items, "item")
        out += _unknown("boms", rec, "item", b.item, items, "item")
    for r in sc.routings:
        out += _unknown("routings", f"{r.item}/{r.work_center}", "item", r.item, items, "item")
    for s in sc.sites:
        for m in s.makes:
            out += _unknown("sites", s.id, "makes", m, items, "item")
    for w in sc.work_centers:
        out += _unknown("work_centers", f"{w.site}/{w.type}", "site", w.site, sites, "site")
    for o in sc.offers:
        rec = f"{o.supplier}/{o.item}"
        out += _unknown("offers", rec, "supplier", o.supplier, suppliers, "supplier")
        out += _unknown("offers", rec, "item", o.item, items, "item")
    for inv in sc.inventory:
        rec = f"{inv.site}/{inv.item}"
        out += _unknown("inventory", rec, "site", inv.site, sites, "site")
        out += _unknown("inventory", rec, "item", inv.item, items, "item")
    for d in sc.demand:
        out += _unknown("demand", d.id, "customer", d.customer, customers, "customer")
        out += _unknown("demand", d.id, "item", d.item, items, "item")
    return out


def check_lanes(sc: Scenario) -> list[Issue]:
    """A lane runs supplier→site, site→site or site→customer between nodes that exist."""
    sites = {s.id for s in sc.sites}
    suppliers = {s.id for s in sc.suppliers}
    customers = {c.id for c in sc.customers}
    starts, ends = sites | suppliers, sites | customers
    out: list[Issue] = []
    for lane in sc.lanes:
        if lane.origin not in starts:
            what = "a customer" if lane.origin in customers else "no site or supplier"
            out.append(Issue("lanes", lane.id, "from",
                             f"lane starts at {lane.origin!r}, which is {what}",
                             "a lane starts at a site or a supplier"))
        if lane.destination not in ends:
            what = "a supplier" if lane.destination in suppliers else "no site or customer"
            out.append(Issue("lanes", lane.id, "to",
                             f"lane to nowhere: {lane.destination!r} is {what}",
                             "a lane ends at a site or a customer"))
        if lane.origin == lane.destination:
            out.append(Issue("lanes", lane.id, "to", "lane starts and ends at the same node",
                             "remove the lane"))
    return out


def check_bom_acyclic(sc: Scenario) -> list[Issue]:
    """No item is, directly or through sub-assemblies, a component of itself."""
    children: dict[str, list[str]] = defaultdict(list)
    for b in sc.boms:
        children[b.parent].append(b.item)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for c in children.get(node, ()):
            if state.get(c) == 1:
                cycles.append(path[path.index(c):] + [c])
            elif c not in state:
                visit(c, path)
        path.pop()
        state[node] = 2

    for root in list(children):
        if root not in state:
            visit(root, [])
    return [Issue("boms", cyc[0], "item", "BOM cycle: " + " -> ".join(cyc),
                  "an item can't contain itself; remove one of these BOM lines")
            for cyc in cycles]


def check_sources(sc: Scenario) -> list[Issue]:
    """Every item can be had: some site makes it, some supplier offers it, or it is in stock."""
    made = {m for s in sc.sites for m in s.makes}
    offered = {o.item for o in sc.offers}
    stocked = {inv.item for inv in sc.inventory}
    return [Issue("items", i.id, "id",
                  f"item {i.id!r} is made by no site, offered by no supplier and not in stock",
                  "add it to a site's makes, add a supplier offer, or remove the item")
            for i in sc.items if i.id not in made | offered | stocked]


def check_work_centers(sc: Scenario) -> list[Issue]:
    """Routings use work-center types some site has; a site makes only what it can route."""
    types_at: dict[str, set[str]] = defaultdict(set)
    for w in sc.work_centers:
        types_at[w.site].add(w.type)
    all_types = {w.type for w in sc.work_centers}
    route: dict[str, set[str]] = defaultdict(set)
    out: list[Issue] = []
    for r in sc.routings:
        route[r.item].add(r.work_center)
        if r.work_center not in all_types:
            out.append(Issue("routings", f"{r.item}/{r.work_center}", "work_center",
                             f"no site has a work center of type {r.work_center!r}",
                             "add that work center to a site that makes the item, "
                             "or correct the type"))
    for s in sc.sites:
        for m in s.makes:
            missing = sorted(route[m] - types_at[s.id])
            if missing and set(missing) <= all_types:
                out.append(Issue("sites", s.id, "makes",
                                 f"site makes {m!r} but has no work center of type "
                                 f"{', '.join(missing)}",
                                 f"add a {missing[0]!r} work center to {s.id} "
                                 f"or remove {m!r} from makes"))
    return out


def check_dates(sc: Scenario) -> list[Issue]:
    """Demand due dates and disruption starts fall inside the horizon."""
    h = sc.horizon
    span = f"{h.start} .. {h.end}"
    out: list[Issue] = []
    for d in sc.demand:
        if not h.contains(d.due):
            out.append(Issue("demand", d.id, "due", f"date {d.due} is outside the horizon "
                             f"({span})", "move the due date into the horizon or extend it"))
    for x in sc.disruptions:
        if not h.contains(x.start):
            out.append(Issue("disruptions", x.id, "from", f"date {x.start} is outside the "
                             f"horizon ({span})", "start the disruption inside the horizon"))
    for w in sc.work_centers:
        if w.start is not None and w.start >= h.end:
            out.append(Issue("work_centers", f"{w.site}/{w.type}", "from",
                             f"date {w.start} is after the horizon ({span})",
                             "start the work center inside the horizon or drop it"))
    return out


def check_disruption_targets(sc: Scenario) -> list[Issue]:
    """A disruption targets a node id, `country:XX` of some node, or an existing `lane:A>B`."""
    return [Issue("disruptions", x.id, "target", why,
                  "target a site, supplier or customer id, country:XX or lane:A>B")
            for x in sc.disruptions if (why := _target_problem(sc, x.target))]


def _target_problem(sc: Scenario, target: str) -> str:
    """Why `target` names no node, country or lane ("" when it does)."""
    nodes = ({s.id for s in sc.sites} | {s.id for s in sc.suppliers}
             | {c.id for c in sc.customers})
    countries = ({s.country for s in sc.sites} | {s.country for s in sc.suppliers}
                 | {c.country for c in sc.customers})
    if target.startswith("country:"):
        return "" if target[8:] in countries else f"no node is in country {target[8:]!r}"
    if target.startswith("lane:"):
        return "" if target[5:] in {ln.id for ln in sc.lanes} else f"no lane {target[5:]!r}"
    return "" if target in nodes else f"unknown node {target!r}"


def check_recovery(sc: Scenario) -> list[Issue]:
    """Recovery times name `default`, `kind:KIND`, a site, supplier, offer or lane."""
    kinds = {f"kind:{k}" for k in ("site", "supplier", "offer", "lane")}
    offers = {f"{o.supplier}/{o.item}" for o in sc.offers}
    out = _duplicates("recovery", (r.target for r in sc.recovery), "target")
    for r in sc.recovery:
        t = r.target
        if t == "default" or t in kinds or t in offers:
            continue
        why = "unknown kind" if t.startswith("kind:") else _target_problem(sc, t)
        if t.startswith("country:"):
            why = "a recovery time names a node, not a country"
        if why:
            out.append(Issue("recovery", t, "target", why,
                             "use default, kind:site|supplier|offer|lane, a site or supplier "
                             "id, SUPPLIER/ITEM or lane:A>B"))
    return out


def check_risks(sc: Scenario) -> list[Issue]:
    """Risks target a node, country or lane; rates are probabilities per bucket."""
    out = _duplicates("risks", (r.id for r in sc.risks))
    for r in sc.risks:
        why = _target_problem(sc, r.target)
        if why:
            out.append(Issue("risks", r.id, "target", why,
                             "target a site, supplier or customer id, country:XX or lane:A>B"))
        if not 0.0 <= r.rate <= 1.0:
            out.append(Issue("risks", r.id, "rate", f"must be a probability in [0, 1], got "
                             f"{r.rate}", "give the chance of an event per bucket"))
        if r.duration_max is not None and r.duration_max < r.duration:
            out.append(Issue("risks", r.id, "duration_max", f"{r.duration_max} is below "
                             f"duration {r.duration}", "make duration_max >= duration"))
    return out


RULES: tuple[Callable[[Scenario], list[Issue]], ...] = (
    check_unique_ids,
    check_references,
    check_lanes,
    check_bom_acyclic,
    check_sources,
    check_work_centers,
    check_dates,
    check_disruption_targets,
    check_recovery,
    check_risks,
)


def check_scenario(sc: Scenario) -> list[Issue]:
    """Every issue every rule finds, in rule order."""
    return [issue for rule in RULES for issue in rule(sc)]
