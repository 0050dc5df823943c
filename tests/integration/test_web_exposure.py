"""The continuity exposure page through the app (no browser), on SQLite and PostgreSQL,
on the two-site network: the page answers at once with the country shares and a
progress bar while the embargo what-ifs run in the server, then shows the figures
`services.continuity.exposure` (the CLI's `fabnet exposure`) gives; what the page polls
says how far they are and nothing else; roles that do not see every site are refused
the page and its progress, and start nothing; too many exposures at once are refused."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fabnet.services import continuity
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role
from fabnet.web import views
from tests.integration.test_api_fixtures import Api
from tests.integration.test_web_planner_pages import _sign_in

pytest_plugins = ["tests.integration.test_api_fixtures"]

PAGE = "/web/continuity/exposure?scenario=net"
STATUS = "/web/continuity/exposure/status?scenario=net"


@contextmanager
def what_ifs_held() -> Iterator[None]:
    """Hold the server's turn for exposures, so their what-ifs wait until the block ends
    (a timer lets go after two minutes, should a page wait for them after all)."""
    turn, fired = views._EXPOSURE_TURN, threading.Event()

    def let_go() -> None:
        fired.set()
        turn.release()

    turn.acquire()
    guard = threading.Timer(120, let_go)
    guard.start()
    try:
        yield
    finally:
        guard.cancel()
        guard.join()
        if not fired.is_set():
            turn.release()


def _wait_done(api: Api, url: str) -> None:
    deadline = time.monotonic() + 120  # guards the suite; no check
    while not api.client.get(url).json()["done"]:
        assert time.monotonic() < deadline, "the embargo what-ifs did not come"
        time.sleep(0.05)


def _embargo(page: str) -> dict[str, float]:
    table = re.search(r'id="embargo-table">(.*?)</table>', page, re.S)
    assert table, page
    return {c: float(v.replace(",", "")) for c, v in
            re.findall(r"<tr><td>(\w+)</td><td class=\"num\">([\d,.]+)</td></tr>",
                       table.group(1))}


def test_the_page_shows_shares_at_once_then_the_embargo_what_ifs_of_the_service(
        api: Api) -> None:
    _sign_in(api, Role.CONTINUITY)
    with what_ifs_held():
        first = api.client.get(PAGE)
        assert first.status_code == 200, first.text
        assert 'id="exposure-pending"' in first.text and "static/pending.js" in first.text
        assert 'id="embargo-table"' not in first.text
        assert "Re-planning with each of 3 countries" in first.text
        fig = re.search(r'<script type="application/json" id="fig-exposure">(.*?)</script>',
                        first.text, re.S)
        assert fig, "no shares chart"
        assert {t["name"] for t in json.loads(fig.group(1))["data"]} == {"TW"}
        progress = api.client.get(STATUS)
        assert progress.json() == {"done": False, "progress": 0.0}
        assert progress.headers["cache-control"] == "no-store"
    _wait_done(api, STATUS)
    assert set(api.client.get(STATUS).json()) == {"done", "progress"}  # no figures
    shown = api.client.get(PAGE).text
    assert 'id="exposure-pending"' not in shown and "static/pending.js" not in shown
    want = continuity.exposure(scenario_svc.load_stored(api.store, "net"), 13)
    assert _embargo(shown) == {c: round(v) for c, v in want.embargo_lost.items()}
    assert set(want.embargo_lost) == {"FR", "GB", "TW"}


def test_roles_that_do_not_see_every_site_are_refused_and_start_nothing(api: Api) -> None:
    url = str(api.store.engine.url)
    for role in (Role.QUALITY, Role.SITE_MANAGER, Role.ENGINEERING):
        _sign_in(api, role)
        for path in (PAGE, STATUS):
            refused = api.client.get(path)
            assert refused.status_code == 403, (role, path)
            assert "shown whole only to roles that see every site" in refused.text
            assert "embargo-table" not in refused.text and "progress" not in refused.text
    assert not [k for k in views._EXPOSURES if k[0] == url]


def test_more_exposures_at_once_than_the_server_takes_are_refused(api: Api) -> None:
    assert all(e.done for e in views._EXPOSURES.values())
    _sign_in(api, Role.ADMIN)
    with what_ifs_held():
        for n in range(1, views.EXPOSURE_PENDING + 1):
            assert api.client.get(f"{PAGE}&buckets={n}").status_code == 200
        busy = api.client.get(f"{PAGE}&buckets=8")
        assert busy.status_code == 503 and "being computed already" in busy.text
    for n in range(1, views.EXPOSURE_PENDING + 1):
        _wait_done(api, f"{STATUS}&buckets={n}")
    assert api.client.get(f"{PAGE}&buckets=8").status_code == 200
    _wait_done(api, f"{STATUS}&buckets=8")
