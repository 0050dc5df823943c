"""Helpers for browser tests of the dashboard: `fabnet serve --demo` in its own process
on a free loopback port, Debian's Chromium through Playwright (never a downloaded
browser), a page that records every request, failed request and console error, and
the sign-in. tests/e2e/conftest.py starts one demo server and one browser for the whole
session (`demo`, `browser`); a test module makes its `page` from `watched_page`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.demo_server import Demo, serve_demo

__all__ = ["ARGS", "CHROMIUM", "Demo", "everything", "screenshot", "serve_demo", "sign_in",
           "watched_page"]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
#: where the tests keep a screenshot of each page (the CI keeps out/ as an artifact)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@dataclass
class Watch:
    """What a page asked for, what failed and what it logged."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def watched_page(browser: Any, demo: Demo) -> Iterator[tuple[Any, Watch]]:
    """A page in a fresh context, and what it did; afterwards, no request left the
    server, none failed, and no console error was logged (a refused page's own 403 is
    the answer a test asks for, so responses are judged by the test)."""
    ctx = browser.new_context(base_url=demo.base, viewport={"width": 1400, "height": 900})
    watch = Watch()
    ctx.on("request", lambda r: watch.requests.append(r.url))
    # a request the browser dropped because the test moved on (net::ERR_ABORTED) is not
    # a failure of the server
    ctx.on("requestfailed", lambda r: watch.failed.append(f"{r.url}: {r.failure}")
           if "ERR_ABORTED" not in str(r.failure) else None)
    ctx.on("response", lambda r: watch.failed.append(f"{r.url}: {r.status}")
           if r.status >= 400 and r.request.resource_type != "document" else None)
    pg = ctx.new_page()
    pg.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.errors.append(str(e)))
    pg.set_default_timeout(60_000)
    try:
        yield pg, watch
    finally:
        ctx.close()
    server = urlsplit(demo.base).netloc
    foreign = [u for u in watch.requests if urlsplit(u).scheme in ("http", "https", "ws",
                                                                   "wss")
               and urlsplit(u).netloc != server]
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not watch.failed, f"failed requests: {watch.failed}"
    # a refused or missing page's own answer (403, 404) is logged by Chromium as a
    # console error; the test that asked for it checks it
    assert not [e for e in watch.errors if not re.search(r"status of 40[34]\b", e)], \
        watch.errors


def sign_in(page: Any, demo: Demo, user: str) -> Any:
    """Fill in and send the sign-in form as `user`; the page."""
    page.context.clear_cookies()
    page.goto("/web/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", demo.passwords[user])
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/web/"), page.url
    return page


def everything(page: Any) -> str:
    """A page's HTML and the text of every script block it carries (chart data)."""
    scripts = page.eval_on_selector_all("script", "els => els.map(e => e.textContent)")
    return str(page.content()) + "\n".join(scripts)


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as out/screenshots/NAME.png; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
