"""The `fabnet` command tree: every command group wired under one error boundary."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from fabnet.cli import (
    accounts,  # noqa: F401 - adds users, user-set, tokens, … to db
    floor_more,  # noqa: F401 - adds return, repair, skills, … to floor
)
from fabnet.cli.audit import audit_app
from fabnet.cli.console import BoundaryGroup, out_console
from fabnet.cli.continuity import exposure_cmd, stress_app, whatif_cmd
from fabnet.cli.design import design_cmd
from fabnet.cli.eco import eco_app
from fabnet.cli.floor import floor_app
from fabnet.cli.importing import import_app
from fabnet.cli.licence import licence_app
from fabnet.cli.planning import plan
from fabnet.cli.scenario import convert, validate
from fabnet.cli.serve import serve_cmd
from fabnet.cli.store import db_app
from fabnet.cli.trace import trace_cmd

app = typer.Typer(cls=BoundaryGroup, add_completion=False, no_args_is_help=True,
                  help="Plan a multi-site drone-manufacturing network and keep it running.")


def fabnet_version() -> str:
    """The installed fabnet's version (from its package metadata)."""
    try:
        return version("fabnet")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        out_console.print(f"fabnet {fabnet_version()}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def root(
    version_: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print fabnet's version and exit.")] = False,
) -> None:
    """Plan a multi-site drone-manufacturing network and keep it running."""


app.command()(validate)
app.command()(plan)
app.command()(convert)
app.command("whatif")(whatif_cmd)
app.command("exposure")(exposure_cmd)
app.command("design")(design_cmd)
app.add_typer(stress_app, name="stress")
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(floor_app, name="floor")
app.add_typer(eco_app, name="eco")
app.add_typer(licence_app, name="licence")
app.command("trace")(trace_cmd)
app.command("serve")(serve_cmd)


def main() -> None:
    """Entry point of the `fabnet` script."""
    app()
