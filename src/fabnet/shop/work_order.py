"""Work orders: a plan's production released to the floor, one per site, item and bucket.

Like a job ticket pinned at the line: make `qty` of `item` at `site` by `due_date`,
through the operations of the item's routing. It moves released → in_progress → done
as units are built, or is cancelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from fabnet.shop.errors import FloorError


class WorkOrderStatus(StrEnum):
    """Where a work order is."""

    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        """True while units may still be built on it."""
        return self in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Operation:
    """One step of a work order, from the routing: hours per unit on a work-center type."""

    seq: int
    work_center: str
    hours: float


@dataclass(frozen=True)
class WorkOrder:
    """Make `qty` of `item` at `site` by `due_date` (bucket `due_bucket` of the plan)."""

    id: int
    scenario: str
    version: int
    plan_run: int | None
    site: str
    item: str
    qty: int
    qty_done: int
    due_bucket: int
    due_date: date
    status: WorkOrderStatus
    operations: tuple[Operation, ...]
    created_at: datetime
    created_by: str

    @property
    def code(self) -> str:
        """The work order as people write it: `WO-12`."""
        return work_order_code(self.id)

    @property
    def remaining(self) -> int:
        """Units still to build."""
        return self.qty - self.qty_done


def work_order_code(wo_id: int) -> str:
    """`WO-<id>`."""
    return f"WO-{wo_id}"


_CODE = re.compile(r"(?:WO-?)?(\d{1,12})", re.IGNORECASE)


def parse_work_order(text: str) -> int:
    """The id in `WO-12` (or `12`); a `FloorError` naming the form otherwise."""
    m = _CODE.fullmatch(text.strip())
    if m is None:
        raise FloorError(f"{text!r} is not a work order (fix: write it as WO-12, as `fabnet "
                         "floor orders` lists them)")
    return int(m.group(1))
