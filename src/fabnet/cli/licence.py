"""`fabnet licence …`: export licences in the store, the floor's source of truth for
shipping (docs/compliance.md): add, list, revoke, import a scenario's section, status.

Acts on the store of `FABNET_DATABASE_URL` (or `--url`) as `--as` / `FABNET_USER`; only
export compliance (and admins) add, revoke and import. `--json` prints JSON.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, _ctx, show
from fabnet.cli.store import ActorOpt, UrlOpt, settings_callback
from fabnet.model.errors import FabnetError

licence_app = typer.Typer(no_args_is_help=True, help="Export licences: balances, the "
                          "shipping gate's records, expiries and blocked shipments.")

_COLS = ["licence", "customer", "country", "items", "qty", "remaining", "from", "until",
         "status", "euc", "authority"]


@licence_app.callback()
def licence_main(ctx: typer.Context, url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """Export licences, on the shared store."""
    settings_callback(ctx, url, actor)


def _today() -> date:
    return datetime.now(UTC).date()  # as the gate's day: UTC


def _day(opt: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FabnetError(f"{opt} {text!r}: not a date (fix: write YYYY-MM-DD)") from None


def _rows(balances: Any, on: date) -> list[list[Any]]:
    return [[b.licence.id, b.licence.customer, b.licence.country, ", ".join(b.licence.items),
             f"{b.licence.qty:g}", f"{b.remaining:g}", b.licence.start, b.licence.until,
             b.status_on(on).value, b.licence.euc, b.licence.authority] for b in balances]


@licence_app.command("add")
def add_cmd(ctx: typer.Context, licence_id: Annotated[str, typer.Argument(metavar="ID")],
            customer: Annotated[str, typer.Option(help="The end user (a customer id).")],
            country: Annotated[str, typer.Option(help="The destination (the customer's).")],
            item: Annotated[list[str], typer.Option(help="An item it allows (repeat).")],
            qty: Annotated[float, typer.Option(help="Units over the licence's life.")],
            from_: Annotated[str, typer.Option("--from", help="First valid day.")],
            until: Annotated[str, typer.Option(help="Last valid day.")],
            euc: Annotated[str, typer.Option(help="End-user certificate reference.")] = "",
            authority: Annotated[str, typer.Option(help="The granting authority.")] = "",
            pending: Annotated[bool, typer.Option(help="Applied for, not granted yet.")]
            = False, scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Record a licence granted (or pending) with its whole quantity remaining."""
    from fabnet.model.licence import Licence, LicenceStatus
    from fabnet.services.licences import add_licence

    store, caller = _ctx(ctx)
    lic = Licence(licence_id, customer, country, tuple(item), qty, _day("--from", from_),
                  _day("--until", until), euc,
                  LicenceStatus.PENDING if pending else LicenceStatus.VALID, authority)
    b = add_licence(store, caller, lic, scenario)
    show(as_json, f"licence {b.licence.id} added", _COLS, _rows([b], _today()), b)


@licence_app.command("list")
def list_cmd(ctx: typer.Context, customer: Annotated[str | None, typer.Option()] = None,
             scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """List the store's licences with their remaining quantities."""
    from fabnet.services.licences import list_licences

    store, caller = _ctx(ctx)
    found = list_licences(store, caller, scenario, customer)
    show(as_json, f"{len(found)} licences", _COLS, _rows(found, _today()), found)


@licence_app.command("revoke")
def revoke_cmd(ctx: typer.Context, licence_id: Annotated[str, typer.Argument(metavar="ID")],
               reason: Annotated[str, typer.Option(help="Why (the authority's notice).")],
               scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a licence: nothing ships under it from now on."""
    from fabnet.services.licences import revoke_licence

    store, caller = _ctx(ctx)
    b = revoke_licence(store, caller, licence_id, reason, scenario)
    show(as_json, f"licence {b.licence.id} revoked", _COLS, _rows([b], _today()), b)


@licence_app.command("import")
def import_cmd(ctx: typer.Context, scenario: Annotated[str, typer.Argument(
        help="The stored scenario whose licences: section to copy in.")],
               as_json: JsonOpt = False) -> None:
    """Copy a stored scenario's licences into the store (those it holds already stay)."""
    from fabnet.services.licences import import_licences

    store, caller = _ctx(ctx)
    added, skipped = import_licences(store, caller, scenario)
    show(as_json, f"{len(added)} licences imported, {len(skipped)} already in the store "
         f"({', '.join(skipped) or 'none'})", _COLS, _rows(added, _today()),
         {"added": added, "skipped": skipped})


@licence_app.command("status")
def status_cmd(ctx: typer.Context, weeks: Annotated[int, typer.Option(
        help="Show licences expiring in the next N weeks.")] = 4,
               scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """Balances, licences expiring in the next N weeks, and blocked shipments."""
    from fabnet.services.licences import licence_status

    store, caller = _ctx(ctx)
    r = licence_status(store, caller, weeks, scenario)
    if as_json:
        show(True, "", [], [], r)
        return
    show(False, f"{len(r.balances)} licences on {r.on}", _COLS, _rows(r.balances, r.on), r)
    show(False, f"{len(r.expiring)} expiring in the next {weeks} weeks", _COLS,
         _rows(r.expiring, r.on), r)
    show(False, f"{len(r.blocked)} blocked shipments (newest first)",
         ["audit", "at", "by", "customer", "serials", "reason"],
         [[b.seq, b.at, b.by, b.customer, ", ".join(b.serials), b.reason] for b in r.blocked],
         r)
