"""`fabnet import willems`: scenarios from other data sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.cli.console import out_console, positive
from fabnet.cli.outputs import ForceOpt

import_app = typer.Typer(no_args_is_help=True, help="Import scenarios from other data sets.")


@import_app.command("willems")
def import_willems_cmd(
    file: Annotated[Path, typer.Argument(help="A chain of Willems' data set, willems_NN.csv.")],
    out: Annotated[Path, typer.Option(help="Scenario to write: .yaml, .xlsx or a folder.")],
    capacity_factor: Annotated[float, typer.Option(
        callback=positive, help="Capacity per day = factor × derived demand (> 0).")] = 1.25,
    stock_days: Annotated[float | None, typer.Option(
        min=0, help="Stock = N days of derived demand at every stage (default: its lead time).")]
    = None,
    ttr: Annotated[float, typer.Option(callback=positive,
                                       help="TTR of every node, days (> 0).")] = 28.0,
    force: ForceOpt = False,
) -> None:
    """Import a Willems (2008) chain: stages become sites, upstream pairs BOM lines and lanes."""
    from fabnet.services.continuity import import_willems

    sc = import_willems(file, out, capacity_factor, stock_days, ttr, force=force)
    out_console.print(f"wrote {out}: {len(sc.sites)} stages, {len(sc.boms)} arcs, "
                      f"{len(sc.demand)} demands")
