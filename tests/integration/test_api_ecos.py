"""ECOs over HTTP, on SQLite and PostgreSQL: engineering writes them and a planner can't,
the author is refused their own release (403, audited) while another engineer releases,
the workflow's order is a 422, and the impact names the open work orders of the old
design and the delivered units; a released ECO's retrofit opens their repair orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.shop.roles import Caller
from fabnet.store import Role
from fabnet.store.audit import read_entries
from tests.integration.test_api_fixtures import PASSWORD, Api, Seeded, serve
from tests.integration.test_eco import NET, WEEK2

pytest_plugins = ["tests.integration.test_api_fixtures"]

ADMIN = Caller("ada", Role.ADMIN)
Q = "?scenario=drones"


@pytest.fixture
def ecos(seeded: Seeded, tmp_path: Path) -> Iterator[Api]:
    """The API on a store holding the ECO network as `drones`: planned, both weeks
    released, week 1's 3 drones built and 2 of them delivered."""
    for api in serve(seeded):
        s = api.store
        (tmp_path / "drones.yaml").write_text(NET)
        scenario_svc.import_scenario(s, tmp_path / "drones.yaml", "drones")
        plan_svc.plan_stored(s, "drones")
        orders = fl.release(s, ADMIN, "drones")
        wk1 = {o.item: o.id for o in orders if o.due_bucket == 1}
        fl.receive(s, ADMIN, "S1", "CELL", "C-1", 12, "SUP", "drones")
        fl.receive(s, ADMIN, "S1", "FRAME", "F-1", 5, "SUP", "drones")
        fl.build(s, ADMIN, wk1["PACK"], 3)
        drones = fl.build(s, ADMIN, wk1["DRONE"], 3).serials
        fl.ship(s, ADMIN, "OK", list(drones[:2]))
        yield api


@pytest.fixture
def ed(ecos: Api) -> dict[str, str]:
    """The headers of a second engineer, `ed`, who reviews what `eve` writes."""
    assert ecos.post("/users", json={"name": "ed", "password": PASSWORD,
                                     "role": "engineering"}).status_code == 201
    r = ecos.client.post("/auth/login", json={"username": "ed", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _eco(**kw: Any) -> dict[str, Any]:
    """FRAME out of DRONE, FRAME2 in, 3 cells a pack instead of 4, from week 2."""
    body: dict[str, Any] = {
        "description": "FRAME2 after field cracks", "from": WEEK2.isoformat(),
        "scenario": "drones",
        "lines": [{"kind": "bom", "op": "remove", "parent": "DRONE", "component": "FRAME"},
                  {"kind": "bom", "op": "add", "parent": "DRONE", "component": "FRAME2",
                   "qty": 1},
                  {"kind": "bom", "op": "change", "parent": "PACK", "component": "CELL",
                   "qty": 3}]}
    return body | kw


def _in_review(api: Api) -> str:
    r = api.post("/ecos", Role.ENGINEERING, json=_eco())
    assert r.status_code == 201, r.text
    code = str(r.json()["code"])
    assert api.post(f"/ecos/{code}/submit", Role.ENGINEERING).status_code == 200
    return code


def test_engineering_writes_an_eco_and_a_planner_can_not(ecos: Api) -> None:
    r = ecos.post("/ecos", Role.PLANNER, json=_eco())
    assert r.status_code == 403 and "role planner may not" in r.json()["detail"]
    r = ecos.post("/ecos", Role.ENGINEERING, json=_eco())
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["code"], e["status"], e["created_by"], e["from"]) == (
        "ECO-1", "draft", "eve", "2027-01-18")
    assert [ln["label"] for ln in e["lines"]] == [
        "remove bom DRONE/FRAME", "add bom DRONE/FRAME2 = 1", "change bom PACK/CELL = 3"]
    for role in (Role.PLANNER, Role.QUALITY, Role.AUDITOR):
        assert [x["code"] for x in ecos.get(f"/ecos{Q}", role).json()] == ["ECO-1"]
        assert ecos.get("/ecos/1", role).json()["status"] == "draft"
    assert ecos.get(f"/ecos{Q}&status=released").json() == []


def test_the_author_can_not_release_their_own_eco_another_engineer_can(
        ecos: Api, ed: dict[str, str]) -> None:
    draft = ecos.post("/ecos", Role.ENGINEERING, json=_eco()).json()["code"]
    early = ecos.client.post(f"/ecos/{draft}/release", headers=ed)
    assert early.status_code == 422 and "is draft: it can't become released" in early.text
    code = _in_review(ecos)
    for verb, body in (("release", {"note": "mine"}), ("reject", {"note": "mine"})):
        r = ecos.post(f"/ecos/{code}/{verb}", Role.ENGINEERING, json=body)
        assert r.status_code == 403, r.text
        assert f"eve wrote {code} and may not {verb} it" in r.json()["detail"]
    r = ecos.client.post(f"/ecos/{code}/release", headers=ed, json={"note": "ok"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["decided_by"], done["decision_note"]) == (
        "released", "ed", "ok")
    assert done["version"] == 2 and done["applied_on"] == WEEK2.isoformat()
    with ecos.store.unit_of_work(read_only=True) as uow:
        trail = [(e.action, e.actor) for e in read_entries(uow.connection)
                 if e.action.startswith("eco.")]
    assert trail == [("eco.create", "eve"), ("eco.create", "eve"), ("eco.submit", "eve"),
                     ("eco.refused", "eve"), ("eco.refused", "eve"), ("eco.release", "ed")]


def test_impact_returns_the_affected_work_orders_and_units(ecos: Api) -> None:
    code = _in_review(ecos)
    r = ecos.get(f"/ecos/{code}/impact", Role.PLANNER)
    assert r.status_code == 200, r.text
    imp = r.json()
    week2 = {(o["code"], o["item"]) for o in ecos.get(f"/floor/orders{Q}").json()["data"]
             if o["item"] in ("DRONE", "PACK") and o["due_date"] >= WEEK2.isoformat()
             and o["status"] in ("released", "in_progress")}
    assert {i for _, i in week2} == {"DRONE", "PACK"}
    assert {(o["code"], o["item"]) for o in imp["work_orders"]} == week2
    assert imp["on"] == WEEK2.isoformat() and imp["eco"]["code"] == code
    assert [u["serial"] for u in imp["delivered"]] == ["D-0001", "D-0002"]
    assert [u["serial"] for u in imp["in_stock"]] == ["D-0003"]
    assert imp["delivered"][0]["parts"] == ["CELL", "FRAME"]
    # the new frame is bought only from the effective week on
    frame2 = [d for d in imp["demand"] if d["item"] == "FRAME2" and d["table"] == "purchases"]
    assert frame2 and all(date.fromisoformat(d["start"]) >= WEEK2 and d["delta"] > 0
                          for d in frame2)
    assert [(x["item"], x["remaining"]) for x in imp["leftovers"]] == [("FRAME", 2.0)]


def test_a_released_eco_retrofits_the_delivered_units_once(ecos: Api,
                                                           ed: dict[str, str]) -> None:
    code = _in_review(ecos)
    early = ecos.post(f"/ecos/{code}/retrofit", Role.ENGINEERING)
    assert early.status_code == 422 and "only a released ECO" in early.text
    assert ecos.client.post(f"/ecos/{code}/release", headers=ed).status_code == 200
    r = ecos.post(f"/ecos/{code}/retrofit", Role.QUALITY)
    assert r.status_code == 403
    r = ecos.post(f"/ecos/{code}/retrofit", Role.ENGINEERING)
    assert r.status_code == 201, r.text
    assert [x["serial"] for x in r.json()] == ["D-0001", "D-0002"]
    assert ecos.post(f"/ecos/{code}/retrofit", Role.ENGINEERING).json() == []


def test_a_bad_eco_is_a_422_naming_the_line(ecos: Api) -> None:
    no_qty = _eco(lines=[{"kind": "bom", "op": "add", "parent": "DRONE",
                          "component": "FRAME2"}])
    r = ecos.post("/ecos", Role.ENGINEERING, json=no_qty)
    assert r.status_code == 422 and "add bom DRONE/FRAME2: give its qty" in r.text
    unknown = _eco(lines=[{"kind": "bom", "op": "add", "parent": "DRONE",
                           "component": "NOPE", "qty": 1}])
    r = ecos.post("/ecos", Role.ENGINEERING, json=unknown)
    assert r.status_code == 422 and "no item 'NOPE'" in r.json()["detail"]
    assert ecos.get("/ecos/ECO-x").status_code == 422
    assert ecos.get("/ecos/ECO-9").status_code == 404
