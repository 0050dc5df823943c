"""A recall and what it costs the plan: trace a lot down to the units customers have,
open a what-if branch that owes each of those customers a replacement, plan it, and set
its KPIs beside the base plan's.

The branch adds one priority-1 demand per customer and item (one unit per delivered
unit that carries the lot), due today, or on the horizon's first day if the horizon
starts later. The base plan is the scenario's newest optimal stored plan (planned now if
there is none), so the difference is what the replacements cost: units lost and late,
and money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fabnet.services import branches as branch_svc
from fabnet.services import editing
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.floor import _scenario_id
from fabnet.services.trace import trace_down
from fabnet.shop.errors import FloorError, NotPermitted
from fabnet.shop.genealogy import Contained
from fabnet.shop.roles import Caller, FloorAction
from fabnet.store import Role, Store

#: who may open a recall's what-if: the roles that make what-if branches
RECALL_ROLES = frozenset({Role.ADMIN, Role.PLANNER, Role.CONTINUITY})

#: the KPIs a recall compares, in the order they are shown
COMPARED = ("units_demanded", "units_delivered", "units_late", "units_lost", "fill_rate",
            "on_time_rate", "cost_total")


@dataclass(frozen=True)
class Replacement:
    """A replacement demand the recall's branch adds: `qty` of `item` for `customer`."""

    id: str
    customer: str
    item: str
    qty: int
    due: date


@dataclass(frozen=True)
class Recall:
    """What recalling a lot costs: the delivered units that carry it, the replacements
    owed, and the branch's plan next to the base plan."""

    lot: str
    scenario: str
    branch: str
    units: tuple[Contained, ...]
    replacements: tuple[Replacement, ...]
    base_run: int
    run: int
    status: str
    base_kpis: dict[str, float]
    kpis: dict[str, float]

    @property
    def delta(self) -> dict[str, float]:
        """The branch's KPIs minus the base plan's, for the compared KPIs both have."""
        return {k: float(self.kpis[k]) - float(self.base_kpis[k]) for k in COMPARED
                if isinstance(self.kpis.get(k), int | float)
                and isinstance(self.base_kpis.get(k), int | float)}


def _slug(text: str) -> str:
    """`text` as a piece of a branch or demand id: letters, digits, '.', '_' and '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:40] or "lot"


def recall(store: Store, caller: Caller, lot: str, scenario: str | None = None,
           branch: str | None = None, today: date | None = None) -> Recall:
    """Trace `lot` down, open a what-if branch (`branch`, default `recall-LOT`, with a
    number if taken) adding a priority-1 replacement demand per customer and item for
    the delivered units carrying it, plan the branch and compare it with the base plan."""
    caller.check(FloorAction.TRACE)
    if caller.role not in RECALL_ROLES:
        who = ", ".join(r.value for r in Role if r in RECALL_ROLES)
        raise NotPermitted(f"{caller.name} ({caller.role.value}) may not open a recall's "
                           f"what-if (roles that may: {who}) (fix: trace without --recall, "
                           "or ask one of them)")
    with store.unit_of_work(read_only=True) as uow:
        _, name = _scenario_id(uow, scenario)
    down = trace_down(store, caller, lot, name)
    delivered = tuple(u for u in down.units if u.customer is not None
                      and u.status == "shipped")
    if not delivered:
        raise FloorError(f"no delivered unit carries {lot} ({len(down.units)} units in all, "
                         "none shipped): there is nothing to replace (fix: `fabnet trace "
                         f"{lot} --down` lists them)")
    sc = scenario_svc.load_stored(store, name)
    due = max(today or date.today(), sc.horizon.start)
    if due >= sc.horizon.end:
        raise FloorError(f"the horizon of {name!r} ends {sc.horizon.end}, before the "
                         f"replacements could be due ({due}) (fix: import a version with a "
                         "later horizon)")
    counts: dict[tuple[str, str], int] = {}
    for u in delivered:
        key = (str(u.customer), u.item)
        counts[key] = counts.get(key, 0) + 1
    taken = {d.id for d in sc.demand}
    out: list[Replacement] = []
    for (customer, item), n in sorted(counts.items()):
        k, rid = len(out) + 1, ""
        while not rid or rid in taken:
            rid = f"RECALL-{_slug(lot)}-{k}"
            k += 1
        taken.add(rid)
        out.append(Replacement(rid, customer, item, n, due))
    base = next((r for r in plan_svc.list_plan_runs(store, name, 50)
                 if r.branch is None and r.status == "optimal"), None) \
        or plan_svc.plan_stored(store, name)
    names = {b.name for b in branch_svc.list_branches(store)}
    stem = branch or f"recall-{_slug(lot)}"
    chosen, n = stem, 1
    while branch is None and chosen in names:
        n += 1
        chosen = f"{stem}-{n}"
    branch_svc.create_branch(store, chosen, name, note=f"recall of lot {lot}: "
                            f"{len(delivered)} delivered units replaced")
    for r in out:
        editing.put_row(store, chosen, "demand", {
            "id": r.id, "customer": r.customer, "item": r.item, "qty": r.qty,
            "due": r.due.isoformat(), "priority": 1})
    run = plan_svc.plan_stored(store, name, branch=chosen)
    return Recall(lot, name, chosen, delivered, tuple(out), base.id, run.id, run.status,
                  dict(base.kpis), dict(run.kpis))
