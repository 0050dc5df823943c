"""The planner's pages through the app (no browser), on SQLite and PostgreSQL, on the
two-site network: a master-data row saved from its page is the API's PATCH (audited, a
new version), refused when stale (412) or bad (422, the message by the field), refused to
a role that may not edit and to a site manager on another site's row; on a what-if branch
the saved row is one more change of the branch (audited), never a version, and a stale
save there is refused too; the timeline, pegging and compare pages of a site manager hold
only their site."""

from __future__ import annotations

import re

from fabnet.services import plan_runs as plan_svc
from fabnet.store import Role
from tests.integration.test_api_fixtures import PASSWORD, USERS, Api

pytest_plugins = ["tests.integration.test_api_fixtures"]

WC = "/web/scenarios/net/data?section=work_centers"
SAVE = "/web/scenarios/net/data/work_centers"


def _sign_in(api: Api, role: Role) -> str:
    """Sign the test client's browser in as the user of `role`; its CSRF token."""
    api.client.cookies.clear()
    page = api.client.get("/web/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    done = api.client.post("/web/login", data={"username": USERS[role][0], "password":
                                               PASSWORD, "csrf": token.group(1)},
                           follow_redirects=False)
    assert done.status_code == 303, done.text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', api.client.get("/web/").text)
    assert csrf
    return csrf.group(1)


def _etag(page: str, key: str) -> str:
    row = re.search(rf'data-key="{re.escape(key)}">(.*?)</tr>', page, re.S)
    assert row, key
    tag = re.search(r'name="etag" value="([^"]+)"', row.group(1))
    assert tag
    return tag.group(1).replace("&#34;", '"')


def test_a_saved_row_is_the_apis_patch_audited_and_refused_when_stale_or_bad(
        api: Api) -> None:
    csrf = _sign_in(api, Role.PLANNER)
    key = "FR-LYON/assembly"
    tag = _etag(api.client.get(WC).text, key)
    assert tag == api.get(f"/scenarios/net/work_centers/{key}").headers["etag"]
    done = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": tag,
                                       "f.hours": "80"}, follow_redirects=False)
    assert done.status_code == 303 and "version=2" in done.headers["location"]
    row = api.get(f"/scenarios/net/work_centers/{key}")
    assert row.json()["hours"] == 80 and row.headers["fabnet-version"] == "2"
    audit = api.get("/audit", params={"entity": "scenario:net@2"}).json()["data"]
    assert [(e["actor"], e["action"]) for e in audit] == [(USERS[Role.PLANNER][0],
                                                           "scenario.version.add")], audit
    stale = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": tag,
                                        "f.hours": "70"})
    assert stale.status_code == 412 and "someone else changed this row" in stale.text
    assert api.get(f"/scenarios/net/work_centers/{key}").json()["hours"] == 80
    now = row.headers["etag"]
    bad = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": now,
                                      "f.hours": "-1"})
    assert bad.status_code == 422
    assert re.search(r'<input name="f.hours" value="-1"[^>]*aria-invalid="true"[^>]*>\s*'
                     r'<span class="field-error"[^>]*>[^<]*&gt;= 0', bad.text), bad.text
    assert api.get(f"/scenarios/net/work_centers/{key}").headers["fabnet-version"] == "2"
    same = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": now,
                                       "f.hours": "80"})
    assert same.status_code == 200 and "Nothing to save" in same.text
    assert api.get(f"/scenarios/net/work_centers/{key}").headers["fabnet-version"] == "2"


def test_saving_is_refused_to_roles_that_may_not_and_to_other_sites(api: Api) -> None:
    tag = api.get("/scenarios/net/work_centers/UK-PLANT/assembly").headers["etag"]
    csrf = _sign_in(api, Role.QUALITY)
    refused = api.client.post(SAVE, data={"csrf": csrf, "key": "UK-PLANT/assembly",
                                          "etag": tag, "f.hours": "1"})
    assert refused.status_code == 403 and "may not change work_centers" in refused.text
    assert 'name="f.hours"' not in api.client.get(WC).text  # read only
    csrf = _sign_in(api, Role.SITE_MANAGER)
    page = api.client.get(WC).text
    assert "FR-LYON/assembly" in page and "UK-PLANT" not in page
    refused = api.client.post(SAVE, data={"csrf": csrf, "key": "UK-PLANT/assembly",
                                          "etag": tag, "f.hours": "1"})
    assert refused.status_code == 403 and "not one of your sites" in refused.text
    no_csrf = api.client.post(SAVE, data={"key": "FR-LYON/assembly", "etag": tag,
                                          "f.hours": "1"})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    assert api.get("/scenarios/net/work_centers/UK-PLANT/assembly").json()["hours"] == 40


def test_a_site_managers_timeline_pegging_and_compare_hold_only_their_site(
        api: Api) -> None:
    planner = api.store.acting_as(USERS[Role.PLANNER][0])
    first = plan_svc.plan_stored(planner, "net")
    assert api.patch("/scenarios/net/work_centers/FR-LYON/assembly",
                     json={"hours": 20}).status_code == 200
    second = plan_svc.plan_stored(planner, "net")
    _sign_in(api, Role.PLANNER)
    whole = api.client.get(f"/web/runs/{first.id}/pegging?demand=D1").text
    assert "UK-PLANT" in whole and "FR-LYON" in whole  # both sites serve D1
    compare = api.client.get(f"/web/compare?a={first.id}&b={second.id}").text
    moved = dict(re.findall(r'<tr data-kpi="(\w+)">(.*?)</tr>', compare, re.S))
    a, b = (api.get(f"/plan-runs/{r.id}").json()["kpis"] for r in (first, second))
    want = {k for k in a if isinstance(a[k], int | float) and isinstance(b.get(k), int | float)
            and abs(b[k] - a[k]) > 1e-6}
    assert set(moved) == want and "cost_total" in want, (moved, want)
    _sign_in(api, Role.SITE_MANAGER)
    for path in (f"/web/runs/{first.id}/timeline", f"/web/runs/{first.id}/pegging",
                 f"/web/runs/{first.id}/pegging?demand=D1",
                 f"/web/compare?a={first.id}&b={second.id}"):
        page = api.client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert "FR-LYON" in page.text and "UK-PLANT" not in page.text, path
    pegged = api.client.get(f"/web/runs/{first.id}/pegging?demand=D1").text
    assert 'id="peg-withheld"' in pegged  # UK-PLANT's part: counted, not named
    assert api.client.get(f"/web/runs/{first.id}/pegging?demand=NOPE").status_code == 404


BRANCH = "more-hours"


def _branch(api: Api, name: str = BRANCH) -> None:
    made = api.post("/branches", json={"name": name, "scenario": "net"})
    assert made.status_code == 201, made.text


def test_a_row_saved_on_a_branch_lands_on_the_branch_and_not_on_the_scenario(
        api: Api) -> None:
    _branch(api)
    csrf = _sign_in(api, Role.PLANNER)
    key = "FR-LYON/assembly"
    assert f'<option value="{BRANCH}">' in api.client.get(WC).text  # the picker
    page = api.client.get(f"{WC}&branch={BRANCH}").text
    assert f"branch {BRANCH}</h1>" in page and 'name="branch" value="more-hours"' in page
    on_branch = f"/scenarios/net/work_centers/{key}?branch={BRANCH}"
    tag = _etag(page, key)
    assert tag == api.get(on_branch).headers["etag"]
    done = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": tag,
                                       "branch": BRANCH, "f.hours": "80"},
                           follow_redirects=False)
    assert done.status_code == 303 and f"branch={BRANCH}" in done.headers["location"]
    saved = api.client.get(done.headers["location"]).text
    assert f"Saved on branch {BRANCH}" in saved and "no version of the scenario" in saved
    assert api.get(on_branch).json()["hours"] == 80
    main = api.get(f"/scenarios/net/work_centers/{key}")
    assert main.json()["hours"] == 100 and main.headers["fabnet-version"] == "1"
    changes = api.get(f"/branches/{BRANCH}").json()["changes"]
    assert [(c["section"], c["key"], c["record"]["hours"]) for c in changes] == \
        [("work_centers", key, 80)]
    audit = api.get("/audit", params={"entity": f"branch:{BRANCH}/"}).json()["data"]
    assert [(e["actor"], e["action"]) for e in audit] == [(USERS[Role.PLANNER][0],
                                                           "branch.change")], audit
    stale = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": tag,
                                        "branch": BRANCH, "f.hours": "70"})
    assert stale.status_code == 412 and "someone else changed this row" in stale.text
    assert f"branch {BRANCH} has 1 changes now" in stale.text
    assert api.get(on_branch).json()["hours"] == 80
    assert len(api.get(f"/branches/{BRANCH}").json()["changes"]) == 1
    now = api.get(on_branch).headers["etag"]
    bad = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": now,
                                      "branch": BRANCH, "f.hours": "-1"})
    assert bad.status_code == 422
    assert re.search(r'<input name="f.hours" value="-1"[^>]*aria-invalid="true"[^>]*>\s*'
                     r'<span class="field-error"[^>]*>[^<]*&gt;= 0', bad.text), bad.text
    assert api.get(on_branch).json()["hours"] == 80
    assert api.get(f"/scenarios/net/work_centers/{key}").headers["fabnet-version"] == "1"
    replan = api.client.post("/web/plan", data={"csrf": csrf, "scenario": "net",
                                                "branch": BRANCH}, follow_redirects=False)
    assert replan.status_code == 303, replan.text
    job = api.wait(replan.headers["location"].rsplit("/", 1)[1])
    assert job["status"] == "done" and job["params"]["branch"] == BRANCH, job


def test_branch_saves_are_refused_off_role_off_site_and_once_merged(api: Api) -> None:
    _branch(api)
    uk = "UK-PLANT/assembly"
    tag = api.get(f"/scenarios/net/work_centers/{uk}?branch={BRANCH}").headers["etag"]
    csrf = _sign_in(api, Role.QUALITY)
    refused = api.client.post(SAVE, data={"csrf": csrf, "key": uk, "etag": tag,
                                          "branch": BRANCH, "f.hours": "1"})
    assert refused.status_code == 403 and "may not change work_centers on a branch" in \
        refused.text
    csrf = _sign_in(api, Role.SITE_MANAGER)
    page = api.client.get(f"{WC}&branch={BRANCH}").text
    assert "FR-LYON/assembly" in page and "UK-PLANT" not in page
    refused = api.client.post(SAVE, data={"csrf": csrf, "key": uk, "etag": tag,
                                          "branch": BRANCH, "f.hours": "1"})
    assert refused.status_code == 403 and "not one of your sites" in refused.text
    assert api.client.get(f"{WC}&branch=no-such").status_code == 404
    assert api.client.get(f"{WC}&branch=..%2Fx").status_code == 422
    assert api.get(f"/branches/{BRANCH}").json()["changes"] == []
    csrf = _sign_in(api, Role.PLANNER)
    key = "FR-LYON/assembly"
    tag = _etag(api.client.get(f"{WC}&branch={BRANCH}").text, key)
    assert api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": tag,
                                       "branch": BRANCH, "f.hours": "90"},
                           follow_redirects=False).status_code == 303
    assert "1 change" in api.client.get(f"{WC}&branch={BRANCH}").text
    _sign_in(api, Role.SITE_MANAGER)  # the API shows them only their sites' changes
    scoped = api.client.get(f"{WC}&branch={BRANCH}").text
    assert "change" in scoped and not re.search(r"\d changes?\b", scoped), scoped
    csrf = _sign_in(api, Role.PLANNER)
    assert api.post(f"/branches/{BRANCH}/merge", json={}).status_code == 201
    merged = api.client.get(f"{WC}&branch={BRANCH}").text
    assert "merged into version 2" in merged and 'name="f.hours"' not in merged
    late = api.client.post(SAVE, data={"csrf": csrf, "key": key,
                                       "etag": api.get(f"/scenarios/net/work_centers/{key}"
                                                       ).headers["etag"],
                                       "branch": BRANCH, "f.hours": "95"})
    assert late.status_code == 409 and "already merged" in late.text
    assert api.get(f"/scenarios/net/work_centers/{key}").json()["hours"] == 90


def test_a_continuity_officer_edits_rows_on_a_branch_as_through_the_api(api: Api) -> None:
    """The what-if makers may change any section on a branch (the API's `AllowEdit`), not
    on the scenario itself, on the pages as through the API."""
    _branch(api)
    key = "UK-PLANT/assembly"
    csrf = _sign_in(api, Role.CONTINUITY)
    page = api.client.get(f"{WC}&branch={BRANCH}").text
    tag = _etag(page, key)
    done = api.client.post(SAVE, data={"csrf": csrf, "key": key, "etag": tag,
                                       "branch": BRANCH, "f.hours": "0"},
                           follow_redirects=False)
    assert done.status_code == 303
    assert api.get(f"/scenarios/net/work_centers/{key}?branch={BRANCH}").json()["hours"] == 0
    main = api.get(f"/scenarios/net/work_centers/{key}")
    assert 'name="f.hours"' not in api.client.get(WC).text  # read-only on the scenario
    refused = api.client.post(SAVE, data={"csrf": csrf, "key": key,
                                          "etag": main.headers["etag"], "f.hours": "1"})
    assert refused.status_code == 403
    assert api.get(f"/scenarios/net/work_centers/{key}").json()["hours"] == main.json()["hours"]
