"""Export licences over HTTP, on SQLite and PostgreSQL: only compliance (and admins)
change them, every role reads them, and the shipping gate through the API draws a
licence down and refuses what it doesn't cover, with the refusal in the status report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fabnet.store import Role
from tests.integration.test_api_fixtures import Api
from tests.integration.test_api_floor import Q, _drones, _pass

pytest_plugins = ["tests.integration.test_api_fixtures", "tests.integration.test_api_floor"]

TODAY = date.today()


def _licence(lid: str = "L-1", qty: float = 1, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": lid, "customer": "OK2", "country": "UA",
                            "items": ["DRONE"], "qty": qty,
                            "from": (TODAY - timedelta(days=30)).isoformat(),
                            "until": (TODAY + timedelta(days=20)).isoformat(),
                            "euc": "EUC-7", "authority": "DSTA", "scenario": "tiny"}
    return body | kw


@pytest.mark.parametrize("role", [Role.PLANNER, Role.SITE_MANAGER, Role.QUALITY,
                                  Role.ENGINEERING, Role.CONTINUITY, Role.AUDITOR])
def test_only_compliance_and_admins_change_licences(floor: Api, role: Role) -> None:
    assert floor.post("/licences", Role.COMPLIANCE, json=_licence()).status_code == 201
    refused = [floor.post("/licences", role, json=_licence("L-2")),
               floor.post("/licences/L-1/status", role,
                          json={"status": "revoked", "reason": "notice 12",
                                "scenario": "tiny"}),
               floor.post("/licences/import", role, json={"scenario": "tiny"})]
    for r in refused:
        assert r.status_code == 403, r.text
    rows = floor.get(f"/licences{Q}", role)
    assert rows.status_code == 200 and [x["id"] for x in rows.json()] == ["L-1"]
    assert rows.json()[0]["remaining"] == 1 and rows.json()[0]["from"]


def test_a_revoked_licence_stays_revoked_and_expiries_are_reported(floor: Api) -> None:
    assert floor.post("/licences", json=_licence()).status_code == 201
    r = floor.get(f"/licences/status{Q}&weeks=4")
    assert r.status_code == 200 and [x["id"] for x in r.json()["expiring"]] == ["L-1"]
    assert floor.get(f"/licences/status{Q}&weeks=1").json()["expiring"] == []
    r = floor.post("/licences/L-1/status", Role.COMPLIANCE,
                   json={"status": "revoked", "reason": "notice 12", "scenario": "tiny"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    again = floor.post("/licences/L-1/status", Role.COMPLIANCE,
                       json={"status": "valid", "reason": "appeal", "scenario": "tiny"})
    assert again.status_code == 422 and "revoked" in again.json()["detail"]


def test_the_gate_draws_a_licence_down_and_refuses_past_it(floor: Api) -> None:
    serials = _drones(floor, "UK-PLANT", 2, "C-UK")
    for s in serials:
        _pass(floor, s)
    assert floor.post("/licences", Role.COMPLIANCE, json=_licence(qty=1)).status_code == 201
    r = floor.post("/floor/shipments", json={"customer": "OK2", "serials": serials})
    assert r.status_code == 409, r.text
    assert "L-1" in r.text or "licence" in r.text
    ok = floor.post("/floor/shipments", json={"customer": "OK2", "serials": serials[:1]})
    assert ok.status_code == 201, ok.text
    assert floor.get(f"/licences{Q}").json()[0]["remaining"] == 0
    last = floor.post("/floor/shipments", json={"customer": "OK2", "serials": serials[1:]})
    assert last.status_code == 409
    blocked = floor.get(f"/licences/status{Q}").json()["blocked"]
    assert len(blocked) == 2 and all(b["customer"] == "OK2" for b in blocked)
