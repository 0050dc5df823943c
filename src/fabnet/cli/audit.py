"""`fabnet audit …`: the store's tamper-evident audit trail on the command line."""

from __future__ import annotations

from pathlib import Path
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


CheckpointOpt = Annotated[Path | None, typer.Option(
    "--checkpoint", help="A checkpoint written by `fabnet audit checkpoint`: the trail must "
    "still hold what it recorded.")]


@audit_app.command("verify")
def audit_verify_cmd(ctx: typer.Context, checkpoint: CheckpointOpt = None,
                     url: UrlHere = None) -> None:
    """Recompute the hash chain and its MACs, compare with a checkpoint, re-hash every
    version and replay the users; name the first entry or row that does not hold."""
    from fabnet.services.audit_trail import verify_audit

    report = verify_audit(open_store(ctx, url), checkpoint)
    if not report.ok:
        more = getattr(report, "problems", ())[1:]
        also = f" (and {len(more)} more problems)" if more else ""
        at = f"at entry {report.bad_seq}" if report.bad_seq is not None else "outside the trail"
        raise FabnetError(f"audit trail of {where(ctx, url)} is broken {at}: {report.problem}"
                          f"{also} (fix: restore the database from a backup; entries "
                          f"1..{report.entries} are sound)")
    signed = f", {report.signed} signed" if report.signed else ", not signed"
    out_console.print(f"ok: {report.entries} entries{signed} (head {report.head_hash})")


@audit_app.command("checkpoint")
def audit_checkpoint_cmd(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="The checkpoint file to write; keep it away "
                                     "from the database.")],
    url: UrlHere = None,
) -> None:
    """Verify the trail, then write a signed checkpoint of it (last entry, hash, count)."""
    from fabnet.services.audit_trail import audit_checkpoint

    cp = audit_checkpoint(open_store(ctx, url), to)
    out_console.print(f"checkpoint of {cp.count} entries (head {cp.hash}) written to {to}")


@audit_app.command("rotate-key")
def audit_rotate_key_cmd(ctx: typer.Context, url: UrlHere = None) -> None:
    """Add a new audit key to the key file and sign from now on with it; old keys stay."""
    from fabnet.services.audit_trail import rotate_audit_key

    store, old, new = rotate_audit_key(open_store(ctx, url))
    path = store.audit_keys.path if store.audit_keys else "?"
    out_console.print(f"audit key {new} now signs (was {old}); key file {path}")


@audit_app.command("log")
def audit_log_cmd(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(min=0, help="Show entries after this one.")] = 0,
    limit: Annotated[int, typer.Option(min=1, help="How many entries.")] = 50,
    url: UrlHere = None,
) -> None:
    """Show audit entries: when, who, what, which entity."""
    from fabnet.services.audit_trail import audit_entries

    entries = audit_entries(open_store(ctx, url), since, limit)
    print_table("Audit trail", ("#", "at", "who", "action", "entity"),
                [(str(e.seq), e.at[:19].replace("T", " "), e.actor, e.action, e.entity)
                 for e in entries])
