"""The `fabnet` command line: validate, plan and convert scenarios."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fabnet.cli_api import serve_cmd
from fabnet.cli_store import audit_app, db_app
from fabnet.model.errors import FabnetError, Issue, ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan a multi-site drone-manufacturing network and keep it running.")
out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

ScenarioArg = Annotated[Path, typer.Argument(
    help="Scenario: a .yaml file, a .xlsx workbook or a folder of CSV files.")]


#: what a command reports as one line and exit code 1, never as a traceback
ERRORS = (FabnetError, OSError)


def _fail(e: Exception) -> None:
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        err_console.print(f"error: {where}{e.strerror or e} (fix: check the path, free space "
                          "and permissions)", markup=False, highlight=False)
        raise typer.Exit(1)
    if isinstance(e, ScenarioError):
        n = len(e.issues)
        err_console.print(f"[red]{n} problem{'s' if n != 1 else ''} found:[/red]")
        for issue in e.issues + e.warnings:
            err_console.print(f"  {issue}", markup=False, highlight=False)
    else:
        err_console.print(f"error: {e}", markup=False, highlight=False)
    raise typer.Exit(1)


def print_warnings(warnings: tuple[Issue, ...] | list[Issue]) -> None:
    """Warnings of a valid scenario, one line each on standard error."""
    if warnings:
        n = len(warnings)
        err_console.print(f"[yellow]{n} warning{'s' if n != 1 else ''}:[/yellow]")
    for w in warnings:
        err_console.print(f"  {w}", markup=False, highlight=False)


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario and list every problem (file, record, field, fix); exit 1 if any."""
    from fabnet.io.scenario_io import load_scenario

    try:
        sc = load_scenario(scenario)
    except ERRORS as e:
        _fail(e)
        return
    print_warnings(sc.warnings)
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
    continuity: Annotated[bool, typer.Option(
        "--continuity", help="Add the continuity headline: most exposed nodes (TTS < TTR), "
        "each --strike's cost, country exposure.")] = False,
    strike: Annotated[list[str] | None, typer.Option(
        help="With --continuity: a what-if to headline, TARGET@DATE+BUCKETS[xFACTOR]; "
             "repeat for several.")] = None,
) -> None:
    """Plan a scenario: most units delivered by priority, then least lateness, then cost."""
    from fabnet.services.planning import plan_scenario

    headline = None
    try:
        if continuity:
            from fabnet.io.scenario_io import load_scenario
            from fabnet.resilience.exposure import embargo_countries
            from fabnet.services.continuity import plan_with_continuity

            sc = load_scenario(scenario)
            n = len(embargo_countries(sc))
            prog, step = _progress(2 + len(strike or []) + n + 1, "plan and continuity")
            with prog:
                run, headline = plan_with_continuity(sc, out, strike or [], 13, step)
        elif not json_:
            with err_console.status("planning…"):
                run = plan_scenario(scenario, out)
        else:
            run = plan_scenario(scenario, out)
    except ERRORS as e:
        _fail(e)
        return
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
        out_console.print(
            f"[bold]What a strike costs[/bold] ({spec}): units lost "
            f"{k['units_lost'][1] - k['units_lost'][0]:+,.0f}, units late "
            f"{k['units_late'][1] - k['units_late'][0]:+,.0f}, on-time rate "
            f"{100 * (k['on_time_rate'][1] - k['on_time_rate'][0]):+.1f} pts, cost "
            f"{k['cost_total'][1] - k['cost_total'][0]:+,.0f}; "
            f"{len(w.diff.moved)} orders move between sites")
    worst = list(headline.exposure.embargo_lost.items())[:3]
    if worst:
        out_console.print("Embargo what-if (13 buckets): " + ", ".join(
            f"{c} {v:,.0f} units lost" for c, v in worst))


@app.command()
def convert(
    src: Annotated[Path, typer.Argument(help="Scenario to read (.yaml, .xlsx or CSV folder).")],
    dst: Annotated[Path, typer.Argument(help="Where to write it: .yaml, .xlsx or a folder.")],
) -> None:
    """Convert a scenario between YAML, a CSV folder and an XLSX workbook, losslessly."""
    from fabnet.io.scenario_io import convert as do_convert

    try:
        do_convert(src, dst)
    except ERRORS as e:
        _fail(e)
        return
    out_console.print(f"wrote {dst}")


stress_app = typer.Typer(no_args_is_help=True,
                         help="Stress the network: time-to-survive per node, Monte Carlo.")
import_app = typer.Typer(no_args_is_help=True, help="Import scenarios from other data sets.")
app.add_typer(stress_app, name="stress")
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.command("serve")(serve_cmd)


def _progress(total: int, label: str) -> tuple[Progress, Callable[[int], None]]:
    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)
    task = prog.add_task(label, total=total)
    return prog, lambda k: prog.advance(task, k)


@app.command("whatif")
def whatif_cmd(
    scenario: ScenarioArg,
    disrupt: Annotated[list[str], typer.Option(
        help="TARGET@DATE+BUCKETS[xFACTOR]: a node id, country:XX or lane:A>B, from DATE for "
             "BUCKETS buckets at capacity FACTOR (default 0 = down). Repeat for several.")],
    out: Annotated[Path | None, typer.Option(help="Folder for the disrupted plan, "
                                             "plan.json (with the what-if) and report.html.")]
    = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the KPI changes as JSON.")]
    = False,
) -> None:
    """Re-plan around disruptions and show what changes against the undisrupted plan."""
    from fabnet.services.continuity import whatif

    try:
        with err_console.status("re-planning…"):
            run = whatif(scenario, disrupt, out)
    except ERRORS as e:
        _fail(e)
        return
    d = run.diff
    if json_:
        sys.stdout.write(json.dumps({k: {"base": b, "whatif": n} for k, (b, n)
                                     in d.kpis.items()}, indent=1) + "\n")
        return
    t = Table(title="What-if: " + "; ".join(disrupt))
    for c in ("KPI", "base", "what-if", "change"):
        t.add_column(c, justify="left" if c == "KPI" else "right")
    for k, (b, n) in d.kpis.items():
        t.add_row(k, f"{b:,.3f}" if abs(b) < 10 else f"{b:,.0f}",
                  f"{n:,.3f}" if abs(n) < 10 else f"{n:,.0f}", f"{n - b:+,.3f}")
    out_console.print(t)
    _rows_table("Customers and products hit", d.by_customer_item)
    _rows_table("Orders moved between sites", d.moved[:15])
    _rows_table("Bought instead", d.purchases[:15])
    if out is not None:
        out_console.print(f"wrote the what-if plan and report.html to {out}/")


def _rows_table(title: str, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    t = Table(title=title)
    for c in rows[0]:
        t.add_column(c)
    for r in rows:
        t.add_row(*[f"{v:,.1f}" if isinstance(v, float) else str(v) for v in r.values()])
    out_console.print(t)


@stress_app.command("tts")
def tts_cmd(
    scenario: Annotated[Path | None, typer.Argument(
        help="Scenario (.yaml, .xlsx or CSV folder); or give --willems.")] = None,
    willems: Annotated[Path | None, typer.Option(
        help="A chain of Willems' data set (willems_NN.csv), read with the import "
             "conventions.")] = None,
    capacity_factor: Annotated[float, typer.Option(
        help="Willems: capacity per day = factor × derived demand.")] = 1.25,
    stock_days: Annotated[float | None, typer.Option(
        help="Willems: stock = N days of derived demand at every stage "
             "(default: the stage's lead time).")] = None,
    ttr: Annotated[float, typer.Option(help="Willems: TTR of every node, days.")] = 28.0,
    kinds: Annotated[str | None, typer.Option(
        help="Node kinds to sweep, comma-separated: site,offer,lane (default all; "
             "Willems: site).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Folder for tts.csv and report.html.")]
    = None,
    top: Annotated[int, typer.Option(help="Nodes to list.")] = 15,
) -> None:
    """Time-to-survive, time-to-recover and performance impact of every node, ranked."""
    from fabnet.services.continuity import tts, tts_node_count

    kind_set = set(kinds.split(",")) if kinds else None
    try:
        if scenario is None and willems is None:
            raise FabnetError("give a SCENARIO or --willems FILE (fix: see --help)")
        n = tts_node_count(scenario, willems, kind_set)
        prog, step = _progress(2 * n, "time-to-survive")
        with prog:
            risks = tts(scenario, willems, capacity_factor, stock_days, ttr, out, workers,
                        step, kind_set)
    except ERRORS as e:
        _fail(e)
        return
    exposed = sum(r.exposed for r in risks)
    t = Table(title=f"Nodes ranked by exposure ({exposed} of {len(risks)} with TTS < TTR)")
    for c in ("node", "kind", "TTS (days)", "TTR (days)", "PI (units)"):
        t.add_column(c, justify="left" if c in ("node", "kind") else "right")
    for r in risks[:top]:
        t.add_row(r.node, str(r.kind), f"{r.tts:,.1f}", f"{r.ttr:,.0f}", f"{r.pi:,.0f}",
                  style="red" if r.exposed else None)
    out_console.print(t)
    if out is not None:
        out_console.print(f"wrote tts.csv and report.html to {out}/")


@stress_app.command("montecarlo")
def montecarlo_cmd(
    scenario: ScenarioArg,
    samples: Annotated[int, typer.Option(min=1, help="Futures to sample.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same numbers.")] = 0,
    target: Annotated[float, typer.Option(help="Fill-rate target for P(fill >= target).")]
    = 0.95,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    out: Annotated[Path | None, typer.Option(help="Folder for samples.csv, summary.json and "
                                             "report.html.")] = None,
) -> None:
    """Sample futures from the scenario's risks, re-plan each, report distributions."""
    from fabnet.services.continuity import montecarlo

    try:
        prog, step = _progress(samples, "sampled futures")
        with prog:
            res = montecarlo(scenario, samples, seed, target, workers, out, step)
    except ERRORS as e:
        _fail(e)
        return
    t = Table(title=f"Stress test: {samples} futures, seed {seed}", show_header=False)
    t.add_column("statistic")
    t.add_column("value", justify="right")
    for k, v in res.summary().items():
        t.add_row(k, f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}")
    out_console.print(t)
    nodes = Table(title="Nodes most often on the critical path")
    nodes.add_column("node")
    nodes.add_column("share of futures", justify="right")
    for node, c in list(res.critical_counts.items())[:10]:
        nodes.add_row(node, f"{c / samples:.0%}")
    out_console.print(nodes)


@app.command("exposure")
def exposure_cmd(
    scenario: ScenarioArg,
    buckets: Annotated[int, typer.Option(help="Length of each country's embargo, buckets.")]
    = 13,
    out: Annotated[Path | None, typer.Option(help="Folder for shares.csv, embargo.csv, "
                                             "sourcing.csv and report.html.")] = None,
) -> None:
    """Per product: BOM value and units by country of origin, sourcing gaps, embargo cost."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.resilience.exposure import embargo_countries
    from fabnet.services.continuity import exposure

    try:
        sc = load_scenario(scenario)
        prog, step = _progress(len(embargo_countries(sc)), "embargo what-ifs")
        with prog:
            ex = exposure(sc, buckets, out, step)
    except ERRORS as e:
        _fail(e)
        return
    t = Table(title="Bought-in BOM value by country of origin")
    t.add_column("product")
    t.add_column("shares (value)")
    t.add_column("shares (units)")
    for p, sh in ex.value_share.items():
        t.add_row(p, ", ".join(f"{c} {v:.0%}" for c, v in sh.items()),
                  ", ".join(f"{c} {v:.0%}" for c, v in ex.unit_share[p].items()))
    out_console.print(t)
    out_console.print(f"single-sourced items ({len(ex.single_sourced)}): "
                      + ", ".join(ex.single_sourced))
    if ex.one_country:
        out_console.print("items whose every source is in one country: "
                          + ", ".join(f"{k} ({v})" for k, v in ex.one_country.items()))
    emb = Table(title=f"Embargo what-if: units lost if a country stops for {buckets} buckets")
    emb.add_column("country")
    emb.add_column("units lost", justify="right")
    for c, v in ex.embargo_lost.items():
        emb.add_row(c, f"{v:,.0f}")
    out_console.print(emb)


@import_app.command("willems")
def import_willems_cmd(
    file: Annotated[Path, typer.Argument(help="A chain of Willems' data set, willems_NN.csv.")],
    out: Annotated[Path, typer.Option(help="Scenario to write: .yaml, .xlsx or a folder.")],
    capacity_factor: Annotated[float, typer.Option(
        help="Capacity per day = factor × derived demand.")] = 1.25,
    stock_days: Annotated[float | None, typer.Option(
        help="Stock = N days of derived demand at every stage (default: its lead time).")]
    = None,
    ttr: Annotated[float, typer.Option(help="TTR of every node, days.")] = 28.0,
) -> None:
    """Import a Willems (2008) chain: stages become sites, upstream pairs BOM lines and lanes."""
    from fabnet.services.continuity import import_willems

    try:
        sc = import_willems(file, out, capacity_factor, stock_days, ttr)
    except ERRORS as e:
        _fail(e)
        return
    out_console.print(f"wrote {out}: {len(sc.sites)} stages, {len(sc.boms)} arcs, "
                      f"{len(sc.demand)} demands")


def main() -> None:
    """Entry point of the `fabnet` script."""
    app()


if __name__ == "__main__":
    main()
