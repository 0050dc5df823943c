"""`fabnet floor …`: work orders, lots, builds, tests, yields, holds and shipments on the
store of `FABNET_DATABASE_URL` (or `--url`), acting as `--as` / `FABNET_USER`.

Each command prints a table, or JSON with `--json`. The floor runs in one stored
scenario: `--scenario` / `FABNET_SCENARIO`, or the store's only one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

import typer
from rich.table import Table

from fabnet.cli.console import out_console
from fabnet.cli.store import ActorOpt, UrlOpt, open_store, settings_callback
from fabnet.model.errors import FabnetError

floor_app = typer.Typer(no_args_is_help=True, help="The floor: work orders, lots, serialized "
                        "units, tests, yields, holds and shipments.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ScenarioOpt = Annotated[str | None, typer.Option(
    "--scenario", envvar="FABNET_SCENARIO", help="The stored scenario the floor runs in.")]


@floor_app.callback()
def floor_main(ctx: typer.Context, url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """The floor, on the shared store."""
    settings_callback(ctx, url, actor)


def _plain(v: Any) -> Any:
    if is_dataclass(v) and not isinstance(v, type):
        return {k: _plain(x) for k, x in asdict(v).items()}
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, date | datetime):
        return v.isoformat()
    return v


def show(as_json: bool, title: str, columns: list[str], rows: list[list[Any]],
         doc: Any) -> None:
    """A rich table for people, or `doc` as JSON."""
    if as_json:
        out_console.print_json(json.dumps(_plain(doc)))
        return
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if x is None else str(x) for x in r])
    out_console.print(t)


def _ctx(ctx: typer.Context) -> tuple[Any, Any]:
    from fabnet.services.floor import caller_for

    store = open_store(ctx)
    return store, caller_for(store)


def _orders_rows(orders: list[Any]) -> list[list[Any]]:
    return [[o.code, o.site, o.item, o.qty, o.qty_done, o.due_date, o.status.value,
             " > ".join(op.work_center for op in o.operations)] for o in orders]


_WO_COLS = ["work order", "site", "item", "qty", "done", "due", "status", "operations"]


@floor_app.command("release")
def release_cmd(ctx: typer.Context, scenario: str,
                run: Annotated[int | None, typer.Option(help="Plan run id (default: newest).")]
                = None,
                until: Annotated[str | None, typer.Option(help="Release buckets up to DATE.")]
                = None, as_json: JsonOpt = False) -> None:
    """Turn a stored plan run's production into released work orders."""
    from fabnet.services.floor import release

    store, caller = _ctx(ctx)
    orders = release(store, caller, scenario, run, _day(until) if until else None)
    show(as_json, f"{len(orders)} work orders released", _WO_COLS, _orders_rows(orders), orders)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FabnetError(f"--until {text!r}: not a date (fix: write YYYY-MM-DD)") from None


@floor_app.command("orders")
def orders_cmd(ctx: typer.Context, site: Annotated[str | None, typer.Option()] = None,
               status: Annotated[list[str] | None, typer.Option(
                   help="released, in_progress, done or cancelled (repeat).")] = None,
               scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """List work orders (a line lead sees their own sites' queue only)."""
    from fabnet.services.floor import list_orders
    from fabnet.shop.work_order import WorkOrderStatus

    try:
        statuses = tuple(WorkOrderStatus(s) for s in status or [])
    except ValueError:
        raise FabnetError(f"--status: one of {', '.join(s.value for s in WorkOrderStatus)}"
                          ) from None
    store, caller = _ctx(ctx)
    orders = list_orders(store, caller, scenario, site, statuses)
    show(as_json, f"{len(orders)} work orders", _WO_COLS, _orders_rows(orders), orders)


@floor_app.command("receive")
def receive_cmd(ctx: typer.Context, lot: Annotated[str, typer.Option()],
                qty: Annotated[float, typer.Option()],
                site: Annotated[str | None, typer.Option(help="Required without --po.")]
                = None,
                item: Annotated[str | None, typer.Option(help="Required without --po.")]
                = None,
                supplier: Annotated[str | None, typer.Option()] = None,
                po: Annotated[str | None, typer.Option(
                    "--po", help="Receive against this purchase order (PO-12): its site, "
                    "item and supplier; it closes when all of it came.")] = None,
                scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Book a supplier's lot into a site's stock (against a purchase order with --po)."""
    from fabnet.services.floor import receive

    if po is not None:
        from fabnet.cli.floor_po import receive_against_po

        receive_against_po(ctx, po, lot, qty, site, item, supplier, as_json)
        return
    if site is None or item is None:
        raise FabnetError("--site and --item: both are needed without --po (fix: name them, "
                          "or receive against a purchase order with --po PO-12)")
    store, caller = _ctx(ctx)
    x = receive(store, caller, site, item, lot, qty, supplier, scenario)
    show(as_json, "lot received", ["lot", "site", "item", "qty", "supplier"],
         [[x.code, x.site, x.item, f"{x.qty_received:g}", x.supplier]], x)


@floor_app.command("build")
def build_cmd(ctx: typer.Context, work_order: str, qty: Annotated[int, typer.Option()],
              use: Annotated[list[str] | None, typer.Option(help="ITEM=LOT (repeat).")] = None,
              operator: Annotated[str | None, typer.Option()] = None,
              as_json: JsonOpt = False) -> None:
    """Build units of a work order; prints the serials it made."""
    from fabnet.services.floor import build
    from fabnet.shop.work_order import parse_work_order

    named = {}
    for u in use or []:
        item, sep, lot = u.partition("=")
        if not sep or not item or not lot:
            raise FabnetError(f"--use {u!r}: write ITEM=LOT")
        named[item] = lot
    store, caller = _ctx(ctx)
    r = build(store, caller, parse_work_order(work_order), qty, named, operator)
    rows = [[s, r.item] for s in r.serials] or [[f"lot {r.lot}", r.item]]
    show(as_json, f"{r.work_order}: built {r.qty} {r.item}", ["serial", "item"], rows, r)


@floor_app.command("test")
def test_cmd(ctx: typer.Context, serial: str, step: Annotated[str, typer.Option()],
             passed: Annotated[bool, typer.Option("--pass/--fail")],
             value: Annotated[float | None, typer.Option()] = None,
             station: Annotated[str | None, typer.Option()] = None,
             as_json: JsonOpt = False) -> None:
    """Record a test result (a value outside the step's limits is a fail)."""
    from fabnet.services.floor import record_test

    store, caller = _ctx(ctx)
    o = record_test(store, caller, serial, step, passed, value, station)
    show(as_json, f"{serial}: {'complete' if o.complete else 'not complete'}",
         ["serial", "step", "result", "value", "still missing"],
         [[serial, step, "pass" if o.result.passed else "FAIL", o.result.value,
           ", ".join(o.missing)]], o)


@floor_app.command("yield")
def yield_cmd(ctx: typer.Context, scenario: ScenarioOpt = None,
              as_json: JsonOpt = False) -> None:
    """First-pass yield per item, site, step and week, and the failure Pareto."""
    from fabnet.services.floor import yields

    store, caller = _ctx(ctx)
    rows, pareto = yields(store, caller, scenario)
    if as_json:
        show(True, "", [], [], {"yield": [_plain(r) | {"fpy": r.fpy} for r in rows],
                                "pareto": pareto})
        return
    show(False, "first-pass yield", ["item", "site", "step", "week", "tested", "first pass",
                                     "FPY"],
         [[r.item, r.site, r.step, r.week, r.tested, r.first_pass, f"{r.fpy:.1%}"]
          for r in rows], rows)
    show(False, "failures (Pareto)", ["item", "step", "failures", "share"],
         [[f.item, f.step, f.failures, f"{f.share:.1%}"] for f in pareto], pareto)


@floor_app.command("hold")
def hold_cmd(ctx: typer.Context, lot_or_serial: str, reason: Annotated[str, typer.Option()],
             scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Hold a lot or a unit (quality)."""
    from fabnet.services.floor import hold

    store, caller = _ctx(ctx)
    hs = hold(store, caller, lot_or_serial, reason, scenario)
    show(as_json, "on hold", ["hold", "target", "site", "reason"],
         [[h.id, h.target, h.site, h.reason] for h in hs], hs)


@floor_app.command("release-hold")
def release_hold_cmd(ctx: typer.Context, lot_or_serial: str, scenario: ScenarioOpt = None,
                     as_json: JsonOpt = False) -> None:
    """Lift the holds on a lot or a unit (quality)."""
    from fabnet.services.floor import release_hold

    store, caller = _ctx(ctx)
    hs = release_hold(store, caller, lot_or_serial, scenario)
    show(as_json, "holds", ["hold", "target", "reason", "released"],
         [[h.id, h.target, h.reason, h.released_at] for h in hs], hs)


@floor_app.command("ship")
def ship_cmd(ctx: typer.Context, serials: list[str],
             customer: Annotated[str, typer.Option()], as_json: JsonOpt = False) -> None:
    """Ship complete units to an approved customer (all or none)."""
    from fabnet.services.floor import ship

    store, caller = _ctx(ctx)
    s = ship(store, caller, customer, serials)
    show(as_json, f"shipment {s.id} to {s.customer}", ["serial"], [[x] for x in s.serials], s)


@floor_app.command("demo")
def demo_cmd(out: Annotated[str, typer.Option(
                 "--out", help="Folder for the demo store (a new folder is made in it).")]
             = "out/demo-floor",
             scenario_file: Annotated[str, typer.Option(
                 "--scenario-file", help="The scenario to tell it on.")]
             = "examples/europe/scenario.yaml") -> None:
    """Tell a short floor story on a fresh store: release a week, build, a failed test and
    a retest, ship, hold a lot and trace it down."""
    from fabnet.services.floor_demo import run_floor_demo

    db, story = run_floor_demo(scenario_file, out)
    out_console.print(f"floor story on {db}:")
    for line in story.lines:
        out_console.print(f"  {line}", markup=False)


from fabnet.cli.floor_po import po_app  # noqa: E402 - `fabnet floor po …`

floor_app.add_typer(po_app, name="po")

from fabnet.cli import floor_transfer as _floor_transfer  # noqa: E402, F401 - transfer, arrive
