"""The engineering, compliance and audit pages through the app (no browser), on SQLite
and PostgreSQL, on the ECO network: an ECO's impact is computed in the server and shown
once it is there (tiles, the work orders of the old design, the demand change on a date
axis); the author may not release their own ECO from the page, another engineer may, with
the session's CSRF token; a store with two scenarios asks which; pages refuse the roles
that may not open them."""

from __future__ import annotations

import json
import re
import time

from fabnet.store import Role
from tests.integration.test_api_ecos import _in_review, ecos  # noqa: F401 - fixtures
from tests.integration.test_api_fixtures import PASSWORD, USERS, Api

pytest_plugins = ["tests.integration.test_api_fixtures"]


def _sign_in(api: Api, name: str) -> str:
    """Sign the test client's browser in as `name` on the dashboard; its CSRF token."""
    api.client.cookies.clear()
    page = api.client.get("/web/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    done = api.client.post("/web/login", data={"username": name, "password": PASSWORD,
                                               "csrf": token.group(1)},
                           follow_redirects=False)
    assert done.status_code == 303, done.text
    home = api.client.get("/web/")
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', home.text)
    assert csrf
    return csrf.group(1)


def test_an_eco_impact_is_shown_and_another_engineer_releases_it(ecos: Api) -> None:  # noqa: F811
    code = _in_review(ecos)
    eid = int(code.removeprefix("ECO-"))
    assert ecos.post("/users", json={"name": "ed", "password": PASSWORD,
                                     "role": "engineering"}).status_code == 201
    _sign_in(ecos, "ed")
    assert ecos.client.get("/web/engineering").status_code == 422  # net and drones
    page = f"/web/engineering?scenario=drones&eco={eid}"
    first = ecos.client.get(page)
    assert first.status_code == 200 and code in first.text
    deadline = time.monotonic() + 120  # guards the suite; no check
    while not ecos.client.get(f"/web/engineering/ecos/{eid}/impact").json()["done"]:
        assert time.monotonic() < deadline, "the impact did not come"
        time.sleep(0.1)
    shown = ecos.client.get(page).text
    assert 'id="impact-pending"' not in shown
    assert "open work orders build the old design" in shown
    assert re.search(r"<td>WO-\d+</td><td>S1</td><td>DRONE</td>", shown), shown
    fig = re.search(r'<script type="application/json" id="fig-demand">(.*?)</script>', shown,
                    re.S)
    assert fig, "no demand change chart"
    assert json.loads(fig.group(1))["layout"]["xaxis"]["type"] == "date"

    eve = _sign_in(ecos, USERS[Role.ENGINEERING][0])  # the author
    own = ecos.client.post(f"/web/engineering/ecos/{eid}/release",
                           data={"csrf": eve, "note": "mine"}, follow_redirects=False)
    assert own.status_code == 403
    ed = _sign_in(ecos, "ed")
    no_token = ecos.client.post(f"/web/engineering/ecos/{eid}/release",
                                data={"note": "ok"}, follow_redirects=False)
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    done = ecos.client.post(f"/web/engineering/ecos/{eid}/release",
                            data={"csrf": ed, "note": "cracks confirmed"},
                            follow_redirects=False)
    assert done.status_code == 303, done.text
    after = ecos.client.get(done.headers["location"]).text
    assert 'id="impact-decided"' in after and "cracks confirmed" in after
    assert ecos.get(f"/ecos/{code}", Role.ENGINEERING).json()["status"] == "released"


def test_desk_pages_refuse_the_roles_that_may_not_open_them(ecos: Api) -> None:  # noqa: F811
    for role, refused in ((Role.SITE_MANAGER, ("compliance", "engineering", "audit")),
                          (Role.COMPLIANCE, ("engineering", "audit")),
                          (Role.AUDITOR, ())):
        _sign_in(ecos, USERS[role][0])
        for page in ("compliance", "engineering", "audit"):
            got = ecos.client.get(f"/web/{page}?scenario=drones")
            if page in refused:
                assert got.status_code == 403, (role, page)
                assert f"may not open the {page} page" in got.text
            else:
                assert got.status_code == 200, (role, page, got.text[-500:])
    assert "The trail verifies" in ecos.client.get("/web/audit").text
