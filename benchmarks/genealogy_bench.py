"""Genealogy at scale: a store with 1,000,000 serialized units in three levels (supplier
lots -> battery packs -> drones -> shipments), bulk loaded, then traced up and down
through fabnet's own services (`fabnet.services.trace`, the recursive SQL the CLI and
the API run), on SQLite and on PostgreSQL.

    python -m benchmarks.genealogy_bench                   # 1,000,000 units, both databases
    python -m benchmarks.genealogy_bench --units 100000 --db sqlite
    python -m benchmarks.genealogy_bench --json out/genealogy.json
    python -m benchmarks.genealogy_bench --explain          # also the down walk's plan

Half the units are packs, half drones. Each pack holds 4 cells of one supplier lot,
each lot going into `--per-lot` packs (5,000), so tracing a lot down finds 5,000 packs and
the 5,000 delivered drones they are in; each drone holds one pack and a frame of a frame
lot; every drone is shipped, 100 to a shipment. The load hands plain tuples to the
driver (executemany on SQLite, COPY on PostgreSQL), not the per-unit services, into the
tables with all their indexes, then settles the store as its next minutes would (a WAL
checkpoint; VACUUM ANALYZE, as autovacuum does). PostgreSQL runs in a schema of its own
(`fabnet_bench_…` on 127.0.0.1:5432/test, or `--pg-url`), dropped afterwards; SQLite in
a temporary folder, deleted afterwards. `--units N` makes a smaller store for a quick
run; the goals are for 1,000,000.

Goals (the issue's): load under 2 minutes, `--up` of a unit p95 under 5 ms, `--down` of
a lot in 5,000 delivered units p95 under 100 ms. The machine's load average (at the
start and the end of each database's run) is printed with the figures, since other work
on it slows every number, and so is each trace's mean CPU time (fabnet's and, for a local
PostgreSQL, its server's), which waiting for a CPU does not inflate. `--explain` also
prints the plan of one lot's down statement and the work it does, which no load
changes: SQLite's virtual machine steps (`EXPLAIN QUERY PLAN`, then the statement run
with a progress handler), PostgreSQL's rows and buffers (`EXPLAIN (ANALYZE, BUFFERS,
TIMING OFF)`).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fabnet.services import database as db_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.trace import trace_down, trace_up
from fabnet.shop import genealogy_sql as gq
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from fabnet.store.floor_schema import (
    genealogy,
    lots,
    shipment_units,
    shipments,
    units,
    work_orders,
)
from fabnet.store.schema import Stamp

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ADMIN = Caller("bench", Role.ADMIN)
CHUNK = 50_000

NETWORK = """
scenario: genealogy bench
horizon: {start: 2027-01-04, bucket: week, buckets: 4}
items:
  - {id: DRONE, kind: product, serialized: true}
  - {id: PACK, kind: assembly, serialized: true}
  - {id: FRAME, kind: component}
  - {id: CELL, kind: component}
boms:
  DRONE: [{item: FRAME, qty: 1}, {item: PACK, qty: 1}]
  PACK: [{item: CELL, qty: 4}]
routings:
  DRONE: [{work_center: assembly, hours: 1}]
  PACK: [{work_center: assembly, hours: 1}]
sites:
  - {id: HUB, country: FR, makes: [DRONE, PACK], work_centers: [{type: assembly, hours: 1e6}]}
suppliers:
  - {id: SUP, country: FR, offers: [{item: FRAME, price: 1, lead_time: 0},
                                    {item: CELL, price: 1, lead_time: 0}]}
customers:
  - {id: C1, country: UA, approved: true}
lanes:
  - {from: SUP, to: HUB, transit: 0}
  - {from: HUB, to: C1, transit: 0}
demand:
  - {id: D1, customer: C1, item: DRONE, qty: 1, due: 2027-01-18}
"""


def cell_lot(i: int) -> str:
    """The code of the i-th cell lot, as a supplier might print it."""
    return f"LG {2400 + i // 100}-{i % 100:03d}"


def _rows(n_units: int, per_lot: int) -> dict[str, Any]:
    """Column-wise rows of every table: packs get ids 1..P, drones P+1..P+D."""
    packs = n_units // 2
    drones = n_units - packs
    n_cell, n_frame = max(1, -(-packs // per_lot)), max(1, -(-drones // 1000))
    t = datetime(2027, 1, 5, 8, tzinfo=UTC)
    lot_rows = ([(i + 1, cell_lot(i), "CELL", 4.0 * per_lot) for i in range(n_cell)]
                + [(n_cell + i + 1, f"FR-{i:05d}", "FRAME", 1000.0) for i in range(n_frame)])
    # id, serial, item, work order, status, latest shipment (drone j is in shipment j // 100)
    unit_rows = ([(i + 1, f"BP-HUB-{i:07d}", "PACK", 1, "installed", None)
                  for i in range(packs)]
                 + [(packs + j + 1, f"RQ-2027-{j:07d}", "DRONE", 2, "shipped", j // 100 + 1)
                    for j in range(drones)])
    edges = ([(i + 1, None, None, i // per_lot + 1, "CELL", 4.0) for i in range(packs)]
             + [(packs + j + 1, None, j % packs + 1 if packs else None, None, "PACK", 1.0)
                for j in range(drones)]
             + [(packs + j + 1, None, None, n_cell + j // 1000 + 1, "FRAME", 1.0)
                for j in range(drones)])
    n_ship = -(-drones // 100)
    return {"t": t, "packs": packs, "drones": drones, "n_cell": n_cell, "lots": lot_rows,
            "units": unit_rows, "edges": [e for e in edges if e[2] or e[3]],
            "shipments": [(k + 1,) for k in range(n_ship)],
            "shipment_units": [(packs + j + 1, j // 100 + 1) for j in range(drones)]}


def load(store: Store, n_units: int, per_lot: int) -> dict[str, Any]:
    """Bulk-load the genealogy into a store that holds the bench network; what was made
    (and, in `phases`, the seconds each table took)."""
    data = _rows(n_units, per_lot)
    t = data["t"]
    phases: dict[str, float] = {}
    with store.engine.begin() as conn:
        sid = conn.execute(sa.text("SELECT id FROM scenarios")).scalar_one()
        vid = conn.execute(sa.text("SELECT id FROM scenario_versions")).scalar_one()
        conn.execute(sa.insert(work_orders), [
            {"id": k, "scenario_id": sid, "version_id": vid, "plan_run_id": None,
             "site": "HUB", "item": item, "qty": max(1, n), "qty_done": max(1, n),
             "due_bucket": 0, "due_date": t.date(), "status": "done", "created_at": t,
             "created_by": "bench", "updated_at": t}
            for k, item, n in ((1, "PACK", data["packs"]), (2, "DRONE", data["drones"]))])
        pg = conn.dialect.name == "postgresql"
        # the time and the flag as the database stores them, worked out once, not per row
        at: Any = t.isoformat() if pg else Stamp.dialect_impl(conn.dialect).bind_processor(
            conn.dialect)(t)  # type: ignore[misc]
        no: Any = False if pg else 0
        tables: list[tuple[sa.Table, list[str], Iterable[tuple[Any, ...]]]] = [
            (lots, ["id", "scenario_id", "site", "item", "code", "supplier", "qty_received",
                    "remaining", "held", "received_at", "received_by"],
             ((i, sid, "HUB", item, code, "SUP", q, 0.0, no, at, "bench")
              for i, code, item, q in data["lots"])),
            (units, ["id", "serial", "item", "site", "work_order_id", "status", "held",
                     "completed_at", "shipped_at", "built_at", "built_by",
                     "last_shipment_id"],
             ((i, s, item, "HUB", wo, st, no, at, at if st == "shipped" else None, at,
               "bench", ship) for i, s, item, wo, st, ship in data["units"])),
            (genealogy, ["parent_unit_id", "parent_lot_id", "child_unit_id", "child_lot_id",
                         "item", "qty", "added_at"],
             ((*e, at) for e in data["edges"])),
            (shipments, ["id", "scenario_id", "customer", "shipped_at", "shipped_by"],
             ((k, sid, "C1", at, "bench") for k, in data["shipments"])),
            (shipment_units, ["unit_id", "shipment_id"], data["shipment_units"]),
        ]
        names = [tb.name for tb, _, _ in tables]
        restore = _set_aside(conn, names) if pg else _set_aside_sqlite(conn, names)
        for table, cols, rows in tables:
            t0 = time.perf_counter()
            if pg:
                _copy(conn, table.name, cols, rows)
            else:  # the driver's executemany on plain tuples: no per-row dicts or types
                sql = (f"INSERT INTO {table.name} ({', '.join(cols)}) "
                       f"VALUES ({', '.join('?' * len(cols))})")
                for part in _chunks(rows):
                    conn.exec_driver_sql(sql, part)
            phases[table.name] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        restore()
        phases["indexes_and_keys"] = round(time.perf_counter() - t0, 1)
        if pg:
            for table, _, _ in tables:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                     f"'id'), (SELECT max(id) FROM {table.name}))"
                                     if table.name != "shipment_units" else "SELECT 1")
    t0 = time.perf_counter()
    if store.engine.dialect.name == "postgresql":  # as autovacuum would, soon after
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tb.name for tb, _, _ in tables)}")
    else:  # as SQLite's next write would: the pages move from the WAL into the file
        raw = store.engine.raw_connection()  # outside a transaction, which would block it
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    phases["settle"] = round(time.perf_counter() - t0, 1)
    # SQLite stores are never ANALYZEd by fabnet: its statistics count the NULLs of the
    # one-sided edge columns as one value, and would talk the planner out of their indexes
    return data | {"phases": phases}


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    """`rows` in lists of CHUNK."""
    it = iter(rows)
    while part := list(itertools.islice(it, CHUNK)):
        yield part


def _set_aside(conn: sa.Connection, tables: list[str]) -> Callable[[], None]:
    """Drop the foreign keys, unique constraints and secondary indexes of PostgreSQL
    tables about to be bulk loaded, and return what puts them back as they were:
    PostgreSQL's own recipe for populating a database ("Populating a Database" in its
    manual), where one check of each key over the whole table and one sort per index,
    in the same transaction, replace a trigger call and an index insert per row.
    Nothing is skipped: a row that breaks a key makes the restore, and so the whole
    load, fail."""
    keys = list(conn.execute(sa.text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid::regclass::text IN :t "
        "ORDER BY contype DESC")  # unique ones first: back before the keys
        .bindparams(sa.bindparam("t", expanding=True)), {"t": tables}))
    indexes = list(conn.execute(sa.text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text IN :t AND NOT i.indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")
        .bindparams(sa.bindparam("t", expanding=True)), {"t": tables}))
    for table, name, _ in keys:
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")

    def restore() -> None:
        for _, definition in indexes:
            conn.exec_driver_sql(definition)
        for table, name, definition in keys:
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return restore


def _set_aside_sqlite(conn: sa.Connection, tables: list[str]) -> Callable[[], None]:
    """The same for SQLite, which can't drop a key: its secondary indexes are dropped and
    made again after the load (each in one sort); its keys stay, and are checked per row
    on their primary keys."""
    indexes = list(conn.execute(sa.text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN :t").bindparams(sa.bindparam("t", expanding=True)), {"t": tables}))
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')

    def restore() -> None:
        for _, definition in indexes:
            conn.exec_driver_sql(definition)
    return restore


def _copy(conn: sa.Connection, table: str, cols: list[str],
          rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows into a PostgreSQL table through psycopg (its binary-safe row writer)."""
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row(r)


class CpuClock:
    """CPU time spent on a trace: this process's and, on a PostgreSQL server on this
    machine, its server processes' (read from /proc), so a figure can be told apart
    from the time spent waiting for a CPU on a loaded machine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.backends: set[int] = set()
        self.tick = os.sysconf("SC_CLK_TCK")
        if engine.dialect.name == "postgresql":
            engine.dispose()  # the pool's next connections say which server process is theirs
            sa.event.listen(engine, "connect",
                            lambda dbapi, _: self.backends.add(dbapi.info.backend_pid))

    @property
    def scope(self) -> str:
        """Whose CPU time is counted."""
        return "fabnet and its server" if self.backends else "fabnet"

    def ms(self) -> float:
        """CPU milliseconds so far (server processes that can't be read are left out)."""
        total = time.process_time() * 1000
        for pid in list(self.backends):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a server elsewhere, or a connection closed since
                self.backends.discard(pid)
                continue
            total += (int(stat[11]) + int(stat[12])) * 1000 / self.tick
        return total


def _times(fn: Callable[[], Any], n: int, clock: CpuClock) -> tuple[list[float], float]:
    """Milliseconds of `n` calls (after one warm-up call), and their mean CPU time."""
    fn()
    out = []
    c0 = clock.ms()
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out, (clock.ms() - c0) / n


def p95(xs: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(xs, n=20)[-1] if len(xs) > 1 else xs[0]


def explain_down(store: Store, lot_id: int) -> list[str]:
    """The plan of the down statement for one lot, and the work it does: on SQLite the
    plan and the statement's virtual machine steps, on PostgreSQL the plan as run, with
    its rows and buffers."""
    dialect = store.engine.dialect.name
    sql = str(gq.down_query(False, dialect).params(lots=[lot_id], units=[]).compile(
        dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn, conn.begin():
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")  # as a trace runs it
            return [r[0] for r in conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql)]
        plan = [f"{r[0]:>4} {r[1]:>4} {r[3]}"
                for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
        raw: Any = conn.connection.dbapi_connection
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0
        raw.set_progress_handler(count, 1000)
        try:
            n = len(conn.exec_driver_sql(sql).all())
        finally:
            raw.set_progress_handler(None, 0)
    return [*plan, f"{n:,} rows in about {steps[0]:,} thousand virtual machine steps"]


def bench(url: str, n_units: int, per_lot: int, samples: int, folder: Path,
          seed: int = 1, explain: bool = False) -> dict[str, Any]:
    """Make the store, load it, trace; the figures (with `explain`, the down walk's plan
    and work, in `down_plan`)."""
    start_load = [round(x, 2) for x in os.getloadavg()]
    db_svc.init_store(url)
    store = db_svc.connect(url, "bench")
    try:
        (folder / "bench.yaml").write_text(NETWORK)
        scenario_svc.import_scenario(store, folder / "bench.yaml", "bench")
        t0 = time.perf_counter()
        data = load(store, n_units, per_lot)
        load_s = time.perf_counter() - t0
        drones = [s for _, s, item, *_ in data["units"] if item == "DRONE"]
        made = {"genealogy_edges": len(data["edges"]), "lots": len(data["lots"]),
                "shipments": len(data["shipments"])}
        n_cell, phases = data["n_cell"], data["phases"]
        # the millions of rows made for the load would be walked by every full garbage
        # collection during the traces, which a CLI or API process never holds
        del data
        gc.collect()
        rng = random.Random(seed)
        clock = CpuClock(store.engine)
        up_refs = iter(rng.choices(drones, k=samples + 1))
        up_sizes: list[int] = []

        def up() -> None:
            t = trace_up(store, ADMIN, next(up_refs))
            up_sizes.append(len(t.components))
        up_ms, up_cpu = _times(up, samples, clock)
        n_down = max(5, samples // 5)
        down_refs = iter(rng.choices(range(n_cell), k=n_down + 1))
        down_sizes: list[int] = []

        def down() -> None:
            d = trace_down(store, ADMIN, cell_lot(next(down_refs)))
            down_sizes.append(sum(1 for u in d.units if u.customer is not None))
        down_ms, down_cpu = _times(down, n_down, clock)
        plan = explain_down(store, n_cell // 2 + 1) if explain else []
        return {"db": store.engine.dialect.name, "units": n_units,
                **made, "load_s": round(load_s, 1), "load_phases_s": phases,
                "up_p50_ms": round(statistics.median(up_ms), 2),
                "up_p95_ms": round(p95(up_ms), 2), "up_cpu_ms": round(up_cpu, 2),
                "up_parts": max(up_sizes),
                "down_p50_ms": round(statistics.median(down_ms), 1),
                "down_p95_ms": round(p95(down_ms), 1), "down_cpu_ms": round(down_cpu, 1),
                "down_delivered_units": max(down_sizes), "samples": [samples, n_down],
                "cpu_of": clock.scope, "loadavg_start": start_load,
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                **({"down_plan": plan} if explain else {})}
    finally:
        store.engine.dispose()


def _pg_schema(server: str) -> tuple[str, Callable[[], None]]:
    """A new schema on the server, and how to drop it."""
    schema = f"fabnet_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return f"{server}?options=-csearch_path%3D{schema}", drop


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per database (JSON with --json FILE)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=1_000_000)
    ap.add_argument("--per-lot", type=int, default=5_000, help="packs per cell lot")
    ap.add_argument("--samples", type=int, default=200, help="traces up (down: a tenth)")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", default=os.environ.get("FABNET_BENCH_POSTGRES_URL",
                                                       PG_DEFAULT))
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--explain", action="store_true",
                    help="also print the plan and work of one lot's down statement")
    args = ap.parse_args(argv)
    results = []
    print(f"genealogy: {args.units:,} units, {args.per_lot:,} packs per cell lot, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        with tempfile.TemporaryDirectory(prefix="fabnet-genealogy-") as tmp:
            if db == "sqlite":
                r = bench(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", args.units,
                          args.per_lot, args.samples, Path(tmp), explain=args.explain)
            else:
                try:
                    url, drop = _pg_schema(args.pg_url)
                except sa.exc.OperationalError as e:
                    print(f"postgresql: skipped, no server at {args.pg_url} "
                          f"({str(e.orig).splitlines()[0]})")
                    continue
                try:
                    r = bench(url, args.units, args.per_lot, args.samples, Path(tmp),
                              explain=args.explain)
                finally:
                    drop()
        results.append(r)
        ok = (r["load_s"] < 120, r["up_p95_ms"] < 5, r["down_p95_ms"] < 100)
        print(f"{r['db']:>10}: load {r['load_s']:.1f} s (goal 120), up p50 "
              f"{r['up_p50_ms']:.2f} / p95 {r['up_p95_ms']:.2f} ms (goal 5, "
              f"{r['up_parts']} parts; CPU {r['up_cpu_ms']:.2f} ms), down p50 "
              f"{r['down_p50_ms']:.1f} / p95 {r['down_p95_ms']:.1f} ms (goal 100, "
              f"{r['down_delivered_units']:,} delivered units; CPU {r['down_cpu_ms']:.1f} "
              f"ms); goals met: {'yes' if all(ok) else 'no'}; load average "
              f"{r['loadavg_start'][0]:.2f} -> {r['loadavg'][0]:.2f}; CPU of {r['cpu_of']}")
        for line in r.get("down_plan", []):
            print(f"{'':>12}{line}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
