"""The floor's API on SQLite and PostgreSQL: a line lead builds and tests at their site
and is refused at another without learning where its units are, quality holds and
releases, a shipment of an incomplete unit is a 409 with the reason per unit, builds are
idempotent, and trace down and up agree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role
from fabnet.store.audit import read_entries
from tests.integration.test_api_fixtures import Api, Seeded, serve
from tests.integration.test_floor import TINY

pytest_plugins = ["tests.integration.test_api_fixtures"]

#: the tiny floor on the fixtures' sites (the site manager leads FR-LYON), with a
#: customer only UK-PLANT reaches, so both sites get work orders
FLOOR = (TINY.replace("S1", "FR-LYON").replace("S2", "UK-PLANT")
         .replace("  - {id: BAD,", "  - {id: OK2, country: UA, approved: true}\n  - {id: BAD,")
         .replace("  - {from: FR-LYON, to: BAD, transit: 0}",
                  "  - {from: FR-LYON, to: BAD, transit: 0}\n"
                  "  - {from: UK-PLANT, to: OK2, transit: 0}")
         .replace("test_plans:", "  - {id: D2, customer: OK2, item: DRONE, qty: 2, "
                  "due: 2027-01-18}\ntest_plans:"))
Q = "?scenario=tiny"


@pytest.fixture
def floor(seeded: Seeded, tmp_path: Path) -> Iterator[Api]:
    """The API on a store holding the tiny floor as `tiny`, planned and released."""
    for api in serve(seeded):
        (tmp_path / "tiny.yaml").write_text(FLOOR)
        scenario_svc.import_scenario(api.store, tmp_path / "tiny.yaml", "tiny")
        plan_svc.plan_stored(api.store, "tiny")
        r = api.post("/floor/release", json={"scenario": "tiny"})
        assert r.status_code == 201, r.text
        yield api


def _wo(api: Api, site: str, item: str) -> str:
    orders = api.get(f"/floor/orders{Q}&site={site}").json()["data"]
    return str(next(o["code"] for o in orders if o["item"] == item))


def _drones(api: Api, site: str, n: int, cells: str = "C-1") -> list[str]:
    """Stock, packs and `n` untested drones at `site`, built by the admin."""
    for item, lot, qty in (("CELL", cells, 4 * n), ("FRAME", f"F-{site}", n)):
        r = api.post("/floor/receive", json={"site": site, "item": item, "lot": lot,
                                             "qty": qty, "supplier": "SUP",
                                             "scenario": "tiny"})
        assert r.status_code == 201, r.text
    assert api.post(f"/floor/work-orders/{_wo(api, site, 'PACK')}/build",
                    json={"qty": n}).status_code == 201
    r = api.post(f"/floor/work-orders/{_wo(api, site, 'DRONE')}/build", json={"qty": n})
    assert r.status_code == 201, r.text
    return list(r.json()["serials"])


def _pass(api: Api, serial: str, role: Role = Role.ADMIN) -> Any:
    assert api.post(f"/floor/units/{serial}/tests", role,
                    json={"step": "flight", "passed": True}).status_code == 201
    return api.post(f"/floor/units/{serial}/tests", role,
                    json={"step": "volts", "passed": True, "value": 24.0}).json()


def test_a_line_lead_builds_and_tests_at_their_site_and_is_refused_at_another(
        floor: Api) -> None:
    lead = Role.SITE_MANAGER
    everyone = floor.get(f"/floor/orders{Q}").json()["data"]
    mine = floor.get(f"/floor/orders{Q}", lead).json()
    assert {o["site"] for o in everyone} == {"FR-LYON", "UK-PLANT"}
    assert mine["data"] == [o for o in everyone if o["site"] == "FR-LYON"]
    assert mine["count"] == len(mine["data"])
    uk = _drones(floor, "UK-PLANT", 1, "C-UK")
    for item, lot, qty in (("CELL", "C-FR", 4), ("FRAME", "F-FR", 1)):
        assert floor.post("/floor/receive", lead, json={
            "site": "FR-LYON", "item": item, "lot": lot, "qty": qty,
            "scenario": "tiny"}).status_code == 201
    assert floor.post(f"/floor/work-orders/{_wo(floor, 'FR-LYON', 'PACK')}/build", lead,
                      json={"qty": 1, "use": {"CELL": "C-FR"}}).status_code == 201
    r = floor.post(f"/floor/work-orders/{_wo(floor, 'FR-LYON', 'DRONE')}/build", lead,
                   json={"qty": 1})
    assert r.status_code == 201, r.text
    serial = r.json()["serials"][0]
    assert _pass(floor, serial, lead)["complete"] is True
    refusals = [
        floor.get(f"/floor/orders{Q}&site=UK-PLANT", lead),
        floor.post("/floor/receive", lead, json={"site": "UK-PLANT", "item": "CELL",
                                                 "lot": "C-X", "qty": 4, "scenario": "tiny"}),
        floor.post(f"/floor/work-orders/{_wo(floor, 'UK-PLANT', 'PACK')}/build", lead,
                   json={"qty": 1}),
        floor.post(f"/floor/units/{uk[0]}/tests", lead, json={"step": "flight",
                                                              "passed": True}),
        floor.post("/floor/shipments", lead, json={"customer": "OK2", "serials": uk}),
        floor.get(f"/trace/{uk[0]}?direction=up", lead),
    ]
    for r in refusals:
        assert r.status_code == 403, r.text
        assert "not one of your sites (FR-LYON)" in r.json()["detail"] or \
            "not at one of your sites (FR-LYON)" in r.json()["detail"], r.text
        assert "UK-PLANT" not in r.text.replace("site=UK-PLANT", "")
    down = floor.get(f"/trace/C-UK{Q}&direction=down", lead).json()
    assert down["units"] == [] and down["hidden"] == 2  # a pack and a drone, not shown
    assert {y["site"] for y in floor.get(f"/floor/yield{Q}", lead).json()["yields"]} == {
        "FR-LYON"}


def test_quality_holds_and_releases_and_a_hold_blocks_the_shipment(floor: Api) -> None:
    serials = _drones(floor, "FR-LYON", 2)
    for s in serials:
        _pass(floor, s)
    assert floor.post("/floor/holds", Role.SITE_MANAGER, json={
        "ref": "C-1", "reason": "no", "scenario": "tiny"}).status_code == 403
    r = floor.post("/floor/holds", Role.QUALITY, json={"ref": "C-1", "reason": "cells swell",
                                                       "scenario": "tiny"})
    assert r.status_code == 201, r.text
    assert [(h["lot"], h["active"], h["placed_by"]) for h in r.json()] == [
        ("C-1", True, "quinn")]
    r = floor.post("/floor/shipments", json={"customer": "OK", "serials": serials})
    assert r.status_code == 409
    assert set(r.json()["reasons"]) == set(serials)
    assert all("lot C-1 (cells swell)" in why for why in r.json()["reasons"].values())
    r = floor.post("/floor/holds/release", Role.QUALITY, json={"ref": "C-1",
                                                               "scenario": "tiny"})
    assert r.status_code == 200 and [h["released_by"] for h in r.json()] == ["quinn"]
    r = floor.post("/floor/shipments", Role.COMPLIANCE, json={"customer": "OK",
                                                              "serials": serials})
    assert r.status_code == 201, r.text
    assert r.json()["serials"] == serials and r.json()["shipped_by"] == "cora"
    with floor.store.unit_of_work(read_only=True) as uow:
        floor_entries = [(e.action, e.actor) for e in read_entries(uow.connection)
                         if e.action.startswith("floor.hold") or e.action == "floor.ship"]
    assert floor_entries == [("floor.hold", "quinn"), ("floor.hold.release", "quinn"),
                             ("floor.ship", "cora")]


def test_a_shipment_of_an_incomplete_unit_is_a_409_with_the_reason_per_unit(
        floor: Api) -> None:
    a, b = _drones(floor, "FR-LYON", 2)
    _pass(floor, a)
    r = floor.post(f"/floor/units/{b}/tests", json={"step": "volts", "passed": True,
                                                    "value": 30})
    assert r.status_code == 201 and r.json()["result"]["passed"] is False
    assert r.json()["missing"] == ["flight (not tested)", "volts (failed)"]
    r = floor.post("/floor/shipments", json={"customer": "OK", "serials": [a, b, "NOPE"]})
    assert r.status_code == 409
    assert r.json()["reasons"] == {b: "incomplete: flight (not tested), volts (failed)",
                                   "NOPE": "no such serial"}
    r = floor.post("/floor/shipments", json={"customer": "BAD", "serials": [a]})
    assert r.status_code == 409 and "not approved" in r.json()["general"]
    assert floor.post("/floor/shipments", json={"customer": "OK",
                                                "serials": [a]}).status_code == 201
    r = floor.post("/floor/shipments", json={"customer": "OK", "serials": [a]})
    assert r.status_code == 409 and r.json()["reasons"] == {a: "already shipped"}


def test_a_short_build_is_a_409_listing_what_is_missing_and_books_nothing(
        floor: Api) -> None:
    floor.post("/floor/receive", json={"site": "FR-LYON", "item": "CELL", "lot": "C-1",
                                       "qty": 6, "scenario": "tiny"})
    wo = _wo(floor, "FR-LYON", "PACK")
    r = floor.post(f"/floor/work-orders/{wo}/build", json={"qty": 2})
    assert r.status_code == 409
    assert r.json()["missing"] == ["CELL at FR-LYON: need 8, have 6 not on hold"]
    lots = floor.get(f"/trace/C-1{Q}&direction=down").json()
    assert lots["units"] == []
    r = floor.post(f"/floor/work-orders/{wo}/build", json={"qty": 1})
    assert r.status_code == 201 and r.json()["consumed"] == [{"lot": "C-1", "qty": 4.0}]
    bad = floor.post("/floor/work-orders/WO-x/build", json={"qty": 1})
    assert bad.status_code == 422 and "not a work order" in bad.json()["detail"]


def test_a_retried_build_with_its_key_builds_once(floor: Api) -> None:
    floor.post("/floor/receive", json={"site": "FR-LYON", "item": "CELL", "lot": "C-1",
                                       "qty": 40, "scenario": "tiny"})
    wo = _wo(floor, "FR-LYON", "PACK")
    key = {"Idempotency-Key": "build-1"}
    first = floor.post(f"/floor/work-orders/{wo}/build", json={"qty": 1}, headers=key)
    again = floor.post(f"/floor/work-orders/{wo}/build", json={"qty": 1}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["serials"] == first.json()["serials"]
    order = next(o for o in floor.get(f"/floor/orders{Q}").json()["data"] if o["code"] == wo)
    assert order["qty_done"] == 1


def test_trace_down_and_up_agree_through_the_api(floor: Api) -> None:
    serials = _drones(floor, "FR-LYON", 2)
    _pass(floor, serials[0])
    floor.post("/floor/shipments", json={"customer": "OK", "serials": serials[:1]})
    down = floor.get(f"/trace/C-1{Q}").json()
    assert down["direction"] == "down"
    drones = {u["serial"]: u for u in down["units"] if u["item"] == "DRONE"}
    assert set(drones) == set(serials)
    assert drones[serials[0]]["customer"] == "OK" and drones[serials[1]]["customer"] is None
    for u in down["units"]:
        up = floor.get(f"/trace/{u['serial']}?direction=up").json()
        assert "C-1" in {c["lot"] for c in up["components"]}
    up = floor.get(f"/trace/{serials[0]}?direction=up").json()
    assert up["item"] == "DRONE"
    assert {t["step"] for t in up["tests"]} == {"flight", "volts"}
    assert {o["work_center"] for o in up["operations"]} == {"assembly", "flight-test"}
    for c in up["components"]:
        ref = c["serial"] or c["lot"]
        assert serials[0] in {u["serial"] for u in
                              floor.get(f"/trace/{ref}{Q}&direction=down").json()["units"]}
    assert floor.get("/trace/NOPE?direction=up").status_code == 404


def test_a_lot_code_with_a_control_character_is_a_422_and_books_nothing(floor: Api) -> None:
    r = floor.post("/floor/receive", json={"site": "FR-LYON", "item": "CELL", "lot": "L\n1",
                                           "qty": 1, "scenario": "tiny"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lot"], r.text
    r = floor.get("/trace/L%0A1")
    assert r.status_code in (404, 422), r.text  # nothing was booked under it
