"""`fabnet floor transfer|arrive|transfers`: units sent from one site to another along a
lane (in transit until booked in), booked in at the destination, and listed.

Like the rest of the `fabnet floor` group, each command works on the store of
`FABNET_DATABASE_URL` (or `--url`) as `--as` / `FABNET_USER`, and prints a table, or JSON
with `--json`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, _ctx, _plain, floor_app, show
from fabnet.model.errors import FabnetError

_COLS = ["transfer", "lane", "units", "items", "sent", "expected", "status"]


def transfer_rows(found: list[Any]) -> list[list[Any]]:
    """Table rows of transfers."""
    return [[t.code, t.lane, len(t.serials), ", ".join(sorted(set(t.items))), t.sent_date,
             t.expected_date, t.status.value] for t in found]


def transfer_doc(t: Any) -> dict[str, Any]:
    """A transfer as `--json` gives it: its fields, code and lane."""
    return {"code": t.code, "lane": t.lane, **_plain(t)}


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FabnetError(f"--sent {text!r}: not a date (fix: write YYYY-MM-DD)") from None


@floor_app.command("transfer")
def transfer_cmd(ctx: typer.Context,
                 serials: Annotated[list[str], typer.Argument(help="Serials to send.")],
                 to: Annotated[str, typer.Option("--to", help="The destination site.")],
                 lane: Annotated[str | None, typer.Option(
                     help="The lane, as FROM>TO (default: the one to --to).")] = None,
                 sent: Annotated[str | None, typer.Option(
                     help="The day they left, YYYY-MM-DD (default: today).")] = None,
                 scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Send units from their site to another: they leave its stock and are in transit,
    expected the lane's transit after they left, until `fabnet floor arrive` books them
    in (the sending site's line lead, a planner or an admin)."""
    from fabnet.services.transfers import send

    store, caller = _ctx(ctx)
    t = send(store, caller, serials, to, lane, _day(sent), scenario)
    show(as_json, f"{t.code}: {len(t.serials)} units in transit {t.lane}", _COLS,
         transfer_rows([t]), transfer_doc(t))


@floor_app.command("arrive")
def arrive_cmd(ctx: typer.Context,
               transfer: Annotated[str, typer.Argument(help="TR-7, as `transfers` lists.")],
               scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Book a transfer in at its destination: its units are in that site's stock (the
    destination's line lead, a planner or an admin)."""
    from fabnet.services.transfers import arrive
    from fabnet.shop.transfer import parse_transfer

    store, caller = _ctx(ctx)
    t = arrive(store, caller, parse_transfer(transfer), scenario)
    show(as_json, f"{t.code} arrived at {t.destination}", _COLS, transfer_rows([t]),
         transfer_doc(t))


@floor_app.command("transfers")
def transfers_cmd(ctx: typer.Context, status: Annotated[str | None, typer.Option(
                      help="in_transit or arrived.")] = None,
                  scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """List transfers (a line lead sees those from or to their own sites only)."""
    from fabnet.services.transfers import list_transfers
    from fabnet.shop.transfer import TransferStatus

    try:
        st = TransferStatus(status) if status is not None else None
    except ValueError:
        raise FabnetError(f"--status: one of {', '.join(s.value for s in TransferStatus)}"
                          ) from None
    store, caller = _ctx(ctx)
    found = list_transfers(store, caller, scenario, st)
    show(as_json, f"{len(found)} transfers", _COLS, transfer_rows(found),
         [transfer_doc(t) for t in found])
