"""The `fabnet` command line: validate, plan and convert scenarios."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fabnet.model.errors import FabnetError, ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan a multi-site drone-manufacturing network and keep it running.")
out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

ScenarioArg = Annotated[Path, typer.Argument(
    help="Scenario: a .yaml file, a .xlsx workbook or a folder of CSV files.")]


def _fail(e: FabnetError) -> None:
    if isinstance(e, ScenarioError):
        n = len(e.issues)
        err_console.print(f"[red]{n} problem{'s' if n != 1 else ''} found:[/red]")
        for issue in e.issues:
            err_console.print(f"  {issue}", markup=False, highlight=False)
    else:
        err_console.print(f"error: {e}", markup=False, highlight=False)
    raise typer.Exit(1)


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario and list every problem (file, record, field, fix); exit 1 if any."""
    from fabnet.io.scenario_io import load_scenario

    try:
        sc = load_scenario(scenario)
    except FabnetError as e:
        _fail(e)
        return
    out_console.print(f"[green]ok[/green]: {scenario} — {len(sc.items)} items, "
                      f"{len(sc.sites)} sites, {len(sc.suppliers)} suppliers, "
                      f"{len(sc.demand)} demands over {sc.horizon.buckets} "
                      f"{sc.horizon.bucket}s")


@app.command()
def plan(
    scenario: ScenarioArg,
    out: Annotated[Path | None, typer.Option(help="Folder for the plan tables (CSV), "
                                             "plan.json and report.html.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON only.")] = False,
    top: Annotated[int, typer.Option(help="Shortfalls to list in the summary.")] = 8,
) -> None:
    """Plan a scenario: most units delivered by priority, then least lateness, then cost."""
    from fabnet.services.planning import plan_scenario

    try:
        if not json_:
            with err_console.status("planning…"):
                run = plan_scenario(scenario, out)
        else:
            run = plan_scenario(scenario, out)
    except FabnetError as e:
        _fail(e)
        return
    if json_:
        sys.stdout.write(json.dumps(run.plan.kpis, indent=1) + "\n")
        return
    print_summary(run, top)
    if out is not None:
        out_console.print(f"wrote plan tables, plan.json and report.html to {out}/")


def print_summary(run: object, top: int) -> None:
    """Units per product and month, KPIs and the top shortfalls, as rich tables."""
    from fabnet.plan.summary import monthly_summary, top_shortfalls
    from fabnet.services.planning import PlanRun

    assert isinstance(run, PlanRun)
    plan, sc = run.plan, run.scenario
    t = Table(title=f"{sc.name}: units planned vs demanded")
    for c in ("product", "month", "demanded", "planned", "on time"):
        t.add_column(c, justify="left" if c in ("product", "month") else "right")
    for ln in monthly_summary(sc, plan):
        style = "red" if ln.planned + 1e-6 < ln.demanded else None
        t.add_row(ln.item, ln.month, f"{ln.demanded:,.0f}", f"{ln.planned:,.0f}",
                  f"{ln.on_time:,.0f}", style=style)
    out_console.print(t)
    k = plan.kpis
    kt = Table(title="KPIs", show_header=False)
    kt.add_column("name")
    kt.add_column("value", justify="right")
    for name, label in (("fill_rate", "fill rate"), ("on_time_rate", "on-time rate")):
        kt.add_row(label, f"{100 * float(k[name]):.1f} %")
    for name in ("units_demanded", "units_delivered", "units_late", "units_lost",
                 "cost_total", "cost_purchase", "cost_transport"):
        kt.add_row(name.replace("_", " "), f"{float(k[name]):,.0f}")
    out_console.print(kt)
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


@app.command()
def convert(
    src: Annotated[Path, typer.Argument(help="Scenario to read (.yaml, .xlsx or CSV folder).")],
    dst: Annotated[Path, typer.Argument(help="Where to write it: .yaml, .xlsx or a folder.")],
) -> None:
    """Convert a scenario between YAML, a CSV folder and an XLSX workbook, losslessly."""
    from fabnet.io.scenario_io import convert as do_convert

    try:
        do_convert(src, dst)
    except FabnetError as e:
        _fail(e)
        return
    out_console.print(f"wrote {dst}")


def main() -> None:
    """Entry point of the `fabnet` script."""
    app()


if __name__ == "__main__":
    main()
