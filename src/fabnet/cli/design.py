"""`fabnet design`: choose mitigations within a budget against the scenario's risks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fabnet.cli.console import err_console, out_console, print_warnings
from fabnet.cli.continuity import SchedulerOpt
from fabnet.cli.outputs import ForceOpt, check_out_folder
from fabnet.cli.scenario import ScenarioArg
from fabnet.resilience.design import Objective, Search
from fabnet.resilience.montecarlo import MAX_SAMPLES


def design_cmd(
    scenario: ScenarioArg,
    budget: Annotated[float, typer.Option(min=0.0, help="Budget in EUR for the one-off "
                                          "costs of the mitigations chosen.")],
    objective: Annotated[Objective, typer.Option(
        help="expected: mean units lost over the futures; worst5: mean of the worst 5 %.")]
    = Objective.EXPECTED,
    futures: Annotated[int, typer.Option(min=1, max=MAX_SAMPLES,
                                         help="Futures sampled from the risks.")] = 50,
    seed: Annotated[int, typer.Option(min=0, help="Random seed: same seed, same futures.")]
    = 0,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    matrix: Annotated[bool, typer.Option(help="Also the TTS/TTR risk matrix before and "
                                         "after the chosen set.")] = True,
    out: Annotated[Path | None, typer.Option(help="Folder for design.csv, summary.json, "
                                             "risk_matrix.csv and report.html.")] = None,
    method: Annotated[Search, typer.Option(
        help="auto: the stochastic MIP where it fits, else Benders cuts; mip, benders; "
             "replan: re-plan subsets (all up to 8 candidates, else greedy with swaps).")]
    = Search.AUTO,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
) -> None:
    """Choose the scenario's mitigations that most reduce units lost over its risks'
    futures within a budget; every saving is from exact re-plans of every future."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.services.design import run_design

    check_out_folder(out, force, scenario)
    sc = load_scenario(scenario)
    print_warnings(sc.warnings)
    with err_console.status(f"re-planning {futures} futures per candidate set…"):
        run = run_design(sc, budget, futures, seed, objective, workers, out, force=force,
                         matrix=matrix, scheduler=scheduler, search=method)
    d = run.design
    t = Table(title=f"Design: budget {budget:,.0f} EUR, {futures} futures, seed {seed}",
              show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("method", f"{d.method} ({d.evaluations} sets re-planned)")
    t.add_row("bound", d.bound)
    if d.bound_saved is not None:
        t.add_row("units saved, at most", f"{d.bound_saved:,.1f}")
    t.add_row("chosen", ", ".join(d.after.chosen) or "nothing")
    t.add_row("cost EUR", f"{d.after.cost:,.0f}")
    t.add_row("units saved, expected", f"{d.saved_expected:,.1f}")
    t.add_row("units saved, worst 5 %", f"{d.saved_worst5:,.1f}")
    if d.marginal_saved is not None:
        t.add_row(f"+{d.marginal_step:,.0f} EUR buys", f"{d.marginal_saved:,.1f} units more "
                  f"({', '.join(d.marginal.chosen) if d.marginal else ''})")
    out_console.print(t)
    exposed = [(b, a) for b, a in run.matrix if b.exposed or (a is not None and a.exposed)]
    if exposed:
        m = Table(title="Exposed nodes (TTS < TTR), before → after")
        for c in ("node", "TTR days", "TTS before", "TTS after", "PI before", "PI after"):
            m.add_column(c, justify="left" if c == "node" else "right")
        for b, a in exposed:
            m.add_row(b.node, f"{b.ttr:g}", f"{b.tts:g}" if b.tts is not None else "n/a",
                      f"{a.tts:g}" if a and a.tts is not None else "n/a",
                      f"{b.pi:,.0f}" if b.pi is not None else "n/a",
                      f"{a.pi:,.0f}" if a and a.pi is not None else "n/a")
        out_console.print(m)
