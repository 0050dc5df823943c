"""ECOs on SQLite and PostgreSQL: the review workflow (never by the author), the impact on
a genealogy built on the floor (work orders, units in stock and delivered, component
demand planned with and without the change, leftover stock), the release as a new version
the next plan builds from, the retrofit, and the audit trail of every step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from fabnet.services import database as db_svc
from fabnet.services import eco as svc_eco
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.shop.eco import Eco, EcoError, EcoKind, EcoOp, EcoRefused, EcoStatus, parse_line
from fabnet.shop.errors import NotPermitted
from fabnet.shop.roles import Caller
from fabnet.shop.work_order import WorkOrderStatus
from fabnet.store import Role, Store
from fabnet.store.audit import read_entries
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures

# Week buckets from 2027-01-04; everything arrives in the bucket it leaves, and assembly
# opens in week 1 with room for 3 drones and their packs a week, so week 1 makes D1 and
# week 2 (the ECO's effective week) makes D2, buying their parts in the same week.
NET = """
scenario: eco floor
horizon: {start: 2027-01-04, bucket: week, buckets: 4}
items:
  - {id: DRONE, kind: product, serialized: true, serial_pattern: "D-{seq:04}", revision: A,
     holding_cost: 1}
  - {id: PACK, kind: assembly, serialized: true, serial_pattern: "P-{seq:04}", holding_cost: 1}
  - {id: FRAME, kind: component, holding_cost: 1}
  - {id: FRAME2, kind: component, holding_cost: 1}
  - {id: CELL, kind: component, holding_cost: 1}
boms:
  DRONE: [{item: FRAME, qty: 1}, {item: PACK, qty: 1}]
  PACK: [{item: CELL, qty: 4}]
routings:
  DRONE: [{work_center: assembly, hours: 2}]
  PACK: [{work_center: assembly, hours: 0.5}]
sites:
  - id: S1
    country: FR
    makes: [DRONE, PACK]
    work_centers: [{type: assembly, hours: 7.5, from: 2027-01-11}]
suppliers:
  - id: SUP
    country: FR
    offers: [{item: FRAME, price: 1, lead_time: 0}, {item: FRAME2, price: 2, lead_time: 0},
             {item: CELL, price: 1, lead_time: 0}]
customers:
  - {id: OK, country: UA, approved: true}
lanes:
  - {from: SUP, to: S1, transit: 0}
  - {from: S1, to: OK, transit: 0}
demand:
  - {id: D1, customer: OK, item: DRONE, qty: 3, due: 2027-01-11}
  - {id: D2, customer: OK, item: DRONE, qty: 3, due: 2027-01-18}
"""

ADMIN = Caller("alice", Role.ADMIN)
ERIN = Caller("erin", Role.ENGINEERING)  # writes the ECOs
ED = Caller("ed", Role.ENGINEERING)  # reviews them
WEEK2 = date(2027, 1, 18)


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    """The network planned and week 1 released; its 3 drones built, 2 of them delivered."""
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "net.yaml"
    p.write_text(NET)
    scenario_svc.import_scenario(s, p, "net")
    plan_svc.plan_stored(s, "net")
    orders = fl.release(s, ADMIN, "net", until=date(2027, 1, 11))
    wk1 = {o.item: o.id for o in orders if o.due_bucket == 1}
    fl.receive(s, ADMIN, "S1", "CELL", "C-1", 12, "SUP")
    fl.receive(s, ADMIN, "S1", "FRAME", "F-1", 5, "SUP")
    fl.build(s, ADMIN, wk1["PACK"], 3)
    drones = fl.build(s, ADMIN, wk1["DRONE"], 3).serials
    fl.ship(s, ADMIN, "OK", list(drones[:2]))
    yield s
    s.engine.dispose()


def _frame_swap(store: Store, **kw: object) -> Eco:
    """FRAME out of DRONE, FRAME2 in, 3 cells per pack instead of 4, from week 2."""
    lines = [parse_line(EcoKind.BOM, EcoOp.REMOVE, "DRONE/FRAME"),
             parse_line(EcoKind.BOM, EcoOp.ADD, "DRONE/FRAME2=1"),
             parse_line(EcoKind.BOM, EcoOp.CHANGE, "PACK/CELL=3"),
             parse_line(EcoKind.ROUTING, EcoOp.CHANGE, "DRONE/assembly=1.5")]
    args: dict[str, object] = {"effective": WEEK2, **kw}
    return svc_eco.create_eco(store, ERIN, "FRAME2 after field cracks", lines,
                              **args)  # type: ignore[arg-type]


def _in_review(store: Store, **kw: object) -> Eco:
    e = _frame_swap(store, **kw)
    return svc_eco.submit_eco(store, ERIN, e.id)


def test_the_author_can_not_release_or_reject_their_own_eco(store: Store) -> None:
    e = _frame_swap(store)
    with pytest.raises(EcoError, match="is draft: it can't become released"):
        svc_eco.release_eco(store, ED, e.id)
    e = svc_eco.submit_eco(store, ERIN, e.id)
    assert e.status is EcoStatus.IN_REVIEW
    with pytest.raises(EcoRefused, match="erin wrote ECO-1 and may not release it"):
        svc_eco.release_eco(store, ERIN, e.id)
    with pytest.raises(EcoRefused, match="may not reject it"):
        svc_eco.reject_eco(store, ERIN, e.id, "no")
    with pytest.raises(NotPermitted, match="planner.*may not create an ECO"):
        svc_eco.create_eco(store, Caller("pat", Role.PLANNER), "x",
                           [parse_line(EcoKind.BOM, EcoOp.REMOVE, "DRONE/FRAME")], WEEK2)
    assert svc_eco.get_eco(store, ED, e.id).status is EcoStatus.IN_REVIEW
    assert svc_eco.reject_eco(store, ED, e.id, "needs a drawing").status is EcoStatus.REJECTED


def test_impact_lists_exactly_the_affected_orders_and_units(store: Store) -> None:
    e = _in_review(store)
    fl.release(store, ADMIN, "net", plan_svc.plan_stored(store, "net").id)  # week 2 too
    imp = svc_eco.eco_impact(store, ED, e.id)
    # open work orders of DRONE and PACK due on/after week 2: the week-2 ones, not week 1's
    # (done) nor anything of the components
    week2 = {(o.item, o.due_date) for o in fl.list_orders(store, ADMIN, "net")
             if o.due_date >= WEEK2 and o.item in {"DRONE", "PACK"}
             and o.status in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)}
    assert week2 == {("DRONE", WEEK2), ("PACK", WEEK2)}
    assert {(o.item, o.due_date) for o in imp.work_orders} == week2
    # every drone carries FRAME, and its installed pack 4 cells: the 2 shipped ones are
    # delivered, the third is in stock; the packs count as the drones they are in
    assert [u.serial for u in imp.delivered] == ["D-0001", "D-0002"]
    assert [u.serial for u in imp.in_stock] == ["D-0003"]
    assert imp.delivered[0].parts == ("CELL", "FRAME")
    # 5 frames received, 3 built in: 2 left over, no longer in any BOM
    assert [(x.item, x.lot, x.remaining, x.still_used) for x in imp.leftovers] == [
        ("FRAME", "F-1", 2.0, False)]


def test_impact_from_a_serial_counts_only_the_units_built_after_it(store: Store) -> None:
    e = _in_review(store, effective=None, effective_serial="D-0002")
    imp = svc_eco.eco_impact(store, ED, e.id, today=WEEK2)
    assert [u.serial for u in imp.in_stock] == ["D-0003"] and imp.delivered == ()


def test_component_demand_changes_exactly_at_the_effective_bucket(store: Store) -> None:
    e = _in_review(store)
    imp = svc_eco.eco_impact(store, ED, e.id, from_floor=False)  # the scenario alone
    bought = {(d.item, d.bucket): (d.before, d.after) for d in imp.demand
              if d.table == "purchases"}
    # week 2 (bucket 2) builds 3 drones: 3 FRAME -> 3 FRAME2, 12 CELL -> 9; week 1 as before
    want = {("FRAME", 2): (3.0, 0.0), ("FRAME2", 2): (0.0, 3.0), ("CELL", 2): (12.0, 9.0)}
    assert bought.keys() == want.keys()
    assert all(bought[k] == pytest.approx(want[k], abs=1e-5) for k in want)
    assert all(d.start == WEEK2 for d in imp.demand)


def test_impact_from_the_floor_buys_the_new_part_only_from_the_effective_bucket(
        store: Store) -> None:
    e = _in_review(store)
    imp = svc_eco.eco_impact(store, ED, e.id)  # the floor's lots and units are the stock
    after = {(d.item, d.bucket): d.after for d in imp.demand if d.table == "purchases"}
    assert after.get(("FRAME2", 2), 0.0) > 0
    assert not [k for k, q in after.items() if k[0] == "FRAME2" and k[1] < 2 and q > 1e-6]
    assert not [k for k, q in after.items() if k[0] == "FRAME" and k[1] >= 2 and q > 1e-6]


def test_release_makes_a_version_whose_plan_and_work_orders_use_the_new_lines(
        store: Store) -> None:
    e = _in_review(store)
    before = scenario_svc.list_versions(store, "net")[-1].version
    out = svc_eco.release_eco(store, ED, e.id, "approved")
    assert out.status is EcoStatus.RELEASED and out.version == before + 1
    sc = scenario_svc.load_stored(store, "net")
    frames = {(b.item, b.qty, b.start, b.until) for b in sc.boms if b.parent == "DRONE"}
    assert frames == {("FRAME", 1.0, None, date(2027, 1, 17)), ("FRAME2", 1.0, WEEK2, None),
                      ("PACK", 1.0, None, None)}
    assert next(i for i in sc.items if i.id == "DRONE").revision == "B"
    run = plan_svc.plan_stored(store, "net")
    bought = {(r["item"], r["order_bucket"]): r["qty"]
              for r in run.document["tables"]["purchases"]}
    made = sum(r["qty"] for r in run.document["tables"]["production"]
               if r["item"] == "DRONE" and r["bucket"] == 2)
    assert made > 0 and bought.get(("FRAME2", 2)) == pytest.approx(made)
    assert ("FRAME", 2) not in bought
    orders = fl.release(store, ADMIN, "net", run.id)
    wk2 = next(o for o in orders if o.item == "DRONE" and o.due_bucket == 2)
    assert [(op.work_center, op.hours) for op in wk2.operations] == [("assembly", 1.5)]
    with pytest.raises(EcoError, match="is released"):
        svc_eco.reject_eco(store, ED, e.id, "too late")


def test_retrofit_opens_one_repair_order_per_delivered_unit_once(store: Store) -> None:
    e = _in_review(store)
    with pytest.raises(EcoError, match="only a released ECO"):
        svc_eco.retrofit(store, ED, e.id)
    svc_eco.release_eco(store, ED, e.id)
    first = svc_eco.retrofit(store, ED, e.id)
    assert [r.serial for r in first] == ["D-0001", "D-0002"]
    assert svc_eco.retrofit(store, ED, e.id) == []


def test_every_eco_step_is_audited(store: Store) -> None:
    e = _in_review(store)
    with pytest.raises(EcoRefused):
        svc_eco.release_eco(store, ERIN, e.id)
    svc_eco.release_eco(store, ED, e.id)
    svc_eco.retrofit(store, ED, e.id)
    with store.engine.connect() as conn:
        trail = [(x.actor, x.action) for x in read_entries(conn)
                 if x.entity == "ECO-1"]
    assert trail == [("erin", "eco.create"), ("erin", "eco.submit"),
                     ("erin", "eco.refused"), ("ed", "eco.release"), ("ed", "eco.retrofit")]


def test_an_eco_line_naming_nothing_is_refused_with_the_fix(store: Store) -> None:
    with pytest.raises(EcoError, match="remove bom DRONE/CELL: no such line"):
        svc_eco.create_eco(store, ERIN, "x", [parse_line(EcoKind.BOM, EcoOp.REMOVE,
                                                         "DRONE/CELL")], WEEK2)
    with pytest.raises(EcoError, match="no item 'GPS' in scenario"):
        svc_eco.create_eco(store, ERIN, "x", [parse_line(EcoKind.BOM, EcoOp.ADD,
                                                         "DRONE/GPS=1")], WEEK2)
    with pytest.raises(EcoError, match="--add-bom 'DRONE/FRAME2': write PARENT/COMPONENT=QTY"):
        parse_line(EcoKind.BOM, EcoOp.ADD, "DRONE/FRAME2")
