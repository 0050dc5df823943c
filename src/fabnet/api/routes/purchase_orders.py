"""Purchase orders over HTTP, with the CLI's verbs: release a plan's purchases, list,
receive a lot against one, cancel.

Each route admits the roles of `fabnet.shop.purchase_order.PO_ROLES` for its action, and
the services check the caller's sites on every order (a site manager's list holds their
sites only; a refusal is a 403 that names no other site). Every change is audited by its
service, in its own transaction; every POST takes an `Idempotency-Key`. A lot larger
than what is still to come on its order is a 422 and books nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import Field

from fabnet.api.deps import Allow, Principal
from fabnet.api.floor_schemas import Code, LotPublic, Out, Reason
from fabnet.api.routes.floor import ScenarioQ, caller
from fabnet.api.schemas import MAX_INT, NAME, ApiModel, Page
from fabnet.services import purchase_orders as po_svc
from fabnet.shop.purchase_order import (
    PO_ROLES,
    POAction,
    PurchaseOrderStatus,
    parse_purchase_order,
)

router = APIRouter(tags=["floor"])

PoRef = Annotated[str, Path(max_length=20, description="PO-12 or 12")]


def may(action: POAction) -> Any:
    """`Depends(Allow(...))` with the roles the purchase orders' matrix gives `action`."""
    return Depends(Allow(*PO_ROLES[action]))


class PoReleaseRequest(ApiModel):
    """Release a stored plan run's purchases as purchase orders."""

    scenario: Annotated[str, Field(pattern=NAME)]
    run: int | None = Field(default=None, ge=1, le=MAX_INT,
                            description="plan run id (default: the newest)")
    until: date | None = Field(default=None, description="place the purchases ordered in "
                               "buckets starting on or before this date")


class PoReceiveRequest(ApiModel):
    """Book a supplier's lot against a purchase order (its site, item and supplier)."""

    lot: Code
    qty: float = Field(gt=0, le=1e12)
    site: Code | None = Field(default=None, description="must be the order's, if given")
    item: Code | None = Field(default=None, description="must be the order's, if given")
    supplier: Code | None = Field(default=None, description="must be the order's, if given")


class PoCancelRequest(ApiModel):
    """Cancel an open purchase order."""

    reason: Reason


class PurchaseOrderPublic(Out):
    """`qty` of `item` from `supplier` to `site`, ordered on `order_date`, due on
    `due_date`; `remaining` is still to come."""

    id: int
    code: str
    scenario: str
    version: int
    plan_run: int | None
    supplier: str
    site: str
    item: str
    qty: float
    qty_received: float
    remaining: float
    order_bucket: int
    order_date: date
    due_bucket: int
    due_date: date
    status: str
    created_at: datetime
    created_by: str
    note: str | None


class PoReceiptPublic(Out):
    """The lot booked, and its purchase order as it is now."""

    lot: LotPublic
    purchase_order: PurchaseOrderPublic


@router.post("/floor/purchase-orders/release", response_model=list[PurchaseOrderPublic],
             status_code=status.HTTP_201_CREATED)
def release(body: PoReleaseRequest, who: Annotated[Principal, may(POAction.RELEASE)]
            ) -> list[PurchaseOrderPublic]:
    """Turn a stored plan run's purchases (default: the newest run) into open purchase
    orders, up to the order bucket of `until`; of a plan from the floor only what open
    orders do not bring yet; a site manager places their own sites' purchases."""
    found = po_svc.release_purchases(who.store, caller(who), body.scenario, body.run,
                                     body.until)
    return [PurchaseOrderPublic.model_validate(o) for o in found]


@router.get("/floor/purchase-orders", response_model=Page[PurchaseOrderPublic])
def list_purchase_orders(
        who: Annotated[Principal, may(POAction.LIST)], scenario: ScenarioQ = None,
        site: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        status_: Annotated[list[PurchaseOrderStatus] | None,
                           Query(alias="status", max_length=3)] = None
        ) -> Page[PurchaseOrderPublic]:
    """Purchase orders by due date (filters: `site`, `status`, repeated); a site manager
    sees their own sites' orders."""
    found = po_svc.list_purchase_orders(who.store, caller(who), scenario, site,
                                        tuple(status_ or ()))
    return Page(data=[PurchaseOrderPublic.model_validate(o) for o in found],
                count=len(found))


@router.post("/floor/purchase-orders/{purchase_order}/receive",
             response_model=PoReceiptPublic, status_code=status.HTTP_201_CREATED)
def receive(purchase_order: PoRef, body: PoReceiveRequest,
            who: Annotated[Principal, may(POAction.RECEIVE)]) -> PoReceiptPublic:
    """Book a lot against an open purchase order at one of your sites: it stays open with
    what is still to come, or is closed when all of it came; more than is still to come
    is a 422 and books nothing."""
    r = po_svc.receive_against(who.store, caller(who), parse_purchase_order(purchase_order),
                               body.lot, body.qty, body.site, body.item, body.supplier)
    return PoReceiptPublic.model_validate(r)


@router.post("/floor/purchase-orders/{purchase_order}/cancel",
             response_model=PurchaseOrderPublic)
def cancel(purchase_order: PoRef, body: PoCancelRequest,
           who: Annotated[Principal, may(POAction.CANCEL)]) -> PurchaseOrderPublic:
    """Cancel an open purchase order at one of your sites (what came of it stays
    received); the next plan no longer counts on the rest."""
    o = po_svc.cancel(who.store, caller(who), parse_purchase_order(purchase_order),
                      body.reason)
    return PurchaseOrderPublic.model_validate(o)

