"""`fabnet floor po release|list|cancel`: a stored plan's purchases as purchase orders
placed with suppliers; `fabnet floor receive --po PO` books a lot against one.

Like the rest of the `fabnet floor` group, each command works on the store of
`FABNET_DATABASE_URL` (or `--url`) as `--as` / `FABNET_USER`, and prints a table, or JSON
with `--json`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from fabnet.cli.floor import JsonOpt, ScenarioOpt, _ctx, _plain, show
from fabnet.model.errors import FabnetError

po_app = typer.Typer(no_args_is_help=True, help="Purchase orders: a stored plan's purchases "
                     "placed with suppliers, received lot by lot.")

_PO_COLS = ["purchase order", "supplier", "site", "item", "qty", "received", "ordered", "due",
            "status"]


def po_rows(orders: list[Any]) -> list[list[Any]]:
    """Table rows of purchase orders."""
    return [[o.code, o.supplier, o.site, o.item, f"{o.qty:g}", f"{o.qty_received:g}",
             o.order_date, o.due_date, o.status.value] for o in orders]


def po_doc(o: Any) -> dict[str, Any]:
    """A purchase order as `--json` gives it: its fields, code and what is still to come."""
    return {"code": o.code, **_plain(o), "remaining": o.remaining}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FabnetError(f"--until {text!r}: not a date (fix: write YYYY-MM-DD)") from None


@po_app.command("release")
def release_cmd(ctx: typer.Context, scenario: str,
                run: Annotated[int | None, typer.Option(help="Plan run id (default: newest).")]
                = None,
                until: Annotated[str | None, typer.Option(
                    help="Place the purchases ordered in buckets up to DATE.")] = None,
                as_json: JsonOpt = False) -> None:
    """Turn a stored plan run's purchases into open purchase orders (of a plan from the
    floor: only what open orders do not bring yet)."""
    from fabnet.services.purchase_orders import release_purchases

    store, caller = _ctx(ctx)
    orders = release_purchases(store, caller, scenario, run, _day(until) if until else None)
    show(as_json, f"{len(orders)} purchase orders released", _PO_COLS, po_rows(orders),
         [po_doc(o) for o in orders])


@po_app.command("list")
def list_cmd(ctx: typer.Context, site: Annotated[str | None, typer.Option()] = None,
             status: Annotated[list[str] | None, typer.Option(
                 help="open, closed or cancelled (repeat).")] = None,
             scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """List purchase orders by due date (a line lead sees their own sites' only)."""
    from fabnet.services.purchase_orders import list_purchase_orders
    from fabnet.shop.purchase_order import PurchaseOrderStatus

    try:
        statuses = tuple(PurchaseOrderStatus(s) for s in status or [])
    except ValueError:
        raise FabnetError(f"--status: one of {', '.join(s.value for s in PurchaseOrderStatus)}"
                          ) from None
    store, caller = _ctx(ctx)
    orders = list_purchase_orders(store, caller, scenario, site, statuses)
    show(as_json, f"{len(orders)} purchase orders", _PO_COLS, po_rows(orders),
         [po_doc(o) for o in orders])


@po_app.command("cancel")
def cancel_cmd(ctx: typer.Context, purchase_order: str,
               reason: Annotated[str, typer.Option()], as_json: JsonOpt = False) -> None:
    """Cancel an open purchase order (what came of it stays received)."""
    from fabnet.services.purchase_orders import cancel
    from fabnet.shop.purchase_order import parse_purchase_order

    store, caller = _ctx(ctx)
    o = cancel(store, caller, parse_purchase_order(purchase_order), reason)
    show(as_json, f"{o.code} cancelled", _PO_COLS, po_rows([o]), po_doc(o))


def receive_against_po(ctx: typer.Context, po: str, lot: str, qty: float, site: str | None,
                       item: str | None, supplier: str | None, as_json: bool) -> None:
    """`fabnet floor receive --po PO`: the lot, and the order with what is still to come."""
    from fabnet.services.purchase_orders import receive_against
    from fabnet.shop.purchase_order import parse_purchase_order

    store, caller = _ctx(ctx)
    r = receive_against(store, caller, parse_purchase_order(po), lot, qty, site, item,
                        supplier)
    o, x = r.purchase_order, r.lot
    show(as_json, f"lot received against {o.code} ({o.status.value})",
         ["lot", "site", "item", "qty", "supplier", "purchase order", "still to come"],
         [[x.code, x.site, x.item, f"{x.qty_received:g}", x.supplier, o.code,
           f"{o.remaining:g}"]], {"lot": _plain(x), "purchase_order": po_doc(o)})
