"""Firm supply: what the floor already has and is already making, as the plan takes it.

A stored scenario's plan starts from the floor's state rather than from the file's
opening inventory: work orders released or in progress are production the plan must
keep (the remaining quantity, at their site, in their due bucket), and stock counted on
the floor (lots received, units built and not yet shipped) replaces the opening
inventory of the (site, item) pairs the floor keeps. A released work order of 30 drones
in week 2 means the plan makes at least 30 drones there in week 2: a plan that needs
50 makes 20 more, never 30 + 50. Open purchase orders are scheduled receipts: what is
still to come of each is a purchase the plan keeps, from its supplier to its site,
ordered in `order_bucket` and arriving in `arrival_bucket` (`order_bucket` + the offer's
lead time + the lane's transit), so the plan buys only what they do not bring.
Units in transit between sites (sent, not yet booked in) arrive at their destination in
the bucket they are expected in (one expected before the horizon starts, or overdue, in
bucket 0): the plan neither makes them again nor counts them at the site they left.

The value is plain data: `fabnet.services.firm_supply` reads it from the store,
`fabnet.model.network.compile_network` lays it over the network's arrays.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FixedProduction:
    """`qty` units of `item` already being made at `site`, due in bucket `bucket`."""

    site: str
    item: str
    bucket: int
    qty: float


@dataclass(frozen=True)
class OpeningStock:
    """`qty` units of `item` on hand at `site` (instead of the scenario's inventory)."""

    site: str
    item: str
    qty: float


@dataclass(frozen=True)
class ScheduledReceipt:
    """`qty` units of `item` still to come from `supplier` to `site` on purchase order
    `ref`: ordered in bucket `order_bucket`, arriving in `arrival_bucket`."""

    ref: str
    supplier: str
    site: str
    item: str
    order_bucket: int
    arrival_bucket: int
    qty: float


@dataclass(frozen=True)
class InTransit:
    """`qty` units of `item` on their way from site `origin` to site `site` on transfer
    `ref`, expected in bucket `arrival_bucket`."""

    ref: str
    origin: str
    site: str
    item: str
    arrival_bucket: int
    qty: float


@dataclass(frozen=True)
class FirmSupply:
    """Production and purchases the plan must keep, and the opening stock the floor
    counted."""

    production: tuple[FixedProduction, ...] = ()
    stock: tuple[OpeningStock, ...] = ()
    #: open purchase orders, as purchases the plan keeps
    receipts: tuple[ScheduledReceipt, ...] = ()
    #: units in transit between sites, as arrivals the plan keeps
    in_transit: tuple[InTransit, ...] = ()
    #: what the floor could not say, for the plan's notes (e.g. no arrival of shipments)
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when there is no fixed production, counted stock, scheduled receipt or
        unit in transit."""
        return (not self.production and not self.stock and not self.receipts
                and not self.in_transit)
