"""`fabnet trace LOT_OR_SERIAL --down|--up`: which units contain it, or what it is made of."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, show
from fabnet.cli.store import ActorHere, UrlHere, open_store, settings_callback
from fabnet.model.errors import FabnetError


def trace_cmd(ctx: typer.Context, lot_or_serial: str,
              down: Annotated[bool, typer.Option("--down", help="Units that contain it.")]
              = False,
              up: Annotated[bool, typer.Option("--up", help="What the unit is made of.")]
              = False,
              recall: Annotated[bool, typer.Option(
                  "--recall", help="With --down on a lot: open a what-if branch that owes "
                  "every customer a replacement for each delivered unit carrying it, plan "
                  "it and compare it with the base plan.")] = False,
              branch: Annotated[str | None, typer.Option(
                  help="With --recall: the branch's name (default: recall-LOT).")] = None,
              scenario: ScenarioOpt = None, url: UrlHere = None, actor: ActorHere = None,
              as_json: JsonOpt = False) -> None:
    """Trace a lot or a serial through the genealogy, down or up."""
    from fabnet.services.floor import caller_for
    from fabnet.services.trace import trace_down, trace_up

    if down == up:
        raise FabnetError("trace: give exactly one of --down and --up")
    if recall and not down:
        raise FabnetError("trace --recall: recalls go down from a lot (fix: add --down)")
    settings_callback(ctx, url, actor)
    store = open_store(ctx)
    caller = caller_for(store)
    if down:
        d = trace_down(store, caller, lot_or_serial, scenario)
        note = f" ({d.hidden} more at other sites)" if d.hidden else ""
        if not (recall and as_json):
            show(as_json, f"{len(d.units)} units contain {lot_or_serial}{note}",
                 ["serial", "item", "site", "status", "depth", "shipment", "customer"],
                 [[u.serial, u.item, u.site, u.status, u.depth, u.shipment, u.customer]
                  for u in d.units], d)
        if recall:
            show_recall(store, caller, lot_or_serial, scenario, branch, as_json, d)
        return
    t = trace_up(store, caller, lot_or_serial)
    if as_json:
        show(True, "", [], [], t)
        return
    show(False, f"{t.serial} ({t.item}) is made of", ["depth", "in", "item", "qty", "serial",
                                                      "lot", "supplier", "held"],
         [[c.depth, c.parent, c.item, f"{c.qty:g}", c.serial, c.lot, c.supplier,
           "HELD" if c.held else ""] for c in t.components], t)
    show(False, "operations", ["serial", "step", "work center", "operator", "start", "end"],
         [[o.serial, o.seq, o.work_center, o.operator, o.started_at, o.ended_at]
          for o in t.operations], t.operations)
    show(False, "tests", ["serial", "step", "result", "value", "station", "at"],
         [[r.serial, r.step, "pass" if r.passed else "FAIL", r.value, r.station, r.at]
          for r in t.tests], t.tests)


def show_recall(store: Any, caller: Any, lot: str, scenario: str | None, branch: str | None,
                as_json: bool, down: Any) -> None:
    """Open the recall's what-if branch, plan it, and print what it costs the plan."""
    from fabnet.services.recall import COMPARED, recall

    r = recall(store, caller, lot, scenario, branch)
    if as_json:
        show(True, "", [], [], {"trace": down, "recall": r, "delta": r.delta})
        return
    show(False, f"branch {r.branch}: replacements owed for {len(r.units)} delivered units",
         ["demand", "customer", "item", "qty", "due", "priority"],
         [[x.id, x.customer, x.item, x.qty, x.due, 1] for x in r.replacements], r)
    delta = r.delta
    show(False, f"what the recall costs the plan (base run {r.base_run}, recall run {r.run}: "
         f"{r.status})", ["KPI", "base plan", "with the recall", "change"],
         [[k, _num(r.base_kpis.get(k)), _num(r.kpis.get(k)), _num(delta.get(k), True)]
          for k in COMPARED if k in r.kpis or k in r.base_kpis], r)


def _num(v: Any, signed: bool = False) -> str:
    if not isinstance(v, int | float):
        return ""
    return f"{v:+,.4g}" if signed else f"{v:,.4g}"
