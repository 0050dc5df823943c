"""Returns, repairs and service records on SQLite and PostgreSQL: a delivered drone comes
back, gets a new frame or battery pack (the genealogy keeps what came out and when), must
pass its required tests again after the repair, and ships again; held or used-up
replacements are refused; line leads repair at their own sites; all of it is audited."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from fabnet.services import audit_trail
from fabnet.services import floor as fl
from fabnet.services import repair as rp
from fabnet.services.trace import trace_down, trace_up
from fabnet.shop.errors import FloorError, NotPermitted, ShipRefused
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from fabnet.store.audit import read_entries
from fabnet.store.floor_repair import RepairRepository, RepairStatus, ServiceKind
from tests.integration.test_floor import ADMIN, _orders, _pass_all, store  # noqa: F401
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures

LEAD_S1 = Caller.of("lena", Role.SITE_MANAGER, ("S1",))
LEAD_S2 = Caller.of("sam", Role.SITE_MANAGER, ("S2",))


def _delivered(store: Store, n: int) -> list[str]:  # noqa: F811
    """`n` drones built at S1 from lots C-1 and F-1, tested and shipped to OK, and two
    spare battery packs at S1."""
    wo = _orders(store)
    fl.receive(store, ADMIN, "S1", "CELL", "C-1", 4 * (n + 2), "SUP")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-1", n, "SUP")
    fl.build(store, ADMIN, wo["PACK"], n + 2)
    serials = list(fl.build(store, ADMIN, wo["DRONE"], n).serials)
    for s in serials:
        _pass_all(store, s)
    fl.ship(store, ADMIN, "OK", serials)
    return serials


def _spare_packs(store: Store, drone: str) -> list[str]:  # noqa: F811
    """Serials of the complete packs at S1 that are in no drone."""
    up = {c.serial for c in trace_up(store, ADMIN, drone).components if c.serial}
    return [s for s, u in _units(store).items() if s.startswith("P-") and
            u == "complete" and s not in up]


def _units(store: Store) -> dict[str, str]:  # noqa: F811
    """serial -> status of every unit."""
    import sqlalchemy as sa

    from fabnet.store.floor_schema import units
    with store.engine.connect() as conn:
        return {s: st for s, st in conn.execute(sa.select(units.c.serial, units.c.status))}


def test_a_returned_unit_is_repaired_retested_and_ships_again(store: Store) -> None:  # noqa: F811
    a, b = _delivered(store, 2)
    order = rp.return_unit(store, LEAD_S1, a, "frame cracked on landing")
    assert (order.serial, order.status, order.code) == (a, RepairStatus.OPEN, f"RO-{order.id}")
    with pytest.raises(ShipRefused, match="not shippable \\(in_repair\\)"):
        fl.ship(store, ADMIN, "OK", [a])
    fl.receive(store, ADMIN, "S1", "FRAME", "F-2", 3, "SUP")
    done = rp.repair(store, LEAD_S1, a, {"FRAME": "F-2"})
    assert done.order.status is RepairStatus.CLOSED and not done.complete
    assert set(done.retest) == {"flight", "volts"}
    [swap] = done.swaps
    assert (swap.item, swap.added, swap.qty, swap.removed) == (
        "FRAME", "F-2", 1.0, ({"lot": "F-1", "serial": None, "qty": 1.0},))
    # the unit is made of the new frame now; the old one is on record, with when
    frames = [c.lot for c in trace_up(store, ADMIN, a).components if c.item == "FRAME"]
    assert frames == ["F-2"]
    assert [u.serial for u in trace_down(store, ADMIN, "F-1").units] == [b]
    assert [u.serial for u in trace_down(store, ADMIN, "F-2").units] == [a]
    hist = rp.unit_history(store, LEAD_S1, a)
    [out] = hist.removed
    assert (out["item"], out["lot"]) == ("FRAME", "F-1") and out["removed_at"] > out["added_at"]
    # tests from before the repair no longer count: one step retested is not enough
    fl.record_test(store, ADMIN, a, "flight", True)
    with pytest.raises(ShipRefused, match="incomplete: volts \\(not tested\\)"):
        fl.ship(store, ADMIN, "OK", [a])
    outcome = fl.record_test(store, ADMIN, a, "volts", True, 23.5)
    assert outcome.complete
    assert fl.ship(store, ADMIN, "OK", [a]).serials == (a,)


def test_the_replacement_lot_is_drawn_down(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    fl.receive(store, ADMIN, "S1", "FRAME", "F-2", 3, "SUP")
    rp.return_unit(store, ADMIN, a, "bent")
    rp.repair(store, ADMIN, a, {"FRAME": "F-2"})
    with store.unit_of_work(read_only=True) as uow:
        [lot] = FloorRepository(uow.connection, uow.audit).lots(
            fl._scenario_id(uow, "tiny")[0], code="F-2")
    assert lot.remaining == 2.0


def test_a_battery_pack_swap_installs_the_new_pack_and_scraps_the_old(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    old = next(c.serial for c in trace_up(store, ADMIN, a).components
               if c.item == "PACK" and c.serial)
    new = _spare_packs(store, a)[0]
    rp.return_unit(store, ADMIN, a, "pack swells")
    rp.repair(store, ADMIN, a, {"PACK": new})
    packs = [c.serial for c in trace_up(store, ADMIN, a).components if c.item == "PACK"]
    assert packs == [new]
    st = _units(store)
    assert (st[old], st[new], st[a]) == ("scrapped", "installed", "built")
    # the new pack's cells are in the drone now, the old pack's are not
    assert a in [u.serial for u in trace_down(store, ADMIN, new).units]
    assert a not in [u.serial for u in trace_down(store, ADMIN, old).units]


def test_held_or_used_up_replacements_are_refused_and_nothing_is_booked(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    rp.return_unit(store, ADMIN, a, "bent")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-3", 1, "SUP")
    fl.hold(store, ADMIN, "F-3", "supplier recall")
    with pytest.raises(FloorError, match="lot F-3 is on hold"):
        rp.repair(store, ADMIN, a, {"FRAME": "F-3"})
    spare = _spare_packs(store, a)[0]
    fl.hold(store, ADMIN, spare, "dented")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-4", 1, "SUP")
    with pytest.raises(FloorError, match=f"{spare} is on hold"):
        rp.repair(store, ADMIN, a, {"FRAME": "F-4", "PACK": spare})
    with pytest.raises(FloorError, match="lot F-1 has 0 left"):
        rp.repair(store, ADMIN, a, {"FRAME": "F-1"})
    with pytest.raises(FloorError, match="no CELL in it to replace"):
        rp.repair(store, ADMIN, a, {"CELL": "C-1"})
    # nothing was booked: the unit is still in repair with its old frame, F-4 untouched
    assert _units(store)[a] == "in_repair"
    assert [c.lot for c in trace_up(store, ADMIN, a).components if c.item == "FRAME"] == ["F-1"]
    rp.repair(store, ADMIN, a, {"FRAME": "F-4"})
    assert [c.lot for c in trace_up(store, ADMIN, a).components if c.item == "FRAME"] == ["F-4"]


def test_two_repairs_never_take_more_than_the_lot_holds(store: Store) -> None:  # noqa: F811
    a, b = _delivered(store, 2)
    for s in (a, b):
        rp.return_unit(store, ADMIN, s, "bent")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-9", 1, "SUP")
    errors: list[Exception] = []

    def go(serial: str) -> None:
        try:
            rp.repair(store, ADMIN, serial, {"FRAME": "F-9"})
        except FloorError as e:
            errors.append(e)
    threads = [threading.Thread(target=go, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 1 and "F-9 has 0 left" in str(errors[0])
    statuses = _units(store)
    assert sorted((statuses[a], statuses[b])) == ["built", "in_repair"]
    assert sorted(u.serial for u in trace_down(store, ADMIN, "F-9").units) in ([a], [b])


def test_only_delivered_units_come_back_and_only_once(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    spare = _spare_packs(store, a)[0]
    with pytest.raises(FloorError, match="not delivered"):
        rp.return_unit(store, ADMIN, spare, "?")
    rp.return_unit(store, ADMIN, a, "noise")
    with pytest.raises(FloorError, match="in_repair, not delivered"):
        rp.return_unit(store, ADMIN, a, "noise again")
    with pytest.raises(FloorError, match="--reason"):
        rp.return_unit(store, ADMIN, a, " ")
    with pytest.raises(FloorError, match="not in repair"):
        rp.repair(store, ADMIN, spare, {})


def test_repairs_are_for_line_leads_of_the_unit_s_site(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    with pytest.raises(NotPermitted, match="not one of your sites"):
        rp.return_unit(store, LEAD_S2, a, "noise")
    rp.return_unit(store, Caller("quinn", Role.QUALITY), a, "noise")  # quality may open it
    with pytest.raises(NotPermitted, match="roles that may: admin, site_manager"):
        rp.repair(store, Caller("cora", Role.COMPLIANCE), a, {})
    with pytest.raises(NotPermitted, match="not one of your sites"):
        rp.repair(store, LEAD_S2, a, {})
    assert rp.repair(store, LEAD_S1, a, {}).order.status is RepairStatus.CLOSED  # no fault


def test_service_records_of_delivered_units(store: Store) -> None:  # noqa: F811
    a, b = _delivered(store, 2)
    r1 = rp.record_service(store, LEAD_S1, a, "propellers replaced, 50 h check", hours=1.5)
    r2 = rp.record_service(store, Caller("quinn", Role.QUALITY), a, "annual flight test",
                           on=date(2027, 3, 1), kind=ServiceKind.TESTING)
    assert (r1.hours, r1.service_date, r1.kind) == (1.5, None, ServiceKind.MAINTENANCE)
    assert (r2.hours, r2.service_date, r2.kind, r2.recorded_by) == (
        None, date(2027, 3, 1), ServiceKind.TESTING, "quinn")
    assert [s.note for s in rp.unit_history(store, ADMIN, a).services] == [
        "propellers replaced, 50 h check", "annual flight test"]
    with pytest.raises(FloorError, match="--hours H or --date"):
        rp.record_service(store, ADMIN, b, "check")
    with pytest.raises(FloorError, match="--hours -1"):
        rp.record_service(store, ADMIN, b, "check", hours=-1)
    with pytest.raises(NotPermitted, match="not one of your sites"):
        rp.record_service(store, LEAD_S2, b, "check", hours=1)
    rp.return_unit(store, ADMIN, b, "crash")
    with pytest.raises(FloorError, match="for delivered units"):
        rp.record_service(store, ADMIN, b, "check", hours=1)


def test_returns_repairs_and_services_are_in_the_audit_trail(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    fl.receive(store, ADMIN, "S1", "FRAME", "F-2", 1, "SUP")
    lena = store.acting_as("lena")
    rp.return_unit(lena, LEAD_S1, a, "bent")
    rp.repair(lena, LEAD_S1, a, {"FRAME": "F-2"})
    _pass_all(store, a)
    fl.ship(store, ADMIN, "OK", [a])
    rp.record_service(lena, LEAD_S1, a, "check", hours=1)
    with store.unit_of_work(read_only=True) as uow:
        entries = [e for e in read_entries(uow.connection) if e.entity == f"unit:{a}"]
    acts = [e.action for e in entries if e.actor == "lena"]
    assert acts == ["floor.repair.open", "floor.repair.swap", "floor.repair.close",
                    "floor.service"]
    swap = next(e for e in entries if e.action == "floor.repair.swap")
    assert swap.after["swaps"] == [{"item": "FRAME", "added": "F-2", "qty": 1.0,
                                    "removed": [{"lot": "F-1", "serial": None, "qty": 1.0}]}]
    assert audit_trail.verify_audit(store).ok


def test_a_unit_called_in_for_an_open_order_is_repaired_under_it(store: Store) -> None:  # noqa: F811
    [a] = _delivered(store, 1)
    with store.unit_of_work() as uow:  # as an ECO's retrofit opens one for a delivered unit
        rep = RepairRepository(uow.connection, uow.audit)
        uid = FloorRepository(uow.connection, uow.audit).unit(a).id
        rid = rep.open_repair(uid, "ECO-1 retrofit: new frame")
        uow.commit()
    order = rp.return_unit(store, ADMIN, a, "in for the retrofit")
    assert (order.id, order.reason) == (rid, "ECO-1 retrofit: new frame")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-2", 1, "SUP")
    done = rp.repair(store, ADMIN, a, {"FRAME": "F-2"})
    assert done.order.id == rid and done.order.status is RepairStatus.CLOSED
    assert [o.status for o in rp.unit_history(store, ADMIN, a).repairs] == [
        RepairStatus.CLOSED]
