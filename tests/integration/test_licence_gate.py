"""The export gate on SQLite and PostgreSQL: no unit ships past an expired, revoked,
exhausted or wrong-destination licence, nor to an embargoed country; a shipment draws
its licence down, and concurrent shipments never overdraw it; only export compliance
(and admins) edit licences; every refusal is audited with its reason."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fabnet.model.licence import Licence, LicenceStatus
from fabnet.services import database as db_svc
from fabnet.services import floor as fl
from fabnet.services import licences as ls
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.shop.errors import NotPermitted, ShipRefused
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from fabnet.store.audit import read_entries
from tests.integration.test_floor import TINY
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures

TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=TODAY.weekday()) - timedelta(weeks=1)  # a Monday

#: the tiny floor, its horizon around today; PL-MOD is a customer in an embargoed
#: country, and the scenario's own licences section names OK (the plan's view)
SCENARIO = (TINY.replace("horizon: {start: 2027-01-04, bucket: week, buckets: 4}",
                         f"horizon: {{start: {START}, bucket: week, buckets: 6}}")
            .replace("due: 2027-01-18", f"due: {START + timedelta(weeks=3)}")
            .replace("  - {id: BAD,", "  - {id: PL-MOD, country: PL, approved: true}\n"
                     "  - {id: BAD,")
            .replace("  - {from: S1, to: BAD, transit: 0}",
                     "  - {from: S1, to: BAD, transit: 0}\n"
                     "  - {from: S1, to: PL-MOD, transit: 0}")
            + f"""disruptions:
  - {{id: EMB-PL, target: "country:PL", from: {START}, buckets: 6, capacity: 0}}
licences:
  - {{id: L-SC, customer: OK, country: UA, items: [DRONE], qty: 100, from: {START},
     until: {START + timedelta(weeks=6)}, euc: EUC-1, authority: SBDR}}
""")

ADMIN = Caller("alice", Role.ADMIN)
CORA = Caller("cora", Role.COMPLIANCE)


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    """A store holding the tiny network around today, planned once."""
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "tiny.yaml"
    p.write_text(SCENARIO)
    scenario_svc.import_scenario(s, p, "tiny")
    plan_svc.plan_stored(s, "tiny")
    yield s
    s.engine.dispose()


def _drones(store: Store, n: int) -> list[str]:
    """`n` complete, tested drones at S1."""
    orders = {o.item: o.id for o in fl.release(store, ADMIN, "tiny") if o.site == "S1"}
    fl.receive(store, ADMIN, "S1", "CELL", "C-1", 4 * n, "SUP")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-1", n, "SUP")
    fl.build(store, ADMIN, orders["PACK"], n)
    serials = list(fl.build(store, ADMIN, orders["DRONE"], n).serials)
    for s in serials:
        fl.record_test(store, ADMIN, s, "flight", True)
        fl.record_test(store, ADMIN, s, "volts", True, 24.0)
    return serials


def _lic(id_: str, qty: float = 10, days: tuple[int, int] = (-5, 30), country: str = "UA",
         customer: str = "OK", status: LicenceStatus = LicenceStatus.VALID) -> Licence:
    return Licence(id_, customer, country, ("DRONE",), qty, TODAY + timedelta(days=days[0]),
                   TODAY + timedelta(days=days[1]), "EUC-7", status, "SBDR")


def _remaining(store: Store, lid: str) -> float:
    return next(b.remaining for b in ls.list_licences(store, ADMIN) if b.licence.id == lid)


def test_a_shipment_under_a_valid_licence_draws_it_down(store: Store) -> None:
    a, b = _drones(store, 2)
    ls.add_licence(store, CORA, _lic("L-1", qty=3))
    fl.ship(store, ADMIN, "OK", [a, b])
    assert _remaining(store, "L-1") == 1
    with store.unit_of_work(read_only=True) as uow:
        draws = [e for e in read_entries(uow.connection) if e.action == "licence.draw"]
    assert [(d.entity, d.before["remaining"], d.after["remaining"]) for d in draws] == [
        ("licence:L-1", 3, 1)]


def test_a_customer_under_licence_in_the_scenario_but_not_the_store_is_refused(
        store: Store) -> None:
    (a,) = _drones(store, 1)
    with pytest.raises(ShipRefused, match="no valid licence covers DRONE to OK in UA.*"
                       "fabnet licence import"):
        fl.ship(store, ADMIN, "OK", [a])
    added, skipped = ls.import_licences(store, CORA)
    assert [b.licence.id for b in added] == ["L-SC"] and skipped == []
    assert ls.import_licences(store, CORA) == ([], ["L-SC"])
    fl.ship(store, ADMIN, "OK", [a])
    assert _remaining(store, "L-SC") == 99


@pytest.mark.parametrize(("licence", "why"), [
    (_lic("L-X", days=(-30, -1)), "L-X expired"),
    (_lic("L-X", status=LicenceStatus.PENDING), "L-X pending"),
    (_lic("L-X", days=(3, 30)), "L-X opens"),
])
def test_no_unit_ships_past_an_expired_pending_or_unopened_licence(
        store: Store, licence: Licence, why: str) -> None:
    (a,) = _drones(store, 1)
    with store.unit_of_work() as uow:  # as an authority's record would arrive, dates and all
        from fabnet.shop.licence_gate import LicenceRepository
        sid = fl._scenario_id(uow, "tiny")[0]
        LicenceRepository(uow.connection, uow.audit, sid).add(licence)
        uow.commit()
    with pytest.raises(ShipRefused, match=f"no valid licence covers DRONE.*{why}"):
        fl.ship(store, ADMIN, "OK", [a])
    assert _remaining(store, "L-X") == 10


def test_no_unit_ships_past_a_revoked_licence(store: Store) -> None:
    (a,) = _drones(store, 1)
    ls.add_licence(store, CORA, _lic("L-1"))
    ls.revoke_licence(store, CORA, "L-1", "authority notice 2026/41")
    with pytest.raises(ShipRefused, match="L-1 revoked"):
        fl.ship(store, ADMIN, "OK", [a])
    with pytest.raises(fl.FloorError, match="was revoked"):
        ls.set_licence_status(store, CORA, "L-1", LicenceStatus.VALID, "appeal")


def test_no_unit_ships_past_an_exhausted_licence(store: Store) -> None:
    a, b, c = _drones(store, 3)
    ls.add_licence(store, CORA, _lic("L-1", qty=2))
    fl.ship(store, ADMIN, "OK", [a])
    with pytest.raises(ShipRefused, match="licence exhausted: L-1 \\(1 left\\) allow 1 more "
                       "DRONE, the shipment needs 2"):
        fl.ship(store, ADMIN, "OK", [b, c])
    assert _remaining(store, "L-1") == 1
    fl.ship(store, ADMIN, "OK", [b])
    assert _remaining(store, "L-1") == 0


def test_a_licence_for_another_destination_covers_nothing(store: Store) -> None:
    (a,) = _drones(store, 1)
    with pytest.raises(fl.FloorError, match="country: PL is not the country of OK"):
        ls.add_licence(store, CORA, _lic("L-1", country="PL"))
    ls.add_licence(store, CORA, _lic("L-PL", country="PL", customer="PL-MOD"))
    with pytest.raises(ShipRefused, match="no valid licence covers DRONE to OK"):
        fl.ship(store, ADMIN, "OK", [a])


def test_an_embargo_blocks_every_licence_to_the_country(store: Store) -> None:
    (a,) = _drones(store, 1)
    ls.add_licence(store, CORA, _lic("L-PL", country="PL", customer="PL-MOD"))
    with pytest.raises(ShipRefused, match="PL is under embargo \\(EMB-PL"):
        fl.ship(store, ADMIN, "PL-MOD", [a])
    assert _remaining(store, "L-PL") == 10


def test_concurrent_shipments_never_overdraw_a_licence(store: Store) -> None:
    serials = _drones(store, 4)
    ls.add_licence(store, CORA, _lic("L-1", qty=2))
    results: list[object] = []

    def one(serial: str) -> None:
        try:
            results.append(fl.ship(store, ADMIN, "OK", [serial]))
        except Exception as e:  # noqa: BLE001 - collected and checked below
            results.append(e)
    threads = [threading.Thread(target=one, args=(s,)) for s in serials]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shipped = [r for r in results if isinstance(r, fl.Shipment)]
    refused = [r for r in results if isinstance(r, ShipRefused)]
    assert len(shipped) == 2 and len(refused) == 2, results
    assert all("licence exhausted" in str(r) for r in refused)
    assert _remaining(store, "L-1") == 0


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.ADMIN, Role.COMPLIANCE)])
def test_only_compliance_and_admins_create_or_change_licences(store: Store, role: Role
                                                              ) -> None:
    ls.add_licence(store, CORA, _lic("L-1"))
    who = Caller("mallory", role)
    with pytest.raises(NotPermitted, match="may not create or change export licences"):
        ls.add_licence(store, who, _lic("L-2"))
    with pytest.raises(NotPermitted):
        ls.revoke_licence(store, who, "L-1", "because")
    with pytest.raises(NotPermitted):
        ls.import_licences(store, who)
    assert [b.licence.id for b in ls.list_licences(store, who)] == ["L-1"]  # reads: anyone
    assert ls.list_licences(store, ADMIN)[0].licence.status is LicenceStatus.VALID


def test_licence_changes_and_refusals_are_audited_and_reported(store: Store) -> None:
    (a,) = _drones(store, 1)
    ls.add_licence(store, CORA, _lic("L-1", days=(-5, 10)))
    ls.add_licence(store, CORA, _lic("L-2", days=(-5, 60)))
    ls.revoke_licence(store, CORA, "L-2", "notice 41")
    ls.revoke_licence(store, CORA, "L-1", "notice 42")
    with pytest.raises(ShipRefused):
        fl.ship(store, ADMIN, "OK", [a])
    with pytest.raises(ShipRefused, match="no such serial"):
        fl.ship(store, ADMIN, "OK", ["NOPE"])
    with store.unit_of_work(read_only=True) as uow:
        es = [e for e in read_entries(uow.connection)
              if e.action.startswith("licence.") or e.action == "floor.ship.refused"]
    assert [(e.action, e.actor, e.entity) for e in es] == [
        ("licence.add", "cora", "licence:L-1"), ("licence.add", "cora", "licence:L-2"),
        ("licence.change", "cora", "licence:L-2"), ("licence.change", "cora", "licence:L-1"),
        ("floor.ship.refused", "alice", "customer:OK"),
        ("floor.ship.refused", "alice", "customer:OK")]
    assert es[3].before["status"] == "valid" and es[3].after["status"] == "revoked"
    assert es[3].after["reason"] == "notice 42"
    assert "L-1 revoked" in es[4].after["general"] and es[4].after["serials"] == [a]
    report = ls.licence_status(store, ADMIN, weeks=2)
    assert [b.licence.id for b in report.balances] == ["L-1", "L-2"]
    assert report.expiring == ()  # revoked licences don't expire, they are gone
    assert [x.serials for x in report.blocked] == [("NOPE",), (a,)]
    assert "L-1 revoked" in report.blocked[1].reason


def test_status_lists_licences_expiring_within_the_weeks_asked(store: Store) -> None:
    ls.add_licence(store, CORA, _lic("L-SOON", days=(-5, 10)))
    ls.add_licence(store, CORA, _lic("L-LATER", days=(-5, 60)))
    assert [b.licence.id for b in ls.licence_status(store, CORA, weeks=2).expiring] == [
        "L-SOON"]
    assert {b.licence.id for b in ls.licence_status(store, CORA, weeks=9).expiring} == {
        "L-SOON", "L-LATER"}
    on = TODAY + timedelta(days=11)
    late = ls.licence_status(store, CORA, weeks=1, on=on)
    assert [b.status_on(on) for b in late.balances] == [LicenceStatus.VALID,
                                                         LicenceStatus.EXPIRED]
    assert isinstance(late.on, date)
