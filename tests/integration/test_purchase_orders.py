"""Purchase orders on SQLite and PostgreSQL: a stored plan's purchases placed with their
supplier, received lot by lot (open with what is still to come, closed when all of it
came, a larger lot refused and nothing booked), cancelled; roles, site limits and the
audit trail; and the plan from the floor, which keeps what open orders still bring as
firm purchases and equals the plan of a file with the same fixed receipts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fabnet.io.plan_io import plan_document, write_plan_dir
from fabnet.io.scenario_io import load_scenario
from fabnet.model.errors import ScenarioError
from fabnet.model.firm_supply import FirmSupply, ScheduledReceipt
from fabnet.model.network import compile_network
from fabnet.plan import PLAN_COLUMNS, make_plan
from fabnet.services import database as db_svc
from fabnet.services import plan_runs as plan_svc
from fabnet.services import purchase_orders as po_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.firm_supply import firm_supply
from fabnet.shop.errors import FloorError, NotPermitted
from fabnet.shop.purchase_order import OverReceipt, PurchaseOrderStatus, order_quantity
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller
from fabnet.store import NotFound, Role, Store
from fabnet.store.audit import read_entries
from fabnet.store.schema import scenarios
from tests.integration.test_api_fixtures import Api, Seeded, serve
from tests.integration.test_api_floor import FLOOR, Q
from tests.integration.test_firm_supply import TIMINGS
from tests.integration.test_floor import ADMIN, TINY
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures
from tests.plancheck import check_plan

pytest_plugins = ["tests.integration.test_api_fixtures"]

#: the tiny floor with cells a week away (ordered in week 0, at S1 in week 1) and a
#: second customer only S2 reaches, so both sites buy
NET = (TINY.replace("{item: CELL, price: 1, lead_time: 0}", "{item: CELL, price: 1, lead_time: 1}")
       .replace("  - {id: BAD,", "  - {id: OK2, country: UA, approved: true}\n  - {id: BAD,")
       .replace("  - {from: S1, to: BAD, transit: 0}",
                "  - {from: S1, to: BAD, transit: 0}\n  - {from: S2, to: OK2, transit: 0}")
       .replace("test_plans:", "  - {id: D2, customer: OK2, item: DRONE, qty: 2, "
                "due: 2027-01-18}\ntest_plans:"))
PLANNER = Caller("pat", Role.PLANNER)
QUALITY = Caller("quinn", Role.QUALITY)
LEAD = Caller.of("sam", Role.SITE_MANAGER, ("S1",))


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    """A store holding the network as `net`, planned once."""
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "net.yaml"
    p.write_text(NET)
    scenario_svc.import_scenario(s, p, "net")
    plan_svc.plan_stored(s, "net")
    yield s
    s.engine.dispose()


def _by(orders: list[Any]) -> dict[tuple[str, str], Any]:
    return {(o.site, o.item): o for o in orders}


def _bought(doc: dict[str, Any], site: str, item: str) -> tuple[float, float]:
    """(units bought, of which firm) of `item` for `site` in a plan document, to the
    solver's tolerance."""
    rows = [r for r in doc["tables"]["purchases"] if r["site"] == site and r["item"] == item]
    return round(sum(r["qty"] for r in rows), 6), round(sum(r["firm"] for r in rows), 6)


def test_release_places_the_plans_purchases_once(store: Store) -> None:
    run = plan_svc.list_plan_runs(store, "net")[0]
    orders = _by(po_svc.release_purchases(store, PLANNER, "net"))
    # 4 + 2 drones: 16 + 8 cells and 4 + 2 frames, rounded up to whole units
    assert {k: o.qty for k, o in orders.items()} == {
        ("S1", "CELL"): 16.0, ("S1", "FRAME"): 4.0, ("S2", "CELL"): 8.0, ("S2", "FRAME"): 2.0}
    cell = orders[("S1", "CELL")]
    row = next(r for r in run.document["tables"]["purchases"]
               if r["site"] == "S1" and r["item"] == "CELL")
    assert (cell.supplier, cell.order_bucket, cell.due_bucket) == (
        "SUP", row["order_bucket"], row["arrival_bucket"])
    assert cell.due_bucket == cell.order_bucket + 1  # the cells' lead time
    assert (cell.order_date.isoformat(), cell.due_date.isoformat()) == (
        row["order_start"], row["arrival_start"])
    assert cell.status is PurchaseOrderStatus.OPEN and cell.remaining == 16.0
    assert cell.code == f"PO-{cell.id}" and cell.plan_run == run.id
    with pytest.raises(FloorError, match="released already"):
        po_svc.release_purchases(store, PLANNER, "net")
    listed = po_svc.list_purchase_orders(store, QUALITY, "net",
                                         statuses=(PurchaseOrderStatus.OPEN,))
    assert sorted(o.id for o in listed) == sorted(o.id for o in orders.values())


def test_order_sizes_round_a_continuous_plans_purchases_up() -> None:
    assert order_quantity(15.999999, whole=False) == 16.0
    assert order_quantity(16.2, whole=False, multiple=10) == 20.0
    assert order_quantity(3.0, whole=False, moq=25, multiple=10) == 30.0
    assert order_quantity(40.0, whole=True, moq=25, multiple=10) == 40.0  # as planned


def test_release_orders_the_offers_packs(url: str, tmp_path: Path) -> None:  # noqa: F811
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "packs.yaml"
    p.write_text(NET.replace("{item: CELL, price: 1, lead_time: 1}",
                             "{item: CELL, price: 1, lead_time: 1, moq: 10, multiple: 5}"))
    scenario_svc.import_scenario(s, p, "net")
    plan_svc.plan_stored(s, "net")
    orders = _by(po_svc.release_purchases(s, PLANNER, "net"))
    assert (orders[("S1", "CELL")].qty, orders[("S2", "CELL")].qty) == (20.0, 10.0)
    s.engine.dispose()


def test_until_places_only_the_purchases_ordered_by_then(store: Store) -> None:
    orders = po_svc.release_purchases(store, PLANNER, "net", until=date(2027, 1, 4))
    assert orders and all(o.order_date.isoformat() == "2027-01-04" for o in orders)


def test_a_replan_keeps_open_orders_and_buys_nothing_twice(store: Store) -> None:
    orders = _by(po_svc.release_purchases(store, PLANNER, "net"))
    doc = plan_svc.plan_stored(store, "net").document
    firm = firm_supply(store, "net")
    assert {(x.site, x.item, x.order_bucket, x.arrival_bucket, x.qty) for x in firm.receipts} \
        == {(o.site, o.item, o.order_bucket, o.due_bucket, o.qty) for o in orders.values()}
    assert _bought(doc, "S1", "CELL") == (16.0, 16.0)
    assert _bought(doc, "S2", "FRAME") == (2.0, 2.0)
    assert doc["kpis"]["units_delivered"] == pytest.approx(6.0)
    # placing this plan's purchases adds nothing: all of them are on order already
    assert po_svc.release_purchases(store, PLANNER, "net") == []
    # without the floor, the plan buys what it needs afresh
    bare = plan_svc.plan_stored(store, "net", from_floor=False).document
    assert _bought(bare, "S1", "CELL")[1] == 0.0


def test_receipts_count_towards_the_order_until_it_closes(store: Store) -> None:
    cell = _by(po_svc.release_purchases(store, PLANNER, "net"))[("S1", "CELL")]
    r = po_svc.receive_against(store, LEAD, cell.id, "C-1", 6)
    assert (r.lot.code, r.lot.site, r.lot.item, r.lot.supplier, r.lot.remaining) == (
        "C-1", "S1", "CELL", "SUP", 6.0)
    assert r.purchase_order.status is PurchaseOrderStatus.OPEN
    assert (r.purchase_order.qty_received, r.purchase_order.remaining) == (6.0, 10.0)
    # the next plan has 6 cells on hand and 10 still to come, and buys no more
    firm = firm_supply(store, "net")
    assert ("S1", "CELL", 6.0) in {(x.site, x.item, x.qty) for x in firm.stock}
    assert [x.qty for x in firm.receipts if x.ref == cell.code] == [10.0]
    assert _bought(plan_svc.plan_stored(store, "net").document, "S1", "CELL") == (10.0, 10.0)
    with pytest.raises(OverReceipt, match=r"has 10 of 16 CELL still to come, not 11") as e:
        po_svc.receive_against(store, LEAD, cell.id, "C-2", 11)
    assert "nothing was booked" in str(e.value) and "--qty 10" in str(e.value)
    # the refused lot is not in stock, and the order is as it was
    with store.unit_of_work(read_only=True) as uow:
        sid = uow.connection.execute(sa.select(scenarios.c.id)).scalar_one()
        assert not FloorRepository(uow.connection, uow.audit).lots(sid, code="C-2")
    again = next(o for o in po_svc.list_purchase_orders(store, ADMIN, "net")
                 if o.id == cell.id)
    assert again.qty_received == 6.0
    last = po_svc.receive_against(store, LEAD, cell.id, "C-2", 10)
    assert last.purchase_order.status is PurchaseOrderStatus.CLOSED
    assert last.purchase_order.remaining == 0.0
    assert not [x for x in firm_supply(store, "net").receipts if x.ref == cell.code]
    with pytest.raises(FloorError, match="is closed"):
        po_svc.receive_against(store, LEAD, cell.id, "C-3", 1)


def test_concurrent_receipts_never_take_an_order_past_its_quantity(store: Store) -> None:
    cell = _by(po_svc.release_purchases(store, PLANNER, "net"))[("S1", "CELL")]  # 16
    results: list[object] = []

    def one(n: int) -> None:
        try:
            results.append(po_svc.receive_against(store, ADMIN, cell.id, f"C-{n}", 6))
        except Exception as e:  # noqa: BLE001 - collected and checked below
            results.append(e)
    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    booked = [r for r in results if isinstance(r, po_svc.Receipt)]
    assert all(isinstance(r, po_svc.Receipt | FloorError) for r in results), results
    assert len(booked) == 2  # 6 + 6 fit into 16, a third lot of 6 does not
    after = next(o for o in po_svc.list_purchase_orders(store, ADMIN, "net")
                 if o.id == cell.id)
    assert after.qty_received == 6.0 * len(booked)
    with store.unit_of_work(read_only=True) as uow:
        sid = uow.connection.execute(sa.select(scenarios.c.id)).scalar_one()
        lots = FloorRepository(uow.connection, uow.audit).lots(sid, site="S1", item="CELL")
    assert sorted(x.code for x in lots) == sorted(r.lot.code for r in booked)


def test_a_receipt_must_match_its_order(store: Store) -> None:
    cell = _by(po_svc.release_purchases(store, PLANNER, "net"))[("S1", "CELL")]
    with pytest.raises(FloorError, match="brings CELL to S1, not FRAME"):
        po_svc.receive_against(store, ADMIN, cell.id, "F-9", 1, item="FRAME")
    with pytest.raises(FloorError, match="is from SUP, not OTHER"):
        po_svc.receive_against(store, ADMIN, cell.id, "C-9", 1, supplier="OTHER")
    po_svc.receive_against(store, ADMIN, cell.id, "C-9", 1)
    with pytest.raises(FloorError, match="is at S1 already"):
        po_svc.receive_against(store, ADMIN, cell.id, "C-9", 1)
    with pytest.raises(FloorError, match="must be a number > 0"):
        po_svc.receive_against(store, ADMIN, cell.id, "C-10", 0)
    with pytest.raises(NotFound, match="no purchase order PO-999"):
        po_svc.receive_against(store, ADMIN, 999, "C-10", 1)


def test_a_cancelled_order_is_bought_again_by_the_next_plan(store: Store) -> None:
    frame = _by(po_svc.release_purchases(store, PLANNER, "net"))[("S1", "FRAME")]
    with pytest.raises(FloorError, match="say why"):
        po_svc.cancel(store, PLANNER, frame.id, " ")
    gone = po_svc.cancel(store, PLANNER, frame.id, "supplier out of frames")
    assert gone.status is PurchaseOrderStatus.CANCELLED and gone.remaining == 0.0
    assert gone.note == "supplier out of frames"
    with pytest.raises(FloorError, match="is cancelled"):
        po_svc.cancel(store, PLANNER, frame.id, "twice")
    with pytest.raises(FloorError, match="is cancelled"):
        po_svc.receive_against(store, ADMIN, frame.id, "F-1", 1)
    doc = plan_svc.plan_stored(store, "net").document
    assert _bought(doc, "S1", "FRAME") == (4.0, 0.0)
    assert _bought(doc, "S1", "CELL") == (16.0, 16.0)


def test_roles_and_sites_are_kept_and_every_change_is_audited(store: Store) -> None:
    for verb in (lambda c: po_svc.release_purchases(store, c, "net"),
                 lambda c: po_svc.receive_against(store, c, 1, "C-1", 1),
                 lambda c: po_svc.cancel(store, c, 1, "why")):
        with pytest.raises(NotPermitted,
                           match="quinn \\(quality\\) may not [a-z]+ purchase orders"):
            verb(QUALITY)
    mine = po_svc.release_purchases(store, LEAD, "net")
    assert {o.site for o in mine} == {"S1"}  # a line lead places their own sites' only
    with pytest.raises(FloorError, match="released already"):
        po_svc.release_purchases(store, PLANNER, "net")
    plan_svc.plan_stored(store, "net")  # S1's purchases are on order: the rest is new
    others = _by(po_svc.release_purchases(store, PLANNER, "net"))
    assert {o.site for o in others.values()} == {"S2"}
    assert {o.site for o in po_svc.list_purchase_orders(store, LEAD, "net")} == {"S1"}
    assert {o.site for o in po_svc.list_purchase_orders(store, QUALITY, "net")} == {"S1", "S2"}
    s2 = others[("S2", "CELL")]
    refusals = [lambda: po_svc.list_purchase_orders(store, LEAD, "net", "S2"),
                lambda: po_svc.receive_against(store, LEAD, s2.id, "C-X", 1),
                lambda: po_svc.cancel(store, LEAD, s2.id, "not mine")]
    for refused in refusals:
        with pytest.raises(NotPermitted, match=r"not one of your sites \(S1\)") as e:
            refused()
        assert "S2" not in str(e.value)
    s1 = _by(mine)[("S1", "CELL")]
    po_svc.receive_against(store, LEAD, s1.id, "C-1", 16)
    po_svc.cancel(store, PLANNER, s2.id, "too many")
    with store.unit_of_work(read_only=True) as uow:
        entries = [(e.action, e.entity, e.actor) for e in read_entries(uow.connection)]
    runs = sorted(r.id for r in plan_svc.list_plan_runs(store, "net"))
    assert ("floor.po.release", f"plan_run:{runs[0]}", "sam") in entries
    assert ("floor.po.release", f"plan_run:{runs[1]}", "pat") in entries
    assert ("floor.lot.receive", "lot:S1/CELL/C-1", "sam") in entries
    assert ("floor.po.receive", f"purchase_order:{s1.code}", "sam") in entries
    assert ("floor.po.cancel", f"purchase_order:{s2.code}", "pat") in entries


def test_floor_plan_with_an_open_order_equals_the_file_plan_with_that_receipt(
        store: Store, tmp_path: Path) -> None:
    orders = _by(po_svc.release_purchases(store, PLANNER, "net"))
    cell = orders[("S1", "CELL")]
    po_svc.receive_against(store, ADMIN, cell.id, "C-1", 6)
    for o in orders.values():
        if o.id != cell.id:
            po_svc.cancel(store, PLANNER, o.id, "bought elsewhere")
    reference = plan_svc.list_plan_runs(store, "net")[0].document
    floor_doc = plan_svc.plan_stored(store, "net").document
    # the same network from a file: the 6 cells received as opening stock, the 10 still
    # to come on the order as a fixed receipt
    p = tmp_path / "same.yaml"
    p.write_text(NET + "inventory: [{site: S1, item: CELL, qty: 6}]\n")
    sc = load_scenario(p)
    fixed = FirmSupply(receipts=(ScheduledReceipt(
        "PO", "SUP", "S1", "CELL", cell.order_bucket, cell.due_bucket, 10.0),))
    plan = make_plan(compile_network(sc, firm=fixed), reference=reference)
    doc = plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                        plan.bucket_starts)
    out = tmp_path / "plan"
    write_plan_dir(out, doc, PLAN_COLUMNS, plan.tables, {})
    assert check_plan(sc, out) == []

    def content(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d["kpis"].items() if k not in TIMINGS}

    assert content(floor_doc) == content(doc)
    for table in ("purchases", "production", "deliveries"):
        cols = PLAN_COLUMNS[table]
        assert sorted(tuple(r[c] for c in cols) for r in floor_doc["tables"][table]) == sorted(
            tuple(r[c] for c in cols) for r in doc["tables"][table]), table
    assert _bought(floor_doc, "S1", "CELL") == (10.0, 10.0)


def test_an_order_from_before_the_horizon_arrives_at_the_earliest(store: Store,
                                                                 tmp_path: Path) -> None:
    cell = _by(po_svc.release_purchases(store, PLANNER, "net"))[("S1", "CELL")]
    assert (cell.order_bucket, cell.due_bucket) == (0, 1)
    # a week later the horizon starts where the cells are due: they were ordered before it
    p = tmp_path / "later.yaml"
    p.write_text(NET.replace("start: 2027-01-04", "start: 2027-01-11"))
    scenario_svc.import_scenario(store, p, "net")
    firm = firm_supply(store, "net")
    got = next(x for x in firm.receipts if x.ref == cell.code)
    assert (got.order_bucket, got.arrival_bucket, got.qty) == (0, 1, 16.0)
    assert any(cell.code in n and "before this horizon" in n for n in firm.notes)
    doc = plan_svc.plan_stored(store, "net").document
    assert _bought(doc, "S1", "CELL")[1] == 16.0


def test_an_order_the_network_cannot_buy_any_more_names_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "net.yaml"
    p.write_text(NET)
    sc = load_scenario(p)
    stray = ScheduledReceipt("PO-7", "SUP", "S1", "DRONE", 0, 0, 3.0)
    with pytest.raises(ScenarioError, match="no offer of DRONE by SUP or no lane SUP>S1") \
            as e:
        compile_network(sc, firm=FirmSupply(receipts=(stray,)))
    assert "fabnet floor po cancel PO-7" in str(e.value)
    late = ScheduledReceipt("PO-8", "SUP", "S1", "CELL", 0, 0, 3.0)  # lead time is 1
    with pytest.raises(ScenarioError, match="lead time and transit are 1"):
        compile_network(sc, firm=FirmSupply(receipts=(late,)))


def test_an_order_of_a_part_no_longer_used_is_left_out(tmp_path: Path) -> None:
    p = tmp_path / "no-frame.yaml"  # an ECO took the frame out of the drone
    p.write_text(NET.replace("DRONE: [{item: FRAME, qty: 1}, {item: PACK, qty: 1}]",
                             "DRONE: [{item: PACK, qty: 1}]"))
    sc = load_scenario(p)
    frames = ScheduledReceipt("PO-3", "SUP", "S1", "FRAME", 1, 1, 4.0)
    net = compile_network(sc, firm=FirmSupply(receipts=(frames,)))
    assert net.firm_pur.size == 0
    assert make_plan(net).kpis["units_delivered"] == pytest.approx(6.0)


def test_an_order_the_supplier_cannot_ship_is_firm_short_not_infeasible(
        tmp_path: Path) -> None:
    p = tmp_path / "struck.yaml"
    p.write_text(NET.replace("{item: CELL, price: 1, lead_time: 1}",
                             "{item: CELL, price: 1, lead_time: 1, capacity: 10}"))
    sc = load_scenario(p)
    order = ScheduledReceipt("PO-1", "SUP", "S1", "CELL", 0, 1, 16.0)
    plan = make_plan(compile_network(sc, firm=FirmSupply(receipts=(order,))))
    assert str(plan.status) == "optimal"
    assert plan.kpis["firm_short"] == pytest.approx(6.0)
    row = next(r for r in plan.rows("purchases") if r["item"] == "CELL"
               and r["site"] == "S1" and r["order_bucket"] == 0)
    assert row["qty"] == pytest.approx(10.0) and row["firm"] == pytest.approx(10.0)


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def floor_api(seeded: Seeded, tmp_path: Path) -> Iterator[Api]:
    """The API on a store holding the tiny floor as `tiny` on the fixtures' sites (the
    site manager leads FR-LYON), cells a week away, planned once."""
    net = FLOOR.replace("{item: CELL, price: 1, lead_time: 0}",
                        "{item: CELL, price: 1, lead_time: 1}")
    for api in serve(seeded):
        (tmp_path / "tiny.yaml").write_text(net)
        scenario_svc.import_scenario(api.store, tmp_path / "tiny.yaml", "tiny")
        plan_svc.plan_stored(api.store, "tiny")
        yield api


def test_api_places_receives_and_cancels_within_roles_and_sites(floor_api: Api) -> None:
    api, lead = floor_api, Role.SITE_MANAGER
    r = api.post("/floor/purchase-orders/release", Role.QUALITY, json={"scenario": "tiny"})
    assert r.status_code == 403, r.text
    r = api.post("/floor/purchase-orders/release", Role.PLANNER, json={"scenario": "tiny"})
    assert r.status_code == 201, r.text
    placed = {(o["site"], o["item"]): o for o in r.json()}
    assert {s for s, _ in placed} == {"FR-LYON", "UK-PLANT"}
    again = api.post("/floor/purchase-orders/release", Role.PLANNER, json={"scenario": "tiny"})
    assert again.status_code == 422 and "released already" in again.json()["detail"]
    mine = api.get(f"/floor/purchase-orders{Q}", lead).json()
    assert mine["count"] == len(mine["data"]) > 0
    assert {o["site"] for o in mine["data"]} == {"FR-LYON"}
    fr, uk = placed[("FR-LYON", "CELL")], placed[("UK-PLANT", "CELL")]
    key = {"Idempotency-Key": "po-receive-1"}
    first = api.post(f"/floor/purchase-orders/{fr['code']}/receive", lead,
                     json={"lot": "C-1", "qty": 4}, headers=key)
    replay = api.post(f"/floor/purchase-orders/{fr['code']}/receive", lead,
                      json={"lot": "C-1", "qty": 4}, headers=key)
    assert first.status_code == replay.status_code == 201, first.text
    assert replay.headers["idempotent-replayed"] == "true"
    po = first.json()["purchase_order"]
    assert (po["status"], po["qty_received"], po["remaining"]) == ("open", 4.0, fr["qty"] - 4)
    assert first.json()["lot"]["code"] == "C-1" and first.json()["lot"]["site"] == "FR-LYON"
    over = api.post(f"/floor/purchase-orders/{fr['code']}/receive", lead,
                    json={"lot": "C-2", "qty": fr["qty"]})
    assert over.status_code == 422 and "still to come" in over.json()["detail"]
    for refused in (api.post(f"/floor/purchase-orders/{uk['code']}/receive", lead,
                             json={"lot": "C-UK", "qty": 1}),
                    api.post(f"/floor/purchase-orders/{uk['code']}/cancel", lead,
                             json={"reason": "not mine"}),
                    api.get(f"/floor/purchase-orders{Q}&site=UK-PLANT", lead)):
        assert refused.status_code == 403, refused.text
        assert "not one of your sites (FR-LYON)" in refused.json()["detail"]
        assert "UK-PLANT" not in refused.json()["detail"]
    gone = api.post(f"/floor/purchase-orders/{uk['code']}/cancel", Role.PLANNER,
                    json={"reason": "second source"})
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    listed = api.get(f"/floor/purchase-orders{Q}&status=cancelled").json()["data"]
    assert [o["code"] for o in listed] == [uk["code"]]
    bad = api.post("/floor/purchase-orders/WO-3/receive", json={"lot": "x", "qty": 1})
    assert bad.status_code == 422 and "not a purchase order" in bad.json()["detail"]
