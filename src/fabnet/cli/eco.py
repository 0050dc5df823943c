"""`fabnet eco …`: engineering change orders on the store of `FABNET_DATABASE_URL` (or
`--url`), acting as `--as` / `FABNET_USER`: create, submit, release or reject, list,
show, impact and retrofit. Each prints a table, or JSON with `--json`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, show
from fabnet.cli.store import ActorOpt, UrlOpt, open_store, settings_callback
from fabnet.model.errors import FabnetError

eco_app = typer.Typer(no_args_is_help=True, help="Engineering change orders: design changes "
                      "with effectivity, reviewed by another engineer, with their impact.")

Specs = Annotated[list[str] | None, typer.Option(metavar="PARENT/PART[=QTY]")]


@eco_app.callback()
def eco_main(ctx: typer.Context, url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """Engineering change orders, on the shared store."""
    settings_callback(ctx, url, actor)


def _ctx(ctx: typer.Context) -> tuple[Any, Any]:
    from fabnet.services.floor import caller_for

    store = open_store(ctx)
    return store, caller_for(store)


def _day(flag: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FabnetError(f"{flag} {text!r}: not a date (fix: write YYYY-MM-DD)") from None


def _eco_rows(ecos: list[Any]) -> list[list[Any]]:
    return [[e.code, e.status.value, e.effective or f"after {e.effective_serial}",
             e.description, "; ".join(ln.label for ln in e.lines), e.created_by,
             e.decided_by, e.version] for e in ecos]


_ECO_COLS = ["eco", "status", "effective", "description", "lines", "author", "reviewer",
             "version"]


def _one(as_json: bool, title: str, e: Any) -> None:
    show(as_json, title, _ECO_COLS, _eco_rows([e]), e)


@eco_app.command("create")
def create_cmd(ctx: typer.Context,
               description: Annotated[str, typer.Option(help="What changes and why.")],
               from_: Annotated[str | None, typer.Option(
                   "--from", help="Effective from DATE (the plan's lines change then).")]
               = None,
               from_serial: Annotated[str | None, typer.Option(
                   help="Effective for the units built after SERIAL (the plan's lines "
                   "change on the day of release).")] = None,
               add_bom: Specs = None, remove_bom: Specs = None, change_bom: Specs = None,
               add_step: Specs = None, remove_step: Specs = None, change_step: Specs = None,
               scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Write a draft ECO (engineering): BOM lines PARENT/COMPONENT=QTY and routing steps
    ITEM/WORK_CENTER=HOURS added, removed (no =) or changed."""
    from fabnet.services.eco import create_eco
    from fabnet.shop.eco import EcoKind, EcoOp, parse_line

    lines = [parse_line(kind, op, text)
             for kind, op, texts in ((EcoKind.BOM, EcoOp.ADD, add_bom),
                                     (EcoKind.BOM, EcoOp.REMOVE, remove_bom),
                                     (EcoKind.BOM, EcoOp.CHANGE, change_bom),
                                     (EcoKind.ROUTING, EcoOp.ADD, add_step),
                                     (EcoKind.ROUTING, EcoOp.REMOVE, remove_step),
                                     (EcoKind.ROUTING, EcoOp.CHANGE, change_step))
             for text in texts or []]
    store, caller = _ctx(ctx)
    e = create_eco(store, caller, description, lines, _day("--from", from_), from_serial,
                   scenario)
    _one(as_json, f"{e.code} written (draft): `fabnet eco submit {e.code}` sends it to "
         "review", e)


@eco_app.command("submit")
def submit_cmd(ctx: typer.Context, eco: str, as_json: JsonOpt = False) -> None:
    """Send a draft ECO to review."""
    from fabnet.services.eco import submit_eco
    from fabnet.shop.eco import parse_eco

    store, caller = _ctx(ctx)
    e = submit_eco(store, caller, parse_eco(eco))
    _one(as_json, f"{e.code} is in review", e)


@eco_app.command("release")
def release_cmd(ctx: typer.Context, eco: str,
                note: Annotated[str, typer.Option(help="The reviewer's note.")] = "",
                as_json: JsonOpt = False) -> None:
    """Release an ECO in review (not its author): the change goes into the stored
    scenario as a new version."""
    from fabnet.services.eco import release_eco
    from fabnet.shop.eco import parse_eco

    store, caller = _ctx(ctx)
    e = release_eco(store, caller, parse_eco(eco), note)
    _one(as_json, f"{e.code} released as version {e.version} of {e.scenario}, lines from "
         f"{e.applied_on}", e)


@eco_app.command("reject")
def reject_cmd(ctx: typer.Context, eco: str,
               note: Annotated[str, typer.Option(help="Why it is rejected.")],
               as_json: JsonOpt = False) -> None:
    """Reject an ECO in review (not its author), saying why."""
    from fabnet.services.eco import reject_eco
    from fabnet.shop.eco import parse_eco

    store, caller = _ctx(ctx)
    e = reject_eco(store, caller, parse_eco(eco), note)
    _one(as_json, f"{e.code} rejected", e)


@eco_app.command("list")
def list_cmd(ctx: typer.Context,
             status: Annotated[str | None, typer.Option(
                 help="draft, in_review, released or rejected.")] = None,
             scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """The ECOs of the stored scenario, newest first."""
    from fabnet.services.eco import list_ecos
    from fabnet.shop.eco import EcoStatus

    try:
        st = EcoStatus(status) if status else None
    except ValueError:
        raise FabnetError(f"--status {status!r}: one of "
                          f"{', '.join(s.value for s in EcoStatus)}") from None
    store, caller = _ctx(ctx)
    ecos = list_ecos(store, caller, scenario, st)
    show(as_json, f"{len(ecos)} ECOs", _ECO_COLS, _eco_rows(ecos), ecos)


@eco_app.command("show")
def show_cmd(ctx: typer.Context, eco: str, as_json: JsonOpt = False) -> None:
    """One ECO with its lines."""
    from fabnet.services.eco import get_eco
    from fabnet.shop.eco import parse_eco

    store, caller = _ctx(ctx)
    e = get_eco(store, caller, parse_eco(eco))
    _one(as_json, e.code, e)


@eco_app.command("impact")
def impact_cmd(ctx: typer.Context, eco: str, as_json: JsonOpt = False) -> None:
    """What releasing an ECO would touch: open work orders of the old design, units in
    stock and delivered that carry a retired part, component demand with and without the
    change, and phased-out stock left over."""
    from fabnet.services.eco import eco_impact
    from fabnet.shop.eco import parse_eco

    store, caller = _ctx(ctx)
    imp = eco_impact(store, caller, parse_eco(eco))
    if as_json:
        show(True, "", [], [], imp)
        return
    e = imp.eco
    _one(False, f"{e.code}: lines change on {imp.on}", e)
    show(False, f"{len(imp.work_orders)} open work orders build the old design",
         ["work order", "site", "item", "qty", "done", "due", "status"],
         [[o.code, o.site, o.item, o.qty, o.qty_done, o.due_date, o.status.value]
          for o in imp.work_orders], None)
    for title, group in (("in stock", imp.in_stock), ("delivered", imp.delivered)):
        show(False, f"{len(group)} units {title} carry a retired part",
             ["serial", "item", "site", "status", "parts", "in"],
             [[u.serial, u.item, u.site, u.status, ", ".join(u.parts), u.via]
              for u in group], None)
    show(False, "component demand, without and with the change",
         ["item", "table", "bucket", "start", "without", "with", "change"],
         [[d.item, d.table, d.bucket, d.start, f"{d.before:g}", f"{d.after:g}",
           f"{d.delta:+g}"] for d in imp.demand], None)
    show(False, "phased-out stock left over", ["site", "item", "lot", "remaining",
                                               "still in a BOM"],
         [[x.site, x.item, x.lot, f"{x.remaining:g}", "yes" if x.still_used else "no"]
          for x in imp.leftovers], None)


@eco_app.command("retrofit")
def retrofit_cmd(ctx: typer.Context, eco: str, as_json: JsonOpt = False) -> None:
    """Open a repair order for each delivered unit a released ECO affects."""
    from fabnet.services.eco import retrofit
    from fabnet.shop.eco import parse_eco

    store, caller = _ctx(ctx)
    done = retrofit(store, caller, parse_eco(eco))
    show(as_json, f"{len(done)} repair orders opened", ["serial", "repair order", "parts"],
         [[r.serial, r.repair_order, ", ".join(r.parts)] for r in done], done)
