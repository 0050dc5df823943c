"""`fabnet validate` and `fabnet convert`: check a scenario, change its format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.cli.console import out_console, print_warnings
from fabnet.cli.outputs import ForceOpt

ScenarioArg = Annotated[Path, typer.Argument(
    help="Scenario: a .yaml file, a .xlsx workbook or a folder of CSV files.")]


def validate(scenario: ScenarioArg) -> None:
    """Check a scenario and list every problem (file, record, field, fix); exit 1 if any."""
    from fabnet.io.scenario_io import load_scenario

    sc = load_scenario(scenario)
    print_warnings(sc.warnings)
    out_console.print(f"[green]ok[/green]: {scenario} — {len(sc.items)} items, "
                      f"{len(sc.sites)} sites, {len(sc.suppliers)} suppliers, "
                      f"{len(sc.demand)} demands over {sc.horizon.buckets} "
                      f"{sc.horizon.bucket}s")


def convert(
    src: Annotated[Path, typer.Argument(help="Scenario to read (.yaml, .xlsx or CSV folder).")],
    dst: Annotated[Path, typer.Argument(help="Where to write it: .yaml, .xlsx or a folder.")],
    force: ForceOpt = False,
) -> None:
    """Convert a scenario between YAML, a CSV folder and an XLSX workbook, losslessly."""
    from fabnet.io.scenario_io import convert as do_convert

    sc = do_convert(src, dst, force=force)
    print_warnings(sc.warnings)
    out_console.print(f"wrote {dst}")
