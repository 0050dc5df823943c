"""Consoles, progress bars and the command line's one error boundary.

Every command raises; nothing catches. `BoundaryGroup` wraps the whole command tree, so an
expected error (`FabnetError`, `ScenarioError`, `OSError`) becomes one line on standard
error and exit code 1, wherever it is raised, and anything else stays a traceback (a bug).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from fabnet.model.errors import FabnetError, Issue, ScenarioError

out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

#: what a command reports as one line and exit code 1, never as a traceback
ERRORS = (FabnetError, OSError)


def report_error(e: Exception) -> None:
    """Print an expected error as one line (a scenario's problems as one line each)."""
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        err_console.print(f"error: {where}{e.strerror or e} (fix: check the path, free space "
                          "and permissions)", markup=False, highlight=False)
    elif isinstance(e, ScenarioError):
        n = len(e.issues)
        err_console.print(f"[red]{n} problem{'s' if n != 1 else ''} found:[/red]")
        for issue in e.issues + e.warnings:
            err_console.print(f"  {issue}", markup=False, highlight=False)
    else:
        err_console.print(f"error: {e}", markup=False, highlight=False)


class BoundaryGroup(TyperGroup):
    """The root command group: turns expected errors of any subcommand into exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click privately)
        """Run the chosen command; report an expected error in one line and exit 1."""
        try:
            return super().invoke(ctx)
        except ERRORS as e:
            report_error(e)
            raise typer.Exit(1) from None


def print_warnings(warnings: tuple[Issue, ...] | list[Issue]) -> None:
    """Warnings of a valid scenario, one line each on standard error."""
    if warnings:
        n = len(warnings)
        err_console.print(f"[yellow]{n} warning{'s' if n != 1 else ''}:[/yellow]")
    for w in warnings:
        err_console.print(f"  {w}", markup=False, highlight=False)


def positive(value: float) -> float:
    """Refuse a zero or negative number on the command line (a typer callback)."""
    if value <= 0:
        raise typer.BadParameter(f"must be > 0, got {value:g}")
    return value


def progress_bar(total: int, label: str) -> tuple[Progress, Callable[[int], None]]:
    """A transient progress bar on standard error and the callback that advances it."""
    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)
    task = prog.add_task(label, total=total)
    return prog, lambda k: prog.advance(task, k)
