"""Redundancy design through the API: who may submit it, what is refused and why, the
result scoped to a site manager's sites, and the audit trail of the job.

Each test runs on SQLite and on PostgreSQL (see test_api_fixtures).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from fabnet.store import Role
from tests.integration.test_api_fixtures import Api

pytest_plugins = ["tests.integration.test_api_fixtures"]

A, P, C, S, Q, E, X, U = (Role.ADMIN, Role.PLANNER, Role.CONTINUITY, Role.SITE_MANAGER,
                          Role.QUALITY, Role.ENGINEERING, Role.COMPLIANCE, Role.AUDITOR)

#: more demand than the network makes, so that the risks cost units
MORE = {"id": "D9", "customer": "UA-MOD", "item": "RECON-Q", "qty": 400, "due": "2027-02-22"}
#: more hours at the UK plant (FR-LYON's site manager must not see it), a buffer at Lyon
CANDIDATES = [
    {"id": "uk-hours", "kind": "hours", "cost": 1000, "site": "UK-PLANT",
     "work_center": "assembly", "hours": 60},
    {"id": "lyon-buffer", "kind": "buffer", "cost": 500, "site": "FR-LYON", "item": "FC-H7",
     "qty": 100},
]
JOB = {"scenario": "net", "budget": 1200, "futures": 8, "seed": 3, "matrix": False,
       "marginal_step": 0}


@pytest.fixture(scope="module")
def designed(shared_api: Api) -> Iterator[tuple[Api, str, int]]:
    """The seeded network with two candidates (a new version) and one design job done."""
    assert shared_api.post("/scenarios/net/demand", P, json=MORE).status_code == 201
    for row in CANDIDATES:
        r = shared_api.post("/scenarios/net/mitigations", P, json=row)
        assert r.status_code == 201, r.text
    version: int = shared_api.get("/scenarios/net").json()["latest"]
    r = shared_api.post("/jobs/design", C, json=JOB)
    assert r.status_code == 202 and r.headers["location"] == f"/jobs/{r.json()['id']}"
    job = shared_api.wait(r.json()["id"], timeout=300)
    assert job["status"] == "done", job
    yield shared_api, job["id"], version


def test_a_design_job_chooses_within_the_budget_and_names_its_method(
        designed: tuple[Api, str, int]) -> None:
    api, job_id, version = designed
    result = api.get(f"/jobs/{job_id}/result", C).json()["result"]
    s = result["summary"]
    assert result["version"] == version and s["method"] == "mip"
    assert s["cost_eur"] <= 1200 and s["units_saved_expected"] > 0
    assert s["bound_units_saved"] >= s["units_saved_expected"] - 1e-6
    assert {c["id"] for c in result["candidates"]} == {"uk-hours", "lyon-buffer"}
    assert s["bound"].startswith("exact")


def test_the_job_is_in_the_audit_trail_under_its_user(designed: tuple[Api, str, int]) -> None:
    api, job_id, _ = designed
    trail = api.get("/audit", U, params={"entity": f"job:{job_id}", "limit": 10}).json()
    assert [(e["action"], e["actor"]) for e in trail["data"]] == [
        ("job.create", "cody"), ("job.finish", "cody")]


@pytest.mark.parametrize("role", [A, P, C])
def test_admins_planners_and_continuity_officers_may_submit(
        designed: tuple[Api, str, int], role: Role) -> None:
    api, _, _ = designed
    r = api.post("/jobs/design", role, json={**JOB, "futures": 1, "budget": 0})
    assert r.status_code == 202, r.text
    assert api.wait(r.json()["id"], timeout=300)["status"] == "done"


@pytest.mark.parametrize("role", [S, Q, E, X, U])
def test_other_roles_are_refused(designed: tuple[Api, str, int], role: Role) -> None:
    api, _, _ = designed
    r = api.post("/jobs/design", role, json=JOB)
    assert r.status_code == 403 and "continuity" in r.json()["detail"]


def test_without_a_token_it_is_refused(designed: tuple[Api, str, int]) -> None:
    api, _, _ = designed
    assert api.client.post("/jobs/design", json=JOB).status_code == 401


def test_bad_requests_are_refused_naming_the_field(designed: tuple[Api, str, int]) -> None:
    api, _, _ = designed
    no_candidates = api.post("/jobs/design", C, json={**JOB, "version": 1})
    assert no_candidates.status_code == 422
    assert "mitigations" in json.dumps(no_candidates.json())
    assert api.post("/jobs/design", C, json={**JOB, "budget": -1}).status_code == 422
    assert api.post("/jobs/design", C, json={**JOB, "futures": 10**6}).status_code == 422
    many = api.post("/jobs/design", C, json={**JOB, "futures": 99_999})
    assert many.status_code == 422 and "futures: at most" in many.json()["detail"]
    assert api.post("/jobs/design", C, json={**JOB, "scenario": "nope"}).status_code == 404
    assert api.post("/jobs/design", C, json={**JOB, "method": "guess"}).status_code == 422


def test_a_site_manager_sees_only_what_touches_their_sites(
        designed: tuple[Api, str, int]) -> None:
    api, job_id, _ = designed
    r = api.get(f"/jobs/{job_id}/result", S)
    assert r.status_code == 200
    mine = r.json()["result"]
    assert mine["scope"]["partial"] is True and mine["scope"]["sites"] == ["FR-LYON"]
    assert [c["id"] for c in mine["candidates"]] == ["lyon-buffer"]
    assert "chosen" not in mine["summary"] and "summary.chosen" in mine["scope"]["withheld"]
    assert "UK-PLANT" not in json.dumps(mine) and "uk-hours" not in json.dumps(mine)
