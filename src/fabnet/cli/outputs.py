"""Where commands write: the shared `--force` option and the early check of `--out`.

The rules themselves live in `fabnet.io.safe_write`; commands check their `--out` folder
here before any long solve, so a refusal comes in a second, not after the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fabnet.io.safe_write import OutputKind, check_destination

ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Also write into a non-empty folder fabnet did not make, replacing only "
    "files with fabnet's names (every other file there is kept), or replace a file that is "
    "there already; the input is never overwritten.")]


def check_out_folder(out: Path | None, force: bool, *sources: Path | None) -> None:
    """Refuse an --out folder that can't be written without losing a file, before any work."""
    if out is not None:
        check_destination(out, OutputKind.FOLDER, force=force,
                          sources=[s for s in sources if s is not None])
