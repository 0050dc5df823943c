"""Transfers between sites on SQLite and PostgreSQL: units sent leave their site's stock
and are in transit (not built into anything, shipped or sent again) until the
destination books them in; who may send and who may book in; the audit trail; and the
plan from the floor, which counts units in transit as firm supply arriving at the
destination when expected, and equals the plan of a file with the same arrival."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fabnet.cli.app import app
from fabnet.io.plan_io import plan_document, write_plan_dir
from fabnet.io.scenario_io import load_scenario
from fabnet.model.errors import ScenarioError
from fabnet.model.firm_supply import FirmSupply, InTransit
from fabnet.model.network import compile_network
from fabnet.plan import PLAN_COLUMNS, make_plan
from fabnet.plan.pegging import peg_plan
from fabnet.services import database as db_svc
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services import transfers as tr_svc
from fabnet.services.firm_supply import firm_supply
from fabnet.shop.errors import FloorError, NotPermitted, ShipRefused, Shortage
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller
from fabnet.shop.transfer import TransferStatus, expected_arrival
from fabnet.shop.unit import UnitStatus
from fabnet.store import Role, Store
from fabnet.store.audit import read_entries
from fabnet.store.floor_schema import units
from tests.integration.test_api_fixtures import Api, Seeded, serve
from tests.integration.test_api_floor import FLOOR, Q
from tests.integration.test_firm_supply import TIMINGS
from tests.integration.test_floor import ADMIN, TINY
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures
from tests.plancheck import check_plan

pytest_plugins = ["tests.integration.test_api_fixtures"]

#: the tiny floor with a lane S1>S2 a week long and a customer only S2 reaches (2 drones
#: due in week 2), so drones made at S1 may go to S2
NET = (TINY.replace("  - {id: BAD,", "  - {id: OK2, country: UA, approved: true}\n  - {id: BAD,")
       .replace("  - {from: S1, to: BAD, transit: 0}",
                "  - {from: S1, to: BAD, transit: 0}\n  - {from: S2, to: OK2, transit: 0}\n"
                "  - {from: S1, to: S2, transit: 1}")
       .replace("test_plans:", "  - {id: D2, customer: OK2, item: DRONE, qty: 2, "
                "due: 2027-01-18}\ntest_plans:"))
PLANNER = Caller("pat", Role.PLANNER)
QUALITY = Caller("quinn", Role.QUALITY)
LEAD1 = Caller.of("sam", Role.SITE_MANAGER, ("S1",))
LEAD2 = Caller.of("kim", Role.SITE_MANAGER, ("S2",))
#: the horizon's first Monday: sent then, a week's lane brings them in bucket 1
WEEK0 = date(2027, 1, 4)


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    """The network as `net`, planned, S1's work orders released; three packs and two
    drones (untested) built at S1, so one pack is complete and free."""
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "net.yaml"
    p.write_text(NET)
    scenario_svc.import_scenario(s, p, "net")
    plan_svc.plan_stored(s, "net")
    wo = {o.item: o.id for o in fl.release(s, LEAD1, "net")}  # S1's work orders only
    fl.receive(s, ADMIN, "S1", "CELL", "C-1", 12, "SUP")
    fl.receive(s, ADMIN, "S1", "FRAME", "F-1", 2, "SUP")
    fl.build(s, ADMIN, wo["PACK"], 3)
    fl.build(s, ADMIN, wo["DRONE"], 2)
    yield s
    s.engine.dispose()


def _serials(store: Store, item: str, status: UnitStatus | None = None) -> list[str]:
    """Serials of `item` (in `status`), in order."""
    with store.unit_of_work(read_only=True) as uow:
        rows = uow.connection.execute(sa.select(units.c.serial, units.c.status)
                                      .where(units.c.item == item)
                                      .order_by(units.c.serial)).all()
    return [r.serial for r in rows if status is None or r.status == status.value]


def _unit(store: Store, serial: str) -> tuple[str, str]:
    """(site, status) of a unit."""
    with store.unit_of_work(read_only=True) as uow:
        u = FloorRepository(uow.connection, uow.audit).unit(serial)
    return u.site, u.status.value


def test_sent_units_are_in_transit_until_the_destination_books_them_in(store: Store) -> None:
    drones = _serials(store, "DRONE")
    t = tr_svc.send(store, LEAD1, drones, "S2", lane="S1>S2", sent=WEEK0)
    assert (t.code, t.origin, t.destination, t.status) == (
        f"TR-{t.id}", "S1", "S2", TransferStatus.IN_TRANSIT)
    assert t.expected_date == date(2027, 1, 11)  # sent + the lane's week
    assert sorted(t.serials) == drones
    assert {_unit(store, s) for s in drones} == {("S1", "in_transit")}
    listed = tr_svc.list_transfers(store, LEAD2, "net")
    assert [x.id for x in listed] == [t.id]  # the destination sees what is coming
    done = tr_svc.arrive(store, LEAD2, t.id, "net")
    assert done.status is TransferStatus.ARRIVED and done.arrived_by == "kim"
    assert {_unit(store, s) for s in drones} == {("S2", "built")}  # as they left
    with pytest.raises(FloorError, match="arrived already"):
        tr_svc.arrive(store, ADMIN, t.id, "net")


def test_units_in_transit_are_not_built_in_shipped_or_sent_again(store: Store) -> None:
    pack = [s for s in _serials(store, "PACK", UnitStatus.COMPLETE)]
    assert len(pack) == 1  # the third pack, not in a drone
    tr_svc.send(store, PLANNER, pack, "S2", sent=WEEK0)
    drone_wo = next(o for o in fl.list_orders(store, ADMIN, "net")
                    if o.site == "S1" and o.item == "DRONE")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-2", 1, "SUP")
    with pytest.raises(Shortage, match="PACK at S1: need 1 complete units, have 0"):
        fl.build(store, ADMIN, drone_wo.id, 1)
    with pytest.raises(FloorError, match="is in_transit: only units in stock"):
        tr_svc.send(store, ADMIN, pack, "S1")
    drones = _serials(store, "DRONE")
    for d in drones:
        fl.record_test(store, ADMIN, d, "flight", True)
        fl.record_test(store, ADMIN, d, "volts", True, 24.0)
    tr_svc.send(store, ADMIN, drones[:1], "S2", sent=WEEK0)
    with pytest.raises(ShipRefused, match="in_transit"):
        fl.ship(store, ADMIN, "OK", drones[:1])


def test_who_may_send_and_who_may_book_in(store: Store) -> None:
    drones = _serials(store, "DRONE")
    with pytest.raises(NotPermitted, match=r"quinn \(quality\) may not transfer"):
        tr_svc.send(store, QUALITY, drones, "S2")
    with pytest.raises(NotPermitted, match=r"not one of your sites \(S2\)") as e:
        tr_svc.send(store, LEAD2, drones, "S2")  # the units are at S1
    assert "S1" not in str(e.value)
    t = tr_svc.send(store, LEAD1, drones, "S2", sent=WEEK0)
    with pytest.raises(NotPermitted, match=r"not one of your sites \(S1\)") as e:
        tr_svc.arrive(store, LEAD1, t.id, "net")  # the sender does not book it in
    assert "S2" not in str(e.value)
    with pytest.raises(NotPermitted, match=r"quinn \(quality\) may not transfer"):
        tr_svc.arrive(store, QUALITY, t.id, "net")
    assert {x.id for x in tr_svc.list_transfers(store, LEAD1, "net")} == {t.id}
    assert tr_svc.list_transfers(store, Caller.of("o", Role.SITE_MANAGER, ("S9",)),
                                 "net") == []
    tr_svc.arrive(store, PLANNER, t.id, "net")
    with store.unit_of_work(read_only=True) as uow:
        entries = [(e.action, e.entity, e.actor) for e in read_entries(uow.connection)]
    assert ("floor.transfer", f"transfer:{t.code}", "sam") in entries
    assert ("floor.transfer.arrive", f"transfer:{t.code}", "pat") in entries


def test_a_transfer_needs_the_lane_and_one_site(store: Store) -> None:
    drones = _serials(store, "DRONE")
    with pytest.raises(FloorError, match="--lane S2>S1: the units go S1>S2"):
        tr_svc.send(store, ADMIN, drones, "S2", lane="S2>S1")
    with pytest.raises(FloorError, match="no site 'S9'"):
        tr_svc.send(store, ADMIN, drones, "S9")
    with pytest.raises(FloorError, match="at S1 already"):
        tr_svc.send(store, ADMIN, drones, "S1")
    fl.transfer(store, ADMIN, drones[:1], "S2")  # moved at once, no time on the way
    assert _unit(store, drones[0]) == ("S2", "built")
    with pytest.raises(FloorError, match="no lane S2>S1"):
        tr_svc.send(store, ADMIN, drones[:1], "S1")
    with pytest.raises(FloorError, match="at 2 sites"):
        tr_svc.send(store, ADMIN, drones, "S2")


def test_expected_arrival_counts_the_lanes_buckets() -> None:
    from fabnet.model.horizon import BucketKind
    assert expected_arrival(date(2027, 1, 6), 2, BucketKind.WEEK) == date(2027, 1, 20)
    assert expected_arrival(date(2027, 1, 31), 1, BucketKind.MONTH) == date(2027, 2, 28)
    assert expected_arrival(date(2027, 1, 31), 3, BucketKind.DAY) == date(2027, 2, 3)


def _made(doc: dict[str, Any], site: str, item: str) -> float:
    return float(round(sum(r["qty"] for r in doc["tables"]["production"]
                           if r["site"] == site and r["item"] == item), 6))


def test_units_in_transit_are_firm_supply_at_the_destination(store: Store) -> None:
    drones = _serials(store, "DRONE")
    before = firm_supply(store, "net")
    assert ("S1", "DRONE", 2.0) in {(x.site, x.item, x.qty) for x in before.stock}
    t = tr_svc.send(store, LEAD1, drones, "S2", sent=WEEK0)
    firm = firm_supply(store, "net")
    assert firm.in_transit == (InTransit(t.code, "S1", "S2", "DRONE", 1, 2.0),)
    # not at the site they left any more, and not at the destination before they arrive
    assert ("S1", "DRONE", 0.0) in {(x.site, x.item, x.qty) for x in firm.stock}
    assert not [x for x in firm.stock if x.site == "S2" and x.item == "DRONE"]
    doc = plan_svc.plan_stored(store, "net").document
    assert _made(doc, "S2", "DRONE") == 0.0  # D2 is served by the two on their way
    row = next(r for r in doc["tables"]["transfers"] if r["firm"] > 0)
    assert (row["from"], row["to"], row["item"], row["depart_bucket"],
            row["arrival_bucket"], row["qty"], row["firm"]) == ("S1", "S2", "DRONE", 0, 1,
                                                               2.0, 2.0)
    d2 = [r for r in doc["tables"]["deliveries"] if r["demand"] == "D2"]
    assert round(sum(r["qty"] for r in d2), 6) == 2.0 and all(r["site"] == "S2" for r in d2)
    assert doc["kpis"]["units_delivered"] == pytest.approx(6.0)
    # D2 is pegged to the transfer in transit, which takes nothing at S1
    with store.unit_of_work(read_only=True) as uow:
        sc = uow.scenarios.get("net")
    pegs = peg_plan(sc, doc["tables"]).demand("D2")
    assert {(p.flow.kind.value, p.flow.origin, p.flow.site, round(p.qty, 6))
            for p in pegs if p.depth == 1} == {("transfer", "S1", "S2", 2.0)}
    assert not [p for p in pegs if p.depth > 1]
    # once booked in, they are S2's stock and no longer in transit
    tr_svc.arrive(store, LEAD2, t.id, "net")
    after = firm_supply(store, "net")
    assert after.in_transit == ()
    assert ("S2", "DRONE", 2.0) in {(x.site, x.item, x.qty) for x in after.stock}


def test_floor_plan_with_units_in_transit_equals_the_file_plan_with_that_arrival(
        store: Store, tmp_path: Path) -> None:
    t = tr_svc.send(store, ADMIN, _serials(store, "DRONE"), "S2", sent=WEEK0)
    reference = plan_svc.list_plan_runs(store, "net")[0].document
    floor_doc = plan_svc.plan_stored(store, "net").document
    # the same network from a file: the work orders' rest as fixed production (as the
    # floor gives it), the third pack on hand, the two drones arriving at S2 in week 1
    firm = firm_supply(store, "net")
    p = tmp_path / "same.yaml"
    p.write_text(NET + "inventory: [{site: S1, item: PACK, qty: 1}]\n")
    sc = load_scenario(p)
    fixed = FirmSupply(production=firm.production, in_transit=(
        InTransit("TR", "S1", "S2", "DRONE", 1, 2.0),))
    plan = make_plan(compile_network(sc, firm=fixed), reference=reference)
    doc = plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                        plan.bucket_starts)
    out = tmp_path / "plan"
    write_plan_dir(out, doc, PLAN_COLUMNS, plan.tables, {})
    assert check_plan(sc, out) == []

    def content(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d["kpis"].items() if k not in TIMINGS}

    assert content(floor_doc) == content(doc)
    for table in ("transfers", "production", "deliveries", "purchases", "stock"):
        cols = PLAN_COLUMNS[table]
        assert sorted(tuple(r[c] for c in cols) for r in floor_doc["tables"][table]) == sorted(
            tuple(r[c] for c in cols) for r in doc["tables"][table]), table
    assert t.code != "TR"  # the reference is not part of the plan


def test_an_overdue_transfer_arrives_in_the_first_bucket_and_the_plan_says_so(
        store: Store, tmp_path: Path) -> None:
    t = tr_svc.send(store, ADMIN, _serials(store, "DRONE"), "S2", sent=date(2026, 12, 1))
    firm = firm_supply(store, "net")
    assert [(x.site, x.arrival_bucket, x.qty) for x in firm.in_transit] == [("S2", 0, 2.0)]
    assert any(t.code in n and "expected before this horizon" in n for n in firm.notes)
    doc = plan_svc.plan_stored(store, "net").document
    assert any(t.code in n for n in doc["notes"])
    # fabnet db plan prints the notes
    env = {"FABNET_DATABASE_URL": str(store.engine.url.render_as_string(hide_password=False)),
           "FABNET_USER": "alice"}
    r = CliRunner().invoke(app, ["db", "plan", "net"], env=env)
    assert r.exit_code == 0, r.output
    assert f"note: 1 transfers in transit ({t.code})" in r.output


def test_a_transfer_arriving_after_the_horizon_is_left_out_with_a_note(store: Store) -> None:
    t = tr_svc.send(store, ADMIN, _serials(store, "DRONE"), "S2", sent=date(2027, 3, 1))
    firm = firm_supply(store, "net")
    assert firm.in_transit == ()
    assert any(t.code in n and "after the horizon ends" in n for n in firm.notes)


def test_an_arrival_outside_the_horizon_or_at_an_unknown_site_names_the_fix(
        tmp_path: Path) -> None:
    p = tmp_path / "net.yaml"
    p.write_text(NET)
    sc = load_scenario(p)
    with pytest.raises(ScenarioError, match="must be in 0..3, got 4"):
        compile_network(sc, firm=FirmSupply(in_transit=(
            InTransit("TR-1", "S1", "S2", "DRONE", 4, 1.0),)))
    with pytest.raises(ScenarioError, match="fabnet floor arrive TR-2"):
        compile_network(sc, firm=FirmSupply(in_transit=(
            InTransit("TR-2", "S9", "S2", "DRONE", 1, 1.0),)))


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def floor_api(seeded: Seeded, tmp_path: Path) -> Iterator[Api]:
    """The API on the tiny floor as `tiny` (the site manager leads FR-LYON), a lane
    FR-LYON>UK-PLANT, two drones built at FR-LYON."""
    net = FLOOR.replace("  - {from: UK-PLANT, to: OK2, transit: 0}",
                        "  - {from: UK-PLANT, to: OK2, transit: 0}\n"
                        "  - {from: FR-LYON, to: UK-PLANT, transit: 1}")
    for api in serve(seeded):
        (tmp_path / "tiny.yaml").write_text(net)
        scenario_svc.import_scenario(api.store, tmp_path / "tiny.yaml", "tiny")
        plan_svc.plan_stored(api.store, "tiny")
        wo = {o.item: o.id for o in fl.release(api.store, ADMIN, "tiny")
              if o.site == "FR-LYON"}
        fl.receive(api.store, ADMIN, "FR-LYON", "CELL", "C-1", 8, "SUP", "tiny")
        fl.receive(api.store, ADMIN, "FR-LYON", "FRAME", "F-1", 2, "SUP", "tiny")
        fl.build(api.store, ADMIN, wo["PACK"], 2)
        fl.build(api.store, ADMIN, wo["DRONE"], 2)
        yield api


def test_api_sends_and_books_in_within_roles_and_sites(floor_api: Api) -> None:
    api, lead = floor_api, Role.SITE_MANAGER
    drones = _serials(api.store, "DRONE")
    body = {"serials": drones, "to": "UK-PLANT", "sent": "2027-01-04", "scenario": "tiny"}
    r = api.post("/floor/transfers", Role.QUALITY, json=body)
    assert r.status_code == 403, r.text
    key = {"Idempotency-Key": "transfer-1"}
    first = api.post("/floor/transfers", lead, json=body, headers=key)
    replay = api.post("/floor/transfers", lead, json=body, headers=key)
    assert first.status_code == replay.status_code == 201, first.text
    assert replay.headers["idempotent-replayed"] == "true"
    t = first.json()
    assert (t["lane"], t["status"], t["expected_date"], sorted(t["serials"])) == (
        "FR-LYON>UK-PLANT", "in_transit", "2027-01-11", drones)
    again = api.post("/floor/transfers", Role.ADMIN, json=body)
    assert again.status_code == 422 and "in_transit" in again.json()["detail"]
    mine = api.get(f"/floor/transfers{Q}&status=in_transit", lead).json()
    assert mine["count"] == 1 and mine["data"][0]["code"] == t["code"]
    refused = api.post(f"/floor/transfers/{t['code']}/arrive", lead, json={"scenario": "tiny"})
    assert refused.status_code == 403, refused.text  # UK-PLANT books it in, not FR-LYON
    assert "not one of your sites (FR-LYON)" in refused.json()["detail"]
    assert "UK-PLANT" not in refused.json()["detail"]
    bad = api.post("/floor/transfers/PO-3/arrive", json={"scenario": "tiny"})
    assert bad.status_code == 422 and "not a transfer" in bad.json()["detail"]
    missing = api.post("/floor/transfers/TR-999/arrive", json={"scenario": "tiny"})
    assert missing.status_code == 404
    done = api.post(f"/floor/transfers/{t['code']}/arrive", Role.PLANNER,
                    json={"scenario": "tiny"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "arrived" and done.json()["arrived_by"]
