"""The HTTP API as a planner's script uses it: sign in, read and edit master data row by
row, branch, run jobs, retry safely, and find every change in the audit trail.

Each test runs on SQLite and on PostgreSQL (see test_api_fixtures).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from fabnet.services import accounts, audit_trail
from fabnet.store import Role
from tests.integration.test_api_fixtures import PASSWORD, Api

pytest_plugins = ["tests.integration.test_api_fixtures"]

A, P, C, S, Q, E, X, U = (Role.ADMIN, Role.PLANNER, Role.CONTINUITY, Role.SITE_MANAGER,
                          Role.QUALITY, Role.ENGINEERING, Role.COMPLIANCE, Role.AUDITOR)


def audit_of(api: Api, **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.get("/audit", params={"limit": 1000, **filters}).json()["data"]
    return rows


def latest(api: Api, scenario: str = "net") -> int:
    version: int = api.get(f"/scenarios/{scenario}").json()["latest"]
    return version


# ---------------------------------------------------------------- signing in


def test_login_gives_a_token_that_signs_requests(api: Api) -> None:
    r = api.client.post("/auth/login", json={"username": "pat", "password": PASSWORD})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = r.json()["token"]
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "pat" and me.json()["role"] == "planner"
    assert r.json()["expires_at"] is not None


def test_accounts_made_by_the_cli_can_log_in(api: Api) -> None:
    accounts.create_user(api.store, "old-timer", "scrypt-password", Role.QUALITY)
    r = api.client.post("/auth/login", json={"username": "old-timer",
                                             "password": "scrypt-password"})
    assert r.status_code == 200


def test_wrong_password_or_unknown_user_is_401_without_saying_which(shared_api: Api) -> None:
    login = shared_api.client.post
    bad = login("/auth/login", json={"username": "pat", "password": "nope-nope"})
    unknown = login("/auth/login", json={"username": "who", "password": "nope-nope"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.json() == unknown.json()


def test_passwords_are_stored_as_argon2_hashes(api: Api) -> None:
    r = api.post("/users", json={"name": "newbie", "password": "long enough", "role": "quality"})
    assert r.status_code == 201 and "password" not in r.text
    assert accounts.get_user(api.store, "newbie").password_hash.startswith("$argon2id$")


def test_a_revoked_token_is_refused(api: Api) -> None:
    made = api.post("/tokens", P, json={"label": "nightly script"})
    assert made.status_code == 201
    token, tid = made.json()["token"], made.json()["id"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/auth/me", headers=headers).status_code == 200
    assert api.post(f"/tokens/{tid}/revoke", P).json()["revoked_at"] is not None
    assert api.client.get("/auth/me", headers=headers).status_code == 401
    assert all(t["id"] != tid or t["revoked_at"] for t in api.get("/tokens", P).json()["data"])


def test_only_the_tokens_hash_is_kept(api: Api) -> None:
    token = api.post("/tokens", P, json={"label": "x"}).json()["token"]
    assert token not in str(audit_trail.audit_entries(api.store, 0, None))
    assert accounts.user_for_token(api.store, token) is not None


def test_a_deactivated_user_is_signed_out(api: Api) -> None:
    assert api.patch("/users/quinn", json={"active": False}).json()["active"] is False
    assert api.get("/auth/me", Q).status_code == 401


# ---------------------------------------------------------------- reading master data


def test_lists_are_pages_with_the_total_count(shared_api: Api) -> None:
    first = shared_api.get("/scenarios/net/lanes", params={"limit": 3}).json()
    rest = shared_api.get("/scenarios/net/lanes", params={"limit": 3, "offset": 3}).json()
    assert first["count"] == rest["count"] == 4
    assert len(first["data"]) == 3 and len(rest["data"]) == 1
    assert first["data"][0] == {"from": "SUP-TW", "to": "FR-LYON", "transit": 1, "cost": 0.8,
                                "capacity": None}


def test_lists_filter_on_any_column_numbers_as_numbers(shared_api: Api) -> None:
    by_origin = shared_api.get("/scenarios/net/lanes", params={"from": "SUP-TW"}).json()
    assert [r["to"] for r in by_origin["data"]] == ["FR-LYON", "UK-PLANT"]
    by_transit = shared_api.get("/scenarios/net/lanes", params={"transit": "2.0"}).json()
    assert by_transit["count"] == 2
    assert shared_api.get("/scenarios/net/sites", params={"makes": "RECON-Q"}).json()["count"] == 2


def test_an_unknown_filter_is_refused_naming_it(shared_api: Api) -> None:
    r = shared_api.get("/scenarios/net/lanes", params={"colour": "red"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "colour"]


def test_a_row_is_read_by_its_key(shared_api: Api) -> None:
    assert shared_api.get("/scenarios/net/lanes/SUP-TW>UK-PLANT").json()["transit"] == 2
    assert shared_api.get("/scenarios/net/boms/RECON-Q/FC-H7").json()["qty"] == 1
    missing = shared_api.get("/scenarios/net/lanes/SUP-TW>NOWHERE")
    assert missing.status_code == 404 and "lanes[SUP-TW>NOWHERE]" in missing.json()["detail"]


# ---------------------------------------------------------------- editing


def test_an_edit_makes_the_next_version_signed_by_the_user(api: Api) -> None:
    r = api.patch("/scenarios/net/lanes/SUP-TW>FR-LYON", P, json={"capacity": 25})
    assert r.status_code == 200
    assert r.json()["version"] == 2 and r.json()["row"]["capacity"] == 25
    assert api.get("/scenarios/net/lanes/SUP-TW>FR-LYON", params={"version": 1}
                   ).json()["capacity"] is None
    entry = audit_of(api, action="scenario.version.add")[-1]
    assert entry["actor"] == "pat" and entry["entity"] == "scenario:net@2"
    assert entry["after"]["note"] == "API: patch lanes[SUP-TW>FR-LYON] (capacity)"
    assert api.get("/scenarios/net/versions/2").json()["created_by"] == "pat"


def test_create_replace_and_delete_a_row(api: Api) -> None:
    row = {"id": "D2", "customer": "UA-MOD", "item": "RECON-Q", "qty": 5, "due": "2027-02-15"}
    made = api.post("/scenarios/net/demand", P, json=row)
    assert made.status_code == 201 and made.json()["key"] == "D2"
    replaced = api.put("/scenarios/net/demand/D2", P, json={**row, "qty": 7, "priority": 2})
    assert replaced.json()["row"]["qty"] == 7 and replaced.json()["row"]["priority"] == 2
    assert api.delete("/scenarios/net/demand/D2", P).json()["row"] is None
    assert api.get("/scenarios/net/demand/D2").status_code == 404
    assert latest(api) == 4


def test_an_edit_that_changes_nothing_makes_no_version(shared_api: Api) -> None:
    before = latest(shared_api)
    r = shared_api.patch("/scenarios/net/lanes/SUP-TW>FR-LYON", P, json={"transit": 1})
    assert r.json()["changed"] is False and latest(shared_api) == before


def test_a_row_error_names_the_field(shared_api: Api) -> None:
    r = shared_api.post("/scenarios/net/offers", P, json={"supplier": "SUP-TW", "item": "RECON-Q",
                                                          "price": -1, "lead_time": "soon"})
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in r.json()["detail"]} == {("body", "price"),
                                                            ("body", "lead_time")}


def test_a_cross_record_problem_names_section_record_and_field(shared_api: Api) -> None:
    before = latest(shared_api)
    r = shared_api.post("/scenarios/net/demand", P, json={"id": "D9", "customer": "UA-MOD",
                                                          "item": "NOPE", "qty": 1,
                                                          "due": "2027-02-01"})
    assert r.status_code == 422
    issue = r.json()["detail"][0]
    assert issue["loc"] == ["demand", "D9", "item"] and "unknown item 'NOPE'" in issue["msg"]
    assert issue["fix"] and latest(shared_api) == before


def test_deleting_a_row_others_refer_to_is_refused_and_nothing_is_stored(shared_api: Api
                                                                       ) -> None:
    before = latest(shared_api)
    r = shared_api.delete("/scenarios/net/suppliers/SUP-TW", P)
    assert r.status_code == 422
    assert ["offers", "SUP-TW/FC-H7", "supplier"] in [d["loc"] for d in r.json()["detail"]]
    assert latest(shared_api) == before
    assert shared_api.get("/scenarios/net/suppliers").json()["count"] == 1


def test_adding_a_row_whose_key_exists_is_a_conflict(shared_api: Api) -> None:
    r = shared_api.post("/scenarios/net/lanes", P, json={"from": "SUP-TW", "to": "FR-LYON",
                                                         "transit": 3})
    assert r.status_code == 409 and "already exists" in r.json()["detail"]


def test_a_replace_may_not_change_the_rows_key(shared_api: Api) -> None:
    r = shared_api.put("/scenarios/net/items/FC-H7", P, json={"id": "FC-H8"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["items", "FC-H7", "id"]


def test_a_scenario_round_trips_through_the_api(api: Api) -> None:
    doc = api.get("/scenarios/net/document").json()
    body = {k: v for k, v in doc.items() if k not in ("scenario", "version", "branch")}
    r = api.post("/scenarios", P, json={**body, "name": "copy", "note": "a copy"})
    assert r.status_code == 201, r.text
    versions = {s["name"]: s for s in api.get("/scenarios").json()["data"]}
    assert set(versions) == {"net", "copy"}
    assert r.json()["content_sha256"] == api.get("/scenarios/net/versions/1"
                                                 ).json()["content_sha256"]


# ---------------------------------------------------------------- branches


def test_a_branch_edit_is_a_change_of_the_branch_not_a_version(api: Api) -> None:
    made = api.post("/branches", C, json={"name": "strike", "scenario": "net",
                                          "disruptions": ["FR-LYON@2027-01-11+2"]})
    assert made.status_code == 201 and len(made.json()["changes"]) == 1
    r = api.patch("/scenarios/net/lanes/SUP-TW>UK-PLANT", C, params={"branch": "strike"},
                  json={"capacity": 99})
    assert r.status_code == 200 and r.json()["branch"] == "strike"
    assert latest(api) == 1
    assert api.get("/scenarios/net/lanes/SUP-TW>UK-PLANT", params={"branch": "strike"}
                   ).json()["capacity"] == 99
    cmp = api.get("/branches/strike/compare").json()
    assert {(d["section"], d["kind"]) for d in cmp["rows"]} == {("disruptions", "added"),
                                                                ("lanes", "changed")}
    merged = api.post("/branches/strike/merge", P, json={"note": "plan for the strike"})
    assert merged.status_code == 201 and merged.json()["version"] == 2
    assert api.get("/branches/strike").json()["status"] == "merged"


# ---------------------------------------------------------------- jobs


def test_a_plan_job_runs_in_the_background_and_keeps_the_plan(api: Api) -> None:
    r = api.post("/jobs/plan", P, json={"scenario": "net"})
    assert r.status_code == 202 and r.headers["location"] == f"/jobs/{r.json()['id']}"
    job = api.wait(r.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1
    result = api.get(f"/jobs/{job['id']}/result").json()["result"]
    assert result["kpis"]["units_demanded"] == 50
    assert {"production", "deliveries", "shortfalls"} <= set(result["plan"]["tables"])
    run = api.get(f"/plan-runs/{result['plan_run']}").json()
    assert run["created_by"] == "pat" and run["kpis"] == result["kpis"]
    actions = [(e["action"], e["actor"]) for e in audit_of(api, entity=f"job:{job['id']}")]
    assert actions == [("job.create", "pat"), ("job.finish", "pat")]


def test_whatif_and_time_to_survive_jobs_return_their_tables(api: Api) -> None:
    w = api.post("/jobs/whatif", C, json={"scenario": "net",
                                          "disruptions": ["FR-LYON@2027-01-04+8"]})
    t = api.post("/jobs/tts", C, json={"scenario": "net", "kinds": ["site"]})
    assert api.wait(w.json()["id"])["status"] == "done"
    assert api.wait(t.json()["id"])["status"] == "done"
    whatif = api.get(f"/jobs/{w.json()['id']}/result").json()["result"]
    assert whatif["disruptions"][0]["target"] == "FR-LYON" and "units_lost" in whatif["kpis"]
    nodes = api.get(f"/jobs/{t.json()['id']}/result").json()["result"]["nodes"]
    assert {n["node"] for n in nodes} == {"FR-LYON", "UK-PLANT"}
    assert {n["status"] for n in nodes} == {"optimal"}  # proven, not a solver failure


def test_a_cancelled_job_ends_cancelled_and_has_no_result(api: Api) -> None:
    r = api.post("/jobs/montecarlo", C, json={"scenario": "net", "samples": 5000})
    cancelled = api.post(f"/jobs/{r.json()['id']}/cancel", C)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"] == "cancelled by cody"
    assert api.get(f"/jobs/{r.json()['id']}/result").status_code == 409
    assert api.post(f"/jobs/{r.json()['id']}/cancel", C).status_code == 409


def test_a_job_on_something_missing_is_refused_at_once(shared_api: Api) -> None:
    assert shared_api.post("/jobs/plan", P, json={"scenario": "nope"}).status_code == 404
    bad = shared_api.post("/jobs/whatif", P, json={"scenario": "net", "disruptions": ["FR-LYON"]})
    assert bad.status_code == 422 and "TARGET@" in bad.json()["detail"]


@pytest.mark.parametrize(("spec", "says"), [
    ("FR-LYON@2027-02-30+2", "date: 2027-02-30 is not a calendar date (day is out of range "
                             "for month) (fix: give a real day as YYYY-MM-DD"),
    ("FR-LYOM@2027-01-11+2", "target: unknown node 'FR-LYOM' (fix: did you mean FR-LYON?)"),
    ("country:XX@2027-01-11+2", "target: no node is in country 'XX'"),
    ("FR-LYON@2027-01-11+99999999999", "buckets: 99999999999 is not in 1 .. 8"),
])
def test_a_whatif_job_or_branch_with_a_bad_disruption_is_refused_at_once(
        shared_api: Api, spec: str, says: str) -> None:
    job = shared_api.post("/jobs/whatif", P, json={"scenario": "net", "disruptions": [spec]})
    assert job.status_code == 422, job.text
    assert job.json()["detail"] == f"disruptions {spec!r}: {says}" or \
        job.json()["detail"].startswith(f"disruptions {spec!r}: {says}")
    branch = shared_api.post("/branches", C, json={"name": "bad-spec", "scenario": "net",
                                                   "disruptions": [spec]})
    assert branch.status_code == 422, branch.text
    assert f"branch bad-spec: disruption {spec!r}: {says}" in branch.json()["detail"]
    assert shared_api.get("/branches/bad-spec").status_code == 404


def test_a_row_with_an_impossible_date_is_refused_with_its_field(shared_api: Api) -> None:
    row = {"id": "D9", "customer": "UA-MOD", "item": "RECON-Q", "qty": 4, "due": "2027-02-30"}
    r = shared_api.post("/scenarios/net/demand", P, json=row)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "due"]]


def test_jobs_list_filters_by_kind_and_creator(api: Api) -> None:
    ids = [api.post("/jobs/plan", P, json={"scenario": "net"}).json()["id"] for _ in range(2)]
    api.post("/jobs/tts", C, json={"scenario": "net", "kinds": ["lane"]})
    page = api.get("/jobs", params={"kind": "plan", "created_by": "pat", "limit": 1}).json()
    assert page["count"] == 2 and page["data"][0]["id"] in ids
    for i in ids:
        api.wait(i)


# ---------------------------------------------------------------- idempotency


def test_a_retried_post_returns_the_first_answer_and_creates_nothing(api: Api) -> None:
    row = {"id": "D3", "customer": "UA-MOD", "item": "RECON-Q", "qty": 4, "due": "2027-02-15"}
    key = {"Idempotency-Key": "add-D3-once"}
    first = api.post("/scenarios/net/demand", P, json=row, headers=key)
    again = api.post("/scenarios/net/demand", P, json=row, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert latest(api) == 2


def test_the_same_key_for_another_request_is_refused(shared_api: Api) -> None:
    key = {"Idempotency-Key": "k-1"}
    first = shared_api.post("/jobs/plan", P, json={"scenario": "net"}, headers=key)
    assert first.status_code == 202
    other = shared_api.post("/jobs/tts", P, json={"scenario": "net"}, headers=key)
    assert other.status_code == 422 and "different request" in other.json()["detail"]


def test_a_failed_request_does_not_use_up_its_key(shared_api: Api) -> None:
    key = {"Idempotency-Key": "retry-me"}
    row = {"id": "D4", "customer": "UA-MOD", "item": "NOPE", "qty": 1, "due": "2027-02-01"}
    assert shared_api.post("/scenarios/net/demand", P, json=row, headers=key).status_code == 422
    assert shared_api.post("/scenarios/net/demand", P, json=row, headers=key).status_code == 422


def test_a_replayed_token_answer_does_not_show_the_secret_again(api: Api) -> None:
    key = {"Idempotency-Key": "token-1"}
    first = api.post("/tokens", P, json={"label": "ci"}, headers=key)
    again = api.post("/tokens", P, json={"label": "ci"}, headers=key)
    assert first.json()["token"] and again.json()["token"] is None
    assert again.json()["id"] == first.json()["id"]
    assert sum(t["label"] == "ci" for t in api.get("/tokens", P).json()["data"]) == 1


def test_keys_belong_to_their_user(shared_api: Api) -> None:
    key = {"Idempotency-Key": "shared-key"}
    a = shared_api.post("/jobs/plan", P, json={"scenario": "net"}, headers=key)
    b = shared_api.post("/jobs/plan", C, json={"scenario": "net"}, headers=key)
    assert a.json()["id"] != b.json()["id"]


# ---------------------------------------------------------------- restricted fields and sites


def test_site_locations_are_shown_only_to_cleared_roles(shared_api: Api) -> None:
    for role in (A, P, C, U):
        rows = shared_api.get("/scenarios/net/sites", role).json()["data"]
        assert {s["country"] for s in rows} == {"FR", "GB"}
        assert {s["location"] for s in rows} == {"Lyon, Vaise industrial zone", ""}
    for role in (Q, E, X):
        rows = shared_api.get("/scenarios/net/sites", role).json()["data"]
        assert len(rows) == 2 and all("country" not in r for r in rows)
        assert all("location" not in r for r in rows)
        assert "location" not in shared_api.get("/scenarios/net/sites/FR-LYON", role).json()
        assert "country" not in shared_api.get("/scenarios/net/sites/FR-LYON", role).json()
        assert all("country" not in r for r in
                   shared_api.get("/scenarios/net/document", role).json()["sites"])
        refused = shared_api.get("/scenarios/net/sites", role, params={"country": "FR"})
        assert refused.status_code == 403


def test_restricted_values_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture
                                                ) -> None:
    caplog.set_level(logging.DEBUG)
    api.patch("/scenarios/net/sites/UK-PLANT", P, json={"country": "QZX"})
    api.get("/scenarios/net/sites", P, params={"country": "QZX"})
    api.get("/scenarios/net/sites", Q, params={"country": "QZX"})
    api.post("/scenarios/net/sites", P, json={"id": "X", "country": "QZX!"})
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(r.getMessage() for r in server)  # the client's own log is not ours
    assert "GET /scenarios/net/sites?country=*** 200" in text
    assert "QZX" not in text


def test_a_site_manager_sees_and_edits_only_their_sites(api: Api) -> None:
    assert [r["id"] for r in api.get("/scenarios/net/sites", S).json()["data"]] == ["FR-LYON"]
    assert api.get("/scenarios/net/inventory", S).json()["count"] == 1
    assert api.get("/scenarios/net/sites/UK-PLANT", S).status_code == 403
    ok = api.patch("/scenarios/net/work_centers/FR-LYON/assembly", S, json={"hours": 120})
    assert ok.status_code == 200
    other = api.patch("/scenarios/net/work_centers/UK-PLANT/assembly", S, json={"hours": 1})
    assert other.status_code == 403 and "UK-PLANT" in other.json()["detail"]
    moved = api.put("/scenarios/net/inventory/FR-LYON/FC-H7", S,
                    json={"site": "UK-PLANT", "item": "FC-H7", "qty": 1})
    assert moved.status_code == 403
    assert latest(api) == 2


# ---------------------------------------------------------------- the audit trail


def test_every_api_change_is_in_the_verified_audit_trail_under_its_user(api: Api) -> None:
    before = api.get("/audit", U, params={"limit": 1}).json()["count"]
    api.patch("/scenarios/net/items/FC-H7", E, json={"unit_cost": 61})
    api.post("/branches", P, json={"name": "b1", "scenario": "net"})
    api.patch("/scenarios/net/customers/UA-MOD", X, params={"branch": "b1"},
              json={"approved": False})
    api.post("/users", json={"name": "neo", "password": "long enough", "role": "auditor"})
    trail = audit_of(api, offset=before)
    mine = [(e["actor"], e["action"], e["entity"]) for e in trail]
    assert mine == [("eve", "scenario.version.add", "scenario:net@2"),
                    ("pat", "branch.create", "branch:b1"),
                    ("cora", "branch.change", "branch:b1/customers[UA-MOD]"),
                    ("ada", "user.create", "user:neo")]
    change = trail[-2]
    assert change["before"]["approved"] is True and change["after"]["record"]["approved"] is False
    assert api.get("/audit/verify", U).json()["ok"] is True


def test_concurrent_edits_of_one_scenario_are_all_kept(api: Api) -> None:
    rows = [{"id": f"C{i}", "customer": "UA-MOD", "item": "RECON-Q", "qty": i + 1,
             "due": "2027-02-15"} for i in range(8)]
    codes: list[int] = []

    def add(row: dict[str, Any]) -> None:
        codes.append(api.post("/scenarios/net/demand", P, json=row).status_code)

    threads = [threading.Thread(target=add, args=(r,)) for r in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [201] * 8
    ids = {r["id"] for r in api.get("/scenarios/net/demand").json()["data"]}
    assert ids == {"D1"} | {r["id"] for r in rows}
    assert latest(api) == 9 and len(audit_of(api, action="scenario.version.add")) == 9


def test_users_need_an_admin(api: Api) -> None:
    assert api.post("/users", P, json={"name": "x1", "password": "long enough",
                                       "role": "admin"}).status_code == 403
    r = api.patch("/users/sam", json={"sites": ["FR-LYON", "UK-PLANT"]})
    assert r.json()["sites"] == ["FR-LYON", "UK-PLANT"]
    assert api.get("/scenarios/net/sites", S).json()["count"] == 2
    assert accounts.get_user(api.store, "sam").password_hash.startswith("$argon2")
