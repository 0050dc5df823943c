"""Lots: a quantity of one item received at a site, under the code its supplier printed.

A lot is consumed by builds until nothing remains; a lot on hold is not consumed.
First-in-first-out takes the oldest lots first, the way a store-room clerk takes the
box at the front of the shelf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: quantities closer than this are equal (BOM quantities are decimals)
EPS = 1e-9


@dataclass(frozen=True)
class Lot:
    """`remaining` of `qty_received` units of `item` at `site`, lot `code` of `supplier`
    (None: made on the floor, by work order `work_order`)."""

    id: int
    scenario: str
    site: str
    item: str
    code: str
    supplier: str | None
    qty_received: float
    remaining: float
    held: bool
    received_at: datetime
    received_by: str
    work_order: int | None = None


def fifo(available: list[tuple[int, float]], need: float) -> list[tuple[int, float]]:
    """(lot id, qty) taken from `available` (lot id, free qty), oldest first, to cover
    `need`; it covers less when the lots hold less (the caller checks the total)."""
    out: list[tuple[int, float]] = []
    for lot_id, free in available:
        if need <= EPS:
            break
        take = min(free, need)
        if take > EPS:
            out.append((lot_id, take))
            need -= take
    return out
