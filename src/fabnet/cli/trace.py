"""`fabnet trace LOT_OR_SERIAL --down|--up`: which units contain it, or what it is made of."""

from __future__ import annotations

from typing import Annotated

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, show
from fabnet.cli.store import ActorHere, UrlHere, open_store, settings_callback
from fabnet.model.errors import FabnetError


def trace_cmd(ctx: typer.Context, lot_or_serial: str,
              down: Annotated[bool, typer.Option("--down", help="Units that contain it.")]
              = False,
              up: Annotated[bool, typer.Option("--up", help="What the unit is made of.")]
              = False,
              scenario: ScenarioOpt = None, url: UrlHere = None, actor: ActorHere = None,
              as_json: JsonOpt = False) -> None:
    """Trace a lot or a serial through the genealogy, down or up."""
    from fabnet.services.floor import caller_for
    from fabnet.services.trace import trace_down, trace_up

    if down == up:
        raise FabnetError("trace: give exactly one of --down and --up")
    settings_callback(ctx, url, actor)
    store = open_store(ctx)
    caller = caller_for(store)
    if down:
        d = trace_down(store, caller, lot_or_serial, scenario)
        note = f" ({d.hidden} more at other sites)" if d.hidden else ""
        show(as_json, f"{len(d.units)} units contain {lot_or_serial}{note}",
             ["serial", "item", "site", "status", "depth", "shipment", "customer"],
             [[u.serial, u.item, u.site, u.status, u.depth, u.shipment, u.customer]
              for u in d.units], d)
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
