"""The floor's state as firm supply for the next plan of a stored scenario.

Three GROUP BY queries over the floor tables give what the plan must start from
(model/firm_supply.py): the remaining quantity of every work order released or in
progress (qty − units built), at its site, in the bucket of its due date; the
remaining quantity of every lot that is not held (suppliers' lots and lots built on the
floor); and the units built or complete, not held, not installed and not shipped, where
they are now. Stock counted this way replaces the scenario's opening inventory of the
(site, item) pairs the floor keeps records of; other pairs keep the scenario's figure.

Not read: shipments record no arrival, so units on their way to a customer are not
counted as in transit (they left the site's stock when they shipped); transfers between
sites move a unit at once.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from fabnet.model.firm_supply import FirmSupply, FixedProduction, OpeningStock
from fabnet.model.horizon import Horizon
from fabnet.model.scenario import Scenario
from fabnet.shop.unit import UnitStatus
from fabnet.shop.work_order import WorkOrderStatus
from fabnet.store import Store
from fabnet.store.floor_schema import lots, units, work_orders
from fabnet.store.schema import scenarios

#: work orders whose remaining quantity is still to be made
OPEN_ORDERS = (WorkOrderStatus.RELEASED.value, WorkOrderStatus.IN_PROGRESS.value)
#: units that are on hand at their site (built units awaiting tests count: they are
#: no longer in their work order's remaining quantity)
ON_HAND = (UnitStatus.BUILT.value, UnitStatus.COMPLETE.value)
#: why in-transit units are not part of the firm supply
NO_TRANSIT = ("shipments record no arrival: shipped units are not counted as in transit, "
              "they left their site's stock when they shipped")


def read_firm_supply(conn: sa.Connection, scenario_id: int, horizon: Horizon) -> FirmSupply:
    """The firm supply of one stored scenario's floor, bucketed over `horizon`.

    A work order due before the horizon is still being made: it falls in bucket 0. One
    due after the horizon's end is outside the plan and is left out (with a note).
    """
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
    notes = [NO_TRANSIT]
    if late:
        notes.append(f"{late} groups of work orders are due after the horizon ends and are "
                     "not in this plan")
    return FirmSupply(
        production=tuple(FixedProduction(s, i, t, q) for (s, i, t), q in sorted(fixed.items())),
        stock=tuple(OpeningStock(s, i, q) for (s, i), q in sorted(stock.items())),
        notes=tuple(notes))


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
        firm = read_firm_supply(uow.connection, int(sid), sc.horizon)
    return firm if not firm.empty else FirmSupply()
