"""The dashboard in a real browser: `fabnet serve --demo` in its own process on a free
loopback port, driven by Playwright through Debian's Chromium (never a downloaded
browser). One server and one browser for the session (tests/e2e/conftest.py), a fresh
context (cookies) per test.

Every test also checks that the page asked no other host for anything and logged no
console error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.web_server import Demo, screenshot

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(fix: .venv/bin/pip install -e '.[dev]')")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (fix: apt-get install chromium)",
                allow_module_level=True)
#: the Europe example's sites, and the one the demo's site manager runs
SITES = ("FR-HUB", "UA-PARTNER", "UK-PLANT", "FR-RND", "UA-RND")
MANAGED = "UA-PARTNER"
#: where the example's sites are (restricted fields)
LOCATIONS = ("industrial zone, central France", "automaker plant, western Ukraine")


@dataclass
class Watch:
    """What a page asked for and what it logged."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, demo: Demo) -> Iterator[Any]:
    """A page in a fresh context; afterwards, no request left the server and no
    console error was logged."""
    ctx = browser.new_context(base_url=demo.base)
    watch = Watch()
    ctx.on("request", lambda r: watch.requests.append(r.url))
    pg = ctx.new_page()
    pg.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.errors.append(str(e)))
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()
    server = urlsplit(demo.base).netloc
    foreign = [u for u in watch.requests if urlsplit(u).scheme in ("http", "https", "ws",
                                                                   "wss")
               and urlsplit(u).netloc != server]
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not [e for e in watch.errors if "401" not in e and "403" not in e], watch.errors


def sign_in(page: Any, demo: Demo, user: str, password: str | None = None) -> Any:
    """Fill in and send the sign-in form; the answer."""
    page.goto("/web/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", demo.passwords[user] if password is None else password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def test_planner_signs_in_and_sees_what_needs_attention(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "planner")
    assert page.url.endswith("/web/")
    assert page.inner_text("h1") == "What needs attention"
    assert "Shortfalls of the latest plan" in page.inner_text("#shortfalls")
    assert "fill rate" in page.inner_text("#shortfalls .tiles")
    cookie = next(c for c in page.context.cookies() if c["name"] == "fabnet_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_wrong_password_is_refused_without_a_session(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "planner", "not the password")
    assert page.url.endswith("/web/login")
    assert "wrong user name or password" in page.inner_text(".error")
    assert "fabnet_session" not in {c["name"] for c in page.context.cookies()}
    page.goto("/web/planner")
    assert page.url.split("?")[0].endswith("/web/login")


def test_a_form_posted_without_its_csrf_token_is_refused(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "planner")
    before = page.goto("/web/planner").text().count("/web/jobs/")
    for form in ({"scenario": "europe"}, {"scenario": "europe", "csrf": "0" * 64}):
        answer = page.request.post("/web/plan", form=form, max_redirects=0)
        assert answer.status == 403
        assert "CSRF" in answer.text()
    assert page.request.post("/web/logout", form={}, max_redirects=0).status == 403
    assert page.goto("/web/planner").text().count("/web/jobs/") == before  # nothing ran
    login_form = page.request.post("/web/login", form={"username": "planner", "password":
                                                       demo.passwords["planner"]},
                                   max_redirects=0)
    assert login_form.status == 403


def test_signing_out_ends_the_session_for_good(page: Any, demo: Demo, browser: Any) -> None:
    sign_in(page, demo, "continuity")
    session = [c for c in page.context.cookies() if c["name"] == "fabnet_session"]
    with page.expect_navigation():
        page.click("text=Sign out")
    assert page.url.endswith("/web/login")
    page.goto("/web/")
    assert page.url.split("?")[0].endswith("/web/login")
    replay = browser.new_context(base_url=demo.base)  # the old cookie, sent again
    try:
        replay.add_cookies(session)
        answer = replay.request.get("/web/", max_redirects=0)
        assert answer.status == 303 and "/web/login" in answer.headers["location"]
    finally:
        replay.close()


def _everything(page: Any) -> str:
    """A page's HTML and the text of every script block it carries (chart data)."""
    scripts = page.eval_on_selector_all("script", "els => els.map(e => e.textContent)")
    return str(page.content()) + "\n".join(scripts)


def test_site_manager_pages_hold_no_other_site_and_no_restricted_field(
        page: Any, demo: Demo) -> None:
    sign_in(page, demo, "site-manager")
    others = [s for s in SITES if s != MANAGED]
    for path in ("/web/", "/web/planner", "/web/runs/1", "/web/continuity"):
        page.goto(path)
        text = _everything(page)
        assert MANAGED in text or path == "/web/continuity", path
        assert not [s for s in others if s in text], (path, [s for s in others if s in text])
        assert LOCATIONS[0] not in text, path  # FR-HUB's location
    assert page.request.get("/web/runs/1/shortfalls.csv").status == 200


def test_quality_pages_hold_no_site_location(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "quality")
    for path in ("/web/", "/web/planner", "/web/runs/1", "/web/continuity"):
        page.goto(path)
        text = _everything(page)
        assert not [loc for loc in LOCATIONS if loc in text], path


def test_plan_page_draws_demand_against_plan_on_a_date_axis(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "planner")
    page.goto("/web/runs/1")
    page.wait_for_selector(".chart .main-svg")
    axis = page.eval_on_selector(
        ".chart", "el => ({type: el._fullLayout.xaxis.type, x: el.data[0].x.slice(0, 3),"
        " title: el._fullLayout.title.text})")
    assert axis["type"] == "date"
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", x) for x in axis["x"]), axis
    assert "demanded" in axis["title"]
    heat = page.eval_on_selector_all(".chart", "els => els.map(e => e._fullLayout.xaxis.type)")
    assert heat == ["date", "date", "date"]
    assert "fill rate" in page.inner_text(".tiles")


def test_planner_runs_a_plan_and_follows_it_to_the_result(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "planner")
    page.goto("/web/planner")
    with page.expect_navigation():
        page.click("#plan-form button")
    assert re.search(r"/web/jobs/[0-9a-f]{32}$", page.url)
    assert page.locator("#job-progress").count() == 1
    page.wait_for_url(re.compile(r"/web/runs/\d+$"), timeout=240_000)
    assert page.inner_text("h1").startswith("Plan run")
    assert int(page.url.rsplit("/", 1)[1]) > 1
    page.wait_for_selector(".chart .main-svg")


def test_whatif_from_the_form_shows_only_what_changes(page: Any, demo: Demo) -> None:
    sign_in(page, demo, "continuity")
    page.goto("/web/continuity")
    options = page.eval_on_selector_all("#targets option", "os => os.map(o => o.value)")
    assert MANAGED in options and any(o.startswith("lane:") for o in options)
    page.fill("#whatif-form input[name=target]", MANAGED)
    page.fill("#whatif-form input[name=from]", "2027-05-03")
    page.fill("#whatif-form input[name=buckets]", "6")
    with page.expect_navigation():
        page.click("#whatif-form button")
    assert re.search(r"/web/jobs/[0-9a-f]{32}$", page.url)
    page.wait_for_url(re.compile(r"/web/continuity\?job=[0-9a-f]{32}$"), timeout=240_000)
    result = page.inner_text("#whatif")
    assert f"{MANAGED} from 2027-05-03 for 6 buckets" in result
    rows = page.eval_on_selector_all("#whatif-kpis tbody tr",
                                     "rs => rs.map(r => [...r.cells].map(c => c.innerText))")
    assert rows and all(len(r) == 4 for r in rows), rows
    assert all(r[1] != r[2] for r in rows), rows  # only KPIs that move are listed


def test_exposure_by_country_is_shown_to_continuity_and_refused_to_scoped_roles(
        page: Any, demo: Demo) -> None:
    sign_in(page, demo, "continuity")
    page.goto("/web/continuity")
    with page.expect_navigation():
        page.click("#exposure-link")  # answers at once; the what-ifs run in the server
    assert page.inner_text("h1") == "Exposure by country of origin"
    page.wait_for_selector(".chart[data-figure=fig-exposure] .main-svg")
    fig = page.evaluate("JSON.parse(document.getElementById('fig-exposure').textContent)")
    countries = {t["name"] for t in fig["data"]}
    assert {"CN", "FR", "UA"} <= countries
    assert {p for t in fig["data"] for p in t["y"]} == {"RECON-Q", "STRIKE-FPV", "LR-FW"}
    if page.query_selector("#exposure-pending"):  # a progress bar, until the page reloads
        assert page.query_selector("#exposure-progress") is not None
        screenshot(page, "exposure-pending")
    page.wait_for_selector("#embargo-table", timeout=240_000)  # pending.js reloads it
    assert page.query_selector("#exposure-pending") is None
    rows = {r.split("\t")[0]: r.split("\t")[1] for r in
            page.inner_text("#embargo-table tbody").splitlines()}
    assert "13 buckets" in page.inner_text("#embargo h2")
    assert float(rows["CN"].replace(",", "")) > 0  # the example's parts come from CN
    assert set(rows) >= {"CN", "FR", "UA", "GB"}
    screenshot(page, "exposure")
    status = page.request.get("/web/continuity/exposure/status?scenario=europe")
    assert status.ok and status.json() == {"done": True, "progress": 1.0}
    for user in ("quality", "site-manager"):
        page.context.clear_cookies()
        sign_in(page, demo, user)
        page.goto("/web/continuity")
        assert page.query_selector("#exposure-link") is None, user
        answer = page.goto("/web/continuity/exposure?scenario=europe")
        assert answer is not None and answer.status == 403, user
        assert page.query_selector("#embargo-table") is None, user
        assert "shown whole only to roles that see every site" in page.inner_text("main"), user
        status = page.request.get("/web/continuity/exposure/status?scenario=europe")
        assert status.status == 403 and "progress" not in status.text(), user
