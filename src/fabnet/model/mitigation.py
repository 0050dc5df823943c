"""Mitigations: candidate second sources, added hours or lines, buffers and lanes.

A continuity officer lists what could be bought to make the network survive its risks
(a second battery source outside China, more hours at the UK plant, a buffer of thermal
cameras at the hub, a second lane), each with a one-off cost and, where it has one, a
number of buckets (`available_after`) before it works. `apply` adds a chosen set to a
scenario as ordinary records, so every engine plans with it unchanged:

- `offer`: a (new) supplier's offer of `item` (price, order `lead_time`, `capacity` per
  bucket) shipped to site `to` over a lane of `transit` buckets; a new supplier needs a
  `country`, and is down (a disruption, capacity 0) for its first `available_after` buckets;
- `hours`: `hours` more per bucket on work center `work_center` at `site` (a new line when
  the site has none of that type), ramped by `ramp` from bucket `available_after` on;
  `item` adds an item the site may then make;
- `buffer`: `qty` units of `item` more in `site`'s opening stock, costing `holding_cost`
  per unit and bucket over the horizon on top of `cost`;
- `lane`: a new lane `from` > `to` (transit, lane_cost, capacity), closed for its first
  `available_after` buckets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from fabnet.model.errors import FabnetError

if TYPE_CHECKING:
    from fabnet.model.scenario import Disruption, Scenario


class MitigationKind(StrEnum):
    """What a mitigation adds to the network."""

    OFFER = "offer"
    HOURS = "hours"
    BUFFER = "buffer"
    LANE = "lane"


#: the fields each kind must give (beyond id, kind, cost)
REQUIRED: dict[MitigationKind, tuple[str, ...]] = {
    MitigationKind.OFFER: ("supplier", "item", "price", "destination"),
    MitigationKind.HOURS: ("site", "work_center", "hours"),
    MitigationKind.BUFFER: ("site", "item", "qty"),
    MitigationKind.LANE: ("origin", "destination"),
}


class MitigationError(FabnetError):
    """A mitigation that can't be applied to its scenario (names the record and field)."""


@dataclass(frozen=True)
class Mitigation:
    """One candidate: its kind's fields, a one-off `cost` in EUR, and `available_after`
    buckets from the horizon's start before it works."""

    id: str
    kind: MitigationKind
    cost: float = 0.0
    available_after: int = 0
    supplier: str | None = None
    country: str | None = None
    item: str | None = None
    price: float | None = None
    lead_time: int = 0
    capacity: float | None = None
    transit: int = 0
    site: str | None = None
    work_center: str | None = None
    hours: float | None = None
    ramp: tuple[float, ...] = ()
    qty: float | None = None
    holding_cost: float = 0.0
    origin: str | None = None
    destination: str | None = None
    lane_cost: float = 0.0

    def missing(self) -> list[str]:
        """The fields its kind needs that it does not give."""
        return [f for f in REQUIRED[self.kind] if getattr(self, f) is None]

    def total_cost(self, buckets: int) -> float:
        """One-off cost plus, for a buffer, holding its units over `buckets` buckets."""
        held = (self.qty or 0.0) * self.holding_cost * buckets
        return self.cost + (held if self.kind is MitigationKind.BUFFER else 0.0)


def _fail(m: Mitigation, fld: str, why: str, fix: str) -> MitigationError:
    return MitigationError(f"mitigations[{m.id}].{fld}: {why} (fix: {fix})")


def apply(sc: Scenario, chosen: tuple[Mitigation, ...]) -> Scenario:
    """`sc` with every mitigation of `chosen` added as records (`sc` is never mutated)."""
    for m in chosen:
        sc = _apply_one(sc, m)
    return sc


def _apply_one(sc: Scenario, m: Mitigation) -> Scenario:
    from fabnet.model.scenario import (
        Disruption,
        InventoryRecord,
        Lane,
        Offer,
        Supplier,
    )

    if gone := m.missing():
        raise _fail(m, gone[0], f"a {m.kind} mitigation needs it", f"give {gone[0]}")
    start = sc.horizon.start
    wait = m.available_after
    items = {i.id for i in sc.items}
    sites = {s.id: s for s in sc.sites}
    if m.item is not None and m.item not in items:
        raise _fail(m, "item", f"unknown item {m.item!r}", "name an item of the scenario")
    at = {"site": m.site, "to": m.destination if m.kind is MitigationKind.OFFER else None}
    for fld, v in at.items():
        if v is not None and v not in sites:
            raise _fail(m, fld, f"unknown site {v!r}", "name a site of the scenario")
    down: list[Disruption] = []
    if m.kind is MitigationKind.OFFER:
        assert m.supplier and m.item and m.price is not None and m.destination
        known = {v.id for v in sc.suppliers}
        suppliers = sc.suppliers
        if m.supplier not in known:
            if not m.country:
                raise _fail(m, "country", f"supplier {m.supplier!r} is new", "give its country")
            suppliers = (*suppliers, Supplier(m.supplier, m.country, m.supplier))
        elif wait:
            raise _fail(m, "available_after", f"supplier {m.supplier!r} already exists, so "
                        "its other offers would be held back too",
                        "give the second source its own supplier id, or 0")
        if any(o.supplier == m.supplier and o.item == m.item for o in sc.offers):
            raise _fail(m, "item", f"{m.supplier} already offers {m.item}",
                        "name another supplier or item")
        lanes = sc.lanes
        if not any(ln.origin == m.supplier and ln.destination == m.destination
                   for ln in lanes):
            lanes = (*lanes, Lane(m.supplier, m.destination, m.transit, m.lane_cost))
        sc = replace(sc, suppliers=suppliers, lanes=lanes,
                     offers=(*sc.offers, Offer(m.supplier, m.item, m.price, m.lead_time,
                                               m.capacity)))
        if wait:
            down.append(Disruption(f"mitigation-{m.id}", m.supplier, start, wait, 0.0))
    elif m.kind is MitigationKind.HOURS:
        assert m.site and m.work_center and m.hours is not None
        sc = _add_hours(sc, m, down)
        if m.item is not None and m.item not in sites[m.site].makes:
            site = replace(sites[m.site], makes=(*sites[m.site].makes, m.item))
            sc = replace(sc, sites=tuple(site if s.id == m.site else s for s in sc.sites))
    elif m.kind is MitigationKind.BUFFER:
        assert m.site and m.item and m.qty is not None
        if wait:
            raise _fail(m, "available_after", "a buffer is opening stock",
                        "give 0 (build the buffer before the horizon starts)")
        have = [x for x in sc.inventory if x.site == m.site and x.item == m.item]
        more = InventoryRecord(m.site, m.item, m.qty + sum(x.qty for x in have))
        sc = replace(sc, inventory=(*(x for x in sc.inventory if x not in have), more))
    else:
        assert m.origin and m.destination
        nodes = {s.id for s in sc.sites} | {v.id for v in sc.suppliers} | {
            c.id for c in sc.customers}
        for fld, v in (("from", m.origin), ("to", m.destination)):
            if v not in nodes:
                raise _fail(m, fld, f"unknown node {v!r}", "name a site, supplier or customer")
        if any(ln.origin == m.origin and ln.destination == m.destination for ln in sc.lanes):
            raise _fail(m, "to", f"lane {m.origin}>{m.destination} exists already",
                        "name a new lane")
        sc = replace(sc, lanes=(*sc.lanes, Lane(m.origin, m.destination, m.transit,
                                                m.lane_cost, m.capacity)))
        if wait:
            down.append(Disruption(f"mitigation-{m.id}", f"lane:{m.origin}>{m.destination}",
                                   start, wait, 0.0))
    return sc.with_disruptions(tuple(down)) if down else sc


def _add_hours(sc: Scenario, m: Mitigation, down: list[Disruption]) -> Scenario:
    """More hours on a work center: a new one from bucket `available_after`, or an existing
    flat one grown, held back to its old hours (a disruption factor) until then and
    through the ramp."""
    from fabnet.model.scenario import Disruption, WorkCenter

    assert m.site and m.work_center and m.hours is not None
    h = sc.horizon
    wait = m.available_after
    old = next((w for w in sc.work_centers if w.site == m.site and w.type == m.work_center),
               None)
    if old is None:
        if wait >= h.buckets:  # never available within the horizon
            return sc
        wc = WorkCenter(m.site, m.work_center, m.hours, h.bucket_start(wait), m.ramp)
        return replace(sc, work_centers=(*sc.work_centers, wc))
    if old.ramp or (old.start is not None and old.start > h.start):
        raise _fail(m, "work_center", f"{m.site}/{m.work_center} has its own start or ramp",
                    "add a new work-center type, or give that work center flat hours")
    if old.hours <= 0:
        raise _fail(m, "work_center", f"{m.site}/{m.work_center} has no hours to add to",
                    "give it hours, or add a new work-center type")
    total = old.hours + m.hours
    grown = replace(old, hours=total)
    sc = replace(sc, work_centers=tuple(grown if w is old else w for w in sc.work_centers))
    steps = [0.0] * wait + list(m.ramp)
    for k, f in enumerate(steps[:h.buckets]):
        down.append(Disruption(f"mitigation-{m.id}-{k}", m.site, h.bucket_start(k), 1,
                               (old.hours + m.hours * f) / total, m.work_center))
    return sc
