"""The purchase order verbs: release a plan's purchases, list, receive a lot against one,
cancel. Each runs in one unit of work, is checked against the caller's role and sites
(`fabnet.shop.purchase_order.PO_ROLES`), and is audited in the same transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from fabnet.plan.whole_units import is_whole_unit
from fabnet.services.floor import releasable_run
from fabnet.shop.errors import FloorError
from fabnet.shop.lot import Lot
from fabnet.shop.po_repository import PurchaseOrderRepository
from fabnet.shop.purchase_order import (
    POAction,
    PurchaseOrder,
    PurchaseOrderStatus,
    check,
    order_quantity,
)
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller
from fabnet.store import Action, Store, UnitOfWork

#: a plan's purchase smaller than this is solver noise, not an order
MIN_QTY = 1e-6


@dataclass(frozen=True)
class Receipt:
    """A lot booked against a purchase order, and the order as it is now."""

    lot: Lot
    purchase_order: PurchaseOrder


def _scenario(uow: UnitOfWork, name: str | None) -> int:
    """The id of the scenario the floor runs in (`name`, or the store's only one)."""
    from fabnet.services.floor import _scenario_id

    return _scenario_id(uow, name)[0]


def release_purchases(store: Store, caller: Caller, scenario: str, run_id: int | None = None,
                      until: date | None = None) -> list[PurchaseOrder]:
    """Turn a stored plan run's purchases (default: the scenario's newest run) into open
    purchase orders, those ordered in buckets up to the one that contains `until`; of a
    plan that started from the floor only the part open orders do not bring yet
    (`qty − firm`); a site manager places their own sites' purchases only. A whole-unit
    run is placed as planned; a continuous run's quantities are rounded up to whole units,
    the offer's minimum and its packs (`order_quantity`)."""
    check(caller, POAction.RELEASE)

    def body(uow: UnitOfWork) -> list[PurchaseOrder]:
        pos = PurchaseOrderRepository(uow.connection, uow.audit)
        sid = _scenario(uow, scenario)
        run = releasable_run(uow, scenario, run_id, "there are no purchases to place")
        whole = is_whole_unit(run.kpis)
        if done := pos.released_from(run.id):
            raise FloorError(f"the purchases of plan run {run.id} were released already "
                             f"({len(done)} purchase orders from PO-{done[0]}) (fix: see "
                             "`fabnet floor po list`)")
        vid = uow.scenarios.version_id(scenario, run.version)
        offers = {(o.supplier, o.item): o
                  for o in uow.scenarios.get(scenario, run.version).offers}
        made: list[int] = []
        for row in run.document["tables"]["purchases"]:
            qty = float(row["qty"]) - float(row.get("firm", 0.0))
            ordered = date.fromisoformat(str(row["order_start"]))
            if qty <= MIN_QTY or (until is not None and ordered > until):
                continue
            if not caller.sees(row["site"]):
                continue
            offer = offers.get((row["supplier"], row["item"]))
            size = order_quantity(qty, whole, offer.moq if offer else None,
                                  offer.multiple if offer else None)
            made.append(pos.add(sid, vid, run.id, row["supplier"], row["site"], row["item"],
                                size, int(row["order_bucket"]),
                                ordered, int(row["arrival_bucket"]),
                                date.fromisoformat(str(row["arrival_start"]))))
        orders = pos.find(ids=made) if made else []
        uow.audit.append(Action.PO_RELEASE, f"plan_run:{run.id}", None,
                         {"scenario": scenario, "version": run.version,
                          "until": until.isoformat() if until else None,
                          "purchase_orders": [
                              {"id": o.code, "supplier": o.supplier, "site": o.site,
                               "item": o.item, "qty": o.qty, "due": o.due_date.isoformat()}
                              for o in orders]})
        uow.commit()
        return orders
    return store.acting_as(caller.name).run(body)


def list_purchase_orders(store: Store, caller: Caller, scenario: str | None = None,
                         site: str | None = None,
                         statuses: tuple[PurchaseOrderStatus, ...] = ()
                         ) -> list[PurchaseOrder]:
    """Purchase orders by due date, of the caller's sites only, filtered by site and
    status."""
    check(caller, POAction.LIST, site)

    def body(uow: UnitOfWork) -> list[PurchaseOrder]:
        sid = _scenario(uow, scenario)
        sites: set[str] | None = None if caller.sites is None else set(caller.sites)
        if site is not None:
            sites = {site}
        return PurchaseOrderRepository(uow.connection, uow.audit).find(
            sid, sites, [s.value for s in statuses] or None)
    return store.acting_as(caller.name).run(body, True)


def receive_against(store: Store, caller: Caller, po_id: int, lot: str, qty: float,
                    site: str | None = None, item: str | None = None,
                    supplier: str | None = None) -> Receipt:
    """Book a supplier's lot into the site's stock against purchase order `po_id`: the
    lot and the order's received quantity in one transaction; the order stays open with
    what is still to come, or is closed when all of it came; a lot larger than what is
    still to come is refused (`OverReceipt`) and nothing is booked."""
    check(caller, POAction.RECEIVE)
    if not (qty > 0 and math.isfinite(qty)):
        raise FloorError(f"--qty {qty}: must be a number > 0")
    if not lot.strip():
        raise FloorError("--lot: give the lot code the supplier printed")

    def body(uow: UnitOfWork) -> Receipt:
        pos = PurchaseOrderRepository(uow.connection, uow.audit)
        floor = FloorRepository(uow.connection, uow.audit)
        po = pos.get(po_id)
        check(caller, POAction.RECEIVE, po.site)
        if supplier is not None and supplier != po.supplier:
            raise FloorError(f"{po.code} is from {po.supplier}, not {supplier} (fix: "
                             f"--supplier {po.supplier}, or the purchase order of this "
                             "delivery)")
        po.check_receipt(site or po.site, item or po.item, qty)
        sid = _scenario(uow, po.scenario)
        if floor.lots(sid, code=lot, site=po.site, item=po.item):
            raise FloorError(f"lot {lot} of {po.item} is at {po.site} already (fix: give "
                             "the delivery its own lot code)")
        lid = floor.add_lot(sid, po.site, po.item, lot, qty, po.supplier)
        pos.book_receipt(po, lid, qty)
        after = pos.get(po.id)
        uow.audit.append(Action.LOT_RECEIVE, f"lot:{po.site}/{po.item}/{lot}", None,
                         {"site": po.site, "item": po.item, "lot": lot, "qty": qty,
                          "supplier": po.supplier, "purchase_order": po.code})
        uow.audit.append(Action.PO_RECEIVE, f"purchase_order:{po.code}",
                         {"qty_received": po.qty_received, "status": po.status.value},
                         {"lot": lot, "qty": qty, "qty_received": after.qty_received,
                          "status": after.status.value})
        uow.commit()
        return Receipt(floor.lots(sid, ids=[lid])[0], after)
    return store.acting_as(caller.name).run(body)


def cancel(store: Store, caller: Caller, po_id: int, reason: str) -> PurchaseOrder:
    """Cancel an open purchase order (what was received of it stays received); the next
    plan no longer counts on what it would have brought."""
    check(caller, POAction.CANCEL)
    if not reason.strip():
        raise FloorError("--reason: say why the purchase order is cancelled")

    def body(uow: UnitOfWork) -> PurchaseOrder:
        pos = PurchaseOrderRepository(uow.connection, uow.audit)
        po = pos.get(po_id)
        check(caller, POAction.CANCEL, po.site)
        if po.status is not PurchaseOrderStatus.OPEN:
            raise FloorError(f"{po.code} is {po.status.value}: only an open purchase order "
                             "is cancelled")
        pos.cancel(po, reason.strip())
        uow.audit.append(Action.PO_CANCEL, f"purchase_order:{po.code}",
                         {"status": po.status.value, "remaining": po.remaining},
                         {"status": PurchaseOrderStatus.CANCELLED.value,
                          "reason": reason.strip()})
        uow.commit()
        return pos.get(po.id)
    return store.acting_as(caller.name).run(body)
