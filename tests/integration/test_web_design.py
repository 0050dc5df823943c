"""The continuity area's redundancy design page through the app (no browser), on SQLite
and PostgreSQL: started from its form, it shows the chosen set, cost, units saved, the
method and bound, the marginal value of the budget and the risk matrix; a site manager
sees it cut to their sites; roles that run no stress tests are refused the form and
start nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from fabnet.store import Role
from tests.integration.test_api_design import CANDIDATES, MORE
from tests.integration.test_api_fixtures import Api
from tests.integration.test_web_planner_pages import _sign_in

pytest_plugins = ["tests.integration.test_api_fixtures"]

PAGE = "/web/continuity/design"
FORM = {"scenario": "net", "budget": "1200", "futures": "8", "seed": "3",
        "objective": "expected", "marginal_step": "1000"}


def _jobs(api: Api) -> int:
    count: int = api.get("/jobs", params={"kind": "design"}).json()["count"]
    return count


@pytest.fixture(scope="module")
def page_job(shared_api: Api) -> Iterator[tuple[Api, str]]:
    """The network with two candidates, and a design started from the page's form."""
    api = shared_api
    assert api.post("/scenarios/net/demand", Role.PLANNER, json=MORE).status_code == 201
    for row in CANDIDATES:
        assert api.post("/scenarios/net/mitigations", Role.PLANNER, json=row).status_code == 201
    csrf = _sign_in(api, Role.CONTINUITY)
    r = api.client.post(PAGE, data={**FORM, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    job_id = r.headers["location"].rsplit("/", 1)[1]
    assert api.wait(job_id, timeout=300)["status"] == "done"
    yield api, job_id


def test_the_page_shows_the_design_started_from_its_form(page_job: tuple[Api, str]) -> None:
    api, job_id = page_job
    _sign_in(api, Role.CONTINUITY)
    result = api.get(f"/jobs/{job_id}/result").json()["result"]
    for url in (f"{PAGE}?job={job_id}", PAGE):  # that job, and the newest design
        page = api.client.get(url)
        assert page.status_code == 200, page.text
        chosen = re.search(r'id="design-chosen">([^<]*)<', page.text)
        assert chosen and chosen.group(1) == (", ".join(result["summary"]["chosen"])
                                              or "nothing")
        assert job_id[:8] in page.text and "mip" in page.text
        assert 'id="design-marginal">1,000 EUR more buys' in page.text
        assert 'id="design-candidates"' in page.text and "uk-hours" in page.text
        assert 'id="fig-design-duals"' in page.text
        assert "Risk matrix before and after" in page.text
        assert 'id="design-form"' in page.text
    assert 'id="design-link"' in api.client.get("/web/continuity").text


def test_a_site_manager_sees_only_what_touches_their_sites(page_job: tuple[Api, str]) -> None:
    api, job_id = page_job
    _sign_in(api, Role.SITE_MANAGER)
    page = api.client.get(f"{PAGE}?job={job_id}")
    assert page.status_code == 200
    assert 'id="design-scope"' in page.text and 'id="design-chosen"' not in page.text
    assert "lyon-buffer" in page.text and "uk-hours" not in page.text
    assert "UK-PLANT" not in page.text and 'id="design-form"' not in page.text


@pytest.mark.parametrize("role", [Role.SITE_MANAGER, Role.QUALITY, Role.AUDITOR])
def test_roles_that_run_no_stress_tests_are_refused_the_form(
        page_job: tuple[Api, str], role: Role) -> None:
    api, _ = page_job
    before = _jobs(api)
    csrf = _sign_in(api, role)
    r = api.client.post(PAGE, data={**FORM, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 403 and "may not run a redundancy design" in r.text
    assert _jobs(api) == before


def test_a_bad_field_is_named_and_starts_nothing(page_job: tuple[Api, str]) -> None:
    api, _ = page_job
    before = _jobs(api)
    csrf = _sign_in(api, Role.CONTINUITY)
    r = api.client.post(PAGE, data={**FORM, "budget": "lots", "csrf": csrf},
                        follow_redirects=False)
    assert r.status_code == 422 and "budget: &#39;lots&#39; is not a number" in r.text
    old = api.client.post(PAGE, data={**FORM, "csrf": "0" * 64}, follow_redirects=False)
    assert old.status_code in (403, 422)  # a form without the session's token
    assert api.client.get(f"{PAGE}?job=nope").status_code == 404
    assert _jobs(api) == before
