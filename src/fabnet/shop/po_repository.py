"""The purchase orders' repository: placing them, reading them, booking receipts, and
cancelling, on the store's tables (`fabnet.store.po_schema`).

Like `FloorRepository` it lives in `shop` because it hands out the shop's values; a
service makes it on its unit of work. A receipt counts towards its order with a
compare-and-set update (`qty_received + q <= qty`, status open), so two lots booked at
once never take an order past its quantity: the second finds it changed and its unit of
work runs again on what is left (`PurchaseOrderChanged`, a `Collision`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from fabnet.shop.lot import EPS
from fabnet.shop.purchase_order import PurchaseOrder, PurchaseOrderStatus, purchase_order_code
from fabnet.store.errors import NotFound
from fabnet.store.po_schema import purchase_order_receipts, purchase_orders
from fabnet.store.repository import Repository, as_utc, now
from fabnet.store.schema import scenario_versions, scenarios
from fabnet.store.unit_of_work import Collision

PO, RC = purchase_orders, purchase_order_receipts
OPEN = PurchaseOrderStatus.OPEN.value


class PurchaseOrderChanged(Collision):  # a Collision: `Store.run` runs the receipt again
    """A purchase order received or cancelled by someone else meanwhile: run again."""


class PurchaseOrderRepository(Repository):
    """Purchase orders, inside one unit of work."""

    def add(self, scenario_id: int, version_id: int, plan_run: int | None, supplier: str,
            site: str, item: str, qty: float, order_bucket: int, order_date: date,
            due_bucket: int, due_date: date) -> int:
        """An open purchase order; returns its id (the caller audits the release)."""
        t = now()
        return int(self._conn.execute(sa.insert(PO).values(
            scenario_id=scenario_id, version_id=version_id, plan_run_id=plan_run,
            supplier=supplier, site=site, item=item, qty=qty, qty_received=0.0,
            order_bucket=order_bucket, order_date=order_date, due_bucket=due_bucket,
            due_date=due_date, status=OPEN, created_at=t, created_by=self.actor,
            updated_at=t).returning(PO.c.id)).scalar_one())

    def released_from(self, plan_run: int) -> list[int]:
        """Ids of the purchase orders released from a plan run."""
        return [int(i) for i in self._conn.execute(
            sa.select(PO.c.id).where(PO.c.plan_run_id == plan_run).order_by(PO.c.id)
        ).scalars()]

    def get(self, po_id: int) -> PurchaseOrder:
        """One purchase order."""
        found = self.find(ids=[po_id])
        if not found:
            raise NotFound(f"no purchase order {purchase_order_code(po_id)} (fix: see "
                           "`fabnet floor po list`)")
        return found[0]

    def find(self, scenario_id: int | None = None, sites: Iterable[str] | None = None,
             statuses: Iterable[str] | None = None, ids: Iterable[int] | None = None
             ) -> list[PurchaseOrder]:
        """Purchase orders by due date, filtered by scenario, sites, statuses or ids."""
        q = (sa.select(PO, scenarios.c.name.label("scenario"),
                       scenario_versions.c.version.label("version"))
             .join(scenarios, scenarios.c.id == PO.c.scenario_id)
             .join(scenario_versions, scenario_versions.c.id == PO.c.version_id)
             .order_by(PO.c.due_date, PO.c.id))
        if scenario_id is not None:
            q = q.where(PO.c.scenario_id == scenario_id)
        if sites is not None:
            q = q.where(PO.c.site.in_(list(sites)))
        if statuses is not None:
            q = q.where(PO.c.status.in_(list(statuses)))
        if ids is not None:
            q = q.where(PO.c.id.in_(list(ids)))
        return [_po(r) for r in self._conn.execute(q)]

    def book_receipt(self, po: PurchaseOrder, lot_id: int, qty: float) -> None:
        """Count a lot of `qty` towards an open order (closed when all of it came), only
        if the order is still as it was read (`PurchaseOrderChanged` otherwise)."""
        got = po.qty_received + qty
        full = got >= po.qty - EPS * max(po.qty, 1.0)
        res = self._conn.execute(
            sa.update(PO).where(PO.c.id == po.id, PO.c.status == OPEN,
                                PO.c.qty_received == po.qty_received)
            .values(qty_received=po.qty if full else got, updated_at=now(),
                    status=PurchaseOrderStatus.CLOSED.value if full else OPEN))
        if res.rowcount != 1:
            raise PurchaseOrderChanged(f"{po.code} changed while receiving (fix: run it again)")
        self._conn.execute(sa.insert(RC).values(purchase_order_id=po.id, lot_id=lot_id,
                                                qty=qty))

    def cancel(self, po: PurchaseOrder, note: str) -> None:
        """Cancel an open order as it was read (`PurchaseOrderChanged` otherwise)."""
        res = self._conn.execute(
            sa.update(PO).where(PO.c.id == po.id, PO.c.status == OPEN,
                                PO.c.qty_received == po.qty_received)
            .values(status=PurchaseOrderStatus.CANCELLED.value, note=note, updated_at=now()))
        if res.rowcount != 1:
            raise PurchaseOrderChanged(f"{po.code} changed while cancelling (fix: run it "
                                       "again)")

    def lots_of(self, po_id: int) -> list[tuple[int, float]]:
        """(lot id, qty) of the lots received against an order, in booking order."""
        return [(int(r.lot_id), float(r.qty)) for r in self._conn.execute(
            sa.select(RC.c.lot_id, RC.c.qty).where(RC.c.purchase_order_id == po_id)
            .order_by(RC.c.lot_id))]


def _po(r: Any) -> PurchaseOrder:
    return PurchaseOrder(int(r.id), r.scenario, int(r.version), r.plan_run_id, r.supplier,
                         r.site, r.item, float(r.qty), float(r.qty_received),
                         int(r.order_bucket), r.order_date, int(r.due_bucket), r.due_date,
                         PurchaseOrderStatus(r.status), as_utc(r.created_at), r.created_by,
                         r.note)
