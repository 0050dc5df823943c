"""The floor, compliance, engineering and audit pages in a real browser, against
`fabnet serve --demo` (the Europe example planned, the demo's floor story: units built
and tested at FR-HUB, two shipped, one refused under an expired licence, a held lot, an
ECO in review). Each page is opened by every role: it renders with no console error and
no failed request, or it is refused with a 403 page; each test saves screenshots under
out/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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
#: where the example's sites are (restricted fields), and the roles not cleared for them
LOCATIONS = ("industrial zone, central France", "automaker plant, western Ukraine")
NOT_CLEARED = ("quality", "engineering", "compliance")
PAGES = {"floor": "/web/floor", "compliance": "/web/compliance",
         "engineering": "/web/engineering", "audit": "/web/audit"}
#: the pages each demo account may not open
REFUSED = {"admin": set(), "auditor": set(), "planner": {"audit"},
           "continuity": {"engineering", "audit"}, "quality": {"audit"},
           "engineering": {"audit"}, "compliance": {"engineering", "audit"},
           "site-manager": {"compliance", "engineering", "audit"}}
HEADINGS = {"floor": "Floor: europe", "compliance": "Export licences and refused shipments",
            "engineering": "Engineering changes", "audit": "Audit trail"}
#: the persona whose view of each page is kept as its screenshot
PERSONA = {"floor": "site-manager", "compliance": "compliance", "engineering": "engineering",
           "audit": "auditor"}


@pytest.fixture
def page(browser: Any, demo: Demo) -> Iterator[Any]:
    """A watched page in a fresh context (see `web_server.watched_page`)."""
    with watched_page(browser, demo) as (pg, _):
        yield pg


def _serials(page: Any) -> list[str]:
    """The serials in the floor page's list of the newest units."""
    return [s.strip() for s in page.eval_on_selector_all(
        "#units tbody tr td:first-child", "tds => tds.map(t => t.innerText)")]


def _csrf(page: Any) -> str:
    return str(page.get_attribute("#line-down-form input[name=csrf]", "value"))


def test_every_role_opens_its_pages_and_is_refused_the_others(page: Any, demo: Demo) -> None:
    for user, refused in REFUSED.items():
        sign_in(page, demo, user)
        nav = page.inner_text("header nav")
        for name, path in PAGES.items():
            answer = page.goto(path)
            assert answer is not None
            if name in refused:
                assert answer.status == 403, (user, name)
                assert f"may not open the {name} page" in page.inner_text(".error"), user
                assert name.capitalize() not in nav, (user, name)
                if user == "site-manager" and name == "audit":
                    screenshot(page, "refused-audit-site-manager")
                continue
            assert answer.status == 200, (user, name, page.inner_text("main")[:300])
            assert page.inner_text("h1") == HEADINGS[name], (user, name)
            assert name.capitalize() in nav, (user, name)
            if page.query_selector(".chart"):
                page.wait_for_selector(".chart .main-svg")
            if user in NOT_CLEARED:
                text = everything(page)
                assert not [x for x in LOCATIONS if x in text], (user, name)
            if PERSONA[name] == user:
                screenshot(page, f"{name}-{user}")


def test_charts_run_time_along_date_axes(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "quality")
    page.goto("/web/floor")
    page.wait_for_selector(".chart[data-figure=fig-fpy] .main-svg")
    fpy = page.eval_on_selector(".chart[data-figure=fig-fpy]",
                                "el => ({type: el._fullLayout.xaxis.type, x: el.data[0].x})")
    assert fpy["type"] == "date"
    assert fpy["x"] and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", x) for x in fpy["x"]), fpy
    pareto = page.inner_text("#pareto-table tbody")
    assert re.search(r"\t1\t", pareto), pareto  # the story's one failed test, retested
    screenshot(page, "floor-quality")
    sign_in(page, demo, "compliance")
    page.goto("/web/compliance")
    page.wait_for_selector(".chart[data-figure=fig-validity] .main-svg")
    assert page.eval_on_selector(".chart[data-figure=fig-validity]",
                                 "el => el._fullLayout.xaxis.type") == "date"


def test_unit_history_tells_parts_tests_holds_and_shipment(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "quality")
    page.goto("/web/floor")
    serials = sorted(_serials(page))
    assert len(serials) == 3, serials  # the story builds three
    page.fill("#unit-search input[name=serial]", serials[0])
    with page.expect_navigation():
        page.click("#unit-search button")
    assert page.inner_text("h1") == f"Unit {serials[0]}"
    assert "lot " in page.inner_text("#parts")
    assert "battery-voltage" in page.inner_text("#tests")
    assert "UA-MOD" in page.inner_text("#shipment")  # the story ships the first two there
    screenshot(page, "unit-quality")
    page.goto(f"/web/floor/units/{serials[2]}")
    assert "Not shipped" in page.inner_text("#shipment")
    assert "supplier notice: suspect batch" in page.inner_text("#blocked-by")  # its lot
    assert "FAIL" in page.goto(f"/web/floor/units/{serials[1]}").text()  # failed, retested
    assert page.goto("/web/floor/units/NO-SUCH-UNIT").status == 404


def test_site_manager_floor_holds_nothing_of_another_site(page: Any, demo: Demo) -> None:
    api = demo.api("site-manager")  # a lot received at the manager's own site
    try:
        got = api.post("/floor/receive", json={"site": MANAGED, "item": "FRAME-7",
                                               "lot": "UA-FRAME-LOT-1", "qty": 40})
        assert got.status_code == 201, got.text
    finally:
        api.close()
    sign_in(page, demo, "quality")  # quality holds it from the floor page's form
    page.goto("/web/floor")
    hub_serials = _serials(page)
    held_before = page.inner_text("#holds")
    page.fill("#hold-form input[name=ref]", "UA-FRAME-LOT-1")
    page.fill("#hold-form input[name=reason]", "incoming inspection")
    with page.expect_navigation():
        page.click("#hold-form button")
    holds = page.inner_text("#holds")
    assert "UA-FRAME-LOT-1" in holds and "incoming inspection" in holds
    assert "UA-FRAME-LOT-1" not in held_before
    # the story's held lot, at the site that built the first week's first order
    fr_lot = re.search(r"lot (\S+-\d{4}-\d{3})\s", holds)  # its supplier-yymm-nnn code
    assert fr_lot, holds

    sign_in(page, demo, "site-manager")
    page.goto("/web/floor")
    text = everything(page)
    assert MANAGED in text and "UA-FRAME-LOT-1" in text
    others = [s for s in SITES if s != MANAGED]
    assert not [s for s in others if s in text], [s for s in others if s in text]
    assert not [s for s in hub_serials if s in text]
    assert fr_lot.group(1) not in text
    assert page.query_selector("#hold-form") is None  # holds are quality's
    screenshot(page, "floor-site-manager-holds")
    answer = page.goto(f"/web/floor/units/{hub_serials[0]}")
    assert answer is not None and answer.status == 403
    refusal = page.inner_text("main")
    assert "not one of your sites" in refusal and "FR-HUB" not in refusal
    token = page.context.request.get("/web/floor")
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', token.text())
    assert csrf
    lifted = page.request.post("/web/floor/holds/release", max_redirects=0,
                               form={"csrf": csrf.group(1), "ref": "UA-FRAME-LOT-1"})
    assert lifted.status == 403  # a site manager may not release a hold

    sign_in(page, demo, "quality")
    page.goto("/web/floor")
    row = page.locator("#holds tr", has_text="UA-FRAME-LOT-1")
    with page.expect_navigation():
        row.locator("button").click()
    assert "UA-FRAME-LOT-1" not in page.inner_text("#holds")
    assert "released UA-FRAME-LOT-1" in page.inner_text("#done")


def test_line_down_form_needs_its_csrf_token_and_lands_on_the_floor(page: Any,
                                                                    demo: Demo) -> None:
    sign_in(page, demo, "site-manager")
    page.goto("/web/floor")
    assert "No line down is recorded" in page.inner_text("#line-downs")
    form = {"site": MANAGED, "work_center": "assembly", "from": "2027-02-01",
            "until": "2027-02-14", "capacity": "0", "scenario": "europe"}
    for bad in ({}, {"csrf": "0" * 64}):
        answer = page.request.post("/web/floor/line-down", form={**form, **bad},
                                   max_redirects=0)
        assert answer.status == 403 and "CSRF" in answer.text()
    csrf = _csrf(page)
    elsewhere = page.request.post("/web/floor/line-down", max_redirects=0,
                                  form={**form, "site": "FR-HUB", "csrf": csrf})
    assert elsewhere.status == 403 and "not one of your sites" in elsewhere.text()
    page.goto("/web/floor")
    assert "No line down is recorded" in page.inner_text("#line-downs")  # nothing done

    page.select_option("#line-down-form select[name=site]", MANAGED)
    page.select_option("#line-down-form select[name=work_center]", "assembly")
    page.fill("#line-down-form input[name=from]", "2027-02-01")
    page.fill("#line-down-form input[name=until]", "2027-02-14")
    page.fill("#line-down-form input[name=note]", "press 2 hydraulic failure")
    with page.expect_navigation():
        page.click("#line-down-form button")
    assert re.search(r"/web/floor\?done=line-down-\d+$", page.url), page.url
    rows = page.eval_on_selector_all("#line-downs tbody tr",
                                     "rs => rs.map(r => [...r.cells].map(c => c.innerText))")
    assert [r[1:6] for r in rows] == [[MANAGED, "assembly", "2027-02-01", "2027-02-14",
                                       "0%"]], rows
    screenshot(page, "floor-line-down")
    sign_in(page, demo, "planner")  # the planner's floor shows it too
    page.goto("/web/floor")
    assert f"{MANAGED}\tassembly\t2027-02-01" in page.inner_text("#line-downs")


def test_compliance_page_shows_the_expired_licence_and_the_refusals(page: Any,
                                                                   demo: Demo) -> None:
    sign_in(page, demo, "compliance")
    page.goto("/web/compliance")
    row = page.inner_text("#licence-table tbody tr")
    assert "L-FR-DEMO" in row and "expired" in row and "ended" in row
    refused = page.inner_text("#refused-table")
    assert "expired" in refused and "on hold" in refused


def test_audit_page_filters_the_trail_and_says_it_verifies(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "auditor")
    page.goto("/web/audit")
    assert "The trail verifies" in page.inner_text("#verify-status")
    page.select_option("#audit-filter select[name=action]", "floor.ship.refused")
    with page.expect_navigation():
        page.click("#audit-filter button")
    actions = page.eval_on_selector_all("#audit-table tbody tr td:nth-child(4)",
                                        "tds => tds.map(t => t.innerText)")
    assert actions and set(actions) == {"floor.ship.refused"}, actions
    assert f"{len(actions)} entries match" in page.inner_text("#entries")
    page.goto("/web/audit?actor=nobody-at-all")
    assert "No entry matches" in page.inner_text("#audit-table")


def test_engineering_reviews_an_eco_with_its_csrf_token(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "engineering")
    page.goto("/web/engineering")
    assert "in review" in page.inner_text("#eco-table")
    with page.expect_navigation():
        page.click("#eco-table a")
    assert page.url.endswith("/web/engineering?scenario=europe&eco=1")
    assert page.query_selector("#impact-pending") or page.query_selector("#impact .tiles")
    screenshot(page, "engineering-eco")
    status = page.request.get("/web/engineering/ecos/1/impact")
    assert status.ok and isinstance(status.json()["done"], bool)  # what pending.js asks
    answer = page.request.post("/web/engineering/ecos/1/release", form={"note": "ok"},
                               max_redirects=0)
    assert answer.status == 403 and "CSRF" in answer.text()
    page.fill("#release-form input[name=note]", "field data confirms it")
    with page.expect_navigation():
        page.click("#release-form button")
    assert "released" in page.inner_text("#eco")
    assert "field data confirms it" in page.inner_text("#eco")
    assert page.query_selector("#impact-decided")
    assert page.query_selector("#release-form") is None
