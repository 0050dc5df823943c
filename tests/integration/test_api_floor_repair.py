"""Returns, repairs, service records, line-downs and qualified operators over the API on
SQLite and PostgreSQL: the routes answer as the services do, a line lead is refused at
another site, and unknown fields are refused."""

from __future__ import annotations

from datetime import date, timedelta

from fabnet.store import Role
from tests.integration.test_api_fixtures import Api
from tests.integration.test_api_floor import Q, _drones, _pass, floor  # noqa: F401

pytest_plugins = ["tests.integration.test_api_fixtures"]


def test_a_returned_drone_is_repaired_retested_and_shipped_over_the_api(floor: Api) -> None:  # noqa: F811
    lead = Role.SITE_MANAGER
    [d] = _drones(floor, "FR-LYON", 1)
    _pass(floor, d)
    assert floor.post("/floor/shipments", json={"customer": "OK",
                                                "serials": [d]}).status_code == 201
    r = floor.post(f"/floor/units/{d}/return", lead, json={"reason": "frame cracked"})
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["code"]) == ("open", f"RO-{r.json()['id']}")
    assert floor.post("/floor/receive", json={"site": "FR-LYON", "item": "FRAME", "lot": "F-2",
                                              "qty": 1, "scenario": "tiny"}).status_code == 201
    r = floor.post(f"/floor/units/{d}/repair", lead, json={"replace": {"FRAME": "F-2"}})
    assert r.status_code == 201, r.text
    assert r.json()["swaps"][0]["removed"] == [{"lot": "F-FR-LYON", "serial": None,
                                                "qty": 1.0}]
    assert sorted(r.json()["retest"]) == ["flight", "volts"]
    r = floor.post("/floor/shipments", json={"customer": "OK", "serials": [d]})
    assert r.status_code == 409 and "incomplete" in r.json()["reasons"][d]
    _pass(floor, d)
    assert floor.post("/floor/shipments", json={"customer": "OK",
                                                "serials": [d]}).status_code == 201
    r = floor.post(f"/floor/units/{d}/services", lead,
                   json={"note": "50 h check", "hours": 1.5, "kind": "maintenance"})
    assert r.status_code == 201, r.text
    h = floor.get(f"/floor/units/{d}/history", Role.AUDITOR).json()
    assert [s["note"] for s in h["services"]] == ["50 h check"]
    assert [x["item"] for x in h["removed"]] == ["FRAME"]
    bad = floor.post(f"/floor/units/{d}/services", json={"note": "x", "hours": 1, "who": "?"})
    assert bad.status_code == 422


def test_a_line_lead_repairs_and_reports_line_downs_at_their_sites_only(floor: Api) -> None:  # noqa: F811
    lead = Role.SITE_MANAGER
    [uk] = _drones(floor, "UK-PLANT", 1, "C-UK")
    r = floor.post(f"/floor/units/{uk}/return", lead, json={"reason": "?"})
    assert r.status_code == 403 and "UK-PLANT" not in r.text
    r = floor.post(f"/floor/units/{uk}/repair", Role.COMPLIANCE, json={})
    assert r.status_code == 403
    r = floor.post("/floor/line-downs", lead, json={"site": "UK-PLANT", "work_center":
                                                    "assembly", "from": "2027-01-04"})
    assert r.status_code == 403
    r = floor.post("/floor/line-downs", lead, json={
        "site": "FR-LYON", "work_center": "assembly", "from": "2027-01-04",
        "until": "2027-01-10", "capacity": 0.5, "scenario": "tiny"})
    assert r.status_code == 201, r.text
    assert (r.json()["from"], r.json()["until"], r.json()["version"]) == (
        "2027-01-04", "2027-01-10", 2)
    rows = floor.get("/scenarios/tiny/disruptions").json()["data"]
    assert [(d["target"], d["work_center"], d["capacity"]) for d in rows] == [
        ("FR-LYON", "assembly", 0.5)]


def test_qualified_operators_over_the_api(floor: Api) -> None:  # noqa: F811
    lead = Role.SITE_MANAGER
    until = (date.today() + timedelta(days=45)).isoformat()
    r = floor.post("/floor/qualifications", lead, json={
        "operator": "olga", "name": "assembly", "until": until, "site": "FR-LYON",
        "scenario": "tiny"})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "work_center"
    assert floor.put("/floor/qualification-rule", lead, json={
        "site": "FR-LYON", "required": True, "scenario": "tiny"}).status_code == 200
    assert floor.put("/floor/qualification-rule", lead, json={
        "site": "UK-PLANT", "required": True, "scenario": "tiny"}).status_code == 403
    skills = floor.get(f"/floor/skills{Q}", lead).json()
    counts = {(c["site"], c["kind"], c["name"]): (c["now"], c["in_30"], c["in_90"])
              for c in skills["counts"]}
    assert counts[("FR-LYON", "work_center", "assembly")] == (1, 1, 0)
    assert {c["site"] for c in skills["counts"]} == {"FR-LYON"}
    assert skills["rules"] == {"FR-LYON": True}
    assert [q["operator"] for q in floor.get(f"/floor/qualifications{Q}").json()["data"]] == [
        "olga"]
    wo = next(o["code"] for o in floor.get(f"/floor/orders{Q}&site=FR-LYON").json()["data"]
              if o["item"] == "PACK")
    assert floor.post("/floor/receive", json={"site": "FR-LYON", "item": "CELL", "lot": "C-9",
                                              "qty": 4, "scenario": "tiny"}).status_code == 201
    r = floor.post(f"/floor/work-orders/{wo}/build", json={"qty": 1, "operator": "nobody"})
    assert r.status_code == 422 and "not qualified" in r.text
