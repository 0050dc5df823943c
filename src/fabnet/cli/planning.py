"""`fabnet plan`: plan a scenario and print its summary (and continuity headline)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fabnet.cli.console import err_console, out_console, print_warnings, progress_bar
from fabnet.cli.outputs import ForceOpt, check_out_folder
from fabnet.cli.scenario import ScenarioArg
from fabnet.model.errors import FabnetError


def plan(
    scenario: ScenarioArg,
    out: Annotated[Path | None, typer.Option(help="Folder for the plan tables (CSV), "
                                             "plan.json and report.html.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON only.")] = False,
    top: Annotated[int, typer.Option(min=0, help="Shortfalls to list in the summary.")] = 8,
    continuity: Annotated[bool, typer.Option(
        "--continuity", help="Add the continuity headline: most exposed nodes (TTS < TTR), "
        "each --strike's cost, country exposure.")] = False,
    strike: Annotated[list[str] | None, typer.Option(
        help="A what-if to headline, TARGET@DATE+BUCKETS[xFACTOR]; repeat for several. "
             "Implies --continuity.")] = None,
    reference: Annotated[Path | None, typer.Option(
        help="A plan to stay close to (a plan folder or its plan.json): among the optimal "
             "plans, the one that changes least against it.")] = None,
    frozen: Annotated[int, typer.Option(
        min=0, help="Keep the --reference plan's first N buckets as they are (a frozen "
                    "horizon).")] = 0,
    whole_units: Annotated[bool, typer.Option(
        "--whole-units", help="Plan production, purchases, transfers and deliveries in "
        "whole units, with the offers' moq/multiple and the work centers' batch (a MIP; "
        "the KPIs say what it gave up against the continuous plan).")] = False,
    mip_time_limit: Annotated[float | None, typer.Option(
        "--mip-time-limit", metavar="SECONDS", help="Time limit of the whole-unit MIP, "
        "all levels together (default 60).")] = None,
    force: ForceOpt = False,
) -> None:
    """Plan a scenario: most units delivered by priority, then least lateness, then cost."""
    from fabnet.services.planning import plan_scenario

    check_out_folder(out, force, scenario)
    if frozen and reference is None:
        raise FabnetError("--frozen needs --reference PLAN (fix: name the plan folder or "
                          "plan.json whose first buckets stay as they are)")
    if reference is not None and (continuity or strike):
        raise FabnetError("--reference and --frozen plan one scenario; the continuity "
                          "headline does not take them (fix: drop --continuity/--strike)")
    from fabnet.services.planning import check_whole_units

    check_whole_units(whole_units, mip_time_limit, reference, frozen)
    if whole_units and (continuity or strike):
        raise FabnetError("--whole-units plans one scenario; the continuity headline "
                          "does not take it (fix: drop --continuity/--strike)")
    headline = None
    if continuity or strike:
        from fabnet.io.scenario_io import load_scenario
        from fabnet.resilience.exposure import embargo_countries
        from fabnet.services.continuity import plan_with_continuity

        sc = load_scenario(scenario)
        print_warnings(sc.warnings)
        n = len(embargo_countries(sc))
        prog, step = progress_bar(2 + len(strike or []) + n + 1, "plan and continuity")
        with prog:
            run, headline = plan_with_continuity(sc, out, strike or [], 13, step, force=force)
    else:
        if not json_:
            with err_console.status("planning…"):
                run = plan_scenario(scenario, out, reference=reference, frozen=frozen,
                                    force=force, whole_units=whole_units,
                                    mip_time_limit=mip_time_limit)
        else:
            run = plan_scenario(scenario, out, reference=reference, frozen=frozen, force=force,
                                whole_units=whole_units, mip_time_limit=mip_time_limit)
        print_warnings(run.scenario.warnings)
    if json_:
        sys.stdout.write(json.dumps(run.plan.kpis, indent=1) + "\n")
        return
    print_summary(run, top)
    if headline is not None:
        print_headline(headline, strike or [])
    if out is not None:
        out_console.print(f"wrote plan tables, plan.json and report.html to {out}/")


def print_summary(run: object, top: int) -> None:
    """Units per product and month, KPIs and the top shortfalls, as rich tables."""
    from fabnet.plan.summary import (
        displayed_months,
        kpi_summary,
        monthly_summary,
        top_shortfalls,
        whole_unit_lines,
        whole_unit_note,
    )
    from fabnet.services.planning import PlanRun

    assert isinstance(run, PlanRun)
    plan, sc = run.plan, run.scenario
    t = Table(title=f"{sc.name}: units planned vs demanded")
    for c in ("product", "month", "demanded", "planned", "on time"):
        t.add_column(c, justify="left" if c in ("product", "month") else "right")
    for ln in displayed_months(monthly_summary(sc, plan)):
        style = "red" if ln.planned < ln.demanded else None
        t.add_row(ln.item, ln.month, f"{ln.demanded:,.0f}", f"{ln.planned:,.0f}",
                  f"{ln.on_time:,.0f}", style=style)
    out_console.print(t)
    k = plan.kpis
    kt = Table(title="KPIs", show_header=False)
    kt.add_column("name")
    kt.add_column("value", justify="right")
    for label, value in kpi_summary(k, ["fill_rate", "on_time_rate", "units_demanded",
                                        "units_delivered", "units_late", "units_lost",
                                        "cost_total", "cost_purchase", "cost_transport"]):
        kt.add_row(label, value)
    out_console.print(kt)
    if whole_unit_lines(k):
        wt = Table(title="Whole units against the continuous plan")
        for c in ("level", "continuous (LP)", "whole units", "difference", "MIP gap"):
            wt.add_column(c, justify="left" if c == "level" else "right")
        for line in whole_unit_lines(k):
            wt.add_row(*line)
        out_console.print(wt)
        out_console.print(whole_unit_note(k))
    rows = top_shortfalls(plan, sc, top)
    if rows:
        st = Table(title=f"Top shortfalls ({len(plan.tables['shortfalls'])} in all)")
        for c in ("demand", "customer", "item", "due", "late", "lost", "reason"):
            st.add_column(c, overflow="fold")
        for r in rows:
            st.add_row(str(r["demand"]), str(r["customer"]), str(r["item"]), str(r["due"]),
                       f"{float(r['qty_late']):,.0f}",  # type: ignore[arg-type]
                       f"{float(r['qty_lost']):,.0f}",  # type: ignore[arg-type]
                       str(r["reason"]))
        out_console.print(st)


def print_headline(headline: object, strikes: list[str]) -> None:
    """The five most exposed nodes, and what each strike costs."""
    from fabnet.services.continuity import Headline

    assert isinstance(headline, Headline)
    t = Table(title="Five most exposed nodes (time-to-survive < time-to-recover)")
    for c in ("node", "kind", "TTS (days)", "TTR (days)", "PI (units lost)"):
        t.add_column(c, justify="left" if c in ("node", "kind") else "right")
    for r in [r for r in headline.risks if r.exposed][:5]:
        t.add_row(r.node, str(r.kind), f"{r.tts:,.1f}", f"{r.ttr:,.0f}", f"{r.pi:,.0f}")
    out_console.print(t)
    for spec, w in zip(strikes, headline.strikes, strict=True):
        k = w.diff.kpis
        rate = (f"on-time rate {_change(k['on_time_rate'], 100, 1)} pts"
                if "on_time_rate" in k else "on-time rate: no demand")
        out_console.print(
            f"[bold]What a strike costs[/bold] ({spec}): units lost "
            f"{_change(k['units_lost'])}, units late {_change(k['units_late'])}, {rate}, "
            f"cost {_change(k['cost_total'])}; {len(w.diff.moved)} orders move between sites")
    worst = list(headline.exposure.embargo_lost.items())[:3]
    if worst:
        out_console.print("Embargo what-if (13 buckets): " + ", ".join(
            f"{c} {v:,.0f} units lost" for c, v in worst))


def _change(before_after: tuple[float, float], scale: float = 1.0, digits: int = 0) -> str:
    """A signed change as shown, rounded before its sign is taken (never "-0")."""
    shown = round(scale * (before_after[1] - before_after[0]), digits) + 0.0
    return f"{shown:+,.{digits}f}"
