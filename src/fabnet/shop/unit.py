"""Units: one serialized product or assembly, from its build to its customer.

A unit is built (waiting for its tests), complete (every required test's last result a
pass), installed in another unit (a sub-assembly), in transit to another site, or
shipped. Repairs and scrapping come later and have their statuses here already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class UnitStatus(StrEnum):
    """Where a unit is in its life."""

    BUILT = "built"
    COMPLETE = "complete"
    INSTALLED = "installed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"  # sent to another site, not booked in there yet
    IN_REPAIR = "in_repair"
    SCRAPPED = "scrapped"


@dataclass(frozen=True)
class Unit:
    """One serialized unit of `item`, now at `site`, built on work order `work_order`."""

    id: int
    serial: str
    item: str
    site: str
    work_order: int
    status: UnitStatus
    held: bool
    completed_at: datetime | None
    shipped_at: datetime | None
    built_at: datetime
    built_by: str
