"""The planner's working pages in a real browser, against `fabnet serve --demo`: master
data edited in place (through the API's row PATCH with If-Match), on the scenario and on
a what-if branch, re-planning, two runs
compared, pegging, the timeline per site, and the continuity page's what-if form and
stress-test distributions. Each page renders with no console error and no failed
request; a site manager's pages hold nothing of another site; each test saves its
pages' screenshots under out/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from tests.e2e.web_server import (
    CHROMIUM,
    Demo,
    everything,
    screenshot,
    sign_in,
    watched_page,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(fix: .venv/bin/pip install -e '.[dev]')")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (fix: apt-get install chromium)",
                allow_module_level=True)

SITES = ("FR-HUB", "UA-PARTNER", "UK-PLANT", "FR-RND", "UA-RND")
MANAGED = "UA-PARTNER"
WC = "/web/scenarios/europe/data?section=work_centers"
#: a demand of the Europe example served through a transfer from the hub
DEMAND = "D2702-UA-MOD-RECON-Q"


@pytest.fixture(scope="module")
def admin(demo: Demo) -> Iterator[httpx.Client]:
    """An API client signed in once as the demo's admin (the sign-in throttle counts)."""
    with closing(demo.api("admin")) as api:
        yield api


@pytest.fixture
def page(browser: Any, demo: Demo) -> Iterator[Any]:
    """A watched page in a fresh context (see `web_server.watched_page`): no request to
    another host, no failed request, no console error beyond the refusals a test asks
    for (a refused form's own 412 or 422 answer)."""
    with watched_page(browser, demo) as (pg, watch):
        yield pg
        watch.errors[:] = [e for e in watch.errors
                           if not re.search(r"status of 4(03|12|22)\b", e)]


def _row(page: Any, key: str) -> Any:
    return page.locator(f'#md-table tr[data-key="{key}"]')


def _api_row(api: httpx.Client, key: str) -> tuple[dict[str, Any], str, int]:
    """A work-center row through the API: the row, its ETag, the scenario's version."""
    got = api.get(f"/scenarios/europe/work_centers/{key}")
    assert got.status_code == 200, got.text
    return got.json(), got.headers["etag"], int(got.headers["fabnet-version"])


def _save(page: Any, key: str, column: str, value: str) -> Any:
    """Type `value` into `column` of row `key` and press its Save; the answer."""
    row = _row(page, key)
    row.locator(f'input[name="f.{column}"]').fill(value)
    with page.expect_navigation() as nav:
        row.locator("button[type=submit]").click()
    return nav.value


def _kpis(api: httpx.Client, run: int) -> dict[str, Any]:
    got = api.get(f"/plan-runs/{run}")
    assert got.status_code == 200, got.text
    return dict(got.json()["kpis"])


def test_planner_edits_a_capacity_inline_replans_and_sees_the_kpi_change(
        page: Any, demo: Demo, admin: httpx.Client) -> None:
    sign_in(page, demo, "planner")
    page.goto("/web/planner")
    with page.expect_navigation():
        page.click("#masterdata-link")
    page.goto(WC)
    screenshot(page, "masterdata")
    key = "FR-HUB/assembly"
    before, _, version = _api_row(admin, key)
    answer = _save(page, key, "hours", "150")
    assert answer.status == 200 and "saved=" in page.url
    assert f"now at version {version + 1}" in page.inner_text("#saved-note")
    assert _row(page, key).locator('input[name="f.hours"]').input_value() == "150"
    after, _, now = _api_row(admin, key)
    assert after["hours"] == 150 and now == version + 1
    assert {k: v for k, v in after.items() if k != "hours"} == \
        {k: v for k, v in before.items() if k != "hours"}  # only the field changed
    with page.expect_navigation():
        page.click("#replan-form button")
    page.wait_for_url(re.compile(r"/web/runs/\d+$"), timeout=300_000)
    run = int(page.url.rsplit("/", 1)[1])
    page.wait_for_selector(".chart .main-svg")
    screenshot(page, "plan-run")
    old, new = _kpis(admin, 1), _kpis(admin, run)
    assert new["units_delivered"] < old["units_delivered"] - 1  # the hub makes far less
    page.goto(f"/web/compare?a=1&b={run}")
    assert page.inner_text("h1") == f"Plan run {run} against plan run 1"
    shown = {r.get_attribute("data-kpi"): r.inner_text().split("\t")
             for r in page.locator("#compare-kpis tbody tr[data-kpi]").all()}
    assert "fill_rate" in shown and "units_delivered" in shown, shown
    delivered = shown["units_delivered"]
    assert float(delivered[3].replace(",", "")) == pytest.approx(
        new["units_delivered"] - old["units_delivered"], abs=1.0)
    assert delivered[3].startswith("-")
    assert "status" not in shown  # only numbers that moved
    screenshot(page, "compare")


def test_a_stale_edit_is_refused_with_a_clear_message(page: Any, demo: Demo,
                                                      admin: httpx.Client) -> None:
    sign_in(page, demo, "planner")
    page.goto(WC)
    key = "UK-PLANT/assembly"
    row, tag, version = _api_row(admin, key)
    assert _row(page, key).locator("input[name=etag]").input_value() == tag  # the API's
    # another client changes the row since the page loaded
    changed = admin.patch(f"/scenarios/europe/work_centers/{key}", json={"hours": 444},
                          headers={"If-Match": tag})
    assert changed.status_code == 200, changed.text
    answer = _save(page, key, "hours", "999")
    assert answer.status == 412
    message = page.inner_text('[id^="msg-"]')
    assert "someone else changed this row after you loaded the page" in message
    assert _row(page, key).locator('input[name="f.hours"]').input_value() == "444"
    stored, _, now = _api_row(admin, key)
    assert stored["hours"] == 444 and now == version + 1  # the browser's 999 never landed
    screenshot(page, "masterdata-stale")


def test_a_bad_value_shows_its_error_next_to_the_field(page: Any, demo: Demo,
                                                       admin: httpx.Client) -> None:
    sign_in(page, demo, "planner")
    page.goto(WC)
    key = "UA-PARTNER/electronics"
    _, _, version = _api_row(admin, key)
    for bad, says in (("-5", ">= 0"), ("lots", "valid number")):
        answer = _save(page, key, "hours", bad)
        assert answer.status == 422
        cell = _row(page, key).locator("td", has=page.locator('input[name="f.hours"]'))
        assert cell.locator("input").get_attribute("aria-invalid") == "true"
        assert cell.locator("input").input_value() == bad  # what was typed stays
        assert says in cell.locator(".field-error").inner_text()
        assert page.locator(".field-error").count() == 1  # only next to that field
    screenshot(page, "masterdata-error")
    assert _api_row(admin, key)[2] == version  # nothing stored


def test_a_planner_edits_a_branch_inline_and_the_scenario_stays_as_it_was(
        page: Any, demo: Demo, admin: httpx.Client) -> None:
    name, key = "web-more-hours", "FR-HUB/electronics"
    made = admin.post("/branches", json={"name": name, "scenario": "europe"})
    assert made.status_code == 201, made.text
    on_branch = f"/scenarios/europe/work_centers/{key}?branch={name}"
    main, main_tag, version = _api_row(admin, key)
    sign_in(page, demo, "planner")
    page.goto(WC)
    page.select_option("#branch-form select[name=branch]", name)
    with page.expect_navigation():
        page.click("#branch-form button")
    assert page.inner_text("h1") == f"Master data of europe, branch {name}"
    assert _row(page, key).locator("input[name=etag]").input_value() == \
        admin.get(on_branch).headers["etag"]
    answer = _save(page, key, "hours", str(main["hours"] + 123))
    assert answer.status == 200 and f"branch={name}" in page.url
    assert f"Saved on branch {name}" in page.inner_text("#saved-note")
    screenshot(page, "masterdata-branch")
    assert admin.get(on_branch).json()["hours"] == main["hours"] + 123
    assert _api_row(admin, key) == (main, main_tag, version)  # not on the scenario
    # another client changes the branch's row since the page loaded
    changed = admin.patch(on_branch, json={"hours": main["hours"] + 7},
                          headers={"If-Match": admin.get(on_branch).headers["etag"]})
    assert changed.status_code == 200, changed.text
    answer = _save(page, key, "hours", "999")
    assert answer.status == 412
    message = page.inner_text('[id^="msg-"]')
    assert "someone else changed this row after you loaded the page" in message
    assert f"branch {name} has 2 changes now" in message
    shown = _row(page, key).locator('input[name="f.hours"]').input_value()
    assert float(shown) == main["hours"] + 7  # what the branch holds now
    screenshot(page, "masterdata-branch-stale")
    assert admin.get(on_branch).json()["hours"] == main["hours"] + 7  # 999 never landed
    assert _api_row(admin, key) == (main, main_tag, version)


def test_pegging_of_a_demand_lists_what_serves_it(page: Any, demo: Demo,
                                                  admin: httpx.Client) -> None:
    sign_in(page, demo, "planner")
    page.goto("/web/runs/1")
    with page.expect_navigation():
        page.click(".pegging-link")
    page.select_option("#peg-form select[name=demand]", DEMAND)
    with page.expect_navigation():
        page.click("#peg-form button")
    rows = [r.split("\t") for r in page.inner_text("#peg-table tbody").splitlines()]
    tables = admin.get("/plan-runs/1").json()["document"]["tables"]
    delivered = sum(r["qty"] for r in tables["deliveries"] if r["demand"] == DEMAND)
    level = {int(r[0]): 0.0 for r in rows}
    for r in rows:
        level[int(r[0])] += float(r[6].replace(",", ""))
    assert level[0] == pytest.approx(delivered, abs=1) and level[1] == pytest.approx(
        delivered, abs=1)  # each unit delivered came from somewhere, once
    kinds = {r[1] for r in rows}
    assert {"delivery", "transfer", "production"} <= kinds, kinds
    made = {(r["site"], r["item"]) for r in tables["production"]}
    assert all((r[2], r[4]) in made for r in rows if r[1] == "production")
    moved = {(r["from"], r["to"], r["item"]) for r in tables["transfers"]}
    assert all((r[3], r[2], r[4]) in moved for r in rows if r[1] == "transfer")
    screenshot(page, "pegging")


def test_timeline_shows_what_each_site_makes_when(page: Any, demo: Demo,
                                                  admin: httpx.Client) -> None:
    sign_in(page, demo, "planner")
    page.goto("/web/runs/1")
    with page.expect_navigation():
        page.click(".timeline-link")
    page.wait_for_selector(".timeline .chart .main-svg")
    production = admin.get("/plan-runs/1").json()["document"]["tables"]["production"]
    making = {r["site"] for r in production if r["qty"] > 1e-9}
    shown = page.eval_on_selector_all(".timeline", "s => s.map(e => e.dataset.site)")
    assert sorted(shown) == sorted(making)
    axes = page.eval_on_selector_all(".timeline .chart",
                                     "els => els.map(e => e._fullLayout.xaxis.type)")
    assert set(axes) == {"date"}
    hub = page.locator('.timeline[data-site="FR-HUB"] tbody').inner_text().splitlines()
    totals = {r.split("\t")[0]: float(r.split("\t")[1].replace(",", "")) for r in hub}
    want: dict[str, float] = {}
    for r in production:
        if r["site"] == "FR-HUB":
            want[r["item"]] = want.get(r["item"], 0.0) + r["qty"]
    assert totals == pytest.approx({k: v for k, v in want.items() if v > 1e-9}, abs=1)
    screenshot(page, "timeline")


def test_site_manager_planner_pages_hold_nothing_of_another_site(
        page: Any, demo: Demo, admin: httpx.Client) -> None:
    sign_in(page, demo, "site-manager")
    others = [s for s in SITES if s != MANAGED]
    paths = ["/web/planner", WC, "/web/scenarios/europe/data?section=sites",
             "/web/scenarios/europe/data?section=inventory", "/web/runs/1/timeline",
             "/web/runs/1/pegging", f"/web/runs/1/pegging?demand={DEMAND}",
             "/web/compare?a=1&b=1"]
    for path in paths:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        text = everything(page)
        assert MANAGED in text, path
        assert not [s for s in others if s in text], (path, [s for s in others if s in text])
    page.goto(f"/web/runs/1/pegging?demand={DEMAND}")
    assert page.locator("#peg-withheld").count() == 1  # the hub's part, counted not named
    screenshot(page, "pegging-site-manager")
    page.goto("/web/runs/1/timeline")
    assert page.eval_on_selector_all(".timeline", "s => s.map(e => e.dataset.site)") == \
        [MANAGED]
    screenshot(page, "timeline-site-manager")
    page.goto(WC)
    csrf = page.get_attribute("#md-table input[name=csrf]", "value")
    _, tag, version = _api_row(admin, "FR-HUB/flight-test")
    refused = page.request.post("/web/scenarios/europe/data/work_centers", form={
        "csrf": csrf, "key": "FR-HUB/flight-test", "etag": tag, "f.hours": "1"})
    assert refused.status == 403 and "not one of your sites" in refused.text()
    assert "FR-HUB" not in refused.text().replace("FR-HUB/flight-test", "")
    assert _api_row(admin, "FR-HUB/flight-test")[2] == version


def test_roles_without_the_right_may_not_save_and_forms_need_their_csrf(
        page: Any, demo: Demo, admin: httpx.Client) -> None:
    sign_in(page, demo, "quality")
    page.goto(WC)
    assert page.locator("#md-table button[type=submit]").count() == 0
    assert page.locator("#md-table input").count() == 0
    _, tag, version = _api_row(admin, "FR-HUB/assembly")
    refused = page.request.post("/web/scenarios/europe/data/work_centers", form={
        "csrf": "x", "key": "FR-HUB/assembly", "etag": tag, "f.hours": "1"})
    assert refused.status == 403
    sign_in(page, demo, "planner")
    page.goto(WC)
    refused = page.request.post("/web/scenarios/europe/data/work_centers", form={
        "key": "FR-HUB/assembly", "etag": tag, "f.hours": "1"})
    assert refused.status == 403 and "CSRF" in refused.text()
    assert _api_row(admin, "FR-HUB/assembly")[2] == version


def test_whatif_form_shows_each_bad_field_next_to_it_and_starts_nothing(
        page: Any, demo: Demo, admin: httpx.Client) -> None:
    sign_in(page, demo, "continuity")
    page.goto("/web/continuity")
    jobs = admin.get("/jobs", params={"limit": 100}).json()["count"]
    page.fill("#whatif-form input[name=target]", "ATLANTIS")
    page.fill("#whatif-form input[name=from]", "2031-01-05")
    page.fill("#whatif-form input[name=buckets]", "0")
    page.fill("#whatif-form input[name=capacity]", "1")
    with page.expect_navigation() as nav:
        page.click("#whatif-form button")
    assert nav.value.status == 422
    assert page.url.endswith("/web/whatif")
    assert page.inner_text("h1") == "Continuity"  # the page itself, not an error page
    for name, says in (("target", "ATLANTIS"), ("from", "outside the horizon"),
                       ("buckets", "from 1 to"), ("capacity", "below 1")):
        field = page.locator(f"#whatif-form label:has(input[name={name}])")
        assert says in field.locator(".field-error").inner_text(), name
        assert field.locator("input").get_attribute("aria-invalid") == "true"
    assert page.input_value("#whatif-form input[name=target]") == "ATLANTIS"
    screenshot(page, "whatif-errors")
    assert admin.get("/jobs", params={"limit": 100}).json()["count"] == jobs


def test_stress_test_shows_fill_rate_and_units_lost_over_the_futures(
        page: Any, demo: Demo, admin: httpx.Client) -> None:
    sign_in(page, demo, "continuity")
    page.goto("/web/continuity")
    page.fill("#montecarlo input[name=samples]", "3")
    with page.expect_navigation():
        page.click("#montecarlo button")
    page.wait_for_url(re.compile(r"/web/continuity\?job=[0-9a-f]{32}$"), timeout=300_000)
    page.wait_for_selector(".chart[data-figure=fig-mc-fill] .main-svg")
    fill = page.evaluate("JSON.parse(document.getElementById('fig-mc-fill').textContent)")
    lost = page.evaluate(
        "JSON.parse(document.getElementById('fig-mc-units-lost').textContent)")
    solved = int(page.inner_text("#montecarlo").split("solved")[1].split()[0])
    assert fill["data"][0]["type"] == "histogram" and len(fill["data"][0]["x"]) == solved
    assert all(0 <= x <= 100 for x in fill["data"][0]["x"])
    assert len(lost["data"][0]["x"]) == solved and min(lost["data"][0]["x"]) >= 0
    screenshot(page, "continuity")
