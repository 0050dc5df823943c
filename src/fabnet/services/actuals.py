"""Actual hours per unit from the floor's operation records, against the routing's hours.

A build of N units over a recorded time writes one operation record per unit (or one for
the lot a non-serialized build makes) and routing step, each spanning the build: one
stretch of time at that work center shared by the units built in it. So the actual
hours per unit of an item at a site and work center are the recorded stretches' hours
over the units they built; the routing's are the hours per unit its work orders were
released with. Builds recorded without a start (no time spent on record) are left out.

`apply_actual_rates` scales a network's routing load by actual ÷ routing hours where the
floor has a figure, so `fabnet db plan --actual-rates` plans with what the floor takes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sqlalchemy as sa

from fabnet.model.network import Network
from fabnet.store import Store
from fabnet.store.floor_schema import lots, operation_records, work_order_operations, work_orders
from fabnet.store.schema import scenarios


@dataclass(frozen=True)
class ActualRate:
    """Recorded hours per unit of `item` at `site` on work-center type `work_center`."""

    site: str
    item: str
    work_center: str
    units: float  # units built in the recorded stretches
    actual_hours: float  # per unit, as recorded
    routing_hours: float  # per unit, as the work orders were released with

    @property
    def ratio(self) -> float | None:
        """Actual ÷ routing hours (None where the routing gives no hours)."""
        return self.actual_hours / self.routing_hours if self.routing_hours > 0 else None


def _hours(conn: sa.Connection, start: Any, end: Any) -> Any:
    """The hours between two timestamps, in the connection's SQL dialect."""
    if conn.dialect.name == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 24.0
    return sa.func.extract("epoch", end - start) / 3600.0


def read_actual_rates(conn: sa.Connection, scenario_id: int) -> list[ActualRate]:
    """Actual and routing hours per unit, per (site, item, work center) of a scenario's
    floor (see the module docstring): two GROUP BY queries, stretches then totals."""
    op, wo, wop = operation_records.c, work_orders.c, work_order_operations.c
    one = sa.case((op.unit_id.is_not(None), 1.0), else_=sa.func.coalesce(lots.c.qty_received,
                                                                         0.0))
    stretch = (
        sa.select(op.work_order_id, op.seq, op.work_center,
                  sa.func.max(_hours(conn, op.started_at, op.ended_at)).label("hours"),
                  sa.func.sum(one).label("units"))
        .select_from(operation_records.outerjoin(lots, lots.c.id == op.lot_id))
        .where(op.ended_at > op.started_at)
        .group_by(op.work_order_id, op.seq, op.work_center, op.started_at, op.ended_at)
        .subquery())
    s = stretch.c
    rows = conn.execute(
        sa.select(wo.site, wo.item, s.work_center, sa.func.sum(s.units).label("units"),
                  sa.func.sum(s.hours).label("hours"),
                  sa.func.sum(wop.hours * s.units).label("routing"))
        .select_from(stretch.join(work_orders, wo.id == s.work_order_id)
                     .join(work_order_operations, sa.and_(wop.work_order_id == s.work_order_id,
                                                          wop.seq == s.seq)))
        .where(wo.scenario_id == scenario_id)
        .group_by(wo.site, wo.item, s.work_center)
        .order_by(wo.site, wo.item, s.work_center)).all()
    return [ActualRate(str(r.site), str(r.item), str(r.work_center), float(r.units),
                       float(r.hours) / float(r.units), float(r.routing) / float(r.units))
            for r in rows if r.units and float(r.units) > 0]


def actual_rates(store: Store, scenario: str) -> list[ActualRate]:
    """The actual rates of stored scenario `scenario`'s floor (empty: nothing recorded)."""
    with store.unit_of_work(read_only=True) as uow:
        sid = uow.connection.execute(sa.select(scenarios.c.id)
                                     .where(scenarios.c.name == scenario)).scalar()
        if sid is None:
            uow.scenarios.versions(scenario)  # raises NotFound with the known names
            return []
        return read_actual_rates(uow.connection, int(sid))


def apply_actual_rates(net: Network, rates: list[ActualRate]) -> Network:
    """A copy of `net` whose routing load is scaled by actual ÷ routing hours wherever
    the floor recorded a rate for that site, item and work-center type."""
    factor = {(r.site, r.item, r.work_center): r.ratio for r in rates if r.ratio is not None}
    if not factor or net.use_make.size == 0:
        return net
    sites, items = np.array(net.sites, dtype=object), np.array(net.items, dtype=object)
    types = np.array(net.wc_type, dtype=object)
    m = net.use_make
    keys = zip(sites[net.make_site[m]], items[net.make_item[m]], types[net.use_wc],
               strict=True)
    f = np.array([factor.get(k, 1.0) for k in keys], dtype=float)
    return replace(net, use_hours=net.use_hours * f)
