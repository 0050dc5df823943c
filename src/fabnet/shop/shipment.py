"""Shipments: complete units delivered to an approved customer.

A unit ships only if it is complete, on no hold (its own or a lot's it carries), not
installed in another unit and not shipped before; a customer must be approved. A
shipment with one unit that can't go is refused as a whole, with the reason per unit,
so nothing is half-shipped. (The export licence gate comes on top of this.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Refusal(StrEnum):
    """Why a unit can't ship."""

    UNKNOWN = "no such serial"
    NOT_YOURS = "not at one of your sites"
    ON_HOLD = "on hold"
    INCOMPLETE = "incomplete"
    SHIPPED = "already shipped"
    INSTALLED = "installed in another unit"
    NOT_SHIPPABLE = "not shippable"


@dataclass(frozen=True)
class Shipment:
    """Units (serials) delivered to `customer`."""

    id: int
    scenario: str
    customer: str
    serials: tuple[str, ...]
    shipped_at: datetime
    shipped_by: str
