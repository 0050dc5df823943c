"""Load on the HTTP API: N concurrent clients editing and planning one scenario through a
real `fabnet serve` on a loopback port, on SQLite and on PostgreSQL.

Each client adds its own demand row, then loops: change that row's quantity (a PATCH,
which makes a new version of the scenario), read a page of rows, and every tenth step
submit a plan job; at the end it waits for its jobs. The run is bounded twice: a number
of steps per client and a wall-clock budget. Reported per database: requests per second,
p50 and p95 latency per kind of request, and the proof that no write was lost: the edits
the clients saw succeed equal the versions the store gained, equal the audit entries
signed by the clients, and each client's row holds the last quantity it wrote.

    python -m benchmarks.api_load            # 8 clients x 60 steps, SQLite and PostgreSQL
    python -m benchmarks.api_load --quick    # 4 clients x 15 steps
    python -m benchmarks.api_load --store-speed 3.5   # a 3.5 MB import, one-row edits of
                                                      # it (and a refused one), and logins
                                                      # and edits during a second import

PostgreSQL is the server at 127.0.0.1:5432, database `test` (or FABNET_BENCH_POSTGRES_URL);
without one that half is skipped and says why. Only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from fabnet.model.errors import ScenarioError
from fabnet.services import accounts, audit_trail, editing
from fabnet.services import database as db_svc
from fabnet.services import jobs as jobs_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role

NETWORK = """
scenario: Load test
horizon: {start: 2027-01-04, bucket: week, buckets: 8}
items:
  - {id: RECON-Q, kind: product}
  - {id: FC-H7, kind: component, unit_cost: 60, origin: TW}
boms: {RECON-Q: [{item: FC-H7, qty: 1}]}
routings: {RECON-Q: [{work_center: assembly, hours: 2.5}]}
sites:
  - {id: FR-LYON, country: FR, makes: [RECON-Q], work_centers: [{type: assembly, hours: 100}]}
  - {id: UK-PLANT, country: GB, makes: [RECON-Q], work_centers: [{type: assembly, hours: 40}]}
suppliers:
  - {id: SUP-TW, country: TW, offers: [{item: FC-H7, price: 58, lead_time: 1, capacity: 30}]}
customers: [{id: UA-MOD, country: UA}]
lanes:
  - {from: SUP-TW, to: FR-LYON, transit: 1}
  - {from: SUP-TW, to: UK-PLANT, transit: 2}
  - {from: FR-LYON, to: UA-MOD, transit: 1}
  - {from: UK-PLANT, to: UA-MOD, transit: 2}
inventory: [{site: FR-LYON, item: FC-H7, qty: 10}]
demand: [{id: D1, customer: UA-MOD, item: RECON-Q, qty: 50, due: 2027-02-01}]
"""
PG_CANDIDATES = [os.environ["FABNET_BENCH_POSTGRES_URL"]] \
    if os.environ.get("FABNET_BENCH_POSTGRES_URL") else [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql+psycopg://root@127.0.0.1:5432/test"]
PLAN_EVERY = 10


@dataclass(frozen=True)
class Load:
    """How hard to push."""

    clients: int
    steps: int
    budget_s: float


@dataclass
class Tally:
    """What the clients saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    edits: int = 0
    last_qty: dict[str, float] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)


# ---------------------------------------------------------------- databases and server


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A new SQLite file."""
    with tempfile.TemporaryDirectory(prefix="fabnet-bench-") as d:
        yield f"sqlite:///{Path(d) / 'store.sqlite'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A new schema on the loopback PostgreSQL server (dropped afterwards)."""
    reasons = []
    for server in PG_CANDIDATES:
        admin = sa.create_engine(server, connect_args={"connect_timeout": 3})
        try:
            with admin.begin() as conn:
                schema = f"fabnet_bench_{secrets.token_hex(5)}"
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        except sa.exc.SQLAlchemyError as e:
            reasons.append(str(getattr(e, "orig", e)).strip().splitlines()[0])
            admin.dispose()
            continue
        try:
            yield f"{server}?options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        return
    raise LookupError(f"PostgreSQL not reachable at {', '.join(PG_CANDIDATES)} "
                      f"({'; '.join(reasons)})")


def seed(url: str, clients: int) -> list[tuple[str, str]]:
    """A store with the network as `load` and a planner per client; (name, token) each."""
    db_svc.init_store(url)
    store = db_svc.connect(url, "bench-setup")
    try:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "load.yaml"
            path.write_text(NETWORK)
            scenario_svc.import_scenario(store, path, "load")
        out = []
        for i in range(clients):
            name = f"client{i}"
            accounts.create_user(store, name, secrets.token_urlsafe(12), Role.PLANNER)
            out.append((name, accounts.issue_token(store, name, "bench")[0]))
        return out
    finally:
        store.engine.dispose()


@contextmanager
def server(url: str) -> Iterator[str]:
    """`fabnet serve` on a free loopback port; its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "fabnet.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--url", url, "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server stopped: {proc.communicate()[1][-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not come up in 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- the clients


def client(base: str, name: str, token: str, load: Load, deadline: float, tally: Tally
           ) -> None:
    """One planner: add a row, then edit it, read, and plan now and then."""
    row = f"L-{name}"
    with httpx.Client(base_url=base, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        def timed(kind: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
            t = time.perf_counter()
            try:
                r = http.request(method, path, **kw)
            except httpx.HTTPError as e:
                with tally.lock:
                    tally.errors.append(f"{kind}: {type(e).__name__}")
                return None
            tally.record(kind, time.perf_counter() - t)
            if r.status_code >= 400:
                with tally.lock:
                    tally.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
                return None
            return r

        made = timed("add row", "POST", "/scenarios/load/demand", json={
            "id": row, "customer": "UA-MOD", "item": "RECON-Q", "qty": 0,
            "due": "2027-02-01"}, headers={"Idempotency-Key": f"add-{row}"})
        if made is None:
            return
        with tally.lock:
            tally.edits += 1
        mine: list[str] = []
        for step in range(1, load.steps + 1):
            if time.monotonic() > deadline:
                break
            r = timed("edit", "PATCH", f"/scenarios/load/demand/{row}", json={"qty": step})
            if r is not None and r.json()["changed"]:
                with tally.lock:
                    tally.edits += 1
                    tally.last_qty[row] = step
            timed("read", "GET", "/scenarios/load/demand", params={"limit": 50})
            if step % PLAN_EVERY == 0:
                job = timed("submit plan", "POST", "/jobs/plan", json={"scenario": "load"})
                if job is not None:
                    mine.append(job.json()["id"])
                    with tally.lock:
                        tally.jobs.append(job.json()["id"])
        for job_id in mine:
            while time.monotonic() < deadline + 60:
                r = timed("poll job", "GET", f"/jobs/{job_id}")
                if r is None or r.json()["status"] in ("done", "failed"):
                    break
                time.sleep(0.2)


def run(url: str, load: Load) -> dict[str, Any]:
    """Seed, serve, load, and check that nothing was lost."""
    users = seed(url, load.clients)
    tally = Tally()
    with server(url) as base:
        started = time.perf_counter()
        deadline = time.monotonic() + load.budget_s
        threads = [threading.Thread(target=client, args=(base, n, t, load, deadline, tally))
                   for n, t in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    store = db_svc.connect(url, "bench-check")
    try:
        versions = len(scenario_svc.list_versions(store, "load"))
        signed = [e for e in audit_trail.audit_entries(store, 0, None)
                  if e.action == "scenario.version.add" and e.actor.startswith("client")]
        final = {r["id"]: r["qty"] for r in editing.read_scenario(store, "load").rows("demand")}
        jobs = [jobs_svc.get_job(store, j) for j in tally.jobs]
        chain = audit_trail.verify_audit(store)
    finally:
        store.engine.dispose()
    requests = sum(len(v) for v in tally.latencies.values())
    lost = [row for row, qty in tally.last_qty.items() if final.get(row) != qty]
    return {
        "requests": requests, "seconds": wall, "rps": requests / wall if wall else 0.0,
        "latency": {k: (statistics.median(v), _p95(v), len(v))
                    for k, v in tally.latencies.items()},
        "errors": tally.errors, "edits": tally.edits, "versions_added": versions - 1,
        "audit_entries": len(signed), "rows_wrong": lost,
        "jobs": len(jobs), "jobs_done": sum(j.status.value == "done" for j in jobs),
        "audit_ok": chain.ok,
        "no_write_lost": tally.edits == versions - 1 == len(signed) and not lost,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# ---------------------------------------------------------------- report


def report(console: Console, load: Load, results: dict[str, dict[str, Any] | str]) -> None:
    """The tables."""
    head = Table(title=f"fabnet API under load: {load.clients} clients x {load.steps} steps "
                 f"(edit + read each step, a plan every {PLAN_EVERY}), loopback")
    for c in ("database", "requests", "seconds", "requests/s", "edits", "versions added",
              "audit entries", "rows right", "plan jobs done", "errors", "no write lost"):
        head.add_column(c, justify="left" if c == "database" else "right")
    lat = Table(title="latency per request kind (milliseconds)")
    for c in ("database", "kind", "count", "p50", "p95"):
        lat.add_column(c, justify="left" if c in ("database", "kind") else "right")
    for db, r in results.items():
        if isinstance(r, str):
            head.add_row(db, *["-"] * 9, f"skipped: {r}")
            continue
        head.add_row(db, str(r["requests"]), f"{r['seconds']:.1f}", f"{r['rps']:.0f}",
                     str(r["edits"]), str(r["versions_added"]), str(r["audit_entries"]),
                     "yes" if not r["rows_wrong"] else f"NO: {r['rows_wrong']}",
                     f"{r['jobs_done']}/{r['jobs']}", str(len(r["errors"])),
                     "yes" if r["no_write_lost"] and r["audit_ok"] else "NO")
        for kind, (p50, p95, n) in sorted(r["latency"].items()):
            lat.add_row(db, kind, str(n), f"{1000 * p50:.1f}", f"{1000 * p95:.1f}")
    console.print(head)
    console.print(lat)
    for db, r in results.items():
        if not isinstance(r, str):
            for e in r["errors"][:5]:
                console.print(f"[yellow]{db}: {e}[/]")


def main(quick: bool = False) -> int:
    """Run the load on SQLite and PostgreSQL; 0 when no write was lost, else 1."""
    load = Load(4, 15, 60.0) if quick else Load(8, 60, 240.0)
    console = Console(width=None if sys.stdout.isatty() else 150)
    results: dict[str, dict[str, Any] | str] = {}
    for db, make in (("sqlite", sqlite_url), ("postgresql", postgres_url)):
        console.print(f"[cyan]{db}: {load.clients} clients ...[/]")
        try:
            with make() as url:
                results[db] = run(url, load)
        except LookupError as e:
            results[db] = str(e)
    report(console, load, results)
    bad = [db for db, r in results.items()
           if not isinstance(r, str) and not (r["no_write_lost"] and r["audit_ok"])]
    return 1 if bad else 0


# ---------------------------------------------------------------- store speed


def big_scenario_yaml(folder: Path, target_mb: float = 3.5) -> Path:
    """A synthetic network (benchmarks.synthetic) written as YAML of about `target_mb`."""
    from benchmarks.synthetic import synthetic_scenario
    from fabnet.io.scenario_io import save_scenario

    path = folder / "big.yaml"
    n = max(20, round(830 * target_mb / 3.5))
    save_scenario(synthetic_scenario(n, 10 * n, 3 * n, n, 52, seed=1), path)
    return path


def one_row_edits(store: Any) -> tuple[list[float], float, float]:
    """Seconds of five one-row edits of `big` (a demand quantity twice, a lane's transit,
    a site's name, a demand deleted), the CPU seconds of this process per edit, and the
    seconds of one refused edit (an unknown item), whose message comes from checking the
    whole scenario."""
    view = editing.read_scenario(store, "big")
    d, lane, site = view.rows("demand")[0], view.rows("lanes")[5], view.rows("sites")[3]
    op = editing.EditOp
    edits: list[tuple[str, editing.EditOp, str, dict[str, Any] | None]] = [
        ("demand", op.PATCH, d["id"], {"qty": float(d["qty"]) + 1}),
        ("demand", op.PATCH, d["id"], {"qty": float(d["qty"]) + 2}),
        ("lanes", op.PATCH, f"{lane['from']}>{lane['to']}", {"transit": lane["transit"] + 1}),
        ("sites", op.PATCH, site["id"], {"name": "renamed"}),
        ("demand", op.DELETE, view.rows("demand")[3]["id"], None)]
    times, cpu = [], time.process_time()
    for section, kind, key, row in edits:
        t = time.perf_counter()
        editing.edit_row(store, "big", section, kind, key, row)
        times.append(time.perf_counter() - t)
    cpu_per_edit = (time.process_time() - cpu) / len(edits)
    t = time.perf_counter()
    try:
        editing.edit_row(store, "big", "demand", op.PATCH, d["id"], {"item": "NO-SUCH-ITEM"})
    except ScenarioError:
        pass
    return times, cpu_per_edit, time.perf_counter() - t


@contextmanager
def write_transactions(engine: sa.Engine) -> Iterator[list[float]]:
    """The seconds each write transaction on `engine` lasted (begin to commit or
    rollback) while inside: what a writer queued behind another may wait at most."""
    from fabnet.store.engine import READ_ONLY

    started: dict[int, float] = {}
    seconds: list[float] = []

    def begin(conn: sa.Connection) -> None:
        if not conn.get_execution_options().get(READ_ONLY, False):
            started[id(conn)] = time.perf_counter()

    def end(conn: sa.Connection) -> None:
        t = started.pop(id(conn), None)
        if t is not None:
            seconds.append(time.perf_counter() - t)
    sa.event.listen(engine, "begin", begin)
    sa.event.listen(engine, "commit", end)
    sa.event.listen(engine, "rollback", end)
    try:
        yield seconds
    finally:
        sa.event.remove(engine, "begin", begin)
        sa.event.remove(engine, "commit", end)
        sa.event.remove(engine, "rollback", end)


def store_speed(url: str, big: Path) -> dict[str, Any]:
    """The large import, one-row edits of it, and logins and edits of another scenario
    while a second large import runs: their slowest wait, and any failure."""
    db_svc.init_store(url)
    store = db_svc.connect(url, "bench")
    load_at_start = os.getloadavg()
    try:
        accounts.create_user(store, "ann", "correct horse battery", Role.PLANNER)
        with tempfile.TemporaryDirectory() as d:
            small = Path(d) / "load.yaml"
            small.write_text(NETWORK)
            scenario_svc.import_scenario(store, small, "other")
        t, cpu = time.perf_counter(), time.process_time()
        scenario_svc.import_scenario(store, big, "big")
        imported, import_cpu = time.perf_counter() - t, time.process_time() - cpu
        edits, edit_cpu, refused = one_row_edits(store)
        t = time.perf_counter()
        chain = audit_trail.verify_audit(store)
        verified = time.perf_counter() - t
        waits: list[float] = []
        errors: list[str] = []
        busy = threading.Event()

        def others() -> None:
            step = 0
            while not busy.is_set() or step < 5:
                step += 1
                for kind in ("login", "edit"):
                    t0 = time.perf_counter()
                    try:
                        if kind == "login":
                            accounts.login(store, "ann", "correct horse battery",
                                           timedelta(hours=1))
                        else:
                            editing.edit_row(store, "other", "demand", editing.EditOp.PATCH,
                                             "D1", {"qty": 50 + step})
                    except Exception as e:  # noqa: BLE001 - reported
                        errors.append(f"{kind}: {type(e).__name__}: {e}"[:200])
                    waits.append(time.perf_counter() - t0)
                if step > 200:
                    break

        worker = threading.Thread(target=others)
        with write_transactions(store.engine) as longest:
            t = time.perf_counter()
            worker.start()
            scenario_svc.import_scenario(store, big, "big-2")
            second = time.perf_counter() - t
            busy.set()
            worker.join()
        return {"import_s": imported, "import_cpu_s": import_cpu, "edit_s": edits[0],
                "edits_s": edits, "edit_cpu_s": edit_cpu,
                "refused_s": refused, "verify_s": verified, "load_start": load_at_start,
                "verify_ok": chain.ok, "second_import_s": second, "others": len(waits),
                "others_max_s": max(waits, default=0.0), "others_errors": errors,
                "longest_write_s": max(longest, default=0.0),
                "size_mb": big.stat().st_size / 1e6, "load": os.getloadavg()}
    finally:
        store.engine.dispose()


def report_speed(console: Console, results: dict[str, dict[str, Any] | str]) -> None:
    """The store-speed table."""
    tab = Table(title="store speed: a large scenario")
    for c in ("database", "YAML MB", "import s (CPU s)", "one-row edit ms",
              "5 edits: median / max ms (CPU ms each)",
              "refused edit s", "audit verify s", "logins+edits during an import",
              "slowest of them s", "longest write transaction s", "errors",
              "load (1/5/15) at start", "at end"):
        tab.add_column(c, justify="left" if c == "database" else "right")
    for db, r in results.items():
        if isinstance(r, str):
            tab.add_row(db, *["-"] * 11, f"skipped: {r}")
            continue
        tab.add_row(db, f"{r['size_mb']:.2f}", f"{r['import_s']:.2f} ({r['import_cpu_s']:.2f})",
                    f"{1000 * r['edit_s']:.0f}",
                    f"{1000 * statistics.median(r['edits_s']):.0f} / "
                    f"{1000 * max(r['edits_s']):.0f} ({1000 * r['edit_cpu_s']:.0f})",
                    f"{r['refused_s']:.2f}",
                    f"{r['verify_s']:.2f}", str(r["others"]), f"{r['others_max_s']:.3f}",
                    f"{r['longest_write_s']:.3f}", str(len(r["others_errors"])),
                    " ".join(f"{x:.1f}" for x in r["load_start"]),
                    " ".join(f"{x:.1f}" for x in r["load"]))
    console.print(tab)
    for db, r in results.items():
        if not isinstance(r, str):
            for e in r["others_errors"][:3]:
                console.print(f"[yellow]{db}: {e}[/]")


def main_speed(target_mb: float) -> int:
    """The store-speed measurement on SQLite and PostgreSQL; 1 if anything failed."""
    console = Console(width=None if sys.stdout.isatty() else 150)
    results: dict[str, dict[str, Any] | str] = {}
    with tempfile.TemporaryDirectory() as d:
        big = big_scenario_yaml(Path(d), target_mb)
        for db, make in (("sqlite", sqlite_url), ("postgresql", postgres_url)):
            console.print(f"[cyan]{db}: store speed ...[/]")
            try:
                with make() as url:
                    results[db] = store_speed(url, big)
            except LookupError as e:
                results[db] = str(e)
    report_speed(console, results)
    bad = [db for db, r in results.items()
           if not isinstance(r, str) and (r["others_errors"] or not r["verify_ok"])]
    return 1 if bad else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m benchmarks.api_load",
                                 description="Concurrent clients editing and planning over "
                                 "the HTTP API, on SQLite and PostgreSQL.")
    ap.add_argument("--quick", action="store_true", help="4 clients x 15 steps")
    ap.add_argument("--store-speed", type=float, metavar="MB", default=None,
                    help="instead: import a synthetic scenario of about MB megabytes, edit "
                    "one row, and log in and edit another scenario during a second import")
    args = ap.parse_args()
    sys.exit(main_speed(args.store_speed) if args.store_speed else main(args.quick))
