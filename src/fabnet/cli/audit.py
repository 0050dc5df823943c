"""`fabnet audit …`: the store's tamper-evident audit trail on the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from fabnet.cli.console import out_console
from fabnet.cli.store import UrlHere, UrlOpt, open_store, print_table, settings_callback, where
from fabnet.model.errors import FabnetError

audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail of the store.")


@audit_app.callback()
def audit_main(ctx: typer.Context, url: UrlOpt = None) -> None:
    """The audit trail of the store."""
    settings_callback(ctx, url, None)


@audit_app.command("verify")
def audit_verify_cmd(ctx: typer.Context, url: UrlHere = None) -> None:
    """Recompute the hash chain; name the first entry that was edited, deleted or moved."""
    from fabnet.services.store import verify_audit

    report = verify_audit(open_store(ctx, url))
    if not report.ok:
        raise FabnetError(f"audit trail of {where(ctx, url)} is broken at entry "
                          f"{report.bad_seq}: {report.problem} (fix: restore the database "
                          f"from a backup; entries 1..{report.entries} are sound)")
    out_console.print(f"ok: {report.entries} entries (head {report.head_hash})")


@audit_app.command("log")
def audit_log_cmd(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(min=0, help="Show entries after this one.")] = 0,
    limit: Annotated[int, typer.Option(min=1, help="How many entries.")] = 50,
    url: UrlHere = None,
) -> None:
    """Show audit entries: when, who, what, which entity."""
    from fabnet.services.store import audit_entries

    entries = audit_entries(open_store(ctx, url), since, limit)
    print_table("Audit trail", ("#", "at", "who", "action", "entity"),
                [(str(e.seq), e.at[:19].replace("T", " "), e.actor, e.action, e.entity)
                 for e in entries])
