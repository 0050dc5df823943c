"""The floor's state as firm supply for the next plan of a stored scenario.

Three GROUP BY queries over the floor tables give what the plan must start from
(model/firm_supply.py): the remaining quantity of every work order released or in
progress (qty − units built), at its site, in the bucket of its due date; the
remaining quantity of every lot that is not held (suppliers' lots and lots built on the
floor); and the units built or complete, not held, not installed and not shipped, where
they are now. Stock counted this way replaces the scenario's opening inventory of the
(site, item) pairs the floor keeps records of; other pairs keep the scenario's figure.
A fourth query gives what open purchase orders still bring (qty − received): each is a
scheduled receipt from its supplier to its site, arriving in the bucket of its due date,
ordered the offer's lead time and the lane's transit before (see `_receipt`).

In transit: what is on its way from suppliers is the open purchase orders; what is on
its way between sites is the units of transfers sent and not yet booked in (a fifth
query, per transfer and item): each arrives at its destination in the bucket of its
expected day (`read_in_transit`; one expected before the horizon starts, or overdue,
in bucket 0). Those units are in transit, not built or complete, so they are counted
neither at the site they left nor at the destination before they arrive. Shipments go
to customers, out of the network (they left the site's stock when they shipped).
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from fabnet.model.firm_supply import (
    FirmSupply,
    FixedProduction,
    InTransit,
    OpeningStock,
    ScheduledReceipt,
)
from fabnet.model.scenario import Scenario
from fabnet.shop.purchase_order import PurchaseOrderStatus, purchase_order_code
from fabnet.shop.transfer import TransferStatus, transfer_code
from fabnet.shop.unit import UnitStatus
from fabnet.shop.work_order import WorkOrderStatus
from fabnet.store import Store
from fabnet.store.floor_schema import lots, units, work_orders
from fabnet.store.po_schema import purchase_orders
from fabnet.store.schema import scenarios
from fabnet.store.transfer_schema import transfer_units, transfers

#: work orders whose remaining quantity is still to be made
OPEN_ORDERS = (WorkOrderStatus.RELEASED.value, WorkOrderStatus.IN_PROGRESS.value)
#: units that are on hand at their site (built units awaiting tests count: they are
#: no longer in their work order's remaining quantity)
ON_HAND = (UnitStatus.BUILT.value, UnitStatus.COMPLETE.value)


def read_firm_supply(conn: sa.Connection, scenario_id: int, sc: Scenario) -> FirmSupply:
    """The firm supply of one stored scenario's floor, bucketed over the horizon of `sc`.

    A work order due before the horizon is still being made: it falls in bucket 0. One
    due after the horizon's end is outside the plan and is left out (with a note).
    """
    horizon = sc.horizon
    wo = work_orders.c
    open_rows = conn.execute(
        sa.select(wo.site, wo.item, wo.due_date, sa.func.sum(wo.qty - wo.qty_done).label("q"))
        .where(wo.scenario_id == scenario_id, wo.status.in_(OPEN_ORDERS))
        .group_by(wo.site, wo.item, wo.due_date)).all()
    fixed: dict[tuple[str, str, int], float] = defaultdict(float)
    late = 0
    for r in open_rows:
        t = max(horizon.bucket_of(r.due_date), 0)
        if t >= horizon.buckets:
            late += 1
            continue
        if float(r.q) > 0:
            fixed[(str(r.site), str(r.item), t)] += float(r.q)
    lo = lots.c
    lot_rows = conn.execute(
        sa.select(lo.site, lo.item,
                  sa.func.sum(sa.case((lo.held, 0.0), else_=lo.remaining)).label("q"))
        .where(lo.scenario_id == scenario_id).group_by(lo.site, lo.item)).all()
    un = units.c
    on_hand = sa.and_(un.status.in_(ON_HAND), sa.not_(un.held))
    unit_rows = conn.execute(
        sa.select(un.site, un.item, sa.func.sum(sa.case((on_hand, 1), else_=0)).label("q"))
        .select_from(units.join(work_orders, un.work_order_id == wo.id))
        .where(wo.scenario_id == scenario_id).group_by(un.site, un.item)).all()
    stock: dict[tuple[str, str], float] = defaultdict(float)
    for site, item, q in (*lot_rows, *unit_rows):
        stock[(str(site), str(item))] += float(q or 0.0)
    notes: list[str] = []
    if late:
        notes.append(f"{late} groups of work orders are due after the horizon ends and are "
                     "not in this plan")
    receipts, po_notes = read_receipts(conn, scenario_id, sc)
    moving, tr_notes = read_in_transit(conn, scenario_id, sc)
    return FirmSupply(
        production=tuple(FixedProduction(s, i, t, q) for (s, i, t), q in sorted(fixed.items())),
        stock=tuple(OpeningStock(s, i, q) for (s, i), q in sorted(stock.items())),
        receipts=receipts, in_transit=moving, notes=tuple(notes + po_notes + tr_notes))


def read_in_transit(conn: sa.Connection, scenario_id: int, sc: Scenario
                    ) -> tuple[tuple[InTransit, ...], list[str]]:
    """The units of a stored scenario's transfers in transit, per transfer and item, as
    arrivals at their destination over the horizon of `sc`, and notes on those it moved
    to bucket 0 (expected before the horizon starts, or overdue) or left out (expected
    after it ends)."""
    tr, tu, un = transfers.c, transfer_units.c, units.c
    rows = conn.execute(
        sa.select(tr.id, tr.origin, tr.destination, tr.expected_date, un.item,
                  sa.func.count().label("q"))
        .select_from(transfers.join(transfer_units, tu.transfer_id == tr.id)
                     .join(units, un.id == tu.unit_id))
        .where(tr.scenario_id == scenario_id,
               tr.status == TransferStatus.IN_TRANSIT.value,
               un.status == UnitStatus.IN_TRANSIT.value)
        .group_by(tr.id, tr.origin, tr.destination, tr.expected_date, un.item)
        .order_by(tr.id, un.item)).all()
    out: list[InTransit] = []
    moved: list[str] = []
    outside: list[str] = []
    for r in rows:
        ref = transfer_code(int(r.id))
        t = sc.horizon.bucket_of(r.expected_date)
        if t < 0:
            if ref not in moved:
                moved.append(ref)
            t = 0
        if t >= sc.horizon.buckets:
            if ref not in outside:
                outside.append(ref)
            continue
        out.append(InTransit(ref, str(r.origin), str(r.destination), str(r.item), t,
                             float(r.q)))
    notes = []
    if moved:
        notes.append(f"{len(moved)} transfers in transit ({_first(moved)}) were expected "
                     "before this horizon starts: the plan has them arrive in its first "
                     "bucket")
    if outside:
        notes.append(f"{len(outside)} transfers in transit ({_first(outside)}) arrive after "
                     "the horizon ends and are not in this plan")
    return tuple(out), notes


def read_receipts(conn: sa.Connection, scenario_id: int, sc: Scenario
                  ) -> tuple[tuple[ScheduledReceipt, ...], list[str]]:
    """What the open purchase orders of a stored scenario still bring, as scheduled
    receipts over the horizon of `sc`, and notes on those it moved or left out."""
    po = purchase_orders.c
    rows = conn.execute(
        sa.select(po.id, po.supplier, po.site, po.item, po.due_date,
                  (po.qty - po.qty_received).label("q"))
        .where(po.scenario_id == scenario_id, po.status == PurchaseOrderStatus.OPEN.value)
        .order_by(po.id)).all()
    lead = {(o.supplier, o.item): o.lead_time for o in sc.offers}
    transit = {(ln.origin, ln.destination): ln.transit for ln in sc.lanes}
    out: list[ScheduledReceipt] = []
    moved: list[str] = []
    outside: list[str] = []
    for r in rows:
        if float(r.q) <= 0:
            continue
        ref = purchase_order_code(int(r.id))
        due = sc.horizon.bucket_of(r.due_date)
        # lead time and transit of its purchase now (an unknown one: the network says so)
        way = lead.get((r.supplier, r.item), 0) + transit.get((r.supplier, r.site), 0)
        order = due - way
        if order < 0:  # ordered before this horizon, or overdue: the earliest arrival
            order = 0
            moved.append(ref)
        if order + way >= sc.horizon.buckets:
            outside.append(ref)
            continue
        out.append(ScheduledReceipt(ref, str(r.supplier), str(r.site), str(r.item), order,
                                    order + way, float(r.q)))
    notes = []
    if moved:
        notes.append(f"{len(moved)} purchase orders ({_first(moved)}) were ordered before "
                     "this horizon starts, or are overdue: the plan has them arrive at the "
                     "earliest, their lead time and transit after its first bucket")
    if outside:
        notes.append(f"{len(outside)} purchase orders ({_first(outside)}) arrive after the "
                     "horizon ends and are not in this plan")
    return tuple(out), notes


def _first(refs: list[str]) -> str:
    return ", ".join(refs[:5]) + (", …" if len(refs) > 5 else "")


def firm_supply(store: Store, scenario: str, sc: Scenario | None = None) -> FirmSupply:
    """The firm supply of stored scenario `scenario` over the horizon of `sc` (default:
    its newest version); empty when the floor has no records for it."""
    with store.unit_of_work(read_only=True) as uow:
        sid = uow.connection.execute(sa.select(scenarios.c.id)
                                     .where(scenarios.c.name == scenario)).scalar()
        if sid is None:
            uow.scenarios.versions(scenario)  # raises NotFound with the known names
            return FirmSupply()
        if sc is None:
            sc = uow.scenarios.get(scenario)
        firm = read_firm_supply(uow.connection, int(sid), sc)
    return firm if not firm.empty else FirmSupply()
