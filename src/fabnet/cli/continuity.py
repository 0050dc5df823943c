"""`fabnet whatif`, `fabnet stress tts|montecarlo`, `fabnet exposure`: continuity on the
command line (Simchi-Levi et al. 2015 for time-to-survive and performance impact)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fabnet.batch import SCHEDULER_ENV
from fabnet.cli.console import err_console, out_console, positive, print_warnings, progress_bar
from fabnet.cli.outputs import ForceOpt, check_out_folder
from fabnet.cli.scenario import ScenarioArg
from fabnet.model.errors import FabnetError
from fabnet.resilience.montecarlo import MAX_SAMPLES

SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", envvar=SCHEDULER_ENV, metavar="ADDRESS",
    help="A Dask scheduler (e.g. tcp://10.0.0.5:8786) to run the work on its workers "
         "instead of local processes; needs fabnet[cluster] (docs/scale-out.md).")]

stress_app = typer.Typer(no_args_is_help=True,
                         help="Stress the network: time-to-survive per node, Monte Carlo.")


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
    frozen: Annotated[int, typer.Option(
        min=0, help="Keep the base plan's first N buckets as they are (a frozen horizon).")]
    = 0,
    force: ForceOpt = False,
) -> None:
    """Re-plan around disruptions and show what changes against the undisrupted plan."""
    from fabnet.plan.summary import kpi_label
    from fabnet.services.continuity import whatif

    check_out_folder(out, force, scenario)
    with err_console.status("re-planning…"):
        run = whatif(scenario, disrupt, out, force=force, frozen=frozen)
    print_warnings(run.scenario.warnings)
    d = run.diff
    if json_:
        sys.stdout.write(json.dumps({k: {"base": b, "whatif": n} for k, (b, n)
                                     in d.kpis.items()}, indent=1) + "\n")
        return
    t = Table(title="What-if: " + "; ".join(disrupt))
    for c in ("KPI", "base", "what-if", "change"):
        t.add_column(c, justify="left" if c == "KPI" else "right")
    for k, (b, n) in d.kpis.items():
        t.add_row(kpi_label(k), f"{b:,.3f}" if abs(b) < 10 else f"{b:,.0f}",
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
        callback=positive, help="Willems: capacity per day = factor × derived demand (> 0).")]
    = 1.25,
    stock_days: Annotated[float | None, typer.Option(
        min=0, help="Willems: stock = N days of derived demand at every stage "
             "(default: the stage's lead time).")] = None,
    ttr: Annotated[float, typer.Option(callback=positive,
                                       help="Willems: TTR of every node, days (> 0).")] = 28.0,
    kinds: Annotated[str | None, typer.Option(
        help="Node kinds to sweep, comma-separated: site,offer,lane (default all; "
             "Willems: site).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Folder for tts.csv and report.html.")]
    = None,
    top: Annotated[int, typer.Option(min=0, help="Nodes to list.")] = 15,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
) -> None:
    """Time-to-survive, time-to-recover and performance impact of every node, ranked."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.services.continuity import tts, tts_node_count

    kind_set = set(kinds.split(",")) if kinds else None
    if scenario is None and willems is None:
        raise FabnetError("give a SCENARIO or --willems FILE (fix: see --help)")
    check_out_folder(out, force, scenario, willems)
    sc = None
    if willems is None and scenario is not None:
        sc = load_scenario(scenario)
        print_warnings(sc.warnings)
    n = tts_node_count(sc, willems, kind_set)
    prog, step = progress_bar(2 * n, "time-to-survive")
    with prog:
        risks = tts(sc, willems, capacity_factor, stock_days, ttr, out, workers,
                    step, kind_set, force=force, scheduler=scheduler)
    exposed = sum(r.exposed for r in risks)
    failed = [r for r in risks if r.failed]
    t = Table(title=f"Nodes ranked by exposure ({exposed} of {len(risks)} with TTS < TTR"
                    + (f"; {len(failed)} failed, listed apart" if failed else "") + ")")
    for c in ("node", "kind", "TTS (days)", "TTR (days)", "PI (units)"):
        t.add_column(c, justify="left" if c in ("node", "kind") else "right")
    for r in [r for r in risks if not r.failed][:top]:
        t.add_row(r.node, str(r.kind), f"{r.tts:,.1f}", f"{r.ttr:,.0f}", f"{r.pi:,.0f}",
                  style="red" if r.exposed else None)
    if failed:  # no number for them: the solver proved none
        t.add_section()
    for r in failed:
        t.add_row(r.node, str(r.kind), f"failed: {r.status}", f"{r.ttr:,.0f}", "—",
                  style="yellow")
    out_console.print(t)
    if out is not None:
        out_console.print(f"wrote tts.csv and report.html to {out}/")


@stress_app.command("montecarlo")
def montecarlo_cmd(
    scenario: ScenarioArg,
    samples: Annotated[int, typer.Option(min=1, max=MAX_SAMPLES, help="Futures to sample.")
                       ] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Random seed: same seed, same numbers.")]
    = 0,
    target: Annotated[float, typer.Option(min=0.0, max=1.0,
                                          help="Fill-rate target for P(fill >= target).")]
    = 0.95,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    out: Annotated[Path | None, typer.Option(help="Folder for samples.csv, summary.json and "
                                             "report.html.")] = None,
    frozen: Annotated[int, typer.Option(
        min=0, help="Keep the base plan's first N buckets in every future (a frozen "
                    "horizon: a future that can't keep them counts as failed).")] = 0,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
) -> None:
    """Sample futures from the scenario's risks, re-plan each, report distributions."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.services.continuity import montecarlo

    check_out_folder(out, force, scenario)
    sc = load_scenario(scenario)
    print_warnings(sc.warnings)
    prog, step = progress_bar(samples, "sampled futures")
    with prog:
        res = montecarlo(sc, samples, seed, target, workers, out, step, force=force,
                         frozen=frozen, scheduler=scheduler)
    t = Table(title=f"Stress test: {samples} futures, seed {seed}", show_header=False)
    t.add_column("statistic")
    t.add_column("value", justify="right")
    for k, v in res.summary().items():
        t.add_row(k, "n/a" if v is None else f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}")
    out_console.print(t)
    nodes = Table(title="Nodes most often on the critical path")
    nodes.add_column("node")
    nodes.add_column("share of futures", justify="right")
    for node, c in list(res.critical_counts.items())[:10]:
        nodes.add_row(node, f"{c / max(res.solved, 1):.0%}")
    out_console.print(nodes)


def exposure_cmd(
    scenario: ScenarioArg,
    buckets: Annotated[int, typer.Option(min=1,
                                         help="Length of each country's embargo, buckets.")]
    = 13,
    out: Annotated[Path | None, typer.Option(help="Folder for shares.csv, embargo.csv, "
                                             "sourcing.csv and report.html.")] = None,
    force: ForceOpt = False,
) -> None:
    """Per product: BOM value and units by country of origin, sourcing gaps, embargo cost."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.resilience.exposure import embargo_countries
    from fabnet.services.continuity import exposure

    check_out_folder(out, force, scenario)
    sc = load_scenario(scenario)
    print_warnings(sc.warnings)
    prog, step = progress_bar(len(embargo_countries(sc)), "embargo what-ifs")
    with prog:
        ex = exposure(sc, buckets, out, step, force=force)
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
