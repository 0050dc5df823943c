"""Scenario records: what a planner writes down about the network, one dataclass per concept.

These are plain, frozen values that import nothing but the standard library. Reading
them from files is `fabnet.io`'s job; checking them against each other is
`fabnet.model.consistency`'s; turning them into arrays is `fabnet.model.network`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from fabnet.model.errors import Issue
from fabnet.model.horizon import Horizon
from fabnet.model.licence import Licence
from fabnet.model.mitigation import Mitigation


class ItemKind(StrEnum):
    """What an item is in the network: something delivered, or something built into it."""

    PRODUCT = "product"
    ASSEMBLY = "assembly"
    COMPONENT = "component"


@dataclass(frozen=True)
class Item:
    """A product, assembly or component, with its unit cost and country of origin."""

    id: str
    name: str = ""
    kind: ItemKind = ItemKind.COMPONENT
    unit_cost: float | None = None
    origin: str | None = None
    holding_cost: float | None = None
    #: every unit built gets its own serial number (products and assemblies on the floor)
    serialized: bool = False
    #: how its serials are written, e.g. `RQ-{yyyy}-{seq:06}` (None: `{item}-{yyyy}-{seq:06}`)
    serial_pattern: str | None = None
    #: the design revision now released (A, B, …): informational, the BOM and routing
    #: lines' effectivity dates decide what the plan builds when
    revision: str | None = None


def in_effect(start: date | None, until: date | None, on: date) -> bool:
    """Whether a BOM line or routing step with effectivity `start`..`until` (days
    included, None: open-ended) is in effect on day `on`."""
    return (start is None or start <= on) and (until is None or on <= until)


@dataclass(frozen=True)
class BomLine:
    """`qty` units of `item` go into each unit of `parent`."""

    parent: str
    item: str
    qty: float
    #: effectivity (days included; None: always): a design change ends one line and
    #: starts another; the plan uses, in each bucket, the lines in effect on its first day
    start: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class RoutingStep:
    """Each unit of `item` takes `hours` on a work center of type `work_center`."""

    item: str
    work_center: str
    hours: float
    #: effectivity, as on `BomLine`
    start: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class WorkCenter:
    """Hours per bucket of one work-center type at a site, with an optional start and ramp."""

    site: str
    type: str
    hours: float
    start: date | None = None
    ramp: tuple[float, ...] = ()
    #: a whole-unit plan makes every item on it in multiples of `batch` per bucket
    #: (None: any whole number); continuous plans ignore it
    batch: int | None = None


@dataclass(frozen=True)
class Site:
    """A factory, partner line or R&D site that makes `makes` on its work centers."""

    id: str
    country: str
    name: str = ""
    makes: tuple[str, ...] = ()
    location: str = ""  # where it is (town, coordinates): restricted, shown to cleared roles


@dataclass(frozen=True)
class Supplier:
    """A component supplier, located in `country` (which can embargo it)."""

    id: str
    country: str
    name: str = ""


@dataclass(frozen=True)
class Offer:
    """A supplier's offer of one item: price, lead time in buckets, capacity per bucket."""

    supplier: str
    item: str
    price: float
    lead_time: int
    capacity: float | None = None
    #: a whole-unit plan orders 0 or at least `moq` units per order (None: no minimum)
    moq: float | None = None
    #: a whole-unit plan orders in packs of `multiple` units (None: any whole number)
    multiple: int | None = None


@dataclass(frozen=True)
class Customer:
    """A customer; nothing is delivered to one whose `approved` is false."""

    id: str
    country: str
    name: str = ""
    approved: bool = True


@dataclass(frozen=True)
class Lane:
    """A transport link; every flow between two nodes needs one."""

    origin: str
    destination: str
    transit: int
    cost: float = 0.0
    capacity: float | None = None

    @property
    def id(self) -> str:
        """The lane's name, as disruptions target it: `A>B`."""
        return f"{self.origin}>{self.destination}"


@dataclass(frozen=True)
class InventoryRecord:
    """Opening stock of `item` at `site`."""

    site: str
    item: str
    qty: float


@dataclass(frozen=True)
class Demand:
    """An order of `qty` units of `item` for `customer`, due in the bucket of `due`."""

    id: str
    customer: str
    item: str
    qty: float
    due: date
    priority: int = 1


@dataclass(frozen=True)
class Disruption:
    """Capacity factor on a node, `country:XX` or `lane:A>B` for `buckets` buckets from `start`;
    with `work_center`, only that work-center type of the target site (a line down)."""

    id: str
    target: str
    start: date
    buckets: int
    capacity: float = 0.0
    work_center: str | None = None


class NodeKind(StrEnum):
    """Kinds of node a recovery time or a risk can name as a whole."""

    SITE = "site"
    SUPPLIER = "supplier"
    OFFER = "offer"
    LANE = "lane"


@dataclass(frozen=True)
class Recovery:
    """Time-to-recover in days of a node (`SITE`, `SUPPLIER`, `SUPPLIER/ITEM`, `lane:A>B`),
    of every node of a kind (`kind:site`, `kind:offer`, `kind:lane`), or `default`."""

    target: str
    days: float


class DurationDist(StrEnum):
    """How long a sampled disruption lasts, in buckets."""

    FIXED = "fixed"  # exactly `duration`
    UNIFORM = "uniform"  # uniform on duration .. duration_max
    GEOMETRIC = "geometric"  # geometric with mean `duration` (at least 1)


@dataclass(frozen=True)
class Risk:
    """A hazard: each bucket an event starts at `target` with probability `rate`."""

    id: str
    target: str
    rate: float
    duration: int
    dist: DurationDist = DurationDist.FIXED
    duration_max: int | None = None
    capacity: float = 0.0


@dataclass(frozen=True)
class TestPlan:
    """A test step every unit of `item` goes through on the floor; `required` steps must
    pass before the unit is complete, and a value outside [`min`, `max`] is a fail."""

    item: str
    step: str
    required: bool = True
    min: float | None = None
    max: float | None = None

    def judge(self, passed: bool, value: float | None) -> bool:
        """Whether a recorded result passes: a pass with a value outside the limits fails."""
        if not passed:
            return False
        if value is None:
            return self.min is None and self.max is None
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def limits(self) -> str:
        """The limits as people write them: `22.2, 25.2`, `>= -90`, `<= 30` ('' for none)."""
        if self.min is not None and self.max is not None:
            return f"{self.min:g}, {self.max:g}"
        if self.min is not None:
            return f">= {self.min:g}"
        return "" if self.max is None else f"<= {self.max:g}"


@dataclass(frozen=True)
class Scenario:
    """Everything a plan needs, exactly as the planner wrote it down."""

    name: str
    horizon: Horizon
    items: tuple[Item, ...] = ()
    boms: tuple[BomLine, ...] = ()
    routings: tuple[RoutingStep, ...] = ()
    sites: tuple[Site, ...] = ()
    work_centers: tuple[WorkCenter, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    offers: tuple[Offer, ...] = ()
    customers: tuple[Customer, ...] = ()
    lanes: tuple[Lane, ...] = ()
    inventory: tuple[InventoryRecord, ...] = ()
    demand: tuple[Demand, ...] = ()
    disruptions: tuple[Disruption, ...] = ()
    recovery: tuple[Recovery, ...] = ()
    risks: tuple[Risk, ...] = ()
    test_plans: tuple[TestPlan, ...] = ()
    licences: tuple[Licence, ...] = ()
    #: candidates for redundancy design (`fabnet design`); a plan ignores them, the store
    #: keeps them (revision 0017)
    mitigations: tuple[Mitigation, ...] = ()
    #: what validation found worth saying about a valid scenario (not part of its content)
    warnings: tuple[Issue, ...] = field(default=(), compare=False, repr=False)

    def with_disruptions(self, more: tuple[Disruption, ...]) -> Scenario:
        """A copy with `more` disruptions added (the original is never mutated)."""
        return replace(self, disruptions=self.disruptions + more)
