"""Checks of a scenario's records against each other, one `check_*` function per rule.

Each rule returns the `Issue`s it finds; `check_scenario` runs them all so a planner
sees every problem at once. Field-level checks (types, signs) happen when records are
read; these rules need the whole scenario.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date

from fabnet.model.errors import Issue, warning
from fabnet.model.scenario import Scenario
from fabnet.model.serial_pattern import PatternError, SerialPattern
from fabnet.model.target import (
    KnownTargets,
    Target,
    TargetError,
    TargetKind,
    TargetProblem,
    check_target,
)


def _duplicates(section: str, ids: Iterable[str], what: str = "id") -> list[Issue]:
    counts = Counter(ids)
    return [
        Issue(section, key, what, f"duplicate {what} {key!r} ({n} records)",
              f"give each record in {section} its own {what}")
        for key, n in counts.items() if n > 1
    ]


def _window(start: date | None, until: date | None) -> str:
    return f"{start or '…'}..{until or '…'}"


def _overlapping(section: str, lines: list[tuple[str, date | None, date | None]],
                 what: str) -> list[Issue]:
    """BOM lines (routing steps) of one key may repeat only with effectivity windows that
    never overlap: a design change ends the old line before the new one starts."""
    by_key: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for key, start, until in lines:
        by_key[key].append((start or date.min, until or date.max))
    out: list[Issue] = []
    for key, spans in by_key.items():
        if len(spans) < 2:
            continue
        spans.sort()
        clash = next(((a, b) for a, b in zip(spans, spans[1:], strict=False) if b[0] <= a[1]),
                     None)
        if clash is None:
            continue
        show = [_window(None if x == date.min else x, None if y == date.max else y)
                for x, y in clash]
        out.append(Issue(section, key, what, f"duplicate {what}: {len(spans)} lines for {key} "
                         f"and two are in effect at once ({show[0]} and {show[1]})",
                         "end the old line (until) before the day the new one starts (from), "
                         "or remove one"))
    return out


def check_effectivity(sc: Scenario) -> list[Issue]:
    """A BOM line's or routing step's `until` is not before its `from`."""
    out: list[Issue] = []
    for section, rows in (("boms", [(f"{b.parent}/{b.item}", b.start, b.until)
                                    for b in sc.boms]),
                          ("routings", [(f"{r.item}/{r.work_center}", r.start, r.until)
                                        for r in sc.routings])):
        out += [Issue(section, key, "until", f"{until} is before from {start}",
                      "make until the same day as from or later")
                for key, start, until in rows
                if start is not None and until is not None and until < start]
    return out


def check_licences(sc: Scenario) -> list[Issue]:
    """A licence names a known customer and known items, ends after it starts, and is for
    its customer's country (another destination covers nothing: a warning)."""
    items = {i.id for i in sc.items}
    country = {c.id: c.country for c in sc.customers}
    out: list[Issue] = []
    for x in sc.licences:
        out += _unknown("licences", x.id, "customer", x.customer, set(country), "customer")
        for item in x.items:
            out += _unknown("licences", x.id, "items", item, items, "item")
        if x.until < x.start:
            out.append(Issue("licences", x.id, "until", f"{x.until} is before from {x.start}",
                             "make until the same day as from or later"))
        if x.customer in country and x.country != country[x.customer]:
            out.append(warning("licences", x.id, "country",
                               f"licence is for {x.country}, but customer {x.customer} is in "
                               f"{country[x.customer]}: it covers no delivery",
                               "correct the destination, or the customer's country"))
    return out


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
    out += _overlapping("boms", [(f"{b.parent}/{b.item}", b.start, b.until) for b in sc.boms],
                        "item")
    out += _overlapping("routings", [(f"{r.item}/{r.work_center}", r.start, r.until)
                                     for r in sc.routings], "work_center")
    out += _duplicates("licences", (x.id for x in sc.licences))
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

    def visit(root: str) -> None:
        """Depth first from `root`, on a stack of its own (a BOM thousands of levels
        deep is fine), in the order a recursive walk would take."""
        state[root] = 1
        path, todo = [root], [iter(children.get(root, ()))]
        while todo:
            for c in todo[-1]:
                if state.get(c) == 1:
                    cycles.append(path[path.index(c):] + [c])
                elif c not in state:
                    state[c] = 1
                    path.append(c)
                    todo.append(iter(children.get(c, ())))
                    break
            else:
                todo.pop()
                state[path.pop()] = 2

    for root in list(children):
        if root not in state:
            visit(root)
    return [Issue("boms", cyc[0], "item", "BOM cycle: " + " -> ".join(cyc),
                  "an item can't contain itself; remove one of these BOM lines")
            for cyc in cycles]


def check_sources(sc: Scenario) -> list[Issue]:
    """Every item can be had: some site makes it, some supplier offers it, or it is in stock."""
    made = {m for s in sc.sites for m in s.makes}
    offered = {o.item for o in sc.offers}
    stocked = {inv.item for inv in sc.inventory}
    had = made | offered | stocked  # once, not once per item
    return [Issue("items", i.id, "id",
                  f"item {i.id!r} is made by no site, offered by no supplier and not in stock",
                  "add it to a site's makes, add a supplier offer, or remove the item")
            for i in sc.items if i.id not in had]


def unroutable(sc: Scenario) -> list[tuple[str, str, tuple[str, ...]]]:
    """(site, item, missing work-center types) for each item a site lists but can't make.

    DESIGN.md: a site makes an item only if it has a work center of every type the
    item's routing uses; a listed item it can't route is valid, and made nowhere there.
    """
    types_at: dict[str, set[str]] = defaultdict(set)
    for w in sc.work_centers:
        types_at[w.site].add(w.type)
    route: dict[str, set[str]] = defaultdict(set)
    for r in sc.routings:
        route[r.item].add(r.work_center)
    return [(s.id, m, tuple(sorted(route[m] - types_at[s.id])))
            for s in sc.sites for m in s.makes if route[m] - types_at[s.id]]


def check_work_centers(sc: Scenario) -> list[Issue]:
    """Routings use work-center types some site has; a site that lists an item it can't
    route makes none of it there (a warning: the scenario stays valid)."""
    all_types = {w.type for w in sc.work_centers}
    out: list[Issue] = [
        Issue("routings", f"{r.item}/{r.work_center}", "work_center",
              f"no site has a work center of type {r.work_center!r}",
              "add that work center to a site that makes the item, or correct the type")
        for r in sc.routings if r.work_center not in all_types]
    for site, item, missing in unroutable(sc):
        if set(missing) <= all_types:
            out.append(warning("sites", site, "makes", cannot_make(site, item, missing)
                               + f", so it makes none of {item}",
                               f"add a {missing[0]!r} work center to {site} "
                               f"or remove {item!r} from makes"))
    return out


def cannot_make(site: str, item: str, missing: tuple[str, ...]) -> str:
    """`FR-LYON lists RECON-Q but has no flight-test work center`."""
    return (f"{site} lists {item} but has no {', '.join(missing)} work "
            f"center{'s' if len(missing) > 1 else ''}")


def check_demand(sc: Scenario) -> list[Issue]:
    """A scenario without demand is valid, but its plan makes nothing: say so."""
    if sc.demand:
        return []
    return [warning("demand", "", "", "no demand: the plan will make nothing",
                    "add orders to the demand section (demand.csv in a CSV folder)")]


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
    """A disruption targets a node id, `country:XX` of some node, or an existing `lane:A>B`;
    one with a `work_center` targets a site that has a work center of that type."""
    known = KnownTargets.of(sc)
    out = [Issue("disruptions", x.id, "target", why.message, why.fix)
           for x in sc.disruptions if (why := check_target(x.target, known))]
    sites = {s.id for s in sc.sites}
    types: dict[str, list[str]] = {}
    for w in sc.work_centers:
        types.setdefault(w.site, []).append(w.type)
    for x in sc.disruptions:
        if x.work_center is None:
            continue
        if x.target not in sites:
            out.append(Issue("disruptions", x.id, "work_center", f"a work center is cut only "
                             f"at a site, and {x.target!r} is not one", "target the site "
                             "the work center is at, or leave work_center empty"))
        elif x.work_center not in types.get(x.target, []):
            have = ", ".join(sorted(types.get(x.target, []))) or "none"
            out.append(Issue("disruptions", x.id, "work_center", f"site {x.target} has no "
                             f"{x.work_center!r} work center", f"use one of its work "
                             f"centers ({have})"))
    return out


def check_recovery(sc: Scenario) -> list[Issue]:
    """Recovery times name `default`, `kind:KIND`, a site, supplier, offer or lane."""
    kinds = {f"kind:{k}" for k in ("site", "supplier", "offer", "lane")}
    offers = {f"{o.supplier}/{o.item}" for o in sc.offers}
    known = KnownTargets.of(sc)
    out = _duplicates("recovery", (r.target for r in sc.recovery), "target")
    for r in sc.recovery:
        t = r.target
        if t == "default" or t in kinds or t in offers:
            continue
        why: TargetProblem | None
        if t.startswith("kind:"):
            why = TargetProblem("unknown kind", "use kind:site|supplier|offer|lane")
        else:
            why = check_target(t, known)
            if _kind_of(t) is TargetKind.COUNTRY:
                why = TargetProblem("a recovery time names a node, not a country",
                                    "name each site or supplier of that country")
        if why:
            out.append(Issue("recovery", t, "target", why.message,
                             f"{why.fix}; a recovery target is default, "
                             "kind:site|supplier|offer|lane, a site or supplier id, "
                             "SUPPLIER/ITEM or lane:A>B"))
    return out


def _kind_of(text: str) -> TargetKind | None:
    """What `text` targets, or None when it can't be read."""
    try:
        return Target.parse(text).kind
    except TargetError:
        return None


def check_risks(sc: Scenario) -> list[Issue]:
    """Risks target a node, country or lane; rates are probabilities per bucket."""
    out = _duplicates("risks", (r.id for r in sc.risks))
    known = KnownTargets.of(sc)
    for r in sc.risks:
        why = check_target(r.target, known)
        if why:
            out.append(Issue("risks", r.id, "target", why.message, why.fix))
        if not 0.0 <= r.rate <= 1.0:
            out.append(Issue("risks", r.id, "rate", f"must be a probability in [0, 1], got "
                             f"{r.rate}", "give the chance of an event per bucket"))
        if r.duration_max is not None and r.duration_max < r.duration:
            out.append(Issue("risks", r.id, "duration_max", f"{r.duration_max} is below "
                             f"duration {r.duration}", "make duration_max >= duration"))
    return out


def check_serials(sc: Scenario) -> list[Issue]:
    """A serial pattern parses, and is given only on a serialized item."""
    out: list[Issue] = []
    for i in sc.items:
        if i.serial_pattern is None:
            continue
        if not i.serialized:
            out.append(Issue("items", i.id, "serial_pattern", "a serial pattern on an item "
                             "that is not serialized", "add serialized: true, or remove "
                             "serial_pattern"))
            continue
        try:
            SerialPattern.parse(i.serial_pattern)
        except PatternError as e:
            out.append(Issue("items", i.id, "serial_pattern", str(e),
                             "write it like RQ-{yyyy}-{seq:06}"))
    return out


def check_test_plans(sc: Scenario) -> list[Issue]:
    """Test steps name a known item, once per item, with limits that leave room to pass."""
    items = {i.id for i in sc.items}
    out = _duplicates("test_plans", (f"{t.item}/{t.step}" for t in sc.test_plans), "step")
    for t in sc.test_plans:
        rec = f"{t.item}/{t.step}"
        out += _unknown("test_plans", rec, "item", t.item, items, "item")
        if t.min is not None and t.max is not None and t.min > t.max:
            out.append(Issue("test_plans", rec, "max", f"{t.max} is below min {t.min}",
                             "make max >= min"))
    return out


RULES: tuple[Callable[[Scenario], list[Issue]], ...] = (
    check_unique_ids,
    check_references,
    check_lanes,
    check_bom_acyclic,
    check_sources,
    check_work_centers,
    check_demand,
    check_dates,
    check_disruption_targets,
    check_recovery,
    check_risks,
    check_serials,
    check_test_plans,
    check_effectivity,
    check_licences,
)


def check_scenario(sc: Scenario) -> list[Issue]:
    """Every issue every rule finds, in rule order."""
    return [issue for rule in RULES for issue in rule(sc)]
