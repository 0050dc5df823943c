"""Attacks on results, hashes, notes and errors, replayed: a site manager reading another
site's plan rows, what-if moves, TTS nodes and stress-test numbers; an uncleared role
recovering site countries from a version hash, a version note, a country what-if; a site
manager reading another site's branch operations and merge clashes. Each would succeed
on an API that scoped only master data.

The network of `test_api_fixtures`: FR-LYON (FR, led by the site manager `sam`) and
UK-PLANT (GB), one supplier, one customer.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from fabnet.api.app import api_routers
from fabnet.api.schemas import JobPublic, JobResult, Page, PlanRunDocument, PlanRunPublic
from fabnet.io import load_scenario
from fabnet.services import accounts, scoping
from fabnet.services import scenarios as scenario_svc
from fabnet.services.jobs import JobKind
from fabnet.store import JobStatus, Role
from fabnet.store.mapping import content_sha256
from tests.integration.test_api_fixtures import FAST_HASHER, NETWORK, PASSWORD, Api

pytest_plugins = ["tests.integration.test_api_fixtures"]

SAM, QUALITY = Role.SITE_MANAGER, Role.QUALITY
OTHER = ("UK-PLANT", "UK-SLOW")  # the other site, and its disruption


def add_user(api: Api, name: str, role: Role, sites: tuple[str, ...] = ()) -> dict[str, str]:
    """A new user's sign-in headers."""
    token = secrets.token_urlsafe(32)
    with api.store.unit_of_work() as uow:
        uow.users.add(name, accounts.hash_password(PASSWORD, FAST_HASHER), role, sites)
        uow.tokens.add(name, accounts.token_sha256(token), "tests")
        uow.commit()
    return {"Authorization": f"Bearer {token}"}


def run(api: Api, kind: str, **body: Any) -> str:
    """Submit a job as the planner, wait for it to end, return its id."""
    r = api.post(f"/jobs/{kind}", Role.PLANNER, json={"scenario": "net", **body})
    assert r.status_code == 202, r.text
    job = api.wait(r.json()["id"], Role.PLANNER, timeout=120)
    assert job["status"] == "done", job
    return str(job["id"])


@pytest.fixture(scope="module")
def jobs(shared_api: Api) -> dict[str, str]:
    """One finished job of every kind, and what-ifs that strike each site or country."""
    return {
        "plan": run(shared_api, "plan"),
        "whatif": run(shared_api, "whatif", disruptions=["FR-LYON@2027-01-04+6"]),
        "whatif-uk": run(shared_api, "whatif", disruptions=["UK-PLANT@2027-01-04+2"]),
        "whatif-gb": run(shared_api, "whatif", disruptions=["country:GB@2027-01-04+6"]),
        "whatif-fr": run(shared_api, "whatif", disruptions=["country:FR@2027-01-04+6"]),
        "tts": run(shared_api, "tts"),
        "montecarlo": run(shared_api, "montecarlo", samples=20),
    }


@pytest.fixture(scope="module")
def nobody(shared_api: Api) -> dict[str, str]:
    """A site manager with no sites assigned."""
    return add_user(shared_api, "nosites", Role.SITE_MANAGER)


def result(api: Api, job_id: str, role: Role = Role.ADMIN, **kw: Any) -> dict[str, Any]:
    r = api.get(f"/jobs/{job_id}/result", role, **kw)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()["result"]
    return out


def names_other_site(body: Any) -> bool:
    return any(re.search(rf"(?<![\w-]){o}(?![\w-])", json.dumps(body)) for o in OTHER)


# ---------------------------------------------------------------- plans


def test_a_site_manager_reads_only_their_sites_rows_of_a_plan(
        shared_api: Api, jobs: dict[str, str]) -> None:
    whole = result(shared_api, jobs["plan"])
    mine = result(shared_api, jobs["plan"], SAM)
    run_id = whole["plan_run"]
    kept = shared_api.get(f"/plan-runs/{run_id}", SAM).json()
    assert names_other_site(whole)
    for doc in (mine["plan"], kept["document"]):
        assert not names_other_site(doc)
        t = doc["tables"]
        for table in ("production", "stock", "load", "purchases", "deliveries"):
            assert {r["site"] for r in t[table]} <= {"FR-LYON"}, table
        assert t["production"] and t["load"]
        mine_delivered = sum(r["qty"] for r in whole["plan"]["tables"]["deliveries"]
                             if r["site"] == "FR-LYON")
        assert doc["kpis"]["units_delivered"] == pytest.approx(mine_delivered)
        assert mine_delivered < whole["kpis"]["units_delivered"] - 1
        assert "fill_rate" not in doc["kpis"] and "cost_total" not in doc["kpis"]
    assert mine["scope"]["sites"] == ["FR-LYON"] and mine["scope"]["partial"] is True
    assert "kpis.fill_rate" in mine["scope"]["withheld"]
    assert kept["scope"]["partial"] is True and "fill_rate" not in kept["kpis"]
    listed = shared_api.get("/plan-runs", SAM).json()["data"]
    assert listed and all("fill_rate" not in r["kpis"] for r in listed)
    assert "scope" not in whole and "fill_rate" in whole["kpis"]


def test_a_site_manager_without_sites_gets_no_rows_of_any_result(
        shared_api: Api, jobs: dict[str, str], nobody: dict[str, str]) -> None:
    plan = shared_api.client.get(f"/jobs/{jobs['plan']}/result", headers=nobody).json()
    assert plan["result"]["plan"]["tables"]["production"] == []
    assert plan["result"]["scope"] == {**plan["result"]["scope"], "sites": [],
                                       "partial": True}
    for job_id in jobs.values():
        body = shared_api.client.get(f"/jobs/{job_id}/result", headers=nobody).json()
        assert "FR-LYON" not in json.dumps(body) and not names_other_site(body), job_id


def test_what_if_results_show_a_site_manager_only_moves_of_their_sites(
        shared_api: Api, jobs: dict[str, str]) -> None:
    whole = result(shared_api, jobs["whatif"])
    assert whole["moved"][0]["from"] == "FR-LYON" and whole["moved"][0]["to"] == "UK-PLANT"
    mine = result(shared_api, jobs["whatif"], SAM)
    assert not names_other_site(mine)
    assert mine["moved"] == [{**whole["moved"][0], "to": scoping.ANOTHER_SITE}]
    assert {"kpis", "by_customer_item", "purchases"} <= set(mine["scope"]["withheld"])
    assert "kpis" not in mine
    other = result(shared_api, jobs["whatif-uk"], SAM)
    assert other["disruptions"] == [] and not names_other_site(other)
    job = shared_api.get(f"/jobs/{jobs['whatif-uk']}", SAM).json()
    assert job["params"]["disruptions"] == []


def test_tts_and_stress_tests_show_a_site_manager_only_nodes_touching_their_sites(
        shared_api: Api, jobs: dict[str, str]) -> None:
    whole = result(shared_api, jobs["tts"])
    assert "UK-PLANT" in {n["node"] for n in whole["nodes"]}
    mine = result(shared_api, jobs["tts"], SAM)
    assert {n["node"] for n in mine["nodes"]} == {
        "FR-LYON", "SUP-TW/FC-H7", "lane:SUP-TW>FR-LYON", "lane:FR-LYON>UA-MOD"}
    mc_whole = result(shared_api, jobs["montecarlo"])
    mc = result(shared_api, jobs["montecarlo"], SAM)
    assert "fill_mean" in mc_whole["summary"] and "fill_mean" not in mc["summary"]
    assert mc["summary"]["samples"] == 20 and "units_lost_mean_by_item" not in mc
    assert set(mc["critical_nodes"]) <= {"FR-LYON", "SUP-TW", "lane:SUP-TW>FR-LYON",
                                         "lane:FR-LYON>UA-MOD"}


def test_a_country_what_if_is_refused_to_roles_not_cleared_for_site_countries(
        shared_api: Api, jobs: dict[str, str]) -> None:
    whole = result(shared_api, jobs["whatif-gb"], Role.PLANNER)
    assert whole["moved"][0]["from"] == "UK-PLANT"  # what it would tell: UK-PLANT is in GB
    answers = []
    for key in ("whatif-gb", "whatif-fr"):
        r = shared_api.get(f"/jobs/{jobs[key]}/result", QUALITY)
        assert r.status_code == 403, r.text
        assert not names_other_site(r.json()) and "FR-LYON" not in r.text
        answers.append(r.json()["detail"])
    assert answers[0] == answers[1] == scoping.COUNTRY_REFUSAL  # confirms no country
    assert result(shared_api, jobs["whatif"], QUALITY)["moved"]  # node what-ifs are fine
    assert result(shared_api, jobs["whatif-gb"], Role.AUDITOR) == whole


def test_a_result_kind_without_a_scoper_is_refused_not_leaked(shared_api: Api) -> None:
    assert {k.value for k in JobKind} <= set(scoping.SCOPERS)
    with shared_api.store.unit_of_work() as uow:
        job = uow.jobs.add("exposure", {"scenario": "net"})
        uow.jobs.update(job.id, JobStatus.RUNNING)
        uow.jobs.update(job.id, JobStatus.DONE, 1.0, result={"UK-PLANT": {"share": 0.4}})
        uow.commit()
    assert shared_api.get(f"/jobs/{job.id}/result").json()["result"]["UK-PLANT"]
    for role in (SAM, QUALITY):
        r = shared_api.get(f"/jobs/{job.id}/result", role)
        assert r.status_code == 403 and "'exposure'" in r.json()["detail"]
        assert not names_other_site(r.json())


# ---------------------------------------------------------------- the routes table


#: response models that carry results; every GET route answering one is checked below
RESULT_MODELS = (JobResult, PlanRunDocument, Page[PlanRunPublic], JobPublic, Page[JobPublic])
RESULT_ROUTES = sorted(route.path for router in api_routers() for route in router.routes
                       if isinstance(route, APIRoute) and "GET" in (route.methods or ())
                       and route.response_model in RESULT_MODELS)


def test_the_result_routes_are_the_ones_scoped_here() -> None:
    assert RESULT_ROUTES == ["/jobs", "/jobs/{job_id}", "/jobs/{job_id}/result",
                             "/plan-runs", "/plan-runs/{run_id}"]


@pytest.mark.parametrize("path", RESULT_ROUTES)
def test_no_result_route_names_another_site_to_a_site_manager(
        shared_api: Api, jobs: dict[str, str], path: str) -> None:
    run_id = str(result(shared_api, jobs["plan"])["plan_run"])
    calls = [path.replace("{job_id}", j).replace("{run_id}", run_id) for j in jobs.values()]
    for url in dict.fromkeys(calls):
        whole = shared_api.get(url)
        seen = shared_api.get(url, SAM)
        assert whole.status_code == seen.status_code == 200, (url, seen.text)
        assert not names_other_site(seen.json()), url
    if path != "/plan-runs":  # (its leak is network-wide KPIs, checked above)
        assert any(names_other_site(shared_api.get(u).json()) for u in calls)


# ---------------------------------------------------------------- hashes and notes


COUNTRIES = ("FR", "GB", "DE", "PL", "UA", "IT", "ES", "NL", "BE", "CZ", "RO", "SE", "FI",
             "US")


@pytest.fixture
def plain(api: Api, tmp_path: Path) -> Any:
    """The network without site locations, stored as `plain`: only the countries are
    left to guess."""
    path = tmp_path / "plain.yaml"
    path.write_text(NETWORK.replace("    location: Lyon, Vaise industrial zone\n", ""))
    scenario_svc.import_scenario(api.store, path, "plain")
    return load_scenario(path)


def test_a_version_hash_does_not_give_away_site_countries(api: Api, plain: Any) -> None:
    served = api.get("/scenarios/plain/versions/1", QUALITY).json()
    guesses = []
    for fr, gb in itertools.product(COUNTRIES, repeat=2):
        sites = (replace(plain.sites[0], country=fr), replace(plain.sites[1], country=gb))
        guesses.append(content_sha256(replace(plain, sites=sites)))
    assert served["content_sha256"] not in guesses
    assert served["hash_of"] == "your view"
    whole = api.get("/scenarios/plain/versions/1", Role.PLANNER).json()
    assert whole["content_sha256"] == content_sha256(plain) and whole["hash_of"] == "version"
    sam = api.get("/scenarios/plain/versions", SAM).json()["data"][0]
    assert sam["content_sha256"] not in guesses + [served["content_sha256"]]


def test_version_notes_hide_restricted_fields_and_other_sites(api: Api) -> None:
    r = api.patch("/scenarios/net/sites/UK-PLANT", json={"location": "Telford"})
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    assert api.get(f"/scenarios/net/versions/{v}").json()["note"] == \
        "API: patch sites[UK-PLANT] (location)"
    quality = api.get(f"/scenarios/net/versions/{v}", QUALITY).json()["note"]
    assert quality == "API: patch sites[UK-PLANT]"
    sam = api.get("/scenarios/net/versions", SAM).json()["data"][-1]["note"]
    assert "UK-PLANT" not in sam and "location" in sam


def test_a_stale_edit_quotes_the_version_note_as_the_caller_may_read_it(api: Api) -> None:
    """The 412's message quotes the newest version's note: restricted column names and
    other sites' ids are left out of it as they are from the version list."""
    assert api.patch("/scenarios/net/sites/UK-PLANT", json={"location": "Telford"}
                     ).status_code == 200
    stale = {"If-Match": '"0123456789abcdef0123456789abcdef"'}
    answers = {}
    for role, url, body in (
            (Role.ADMIN, "/scenarios/net/items/FC-H7", {"name": "FC"}),
            (Role.ENGINEERING, "/scenarios/net/items/FC-H7", {"name": "FC"}),
            (SAM, "/scenarios/net/work_centers/FR-LYON/assembly", {"hours": 90})):
        r = api.patch(url, role, json=body, headers=stale)
        assert r.status_code == 412, (role, r.text)
        answers[role] = r.json()["detail"]
        assert "nothing was stored" in answers[role] and "Telford" not in answers[role]
    assert "(API: patch sites[UK-PLANT] (location))" in answers[Role.ADMIN]
    assert "(API: patch sites[UK-PLANT])" in answers[Role.ENGINEERING]
    assert "location" not in answers[Role.ENGINEERING]
    assert not names_other_site(answers[SAM]) and "patch sites[" in answers[SAM]


def test_a_site_manager_does_not_see_another_sites_branch_operations(api: Api) -> None:
    assert api.post("/branches", json={"name": "b1", "scenario": "net"}).status_code == 201
    for url in ("/scenarios/net/work_centers/UK-PLANT/assembly?branch=b1",
                "/scenarios/net/disruptions/UK-SLOW?branch=b1",
                "/scenarios/net/inventory/FR-LYON/FC-H7?branch=b1"):
        assert api.delete(url).status_code == 200, url
    whole = api.get("/branches/b1").json()
    assert [c["key"] for c in whole["changes"]] == ["UK-PLANT/assembly", "UK-SLOW",
                                                    "FR-LYON/FC-H7"]
    mine = api.get("/branches/b1", SAM).json()
    assert [c["key"] for c in mine["changes"]] == ["FR-LYON/FC-H7"]
    listed = api.get("/branches", SAM).json()["data"]
    assert not names_other_site(listed)


def test_merge_clashes_on_another_sites_rows_are_not_shown_to_a_site_manager(
        api: Api) -> None:
    assert api.post("/branches", json={"name": "b2", "scenario": "net"}).status_code == 201
    for key in ("UK-PLANT/FC-H7", "FR-LYON/FC-H7"):
        assert api.patch(f"/scenarios/net/inventory/{key}?branch=b2",
                         json={"qty": 7}).status_code == 200
        assert api.patch(f"/scenarios/net/inventory/{key}", json={"qty": 8}).status_code == 200
    whole = api.get("/branches/b2/compare").json()
    assert whole["conflicts"] == ["inventory[FR-LYON/FC-H7]", "inventory[UK-PLANT/FC-H7]"]
    mine = api.get("/branches/b2/compare", SAM).json()
    assert mine["conflicts"] == ["inventory[FR-LYON/FC-H7]"]
    assert not names_other_site(mine)


def test_a_failed_jobs_error_names_no_other_site_to_a_site_manager(
        shared_api: Api) -> None:
    with shared_api.store.unit_of_work() as uow:
        job = uow.jobs.add("plan", {"scenario": "net"})
        uow.jobs.update(job.id, JobStatus.RUNNING)
        uow.jobs.update(job.id, JobStatus.FAILED,
                        error="sites[UK-PLANT].work_centers[assembly]: no hours")
        uow.commit()
    for url in (f"/jobs/{job.id}", f"/jobs/{job.id}/result"):
        body = shared_api.get(url, SAM).json()
        assert not names_other_site(body) and scoping.ANOTHER_SITE in json.dumps(body), url
    assert "UK-PLANT" in shared_api.get(f"/jobs/{job.id}").json()["error"]


def test_a_plan_of_a_branch_that_strikes_a_country_is_refused_to_uncleared_roles(
        api: Api) -> None:
    body = {"name": "gb", "scenario": "net", "disruptions": ["country:GB@2027-01-04+6"]}
    assert api.post("/branches", json=body).status_code == 201
    r = api.post("/jobs/plan", Role.PLANNER, json={"scenario": "net", "branch": "gb"})
    job = api.wait(r.json()["id"], Role.PLANNER, timeout=120)
    assert job["status"] == "done", job
    run_id = result(api, job["id"])["plan_run"]
    for url in (f"/jobs/{job['id']}/result", f"/plan-runs/{run_id}"):
        refused = api.get(url, QUALITY)
        assert refused.status_code == 403 and refused.json()["detail"] == \
            scoping.COUNTRY_REFUSAL, url
        assert api.get(url, Role.AUDITOR).status_code == 200
    listed = {r["id"]: r for r in api.get("/plan-runs", QUALITY).json()["data"]}
    assert listed[run_id]["kpis"] == {} and "refused" in listed[run_id]["scope"]
