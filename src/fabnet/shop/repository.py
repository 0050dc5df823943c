"""The floor's repository: work orders, lots, units, genealogy, tests, holds, shipments.

It lives in `shop`, on the store's tables (`fabnet.store.floor_schema`) and its
`Repository` base, because it hands out the shop's values and the store does not know
them (the layers of DESIGN.md). A service makes it on its unit of work:
`FloorRepository(uow.connection, uow.audit)`.

Every change appends its audit entry in the same transaction. Stock moves with
compare-and-set updates (`remaining = remaining - q WHERE remaining >= q`), so two builds
drawing on one lot at once never take more than it holds: the second one's update finds
the lot changed, and the build is refused (`LotChanged`) and run again on what is left.
Genealogy is walked with the recursive SQL of `fabnet.shop.genealogy_sql`, on its
covering indexes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import sqlalchemy as sa

from fabnet.shop import genealogy_sql as gq
from fabnet.shop.genealogy import (
    Component,
    Contained,
    OperationRecord,
    collection_paused,
    first_of_each,
)
from fabnet.shop.hold import Hold
from fabnet.shop.lot import Lot
from fabnet.shop.testing import FailureRow, TestResult, YieldRow
from fabnet.shop.unit import Unit, UnitStatus
from fabnet.shop.work_order import Operation, WorkOrder, WorkOrderStatus
from fabnet.store.audit import Action
from fabnet.store.errors import NotFound
from fabnet.store.floor_schema import (
    genealogy,
    holds,
    lots,
    operation_records,
    serial_counters,
    shipment_units,
    shipments,
    test_results,
    units,
    work_order_operations,
    work_orders,
)
from fabnet.store.repository import Repository, as_utc, as_utc_or_none, now
from fabnet.store.schema import scenario_versions, scenarios
from fabnet.store.unit_of_work import Collision

WO, OPS, L, UN, G = work_orders, work_order_operations, lots, units, genealogy
TR, H, SH, SU = test_results, holds, shipments, shipment_units


STREAM_ROWS = 500  # rows per chunk of a streamed trace down: small enough to overlap
_depth_serial = attrgetter("depth", "serial")

class LotChanged(Collision):  # a Collision: `Store.run` runs the build again
    """Stock taken by a concurrent build between reading and booking it: run again."""


class FloorRepository(Repository):
    """The floor's records, inside one unit of work."""

    # ------------------------------------------------------------ work orders

    def add_work_order(self, scenario_id: int, version_id: int, plan_run: int | None,
                       site: str, item: str, qty: int, due_bucket: int, due_date: date,
                       operations: Sequence[tuple[str, float]]) -> int:
        """A released work order with its operations; returns its id (audited by the
        caller once per release, see `audit_release`)."""
        t = now()
        wid = int(self._conn.execute(sa.insert(WO).values(
            scenario_id=scenario_id, version_id=version_id, plan_run_id=plan_run, site=site,
            item=item, qty=qty, qty_done=0, due_bucket=due_bucket, due_date=due_date,
            status=WorkOrderStatus.RELEASED.value, created_at=t, created_by=self.actor,
            updated_at=t).returning(WO.c.id)).scalar_one())
        if operations:
            self._conn.execute(sa.insert(OPS), [
                {"work_order_id": wid, "seq": i + 1, "work_center": wc, "hours": h}
                for i, (wc, h) in enumerate(operations)])
        return wid

    def audit(self, action: Action, entity: str, after: Any, before: Any = None) -> None:
        """One audit entry for a floor change made through this repository."""
        self._audit.append(action, entity, before, after)

    def released_from(self, plan_run: int) -> list[int]:
        """Ids of the work orders released from a plan run."""
        return [int(i) for i in self._conn.execute(
            sa.select(WO.c.id).where(WO.c.plan_run_id == plan_run).order_by(WO.c.id)).scalars()]

    def work_order(self, wo_id: int, lock: bool = False) -> WorkOrder:
        """One work order with its operations."""
        found = self.work_orders(ids=[wo_id], lock=lock)
        if not found:
            raise NotFound(f"no work order WO-{wo_id} (fix: see `fabnet floor orders`)")
        return found[0]

    def work_orders(self, scenario_id: int | None = None, sites: Iterable[str] | None = None,
                    statuses: Iterable[str] | None = None, ids: Iterable[int] | None = None,
                    lock: bool = False) -> list[WorkOrder]:
        """Work orders by due date, filtered by scenario, sites, statuses or ids."""
        q = (sa.select(WO, scenarios.c.name.label("scenario"),
                       scenario_versions.c.version.label("version"))
             .join(scenarios, scenarios.c.id == WO.c.scenario_id)
             .join(scenario_versions, scenario_versions.c.id == WO.c.version_id)
             .order_by(WO.c.due_date, WO.c.id))
        if scenario_id is not None:
            q = q.where(WO.c.scenario_id == scenario_id)
        if sites is not None:
            q = q.where(WO.c.site.in_(list(sites)))
        if statuses is not None:
            q = q.where(WO.c.status.in_(list(statuses)))
        if ids is not None:
            q = q.where(WO.c.id.in_(list(ids)))
        if lock:
            q = q.with_for_update(of=WO)
        rows = list(self._conn.execute(q))
        ops: dict[int, list[Operation]] = {}
        if rows:
            for o in self._conn.execute(sa.select(OPS).where(
                    OPS.c.work_order_id.in_([r.id for r in rows])).order_by(OPS.c.seq)):
                ops.setdefault(int(o.work_order_id), []).append(
                    Operation(int(o.seq), o.work_center, float(o.hours)))
        return [WorkOrder(int(r.id), r.scenario, int(r.version), r.plan_run_id, r.site, r.item,
                          int(r.qty), int(r.qty_done), int(r.due_bucket), r.due_date,
                          WorkOrderStatus(r.status), tuple(ops.get(int(r.id), ())),
                          as_utc(r.created_at), r.created_by) for r in rows]

    def book_work_order(self, wo_id: int, n: int) -> None:
        """Count `n` more units built on an open work order (done when all are)."""
        done = WO.c.qty_done + n
        res = self._conn.execute(
            sa.update(WO).where(WO.c.id == wo_id, done <= WO.c.qty,
                                WO.c.status.in_([WorkOrderStatus.RELEASED.value,
                                                 WorkOrderStatus.IN_PROGRESS.value]))
            .values(qty_done=done, updated_at=now(),
                    status=sa.case((done == WO.c.qty, WorkOrderStatus.DONE.value),
                                   else_=WorkOrderStatus.IN_PROGRESS.value)))
        if res.rowcount != 1:
            raise LotChanged(f"WO-{wo_id} changed while building (fix: run it again)")

    # ------------------------------------------------------------ lots

    def add_lot(self, scenario_id: int, site: str, item: str, code: str, qty: float,
                supplier: str | None, work_order: int | None = None) -> int:
        """A lot of `qty` at `site`, all of it remaining; returns its id."""
        return int(self._conn.execute(sa.insert(L).values(
            scenario_id=scenario_id, site=site, item=item, code=code, supplier=supplier,
            work_order_id=work_order, qty_received=qty, remaining=qty, held=False,
            received_at=now(), received_by=self.actor).returning(L.c.id)).scalar_one())

    def lots(self, scenario_id: int, code: str | None = None, site: str | None = None,
             item: str | None = None, ids: Iterable[int] | None = None) -> list[Lot]:
        """Lots, oldest first."""
        q = (sa.select(L, scenarios.c.name.label("scenario"))
             .join(scenarios, scenarios.c.id == L.c.scenario_id)
             .where(L.c.scenario_id == scenario_id).order_by(L.c.received_at, L.c.id))
        if code is not None:
            q = q.where(L.c.code == code)
        if site is not None:
            q = q.where(L.c.site == site)
        if item is not None:
            q = q.where(L.c.item == item)
        if ids is not None:
            q = q.where(L.c.id.in_(list(ids)))
        return [_lot(r) for r in self._conn.execute(q)]

    def free_lots(self, scenario_id: int, site: str, item: str) -> list[tuple[int, str, float]]:
        """(id, code, remaining) of the lots of `item` at `site` that may be consumed (not
        held, something left), oldest first."""
        q = (sa.select(L.c.id, L.c.code, L.c.remaining)
             .where(L.c.scenario_id == scenario_id, L.c.site == site, L.c.item == item,
                    L.c.held.is_(False), L.c.remaining > 0)
             .order_by(L.c.received_at, L.c.id))
        return [(int(r.id), r.code, float(r.remaining)) for r in self._conn.execute(q)]

    def take_from_lot(self, lot_id: int, qty: float) -> None:
        """Consume `qty` of a lot, only if it is not held and holds that much (`LotChanged`
        otherwise: a concurrent build got there first)."""
        res = self._conn.execute(sa.update(L).where(
            L.c.id == lot_id, L.c.remaining >= qty, L.c.held.is_(False))
            .values(remaining=L.c.remaining - qty))
        if res.rowcount != 1:
            raise LotChanged(f"lot {lot_id} changed while building (fix: run it again)")

    def set_lot_held(self, lot_id: int, held: bool) -> None:
        """Mark a lot held or free."""
        self._conn.execute(sa.update(L).where(L.c.id == lot_id).values(held=held))

    # ------------------------------------------------------------ units

    def next_serials(self, scope: str, n: int) -> int:
        """Reserve `n` numbers of a serial scope; returns the first (1 for a new scope). A
        concurrent first use of the scope is a `Collision`, and the build runs again."""
        last = self._conn.execute(sa.update(serial_counters)
                                  .where(serial_counters.c.scope == scope)
                                  .values(last=serial_counters.c.last + n)
                                  .returning(serial_counters.c.last)).scalar()
        if last is None:
            self._conn.execute(sa.insert(serial_counters).values(scope=scope, last=n))
            return 1
        return int(last) - n + 1

    def add_units(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert units (serial, item, site, work_order_id, status); serial -> id."""
        t = now()
        self._conn.execute(sa.insert(UN), [{"held": False, "built_at": t,
                                            "built_by": self.actor,
                                            "completed_at": t if r["status"] ==
                                            UnitStatus.COMPLETE.value else None, **r}
                                           for r in rows])
        got = self._conn.execute(sa.select(UN.c.serial, UN.c.id)
                                 .where(UN.c.serial.in_([r["serial"] for r in rows])))
        return {s: int(i) for s, i in got}

    def unit(self, serial: str) -> Unit:
        """A unit by serial."""
        found = self.units_by_serial([serial])
        if serial not in found:
            raise NotFound(f"no unit with serial {serial!r} (fix: check the serial; `fabnet "
                           "trace` finds lots and serials)")
        return found[serial]

    def units_by_serial(self, serials: Iterable[str]) -> dict[str, Unit]:
        """The units with these serials (missing ones are left out)."""
        rows = self._conn.execute(sa.select(UN).where(UN.c.serial.in_(list(serials))))
        return {r.serial: _unit(r) for r in rows}

    def unit_ids(self, serials: Iterable[str]) -> dict[str, int]:
        """serial -> id of the units with these serials (missing ones are left out)."""
        return {s: int(i) for s, i in self._conn.execute(
            sa.select(UN.c.serial, UN.c.id).where(UN.c.serial.in_(list(serials))))}

    def free_units(self, work_order_scenario: int, site: str, item: str
                   ) -> list[tuple[int, str]]:
        """(id, serial) of complete, unheld units of `item` at `site`, oldest first."""
        q = (sa.select(UN.c.id, UN.c.serial).join(WO, WO.c.id == UN.c.work_order_id)
             .where(WO.c.scenario_id == work_order_scenario, UN.c.site == site,
                    UN.c.item == item, UN.c.status == UnitStatus.COMPLETE.value,
                    UN.c.held.is_(False)).order_by(UN.c.id))
        return [(int(i), s) for i, s in self._conn.execute(q)]

    def move_unit(self, unit_id: int, from_status: Iterable[UnitStatus], to: UnitStatus,
                  **values: Any) -> bool:
        """Set a unit's status if it is in one of `from_status` (and not held when it is
        installed or shipped); False when it was not."""
        q = sa.update(UN).where(UN.c.id == unit_id,
                                UN.c.status.in_([s.value for s in from_status]))
        if to in (UnitStatus.INSTALLED, UnitStatus.SHIPPED):
            q = q.where(UN.c.held.is_(False))
        return self._conn.execute(q.values(status=to.value, **values)).rowcount == 1

    def set_unit_held(self, unit_id: int, held: bool) -> None:
        """Mark a unit held or free."""
        self._conn.execute(sa.update(UN).where(UN.c.id == unit_id).values(held=held))

    def set_unit_site(self, unit_ids: list[int], site: str) -> None:
        """Move units to another site (a transfer)."""
        self._conn.execute(sa.update(UN).where(UN.c.id.in_(unit_ids)).values(site=site))

    def scenario_of_unit(self, unit_id: int) -> tuple[int, int]:
        """(scenario id, version id) of the work order a unit was built on."""
        r = self._conn.execute(sa.select(WO.c.scenario_id, WO.c.version_id)
                               .join(UN, UN.c.work_order_id == WO.c.id)
                               .where(UN.c.id == unit_id)).one()
        return int(r.scenario_id), int(r.version_id)

    # ------------------------------------------------------------ genealogy, operations

    def add_edges(self, rows: list[dict[str, Any]]) -> None:
        """Genealogy edges (parent_unit_id | parent_lot_id, child_unit_id | child_lot_id,
        item, qty), added now."""
        if rows:
            t = now()
            self._conn.execute(sa.insert(G), [{"parent_unit_id": None, "parent_lot_id": None,
                                               "child_unit_id": None, "child_lot_id": None,
                                               "added_at": t, **r} for r in rows])

    def add_operations(self, rows: list[dict[str, Any]]) -> None:
        """Operation records (work_order_id, unit_id | lot_id, seq, work_center, operator,
        started_at, ended_at)."""
        if rows:
            self._conn.execute(sa.insert(operation_records),
                               [{"unit_id": None, "lot_id": None, **r} for r in rows])

    def blockers(self, unit_ids: Sequence[int]) -> dict[int, list[str]]:
        """For each unit, the holds in force on it or on anything in it at any depth
        (`lot L (reason)`, `unit S (reason)`); units without any are left out."""
        if not unit_ids:
            return {}
        tree = gq.tree_up(False)
        lot_holds = (sa.select(tree.c.root, sa.literal("lot ").concat(L.c.code)
                               .label("what"), H.c.reason)
                     .join(L, L.c.id == tree.c.lot_id)
                     .join(H, (H.c.lot_id == L.c.id) & H.c.released_at.is_(None)))
        unit_holds = (sa.select(tree.c.root, sa.literal("unit ").concat(UN.c.serial)
                                .label("what"), H.c.reason)
                      .join(UN, UN.c.id == tree.c.unit_id)
                      .join(H, (H.c.unit_id == UN.c.id) & H.c.released_at.is_(None)))
        out: dict[int, list[str]] = {}
        for root, what, reason in self._conn.execute(sa.union_all(lot_holds, unit_holds),
                                                     {"roots": list(unit_ids)}):
            out.setdefault(int(root), []).append(f"{what} ({reason})")
        return out

    def lot_ids(self, scenario_id: int, code: str) -> list[int]:
        """Ids of the scenario's lots with this code (one per site and item)."""
        return [int(i) for i in self._conn.execute(
            sa.select(L.c.id).where(L.c.scenario_id == scenario_id, L.c.code == code))
            .scalars()]

    def down(self, lot_ids: Sequence[int], unit_ids: Sequence[int]) -> list[Contained]:
        """Every unit that contains one of the lots or units, at any depth, with its latest
        shipment and customer."""
        return self.contained_in(lot_ids, unit_ids)[0]

    def contained_in(self, lot_ids: Sequence[int], unit_ids: Sequence[int],
                     sites: Collection[str] | None = None) -> tuple[list[Contained], int]:
        """Every unit that contains one of the lots or units, at any depth, with its latest
        shipment and customer (one recursive query, then the few shipments it names),
        and how many more there are at sites other than `sites` (None: every site)."""
        if not lot_ids and not unit_ids:
            return [], 0
        params: dict[str, Any] = {"lots": list(lot_ids), "units": list(unit_ids)}
        if sites is not None:
            params["sites"] = sorted(sites)
        dialect = self._conn.dialect.name  # (the engine turns PostgreSQL's JIT off)
        if dialect == "postgresql":
            return self._contained_streamed(params, sites is not None)
        # the rows are made into the answer's units at once, so only those outlive the
        # read, with the cyclic collector held off: none of them is in a cycle
        with collection_paused():
            result = self._conn.execute(gq.down_query(sites is not None, dialect), params)
            # plain strings and integers: the driver's own rows, fetched at once, cost a
            # third of SQLAlchemy's row-by-row iteration and need none of its type work
            rows = result.cursor.fetchall()
            result.close()
            if sites is None:
                total = None
            else:  # every row carries the total; a row of NULLs when none is visible
                total = rows[0][6]
                rows = [r[:6] for r in rows if r[0] is not None]
            # the few shipments the rows name, read once; each unit is then made whole
            ships: dict[int | None, tuple[str | None, datetime | None]] = {None: (None, None)}
            if ids := list({r[5] for r in rows} - {None}):
                ships |= {i: (customer, as_utc(at)) for i, customer, at in
                          self._conn.execute(gq.shipments_query(), {"ids": ids})}
            found = first_of_each([Contained(serial, item, site, status, depth, ship,
                                             *ships[ship])
                                   for serial, item, site, status, depth, ship in rows])
            del rows
        if total is None:
            total = len(found)
        return found, int(total) - len(found)

    def _contained_streamed(self, params: dict[str, Any], scoped: bool
                            ) -> tuple[list[Contained], int]:
        """`contained_in` on PostgreSQL: the rows stream in as the server's walk finds
        them, in chunks, and each chunk is made into units while the server goes on, so
        the two processes work at once; the answer is then sorted as the ordered
        statement would (depth, then serial in byte order, which Python's order of
        strings is)."""
        sql, fixed = gq.down_sql(scoped)
        raw: Any = self._conn.connection.dbapi_connection
        total: int | None = None
        found: list[Contained] = []
        driver_error = self._conn.dialect.loaded_dbapi.Error
        with collection_paused(), raw.cursor() as cur:
            try:
                for row in cur.stream(sql, fixed | params, size=STREAM_ROWS):
                    if scoped:
                        total = row[6]
                        if row[0] is None:
                            continue
                    found.append(Contained(row[0], row[1], row[2], row[3], row[4], row[5]))
            except driver_error as e:  # as SQLAlchemy's execution would raise it
                raise sa.exc.DBAPIError.instance(sql, params, e, driver_error) from e
            shipped = [u for u in found if u.shipment is not None]
            if shipped:
                ships = {i: (customer, as_utc(at)) for i, customer, at in self._conn.execute(
                    gq.shipments_query(), {"ids": list({u.shipment for u in shipped})})}
                for u in shipped:
                    u.customer, u.shipped_at = ships[u.shipment]
            found.sort(key=_depth_serial)
            found = first_of_each(found)
        return found, (len(found) if total is None else int(total)) - len(found)

    def whole_tree(self, serial: str) -> tuple[Component, list[Component],
                                                list[OperationRecord], list[TestResult]]:
        """Unit `serial` (as a part at depth 0, in nothing), everything it is made of at
        any depth down to the suppliers' lots, without the parts swapped out in repairs,
        and the operation records and test results of it and of the units among its
        parts: one statement, one round trip."""
        parts: list[Component] = []
        ops: list[OperationRecord] = []
        tests: list[TestResult] = []
        for (kind, depth, parent, item, qty, serial_, lot, supplier, site, held, added,
             n, what, operator, at, ended, passed, value, station) in \
                self._conn.execute(gq.up_all_query(), {"serial": serial}):
            if kind == 0:
                parts.append(Component(depth, parent or "", item,
                                       1.0 if qty is None else float(qty), serial_, lot,
                                       supplier, site, bool(held), as_utc_or_none(added)))
            elif kind == 1:
                ops.append(OperationRecord(serial_, int(n), what, operator, as_utc(at),
                                           as_utc(ended)))
            else:
                tests.append(TestResult(int(n), serial_, what, bool(passed), value, station,
                                        operator, as_utc(at)))
        if not parts:
            self.unit(serial)  # raises NotFound, with the fix
        return parts[0], parts[1:], ops, tests

    # ------------------------------------------------------------ tests

    def add_test(self, unit_id: int, step: str, passed: bool, value: float | None,
                 station: str | None, operator: str) -> int:
        """One test result; returns its id."""
        return int(self._conn.execute(sa.insert(TR).values(
            unit_id=unit_id, step=step, passed=passed, value=value, station=station,
            operator=operator, at=now()).returning(TR.c.id)).scalar_one())

    def last_results(self, unit_id: int) -> dict[str, bool]:
        """step -> whether the unit's last result of that step passed."""
        last = (sa.select(sa.func.max(TR.c.id)).where(TR.c.unit_id == unit_id)
                .group_by(TR.c.step))
        q = sa.select(TR.c.step, TR.c.passed).where(TR.c.id.in_(last))
        return {s: bool(p) for s, p in self._conn.execute(q)}

    def yields(self, scenario_id: int, sites: Iterable[str] | None
               ) -> tuple[list[YieldRow], list[FailureRow]]:
        """First-pass yield per item, site, step and ISO week of the first result, and the
        failure Pareto per item and step (GROUP BY in the database)."""
        first = (sa.select(sa.func.min(TR.c.id).label("id")).group_by(TR.c.unit_id, TR.c.step)
                 .subquery())
        week = _iso_week(self._conn.dialect.name, TR.c.at)
        scope = [WO.c.scenario_id == scenario_id]
        if sites is not None:
            scope.append(UN.c.site.in_(list(sites)))
        q = (sa.select(UN.c.item, UN.c.site, TR.c.step, week.label("week"),
                       sa.func.count().label("tested"),
                       sa.func.sum(sa.case((TR.c.passed, 1), else_=0)).label("first_pass"))
             .select_from(TR).join(first, first.c.id == TR.c.id)
             .join(UN, UN.c.id == TR.c.unit_id).join(WO, WO.c.id == UN.c.work_order_id)
             .where(*scope).group_by(UN.c.item, UN.c.site, TR.c.step, week)
             .order_by(UN.c.item, UN.c.site, TR.c.step, week))
        rows = [YieldRow(r.item, r.site, r.step, str(r.week), int(r.tested),
                         int(r.first_pass or 0)) for r in self._conn.execute(q)]
        fq = (sa.select(UN.c.item, TR.c.step, sa.func.count().label("n")).select_from(TR)
              .join(UN, UN.c.id == TR.c.unit_id).join(WO, WO.c.id == UN.c.work_order_id)
              .where(*scope, TR.c.passed.is_(False)).group_by(UN.c.item, TR.c.step)
              .order_by(sa.func.count().desc(), UN.c.item, TR.c.step))
        fails = [(r.item, r.step, int(r.n)) for r in self._conn.execute(fq)]
        total = sum(n for _, _, n in fails) or 1
        return rows, [FailureRow(i, s, n, n / total) for i, s, n in fails]

    # ------------------------------------------------------------ holds, shipments

    def add_hold(self, reason: str, lot_id: int | None = None, unit_id: int | None = None
                 ) -> int:
        """A hold on a lot or a unit; returns its id."""
        return int(self._conn.execute(sa.insert(H).values(
            lot_id=lot_id, unit_id=unit_id, reason=reason, placed_at=now(),
            placed_by=self.actor).returning(H.c.id)).scalar_one())

    def active_holds(self, lot_ids: Sequence[int] = (), unit_ids: Sequence[int] = ()
                     ) -> list[Hold]:
        """Holds in force on these lots and units."""
        return [h for h in self.holds(lot_ids, unit_ids) if h.active]

    def holds(self, lot_ids: Sequence[int] = (), unit_ids: Sequence[int] = ()) -> list[Hold]:
        """Every hold, in force or released, on these lots and units."""
        q = (sa.select(H, L.c.code, L.c.site.label("lot_site"), L.c.item.label("lot_item"),
                       UN.c.serial, UN.c.site.label("unit_site"),
                       UN.c.item.label("unit_item"))
             .outerjoin(L, L.c.id == H.c.lot_id).outerjoin(UN, UN.c.id == H.c.unit_id)
             .where(H.c.lot_id.in_(list(lot_ids)) | H.c.unit_id.in_(list(unit_ids)))
             .order_by(H.c.id))
        return [Hold(int(r.id), r.reason, as_utc(r.placed_at), r.placed_by, r.code, r.serial,
                     r.lot_site or r.unit_site or "", r.lot_item or r.unit_item or "",
                     as_utc_or_none(r.released_at), r.released_by)
                for r in self._conn.execute(q)]

    def release_hold(self, hold_id: int) -> bool:
        """Lift a hold in force; False when it was lifted already."""
        return self._conn.execute(sa.update(H).where(H.c.id == hold_id,
                                                     H.c.released_at.is_(None))
                                  .values(released_at=now(), released_by=self.actor)
                                  ).rowcount == 1

    def add_shipment(self, scenario_id: int, customer: str, unit_ids: list[int]
                     ) -> tuple[int, datetime]:
        """A shipment of units to a customer; returns its id and time."""
        t = now()
        sid = int(self._conn.execute(sa.insert(SH).values(
            scenario_id=scenario_id, customer=customer, shipped_at=t,
            shipped_by=self.actor).returning(SH.c.id)).scalar_one())
        self._conn.execute(sa.insert(SU), [{"shipment_id": sid, "unit_id": u}
                                           for u in unit_ids])
        # ids grow, so this shipment is each unit's latest (what a trace down shows)
        self._conn.execute(sa.update(UN).where(UN.c.id.in_(unit_ids))
                           .values(last_shipment_id=sid))
        return sid, t


def _iso_week(dialect: str, col: Any) -> Any:
    """`YYYY-Www` of a timestamp, in the database's own date functions."""
    if dialect == "postgresql":
        return sa.func.to_char(col, 'IYYY-"W"IW')
    return sa.func.strftime("%Y-W%W", col)


def _lot(r: Any) -> Lot:
    return Lot(int(r.id), r.scenario, r.site, r.item, r.code, r.supplier,
               float(r.qty_received), float(r.remaining), bool(r.held), as_utc(r.received_at),
               r.received_by, r.work_order_id)


def _unit(r: Any) -> Unit:
    return Unit(int(r.id), r.serial, r.item, r.site, int(r.work_order_id),
                UnitStatus(r.status), bool(r.held), as_utc_or_none(r.completed_at),
                as_utc_or_none(r.shipped_at), as_utc(r.built_at), r.built_by)
