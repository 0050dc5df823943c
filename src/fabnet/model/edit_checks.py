"""The cross-record rules for one changed record of a scenario already known to be sound.

`check_scenario` runs every rule over every record: right for a scenario read from a
file, wasteful after a one-row edit of a scenario that passed them all. Such an edit can
only break what involves the changed record: its own fields and references, duplicates
of its key, and the records that relied on what the old record held (a deleted item that
BOM lines name, a country no node is in any more, a work-center type no site has now).
`edit_errors` re-runs each rule of `consistency.RULES`, with the rule's own code, on a
scenario whose checked sections hold only those records and whose looked-up sections are
whole, like a proof-reader who, after one word is changed, rereads the sentences that
use it rather than the book. It finds an error exactly when `check_scenario` of the
edited scenario does (the tests prove it over random edits); the messages to show are
the whole check's. A rule it has no plan for is run whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fabnet.model import consistency as c
from fabnet.model.errors import Issue
from fabnet.model.scenario import Scenario

NODE_SECTIONS = ("sites", "suppliers", "customers")


@dataclass(frozen=True)
class RecordChange:
    """One record of `section` changed: `old` became `new` (None: added, or deleted)."""

    section: str
    old: Any
    new: Any

    def lost(self, section: str, attr: str = "id") -> frozenset[str]:
        """The value of `attr` the old record of `section` held and the new one doesn't."""
        if self.section != section or self.old is None:
            return frozenset()
        had = getattr(self.old, attr)
        return frozenset() if self.new is not None and getattr(self.new, attr) == had \
            else frozenset({had})

    @property
    def targets_changed(self) -> bool:
        """Whether what a disruption, risk or recovery time may name can have shrunk: a
        node, a node's country, a lane, a site's work-center type, an offer."""
        o, n = self.old, self.new
        if o is None:
            return False
        if self.section in NODE_SECTIONS:
            return n is None or n.id != o.id or n.country != o.country
        if self.section in ("lanes", "offers"):
            return n is None or key(self.section, n) != key(self.section, o)
        if self.section == "work_centers":
            return n is None or (n.site, n.type) != (o.site, o.type)
        return False


def key(section: str, rec: Any) -> str:
    """The key the consistency rules count duplicates by (`A>B` for lanes, `SITE/TYPE`
    for work centers, `SUPPLIER/ITEM` for offers, …, else the id)."""
    match section:
        case "lanes":
            return str(rec.id)
        case "work_centers":
            return f"{rec.site}/{rec.type}"
        case "offers":
            return f"{rec.supplier}/{rec.item}"
        case "boms":
            return f"{rec.parent}/{rec.item}"
        case "routings":
            return f"{rec.item}/{rec.work_center}"
        case "test_plans":
            return f"{rec.item}/{rec.step}"
        case "inventory":
            return f"{rec.site}/{rec.item}"
        case "recovery":
            return str(rec.target)
        case _:
            return str(rec.id)


def edit_errors(base: Scenario, new: Scenario, change: RecordChange) -> list[Issue] | None:
    """The errors of `new` (= `base` with `change`), found by re-checking only the records
    the change can affect, when `base` has none: empty exactly when `check_scenario(new)`
    has none. None when some rule has no plan here (check the whole scenario then)."""
    if any(rule not in PLANS for rule in c.RULES):
        return None
    out: list[Issue] = []
    for rule in c.RULES:
        sub = PLANS[rule](new, change)
        if sub is not None:
            out += [i for i in rule(sub) if not i.is_warning]
    return out


# ---------------------------------------------------------------- the plans
# Each plan gives the scenario its rule is re-run on (None: nothing to re-check): the
# sections the rule checks record by record hold only the records whose outcome the
# change can alter, the sections it looks ids up in are the edited scenario's own.

Plan = Callable[[Scenario, RecordChange], Scenario | None]


def _mine(change: RecordChange, section: str) -> list[Any]:
    """The new record, when it belongs to `section`."""
    return [change.new] if change.section == section and change.new is not None else []


def _where(records: Iterable[Any], keep: Callable[[Any], bool]) -> list[Any]:
    return [r for r in records if keep(r)]


def _on(new: Scenario, looked_up: Iterable[str], **checked: list[Any]) -> Scenario | None:
    """`new` with only `checked` in the checked sections and `looked_up` whole; None
    when there is nothing to check."""
    if not any(checked.values()):
        return None
    sections: dict[str, Any] = {s: getattr(new, s) for s in looked_up}
    sections.update((s, tuple(v)) for s, v in checked.items())
    return Scenario(new.name, new.horizon, **sections)


def _unique_ids(new: Scenario, ch: RecordChange) -> Scenario | None:
    """Duplicates of the new record's key (and, for a node, of its id across nodes)."""
    n, o, s = ch.new, ch.old, ch.section
    if n is None:
        return None
    out: dict[str, list[Any]] = {}
    k = key(s, n)
    if s in _DUPLICATED and (o is None or key(s, o) != k or s in ("boms", "routings")):
        out[s] = _where(getattr(new, s), lambda r: key(s, r) == k)
    if s in NODE_SECTIONS and (o is None or o.id != n.id):
        for node in NODE_SECTIONS:
            out[node] = _where(getattr(new, node), lambda r: r.id == n.id)
    return _on(new, (), **out)


_DUPLICATED = ("items", "sites", "suppliers", "customers", "demand", "disruptions", "lanes",
               "work_centers", "offers", "boms", "routings", "licences")


def _references(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new record's references, and every reference to an id the change removed."""
    items, sites = ch.lost("items"), ch.lost("sites")
    suppliers, customers = ch.lost("suppliers"), ch.lost("customers")
    checked = {
        "boms": _mine(ch, "boms") + (_where(new.boms, lambda b: b.parent in items
                                            or b.item in items) if items else []),
        "routings": _mine(ch, "routings") + (_where(new.routings, lambda r: r.item in items)
                                             if items else []),
        "sites": _mine(ch, "sites") + (_where(new.sites, lambda x: not items.isdisjoint(
            x.makes)) if items else []),
        "work_centers": _mine(ch, "work_centers") + (_where(new.work_centers,
                                                            lambda w: w.site in sites)
                                                     if sites else []),
        "offers": _mine(ch, "offers") + (_where(new.offers, lambda x: x.supplier in suppliers
                                                or x.item in items)
                                         if items or suppliers else []),
        "inventory": _mine(ch, "inventory") + (_where(new.inventory, lambda x: x.site in sites
                                                      or x.item in items)
                                               if items or sites else []),
        "demand": _mine(ch, "demand") + (_where(new.demand, lambda d: d.customer in customers
                                                or d.item in items)
                                         if items or customers else []),
    }
    looked_up = ["items", "suppliers", "customers"]
    if checked["work_centers"] or checked["inventory"]:
        # they look sites up: every site then, whose makes are re-checked too (harmless)
        looked_up.append("sites")
        del checked["sites"]
    return _on(new, looked_up, **checked)


def _lanes(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new lane, and the lanes from or to a node that is gone."""
    gone = ch.lost("sites") | ch.lost("suppliers") | ch.lost("customers")
    lanes = _mine(ch, "lanes") + (_where(new.lanes, lambda ln: ln.origin in gone
                                         or ln.destination in gone) if gone else [])
    return _on(new, NODE_SECTIONS, lanes=lanes)


def _bom_acyclic(new: Scenario, ch: RecordChange) -> Scenario | None:
    """A new BOM line closes a cycle only through itself: the lines below its component
    hold that cycle if there is one."""
    n = ch.new
    if ch.section != "boms" or n is None:
        return None
    children: dict[str, list[str]] = defaultdict(list)
    for b in new.boms:
        children[b.parent].append(b.item)
    below, todo = {n.item}, [n.item]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in below:
                below.add(child)
                todo.append(child)
    return _on(new, (), boms=[n, *_where(new.boms, lambda b: b.parent in below)])


def _sources(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new item, and the items that lost a site making them, an offer or stock."""
    lost: set[str] = set()
    o, n = ch.old, ch.new
    if ch.section == "sites" and o is not None:
        lost = set(o.makes) - set(() if n is None else n.makes)
    elif ch.section in ("offers", "inventory"):
        lost = set(ch.lost(ch.section, "item"))
    items = _mine(ch, "items") + (_where(new.items, lambda i: i.id in lost) if lost else [])
    return _on(new, ("sites", "offers", "inventory"), items=items)


def _work_centers(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new routing step, and the steps whose work-center type a site no longer has
    (the rule's warnings are about sites, left out here)."""
    types = ch.lost("work_centers", "type")
    routings = _mine(ch, "routings") + (_where(new.routings, lambda r: r.work_center in types)
                                        if types else [])
    return _on(new, ("work_centers",), routings=routings)


def _nothing(new: Scenario, ch: RecordChange) -> Scenario | None:
    """A rule that only warns."""
    return None


def _dates(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new record's dates against the horizon."""
    return _on(new, (), **{s: _mine(ch, s) for s in ("demand", "disruptions", "work_centers")})


def _disruption_targets(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new disruption, or every disruption when what they may name has shrunk."""
    hits = list(new.disruptions) if ch.targets_changed else _mine(ch, "disruptions")
    return _on(new, (*NODE_SECTIONS, "lanes", "work_centers"), disruptions=hits)


def _recovery(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The recovery times with the new one's target, or all of them when what they may
    name has shrunk."""
    n = ch.new
    if ch.targets_changed:
        hits = list(new.recovery)
    else:
        hits = _where(new.recovery, lambda r: r.target == n.target) \
            if ch.section == "recovery" and n is not None else []
    return _on(new, (*NODE_SECTIONS, "lanes", "offers"), recovery=hits)


def _risks(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The risks with the new one's id, or all of them when what they may name has shrunk."""
    n = ch.new
    if ch.targets_changed:
        hits = list(new.risks)
    else:
        hits = _where(new.risks, lambda r: r.id == n.id) \
            if ch.section == "risks" and n is not None else []
    return _on(new, (*NODE_SECTIONS, "lanes"), risks=hits)


def _serials(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new item's serial pattern."""
    return _on(new, (), items=_mine(ch, "items"))


def _test_plans(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The test steps with the new one's key, and the steps of an item that is gone."""
    n, items = ch.new, ch.lost("items")
    hits = _where(new.test_plans, lambda t: (ch.section == "test_plans" and n is not None
                                             and key("test_plans", t) == key("test_plans", n))
                  or t.item in items) if _mine(ch, "test_plans") or items else []
    return _on(new, ("items",), test_plans=hits)


def _effectivity(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new BOM line's or routing step's dates."""
    return _on(new, (), boms=_mine(ch, "boms"), routings=_mine(ch, "routings"))


def _licences(new: Scenario, ch: RecordChange) -> Scenario | None:
    """The new licence, and the licences of a customer or for an item that is gone (a
    customer's country is only warned about)."""
    items, customers = ch.lost("items"), ch.lost("customers")
    hits = _mine(ch, "licences") + (_where(new.licences, lambda x: x.customer in customers
                                           or not items.isdisjoint(x.items))
                                    if items or customers else [])
    return _on(new, ("items", "customers"), licences=hits)


#: for each rule of `consistency.RULES`, the plan of what to re-check after a change
PLANS: dict[Callable[[Scenario], list[Issue]], Plan] = {
    c.check_unique_ids: _unique_ids,
    c.check_references: _references,
    c.check_lanes: _lanes,
    c.check_bom_acyclic: _bom_acyclic,
    c.check_sources: _sources,
    c.check_work_centers: _work_centers,
    c.check_demand: _nothing,
    c.check_dates: _dates,
    c.check_disruption_targets: _disruption_targets,
    c.check_recovery: _recovery,
    c.check_risks: _risks,
    c.check_serials: _serials,
    c.check_test_plans: _test_plans,
    c.check_effectivity: _effectivity,
    c.check_licences: _licences,
}

Rule = Callable[[Scenario], list[Issue]]

#: the rules that may warn, in `RULES` order, and the sections their warnings read: an
#: edit of one of those sections runs the rule whole for its warnings, another edit keeps
#: the warnings it gave before
WARNING_RULES: dict[Rule, frozenset[str]] = {
    c.check_work_centers: frozenset({"sites", "work_centers", "routings"}),
    c.check_demand: frozenset({"demand"}),
    c.check_licences: frozenset({"licences", "customers"}),
}

Warnings = dict[Rule, tuple[Issue, ...]]


def rule_warnings(sc: Scenario, section: str | None = None,
                  before: Warnings | None = None) -> Warnings:
    """Each warning rule's warnings on `sc`, in rule order; after an edit of `section`,
    the rules that don't read it keep theirs from `before` (the scenario before the edit)."""
    return {rule: before[rule] if before is not None and rule in before
            and section not in reads else tuple(i for i in rule(sc) if i.is_warning)
            for rule, reads in WARNING_RULES.items()}
