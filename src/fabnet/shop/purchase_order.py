"""Purchase orders: a plan's purchases placed with suppliers, and the rules of receiving.

Like the copy of an order pinned in the goods-in office: `qty` of `item` from `supplier`
to `site`, ordered on `order_date`, due on `due_date`. Each lot booked against it counts
towards it; it stays open with what is still to come, is closed when all of it came, and
may be cancelled while open. A delivery of more than is still to come is refused: the
goods-in clerk books it against a new order, or sends the extra back.

Who may do what: planners and line leads (`site_manager`, their own sites) release,
receive and cancel, as they release and receive work orders; every role may list them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from fabnet.shop.errors import FloorError
from fabnet.shop.lot import EPS
from fabnet.shop.roles import Caller
from fabnet.store.records import Role


class PurchaseOrderStatus(StrEnum):
    """Where a purchase order is."""

    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OverReceipt(FloorError):
    """A lot larger than what is still to come on its purchase order."""


@dataclass(frozen=True)
class PurchaseOrder:
    """`qty` of `item` from `supplier` to `site`, ordered in bucket `order_bucket`
    (`order_date`), due in bucket `due_bucket` (`due_date`) of the plan it came from."""

    id: int
    scenario: str
    version: int
    plan_run: int | None
    supplier: str
    site: str
    item: str
    qty: float
    qty_received: float
    order_bucket: int
    order_date: date
    due_bucket: int
    due_date: date
    status: PurchaseOrderStatus
    created_at: datetime
    created_by: str
    note: str | None = None

    @property
    def code(self) -> str:
        """The purchase order as people write it: `PO-12`."""
        return purchase_order_code(self.id)

    @property
    def remaining(self) -> float:
        """Units still to come (0 once closed or cancelled)."""
        if self.status is not PurchaseOrderStatus.OPEN:
            return 0.0
        return max(self.qty - self.qty_received, 0.0)

    def check_receipt(self, site: str, item: str, qty: float) -> None:
        """Refuse a lot of `qty` of `item` at `site` against this order unless it is open,
        for the same site and item, and no more than what is still to come."""
        if self.status is not PurchaseOrderStatus.OPEN:
            raise FloorError(f"{self.code} is {self.status.value}: nothing more is received "
                             "against it (fix: receive the lot without --po, or against an "
                             "open purchase order)")
        if item != self.item or site != self.site:
            raise FloorError(f"{self.code} brings {self.item} to {self.site}, not {item} to "
                             f"{site} (fix: --site {self.site} --item {self.item}, or the "
                             "purchase order of this delivery)")
        if qty > self.remaining + EPS * max(1.0, self.qty):
            raise OverReceipt(f"{self.code} has {self.remaining:g} of {self.qty:g} {item} "
                              f"still to come, not {qty:g}: nothing was booked (fix: --qty "
                              f"{self.remaining:g} or less; book the extra against another "
                              "purchase order or without --po)")


def order_quantity(qty: float, whole: bool, moq: float | None = None,
                   multiple: int | None = None) -> float:
    """A purchase order's quantity for `qty` planned units: as planned in a whole-unit plan
    (which kept the offer's `moq` and `multiple` already); from a continuous plan, rounded
    up to whole units, to at least `moq` and to a whole number of packs of `multiple`."""
    if whole:
        return float(round(qty))
    units = max(math.ceil(qty - 1e-6), math.ceil(moq or 0.0))
    pack = multiple or 1
    return float(math.ceil(units / pack) * pack)


def purchase_order_code(po_id: int) -> str:
    """`PO-<id>`."""
    return f"PO-{po_id}"


_CODE = re.compile(r"(?:PO-?)?(\d{1,12})", re.IGNORECASE)


def parse_purchase_order(text: str) -> int:
    """The id in `PO-12` (or `12`); a `FloorError` naming the form otherwise."""
    m = _CODE.fullmatch(text.strip())
    if m is None:
        raise FloorError(f"{text!r} is not a purchase order (fix: write it as PO-12, as "
                         "`fabnet floor po list` lists them)")
    return int(m.group(1))


# ---------------------------------------------------------------- who may


class POAction(StrEnum):
    """The purchase order verbs, as `fabnet floor po` names them."""

    RELEASE = "po-release"
    LIST = "po-list"
    RECEIVE = "po-receive"
    CANCEL = "po-cancel"


A, P, S = Role.ADMIN, Role.PLANNER, Role.SITE_MANAGER

PO_ROLES: dict[POAction, frozenset[Role]] = {
    POAction.RELEASE: frozenset({A, P, S}),
    POAction.LIST: frozenset(Role),
    POAction.RECEIVE: frozenset({A, P, S}),
    POAction.CANCEL: frozenset({A, P, S}),
}


def check(caller: Caller, action: POAction, site: str | None = None) -> None:
    """Refuse (`NotPermitted`) unless the caller's role may do `action`, at `site` if
    given (a site manager only at their own sites; the refusal names no other site)."""
    caller.permit(action.value, PO_ROLES[action], site)
