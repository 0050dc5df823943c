"""A short floor story on a stored, planned scenario, told through the floor's own
services: release the first week, receive the lots, build a few units, a failed test and
its retest, ship two, a shipment refused under a licence that expired yesterday, hold a
lot and trace it down to the customers who have it, and an engineering change to the
product's BOM with its impact (work orders, units, component demand) before review.

`make demo` runs it on the Europe example (`fabnet floor demo`), and the dashboard's demo
store gets it as its floor history. Every step is audited like a real one.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fabnet.model.errors import FabnetError
from fabnet.model.licence import Licence
from fabnet.model.scenario import Scenario, TestPlan
from fabnet.services import database as db_svc
from fabnet.services import eco as eco_svc
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.licences import add_licence
from fabnet.services.trace import trace_down
from fabnet.shop.eco import EcoKind, EcoLine, EcoOp
from fabnet.shop.errors import ShipRefused
from fabnet.shop.roles import Caller
from fabnet.shop.work_order import WorkOrder
from fabnet.store import Role, Store
from fabnet.store.repository import now

LEAD = Caller("floor-lead", Role.ADMIN)
QUALITY = Caller("floor-quality", Role.QUALITY)
COMPLIANCE = Caller("floor-compliance", Role.COMPLIANCE)
ENGINEER = Caller("floor-engineer", Role.ENGINEERING)


@dataclass
class FloorStory:
    """What the story did, one line per step, and the serials and lot it used."""

    lines: list[str] = field(default_factory=list)
    serials: tuple[str, ...] = ()
    held_lot: str = ""
    refused: str = ""  # why the shipment under the expired licence was refused
    eco: str = ""  # the ECO written, e.g. ECO-1
    item: str = ""  # the product built (the first week's first serialized order)
    part: str = ""  # the part whose BOM quantity the ECO raises

    def say(self, text: str) -> None:
        """Add a line to the story."""
        self.lines.append(text)


def _order(sc: Scenario, orders: list[WorkOrder]) -> WorkOrder:
    """The first released order of a serialized product whose parts are all lots."""
    items = {i.id: i for i in sc.items}
    for o in orders:
        parts = [b.item for b in sc.boms if b.parent == o.item]
        if items[o.item].serialized and parts and not any(items[p].serialized
                                                          for p in parts):
            return o
    raise FabnetError(f"scenario {sc.name!r}: the first week releases no serialized "
                      "product built from lots alone (fix: plan a scenario with "
                      "`serialized: true` products)")


def _value(p: TestPlan, good: bool) -> float | None:
    """A measured value inside the step's limits (or just outside them, `good=False`)."""
    if p.min is None and p.max is None:
        return None
    if p.min is not None and p.max is not None:
        return (p.min + p.max) / 2 if good else p.max + 1
    if p.min is not None:  # a step from the limit, of half its size (limits can be < 0)
        return p.min + max(abs(p.min), 1.0) * (0.5 if good else -0.5)
    assert p.max is not None
    return p.max - max(abs(p.max), 1.0) * (0.5 if good else -0.5)


def floor_story(store: Store, scenario: str, units: int = 3) -> FloorStory:
    """Tell the floor story on a stored scenario with a stored plan (see the module)."""
    story = FloorStory()
    sc = scenario_svc.load_stored(store, scenario)
    week = sc.horizon.start + timedelta(days=6)
    orders = fl.release(store, LEAD, scenario, until=week)
    story.say(f"released the week of {sc.horizon.start}: {len(orders)} work orders "
              f"({sum(o.qty for o in orders):,} units)")
    wo = _order(sc, orders)
    n = min(units, wo.qty)
    sources = {o.item: o.supplier for o in reversed(sc.offers)}
    need: dict[str, float] = {}
    for b in sc.boms:
        if b.parent == wo.item:
            need[b.item] = need.get(b.item, 0.0) + b.qty * n
    lots: dict[str, str] = {}
    for item, q in need.items():
        code = f"{(sources.get(item) or 'LOT')[:12]}-{sc.horizon.start:%y%m}-{len(lots) + 1:03d}"
        fl.receive(store, LEAD, wo.site, item, code, q, sources.get(item), scenario)
        lots[item] = code
    story.say(f"received {len(lots)} supplier lots at {wo.site} for {wo.code} ({wo.item})")
    built = fl.build(store, LEAD, wo.id, n)
    story.say(f"built {n} {wo.item} on {wo.code}: {', '.join(built.serials)}")
    plans = [p for p in sc.test_plans if p.item == wo.item]
    retested = next((p for p in plans if p.min is not None or p.max is not None), None)
    for k, serial in enumerate(built.serials):
        for p in plans:
            if k == 1 and p is retested:
                fl.record_test(store, QUALITY, serial, p.step, True, _value(p, False),
                               "ST-1")
                story.say(f"{serial}: {p.step} FAILED at {_value(p, False):g} (limits "
                          f"{p.limits()}); retested")
            out = fl.record_test(store, QUALITY, serial, p.step, True, _value(p, True), "ST-1")
        story.say(f"{serial}: {'complete' if out.complete else 'not complete'} after "
                  f"{len(plans)} test steps" if plans else f"{serial}: no test plan")
    customer = next(c.id for c in sc.customers if c.approved)
    shipped = fl.ship(store, LEAD, customer, list(built.serials[:2]))
    story.say(f"shipped {', '.join(shipped.serials)} to {customer} (shipment {shipped.id})")
    if len(built.serials) > 2:
        story.refused = _expired_licence(store, story, sc, scenario, customer, wo.item,
                                         built.serials[2])
    lot = lots[next(iter(need))]
    fl.hold(store, QUALITY, lot, "supplier notice: suspect batch", scenario)
    story.say(f"quality held lot {lot}")
    if len(built.serials) > 2:
        try:
            fl.ship(store, LEAD, customer, [built.serials[2]])
        except ShipRefused as e:
            story.say(f"shipping {built.serials[2]} refused: {e.reasons[built.serials[2]]}")
    down = trace_down(store, LEAD, lot, scenario)
    story.say(f"trace {lot} --down: {len(down.units)} units carry it; "
              + "; ".join(f"{u.serial} {u.status}"
                          + (f" at {u.customer}" if u.customer else f" at {u.site}")
                          for u in down.units))
    story.serials, story.held_lot, story.item = built.serials, lot, wo.item
    story.eco, story.part = _bom_change(store, story, sc, scenario, wo.item)
    return story


def _expired_licence(store: Store, story: FloorStory, sc: Scenario, scenario: str,
                     shipped_to: str, item: str, serial: str) -> str:
    """Grant another approved customer a licence for `item` that expired yesterday, try
    to ship the complete unit `serial` under it; the gate's reason."""
    other = next((c for c in sc.customers if c.approved and c.id != shipped_to), None)
    cust = other or next(c for c in sc.customers if c.id == shipped_to)
    today = now().date()  # the day the export gate checks
    lic = Licence(f"L-{cust.country}-DEMO", cust.id, cust.country, (item,), 100,
                  today - timedelta(days=365), today - timedelta(days=1), "EUC-DEMO",
                  authority="export control office")
    add_licence(store, COMPLIANCE, lic, scenario)
    story.say(f"compliance recorded licence {lic.id} for {item} to {cust.id}, valid until "
              f"{lic.until} (yesterday)")
    try:
        fl.ship(store, LEAD, cust.id, [serial])
    except ShipRefused as e:
        why = e.general or e.reasons.get(serial, str(e))
        story.say(f"shipping {serial} to {cust.id} refused: {why}")
        return why
    raise FabnetError(f"licence {lic.id} expired yesterday, yet {serial} shipped under it "
                      "(fix: the export gate must check licence dates)")


def _bom_change(store: Store, story: FloorStory, sc: Scenario, scenario: str,
                item: str) -> tuple[str, str]:
    """As an engineer, write and submit an ECO that takes one more of the first part of
    `item`'s BOM from the horizon's first day, and tell its impact; its code and part."""
    part = next(b for b in sc.boms if b.parent == item)
    line = EcoLine(EcoKind.BOM, EcoOp.CHANGE, item, part.item, part.qty + 1)
    e = eco_svc.create_eco(store, ENGINEER, f"{part.qty + 1:g} {part.item} per {item} "
                           "after the field reports", [line], sc.horizon.start,
                           scenario=scenario)
    eco_svc.submit_eco(store, ENGINEER, e.id)
    story.say(f"{ENGINEER.name} wrote {e.code} ({line.label}, from {sc.horizon.start}) "
              "and sent it to review")
    # the scenario planned alone, with and without the change: on this story's floor a
    # plan from the floor's firm supply is infeasible (as `fabnet db plan` is)
    imp = eco_svc.eco_impact(store, ENGINEER, e.id, from_floor=False)
    change: dict[tuple[str, str], float] = defaultdict(float)
    for d in imp.demand:
        change[(d.item, d.table)] += d.delta
    moved = ", ".join(f"{k[0]} {k[1]} {v:+,g}" for k, v in sorted(change.items())
                      if abs(v) > 1e-6) or "none"
    story.say(f"{e.code} impact: {len(imp.work_orders)} open work orders build the old "
              f"design, {len(imp.in_stock)} units in stock and {len(imp.delivered)} "
              f"delivered carry it; component demand change: {moved}")
    return e.code, part.item


def fresh_store_folder(parent: str | Path) -> Path:
    """A new, empty folder under `parent` for a store (a new name each time, so nothing
    anybody wrote is ever overwritten)."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="store-", dir=parent))


def run_floor_demo(scenario_file: str | Path, parent: str | Path) -> tuple[Path, FloorStory]:
    """Import and plan `scenario_file` into a fresh SQLite store under `parent`, tell
    the floor story on it; the store file and the story."""
    db = fresh_store_folder(parent) / "floor.sqlite"
    url = f"sqlite:///{db}"
    db_svc.init_store(url)
    store = db_svc.connect(url, "floor-demo")
    try:
        scenario_svc.import_scenario(store, scenario_file, "europe")
        plan_svc.plan_stored(store, "europe")
        return db, floor_story(store, "europe")
    finally:
        store.engine.dispose()
