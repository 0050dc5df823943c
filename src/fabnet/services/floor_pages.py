"""What the floor pages show: the work-order queue of each work center, the holds in
force, the line-downs reported, first-pass yield and the failure Pareto, the newest
units, and one unit's whole history by serial.

Like the board at the end of a line: what is waiting at each station, what is stopped
and why, and how well the tests go. Everything is read through the floor's services
(`floor.list_orders`, `floor.yields`, `trace.trace_up`, `repair.unit_history`) or in SQL
cut to the caller's sites, so a site manager's board holds the rows of their own sites
only, as their API and CLI answers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from fabnet.model.scenario import Scenario
from fabnet.services import floor as fl
from fabnet.services import repair, trace
from fabnet.shop.genealogy import Component, OperationRecord
from fabnet.shop.hold import Hold
from fabnet.shop.more_roles import MORE_ROLES, MoreAction
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import FLOOR_ROLES, Caller, FloorAction
from fabnet.shop.testing import FailureRow, TestResult, YieldRow
from fabnet.shop.unit import Unit
from fabnet.shop.work_order import WorkOrder, WorkOrderStatus
from fabnet.store import Store
from fabnet.store.floor_repair import RepairOrder, ServiceRecord
from fabnet.store.floor_schema import holds, lots, shipment_units, shipments, units, work_orders
from fabnet.store.repository import as_utc

#: the newest units listed on the board
RECENT_UNITS = 25


@dataclass(frozen=True)
class QueuedOrder:
    """An open work order waiting at one work center: its units left and their hours."""

    order: WorkOrder
    hours: float  # hours per unit at this work center
    hours_left: float  # units left x hours per unit


@dataclass(frozen=True)
class WorkCenterQueue:
    """The open work orders that pass through one work center of a site, by due date."""

    site: str
    work_center: str
    hours_per_bucket: float
    orders: tuple[QueuedOrder, ...]

    @property
    def hours_left(self) -> float:
        """Hours of work still queued here."""
        return sum(q.hours_left for q in self.orders)


@dataclass(frozen=True)
class LineDownLine:
    """A line-down recorded on the scenario: a work center at a factor for a while."""

    id: str
    site: str
    work_center: str
    start: date
    until: date  # the last day covered
    capacity: float


@dataclass(frozen=True)
class UnitLine:
    """A unit on the board's list of the newest units."""

    serial: str
    item: str
    site: str
    status: str
    held: bool
    built_at: datetime


@dataclass(frozen=True)
class FloorBoard:
    """The floor as one caller may see it."""

    scenario: str
    horizon_start: date
    horizon_end: date
    sites: tuple[str, ...]
    work_centers: dict[str, tuple[str, ...]]  # site -> its work-center types
    queues: tuple[WorkCenterQueue, ...]
    holds: tuple[Hold, ...]
    line_downs: tuple[LineDownLine, ...]
    units: tuple[UnitLine, ...]
    yields: tuple[YieldRow, ...] | None  # None: the role may not read yields
    pareto: tuple[FailureRow, ...] | None
    may_line_down: bool
    may_hold: bool


def _line_downs(sc: Scenario, caller: Caller) -> list[LineDownLine]:
    """The scenario's work-center disruptions (line-downs) at the caller's sites."""
    h = sc.horizon
    out = []
    for d in sc.disruptions:
        if d.work_center is None or not caller.sees(d.target):
            continue
        t0 = h.bucket_of(d.start) if h.contains(d.start) else 0
        last = h.bucket_start(min(t0 + d.buckets, h.buckets)) - timedelta(days=1)
        out.append(LineDownLine(d.id, d.target, d.work_center, d.start, last, d.capacity))
    out.sort(key=lambda x: (x.start, x.site, x.work_center, x.id))
    return out


def _queues(sc: Scenario, orders: list[WorkOrder], caller: Caller) -> list[WorkCenterQueue]:
    """Each of the caller's work centers with the open orders whose routing uses it."""
    out = []
    for wc in sorted(sc.work_centers, key=lambda w: (w.site, w.type)):
        if not caller.sees(wc.site):
            continue
        waiting = []
        for o in orders:
            if o.site != wc.site:
                continue
            for op in o.operations:
                if op.work_center == wc.type:
                    waiting.append(QueuedOrder(o, op.hours, o.remaining * op.hours))
        waiting.sort(key=lambda q: (q.order.due_date, q.order.id))
        out.append(WorkCenterQueue(wc.site, wc.type, wc.hours, tuple(waiting)))
    return out


def _holds_in_force(conn: sa.Connection, floor: FloorRepository, scenario_id: int,
                     caller: Caller) -> list[Hold]:
    """Holds in force on the scenario's lots and units at the caller's sites."""
    site = sa.func.coalesce(lots.c.site, units.c.site)
    q = (sa.select(holds.c.lot_id, holds.c.unit_id)
         .outerjoin(lots, lots.c.id == holds.c.lot_id)
         .outerjoin(units, units.c.id == holds.c.unit_id)
         .outerjoin(work_orders, work_orders.c.id == units.c.work_order_id)
         .where(holds.c.released_at.is_(None),
                (lots.c.scenario_id == scenario_id) | (work_orders.c.scenario_id == scenario_id)))
    if caller.sites is not None:
        q = q.where(site.in_(sorted(caller.sites)))
    rows = list(conn.execute(q))
    found = floor.holds([int(r.lot_id) for r in rows if r.lot_id is not None],
                        [int(r.unit_id) for r in rows if r.unit_id is not None])
    return [h for h in found if h.active and caller.sees(h.site)]


def _newest_units(conn: sa.Connection, scenario_id: int, caller: Caller) -> list[UnitLine]:
    """The newest units built at the caller's sites."""
    q = (sa.select(units.c.serial, units.c.item, units.c.site, units.c.status, units.c.held,
                   units.c.built_at)
         .join(work_orders, work_orders.c.id == units.c.work_order_id)
         .where(work_orders.c.scenario_id == scenario_id)
         .order_by(units.c.id.desc()).limit(RECENT_UNITS))
    if caller.sites is not None:
        q = q.where(units.c.site.in_(sorted(caller.sites)))
    return [UnitLine(r.serial, r.item, r.site, str(r.status), bool(r.held), as_utc(r.built_at))
            for r in conn.execute(q)]


def floor_board(store: Store, caller: Caller, scenario: str | None = None) -> FloorBoard:
    """The floor board of the scenario the floor runs in (default: the store's only one)."""
    caller.check(FloorAction.ORDERS)
    with store.unit_of_work(read_only=True) as uow:
        sid, name = fl._scenario_id(uow, scenario)
        sc = uow.scenarios.get(name)
        held = _holds_in_force(uow.connection, fl._floor(uow), sid, caller)
        newest = _newest_units(uow.connection, sid, caller)
    orders = fl.list_orders(store, caller, name, statuses=(WorkOrderStatus.RELEASED,
                                                           WorkOrderStatus.IN_PROGRESS))
    yields: tuple[YieldRow, ...] | None = None
    pareto: tuple[FailureRow, ...] | None = None
    if caller.role in FLOOR_ROLES[FloorAction.YIELD]:
        y, p = fl.yields(store, caller, name)
        yields, pareto = tuple(y), tuple(p)
    sites = tuple(sorted(s.id for s in sc.sites if caller.sees(s.id)))
    centers: dict[str, list[str]] = {}
    for wc in sc.work_centers:
        if caller.sees(wc.site):
            centers.setdefault(wc.site, []).append(wc.type)
    return FloorBoard(name, sc.horizon.start, sc.horizon.end - timedelta(days=1), sites,
                      {s: tuple(sorted(t)) for s, t in centers.items()},
                      tuple(_queues(sc, orders, caller)), tuple(held),
                      tuple(_line_downs(sc, caller)), tuple(newest), yields, pareto,
                      caller.role in MORE_ROLES[MoreAction.LINE_DOWN] and bool(sites),
                      caller.role in FLOOR_ROLES[FloorAction.HOLD])


# ---------------------------------------------------------------- one unit


@dataclass(frozen=True)
class ShipmentLine:
    """A shipment a unit left in."""

    id: int
    customer: str
    at: datetime
    by: str


@dataclass(frozen=True)
class UnitFile:
    """Everything about one unit: what it is made of (down to the suppliers' lots), its
    operations and tests, its holds and what blocks it, its shipment and its repairs."""

    unit: Unit
    components: tuple[Component, ...]
    operations: tuple[OperationRecord, ...]
    tests: tuple[TestResult, ...]
    holds: tuple[Hold, ...]
    blocked_by: tuple[str, ...]
    shipments: tuple[ShipmentLine, ...]
    repairs: tuple[RepairOrder, ...]
    removed: tuple[dict[str, object], ...]
    services: tuple[ServiceRecord, ...]
    missing: tuple[str, ...]


def unit_file(store: Store, caller: Caller, serial: str) -> UnitFile:
    """A unit's history by serial; a unit at another site than the caller's is refused
    (`NotPermitted`, naming no site) before anything of it is read."""
    up = trace.trace_up(store, caller, serial)  # checks the role and the unit's site
    history = repair.unit_history(store, caller, serial)
    with store.unit_of_work(read_only=True) as uow:
        floor = fl._floor(uow)
        unit = floor.unit(serial)
        on = floor.holds(unit_ids=[unit.id])
        blocked = floor.blockers([unit.id]).get(unit.id, [])
        sent = [ShipmentLine(int(r.id), r.customer, as_utc(r.shipped_at), r.shipped_by)
                for r in uow.connection.execute(
                    sa.select(shipments.c.id, shipments.c.customer, shipments.c.shipped_at,
                              shipments.c.shipped_by)
                    .join(shipment_units, shipment_units.c.shipment_id == shipments.c.id)
                    .where(shipment_units.c.unit_id == unit.id).order_by(shipments.c.id))]
    return UnitFile(unit, up.components, up.operations, up.tests, tuple(on), tuple(blocked),
                    tuple(sent), history.repairs, history.removed, history.services,
                    history.missing)
