"""Dashboard speed: `fabnet serve --demo` (the Europe example planned, the floor story,
one account per role) on a free port; each role signs in through the sign-in form and
every page it may open is fetched once (the first opening, which fills caches) and then
`--repeat` times with httpx (the server's render: the
time from request to the whole response), then, for `--browser-role`, loaded in
Chromium (/usr/bin/chromium through Playwright) to DOMContentLoaded and to every chart
drawn. The goal (the issue's): each page in under 1 s; the table says pass or fail per
page by its p95, with the machine's load average at the start and the end, since other
work on the machine slows every figure. The exposure page answers at once while the
server runs its embargo what-ifs; how long after its first opening they were there is
printed after the first role that may open it.

    python -m benchmarks.web_bench
    python -m benchmarks.web_bench --repeat 5 --json out/web_bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from benchmarks.demo_server import Demo, serve_demo

GOAL = 1.0
ROLES = ("admin", "planner", "continuity", "quality", "engineering", "compliance",
         "site-manager", "auditor")
#: a demand of the Europe example served through a transfer from the hub
DEMAND = "D2702-UA-MOD-RECON-Q"
#: the dashboard's pages (src/fabnet/web/: routes.py, planner_pages.py, floor_views.py,
#: desk_views.py); {serial} is the first unit on the floor page
PAGES = {
    "home": "/web/",
    "planner": "/web/planner",
    "master data": "/web/scenarios/europe/data?section=work_centers",
    "plan run": "/web/runs/1",
    "timeline": "/web/runs/1/timeline",
    "pegging": f"/web/runs/1/pegging?demand={DEMAND}",
    "compare": "/web/compare?a=1&b=1",
    "continuity": "/web/continuity",
    "exposure": "/web/continuity/exposure?scenario=europe",
    "floor": "/web/floor",
    "unit": "/web/floor/units/{serial}",
    "compliance": "/web/compliance",
    "engineering": "/web/engineering",
    "eco": "/web/engineering?scenario=europe&eco=1",
    "audit": "/web/audit",
}
CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Timing:
    """One page as one role saw it: status, and seconds per request."""

    page: str
    role: str
    status: int
    median: float
    p95: float
    kind: str = "server"
    #: the untimed warm-up's seconds (the first opening: caches filled, e.g. exposure's)
    first: float = 0.0
    #: when the first opening was sent (`time.perf_counter()`)
    opened_at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.p95 < GOAL


def p95(xs: list[float]) -> float:
    """The 95th percentile (nearest rank) of `xs`."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, round(0.95 * len(s) + 0.5) - 1))]


def signed_in(demo: Demo, user: str) -> httpx.Client:
    """A client carrying a dashboard session of `user`, through the sign-in form."""
    http = httpx.Client(base_url=demo.base, timeout=300, follow_redirects=True)
    form = http.get("/web/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("the sign-in page carries no CSRF token")
    done = http.post("/web/login", data={"csrf": token.group(1), "username": user,
                                         "password": demo.passwords[user]})
    if not str(done.url).endswith("/web/"):
        raise RuntimeError(f"{user} could not sign in: {done.status_code}")
    return http


def first_serial(http: httpx.Client) -> str:
    """The first serial on the floor page's list of the newest units."""
    found = re.search(r'/web/floor/units/([^"?#]+)"', http.get("/web/floor").text)
    return found.group(1) if found else "NO-UNIT"


def time_server(demo: Demo, user: str, repeat: int, serial: str) -> list[Timing]:
    """Every page fetched `repeat` times by `user` (after one untimed warm-up fetch);
    a refused page (403) is listed once, untimed."""
    out = []
    with closing(signed_in(demo, user)) as http:
        for name, path in PAGES.items():
            url = path.format(serial=serial)
            opened = time.perf_counter()
            warm = http.get(url)
            first = time.perf_counter() - opened
            if warm.status_code != 200:
                out.append(Timing(name, user, warm.status_code, 0.0, 0.0))
                continue
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                got = http.get(url)
                times.append(time.perf_counter() - t)
                assert got.status_code == 200, (user, url, got.status_code)
            out.append(Timing(name, user, 200, statistics.median(times), p95(times),
                              first=first, opened_at=opened))
    return out


def exposure_ready(demo: Demo, user: str, opened_at: float, wait: float = 600) -> str:
    """How long after the exposure page first opened its embargo what-ifs (computed in
    the server meanwhile) were there, from the status the page polls."""
    with closing(signed_in(demo, user)) as http:
        polled = time.perf_counter()
        while time.perf_counter() - polled < wait:
            got = http.get(PAGES["exposure"].replace("exposure?", "exposure/status?"))
            if got.status_code != 200:
                return f"status answered {got.status_code}"
            if got.json()["done"]:
                late = time.perf_counter() - opened_at
                bound = "at most " if time.perf_counter() - polled < 0.5 else ""
                return f"{bound}{late:.1f} s after the first opening"
            time.sleep(0.2)
    return f"not within {wait:.0f} s"


def time_browser(demo: Demo, user: str, repeat: int, serial: str) -> list[Timing]:
    """Every page `user` may open, loaded in Chromium `repeat` times: to DOMContentLoaded,
    then to every chart drawn (a Plotly `.main-svg` in each `.chart`)."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--headless=new", "--no-sandbox", "--disable-gpu"])
        ctx = b.new_context(base_url=demo.base, viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto("/web/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", demo.passwords[user])
        with page.expect_navigation():
            page.click("button[type=submit]")
        for name, path in PAGES.items():
            url = path.format(serial=serial)
            answer = page.goto(url)
            if answer is None or answer.status != 200:
                continue
            dom, drawn = [], []
            for _ in range(repeat):
                t = time.perf_counter()
                page.goto(url, wait_until="domcontentloaded")
                dom.append(time.perf_counter() - t)
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.chart')]"
                    ".every(c => c.querySelector('.main-svg'))", timeout=30_000)
                drawn.append(time.perf_counter() - t)
            out.append(Timing(name, user, 200, statistics.median(dom), p95(dom),
                              "browser DOM"))
            out.append(Timing(name, user, 200, statistics.median(drawn), p95(drawn),
                              "browser charts"))
        b.close()
    return out


def table(rows: list[Timing]) -> str:
    """The figures as a fixed-width table, the goal's verdict per row (by its p95)."""
    lines = [f"{'page':<12} {'role':<13} {'measure':<15} {'median s':>9} {'p95 s':>7} "
             f"{'first s':>8}  goal {GOAL:.0f} s"]
    for r in rows:
        head = f"{r.page:<12} {r.role:<13} {r.kind:<15}"
        if r.status != 200:
            lines.append(f"{head} {'refused ' + str(r.status):>17}")
            continue
        first = f"{r.first:.3f}" if r.kind == "server" else "-"
        lines.append(f"{head} {r.median:>9.3f} {r.p95:>7.3f} {first:>8}  "
                     f"{'pass' if r.ok else 'FAIL'}")
    return "\n".join(lines)


def main() -> None:
    """Start the demo, time every page for every role, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed requests per page (5)")
    ap.add_argument("--roles", default=",".join(ROLES), help="comma-separated accounts")
    ap.add_argument("--browser-role", default="admin",
                    help="the account whose pages Chromium loads ('' for none)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    load_start = os.getloadavg()
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="fabnet-web-bench-") as tmp:
        t = time.perf_counter()
        with serve_demo(Path(tmp), env={"FABNET_API_LOGIN_PER_CLIENT": "1000"}) as demo:
            print(f"demo server up in {time.perf_counter() - t:.0f} s", flush=True)
            rows: list[Timing] = []
            with closing(signed_in(demo, "admin")) as http:
                serial = first_serial(http)
            for user in args.roles.split(","):
                rows += time_server(demo, user, args.repeat, serial)
                opened = [r for r in rows if r.page == "exposure" and r.opened_at]
                if opened and len(opened) == 1 and opened[0].role == user:
                    print(f"exposure: the embargo what-ifs were there "
                          f"{exposure_ready(demo, user, opened[0].opened_at)} (the page "
                          f"answered in {opened[0].first:.3f} s)", flush=True)
            print(table(rows), flush=True)
            if args.browser_role and CHROMIUM.exists():
                rows += time_browser(demo, args.browser_role, max(1, args.repeat // 2 + 1),
                                     serial)
    load_end = os.getloadavg()
    print(table([r for r in rows if r.kind != "server"]))
    timed = [r for r in rows if r.status == 200 and r.kind == "server"]
    slow = sorted({r.page for r in timed if not r.ok})
    print(f"server render: {sum(r.ok for r in timed)}/{len(timed)} page x role under "
          f"{GOAL:.0f} s (p95){'; over: ' + ', '.join(slow) if slow else ''}")
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"goal_s": GOAL, "load_start": load_start,
                                         "load_end": load_end,
                                         "rows": [asdict(r) for r in rows]}, indent=1))


if __name__ == "__main__":
    main()
