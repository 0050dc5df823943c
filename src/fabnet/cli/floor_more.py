"""`fabnet floor return|repair|service|history|line-down|qualify|qualifications|
require-qualification|skills`: repairs and service of delivered units, line-downs and
qualified operators, on the `fabnet floor` group (`fabnet.cli.floor`).

Like the rest of the group, each command works on the store of `FABNET_DATABASE_URL`
(or `--url`) as `--as` / `FABNET_USER`, and prints a table, or JSON with `--json`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, _ctx, floor_app, show
from fabnet.model.errors import FabnetError


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FabnetError(f"{option} {text!r}: not a date (fix: write YYYY-MM-DD)") from None


def _replacements(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for x in items:
        item, sep, ref = x.partition("=")
        if not sep or not item.strip() or not ref.strip():
            raise FabnetError(f"--replace {x!r}: write ITEM=LOT_OR_SERIAL (fix: e.g. --replace "
                              "FRAME=F-2)")
        if item.strip() in out:
            raise FabnetError(f"--replace {item.strip()}: named twice (fix: one replacement "
                              "per item)")
        out[item.strip()] = ref.strip()
    return out


# ---------------------------------------------------------------- repairs and service


@floor_app.command("return")
def return_cmd(ctx: typer.Context, serial: str, reason: Annotated[str, typer.Option()],
               site: Annotated[str | None, typer.Option(
                   help="The site that repairs it (default: the one that shipped it).")]
               = None,
               as_json: JsonOpt = False) -> None:
    """Open a repair order for a delivered unit that came back."""
    from fabnet.services.repair import return_unit

    store, caller = _ctx(ctx)
    o = return_unit(store, caller, serial, reason, site)
    show(as_json, f"{o.code}: {serial} in repair", ["repair order", "serial", "reason",
                                                     "opened by"],
         [[o.code, o.serial, o.reason, o.opened_by]], o)


@floor_app.command("repair")
def repair_cmd(ctx: typer.Context, serial: str,
               replace: Annotated[list[str] | None, typer.Option(
                   help="A part swapped: ITEM=LOT_OR_SERIAL of the replacement "
                        "(repeat; none: no fault found).")] = None,
               as_json: JsonOpt = False) -> None:
    """Repair a returned unit: swap parts, close its repair order; it is tested again."""
    from fabnet.services.repair import repair

    store, caller = _ctx(ctx)
    r = repair(store, caller, serial, _replacements(replace or []))
    rows = [[s.item, ", ".join(x["lot"] or x["serial"] or "" for x in s.removed), s.added,
             f"{s.qty:g}"] for s in r.swaps]
    then = "complete" if r.complete else f"retest: {', '.join(r.retest)}"
    show(as_json, f"{r.order.code}: {serial} repaired ({then})",
         ["item", "taken out", "put in", "qty"], rows, r)


@floor_app.command("service")
def service_cmd(ctx: typer.Context, serial: str, note: Annotated[str, typer.Option()],
                hours: Annotated[float | None, typer.Option(help="Hours worked.")] = None,
                on: Annotated[str | None, typer.Option(
                    "--date", help="Day of the visit (YYYY-MM-DD).")] = None,
                kind: Annotated[str, typer.Option(
                    help="testing or maintenance.")] = "maintenance",
                as_json: JsonOpt = False) -> None:
    """Record a service visit of a delivered unit (its hours, its date, or both)."""
    from fabnet.services.repair import record_service
    from fabnet.store.floor_repair import ServiceKind

    try:
        k = ServiceKind(kind)
    except ValueError:
        raise FabnetError(f"--kind {kind!r}: use testing or maintenance") from None
    store, caller = _ctx(ctx)
    r = record_service(store, caller, serial, note, hours, _date("--date", on), k)
    show(as_json, f"{serial}: service recorded", ["serial", "kind", "hours", "date", "note"],
         [[r.serial, r.kind.value, r.hours, r.service_date, r.note]], r)


@floor_app.command("history")
def history_cmd(ctx: typer.Context, serial: str, as_json: JsonOpt = False) -> None:
    """A unit's repair orders, the parts taken out of it and its service visits."""
    from fabnet.services.repair import unit_history

    store, caller = _ctx(ctx)
    h = unit_history(store, caller, serial)
    rows = [[f"{o.code} {o.status.value}", o.opened_at.date(), o.reason] for o in h.repairs]
    rows += [[f"removed {x['item']}", x["removed_at"].date(), x["lot"] or x["serial"]]
             for x in h.removed]
    rows += [[f"service ({s.kind.value})", s.service_date or s.recorded_at.date(),
              f"{s.note}" + (f" ({s.hours:g} h)" if s.hours else "")] for s in h.services]
    left = f", still to pass: {', '.join(h.missing)}" if h.missing else ""
    show(as_json, f"{serial} ({h.status}{left})", ["what", "when", "detail"], rows, h)


# ---------------------------------------------------------------- line-downs


@floor_app.command("line-down")
def line_down_cmd(ctx: typer.Context, site: str, work_center: str,
                  start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
                  until: Annotated[str | None, typer.Option(
                      help="Last day (default: the end of the horizon).")] = None,
                  capacity: Annotated[float, typer.Option(
                      help="Factor of its hours left, 0 (down) to below 1.")] = 0.0,
                  scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Record a line down on the stored scenario: the next stored plan accounts for it."""
    from fabnet.services.line_down import line_down

    day = _date("--from", start)
    assert day is not None
    store, caller = _ctx(ctx)
    r = line_down(store, caller, site, work_center, day, _date("--until", until), capacity,
                  scenario)
    d = r.disruption
    show(as_json, f"{r.version.scenario} version {r.version.version}: line down recorded",
         ["disruption", "site", "work center", "from", "until", "buckets", "capacity"],
         [[d.id, d.target, d.work_center, d.start, r.until, d.buckets, f"{d.capacity:g}"]],
         {"disruption": d, "scenario": r.version.scenario, "version": r.version.version,
          "until": r.until})


# ---------------------------------------------------------------- qualified operators


@floor_app.command("qualify")
def qualify_cmd(ctx: typer.Context, operator: str,
                name: Annotated[str, typer.Argument(
                    metavar="TYPE", help="A work-center type or a test step.")],
                until: Annotated[str, typer.Option(help="Last day it holds (YYYY-MM-DD).")],
                site: Annotated[str | None, typer.Option(
                    help="Only at this site (default: every site).")] = None,
                kind: Annotated[str | None, typer.Option(
                    help="work_center or test_step, when TYPE is both.")] = None,
                scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Qualify an operator for a work-center type or a test step, until a date."""
    from fabnet.services.skills import qualify
    from fabnet.store.floor_repair import SkillKind

    try:
        k = None if kind is None else SkillKind(kind)
    except ValueError:
        raise FabnetError(f"--kind {kind!r}: use work_center or test_step") from None
    day = _date("--until", until)
    assert day is not None
    store, caller = _ctx(ctx)
    q = qualify(store, caller, operator, name, day, site, k, scenario)
    show(as_json, f"{operator} qualified", ["operator", "kind", "name", "site", "until"],
         [[q.operator, q.kind.value, q.name, q.site or "every site", q.valid_until]], q)


@floor_app.command("qualifications")
def qualifications_cmd(ctx: typer.Context, operator: Annotated[str | None, typer.Option()]
                       = None, scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Qualifications granted (of your sites, and those for every site)."""
    from fabnet.services.skills import qualifications

    store, caller = _ctx(ctx)
    qs = qualifications(store, caller, operator, scenario)
    show(as_json, "qualifications", ["operator", "kind", "name", "site", "until", "granted by"],
         [[q.operator, q.kind.value, q.name, q.site or "every site", q.valid_until,
           q.granted_by] for q in qs], qs)


@floor_app.command("require-qualification")
def require_qualification_cmd(ctx: typer.Context, site: str,
                              state: Annotated[str, typer.Argument(metavar="on|off")],
                              scenario: ScenarioOpt = None) -> None:
    """Turn a site's rule on or off: with it on, operations and tests need a qualified
    operator."""
    from fabnet.services.skills import require_qualification

    if state not in ("on", "off"):
        raise FabnetError(f"{state!r}: write on or off")
    store, caller = _ctx(ctx)
    was = require_qualification(store, caller, site, state == "on", scenario)
    now_on = "on" if state == "on" else "off"
    out = "unchanged" if was == (state == "on") else f"was {'on' if was else 'off'}"
    from fabnet.cli.console import out_console

    out_console.print(f"{site}: qualified operators required {now_on} ({out})")


@floor_app.command("skills")
def skills_cmd(ctx: typer.Context, site: Annotated[str | None, typer.Option()] = None,
               on: Annotated[str | None, typer.Option(
                   "--date", help="Count from this day (default: today).")] = None,
               scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Per work center and test step, operators qualified now, in 30 and in 90 days."""
    from fabnet.services.skills import skills

    store, caller = _ctx(ctx)
    r = skills(store, caller, site, scenario, _date("--date", on))
    rows = [[c.site, "required" if r.rules.get(c.site) else "", c.kind.value, c.name,
             c.now, c.in_30, c.in_90] for c in r.counts]
    show(as_json, f"qualified operators from {r.on}",
         ["site", "rule", "kind", "work center / step", "now", "in 30 days", "in 90 days"],
         rows, r)
