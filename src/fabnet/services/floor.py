"""The floor's verbs: release, orders, receive, build, test, yield, hold, release-hold,
ship. Each runs in one unit of work (a build or a shipment books all or nothing), is
checked against the caller's role and sites (`fabnet.shop.roles`), and is audited in
the same transaction.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from fabnet.model.scenario import RoutingStep, Scenario, TestPlan, in_effect
from fabnet.plan.whole_units import batch_on, is_whole_unit, release_quantity
from fabnet.shop.errors import FloorError, ShipRefused, Shortage
from fabnet.shop.hold import Hold
from fabnet.shop.licence_gate import LicenceRepository, check_licence
from fabnet.shop.lot import EPS, Lot, fifo
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller, FloorAction
from fabnet.shop.serials import pattern_of, serials
from fabnet.shop.shipment import Refusal, Shipment
from fabnet.shop.testing import FailureRow, TestResult, YieldRow, missing_steps
from fabnet.shop.unit import UnitStatus
from fabnet.shop.work_order import WorkOrder, WorkOrderStatus, work_order_code
from fabnet.store import Action, NotFound, PlanRun, Role, Store, UnitOfWork
from fabnet.store.repository import now
from fabnet.store.schema import scenarios, users

T = TypeVar("T")


# ---------------------------------------------------------------- who and where


def caller_for(store: Store) -> Caller:
    """The store's actor as a floor caller: their account's role and sites; a store with
    no accounts at all is one person's, who may do everything (as an admin)."""
    with store.unit_of_work(read_only=True) as uow:
        if uow.connection.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 0:
            return Caller(store.actor, Role.ADMIN)
        try:
            u = uow.users.get(store.actor)
        except NotFound:
            raise FloorError(f"{store.actor!r} has no account in this store, which has "
                             "accounts (fix: act as a user with --as NAME, or ask an admin to "
                             "add you)") from None
    if not u.active:
        raise FloorError(f"account {u.name!r} is deactivated (fix: ask an admin)")
    return Caller.of(u.name, u.role, u.sites)


def _scenario_id(uow: UnitOfWork, name: str | None) -> tuple[int, str]:
    """(id, name) of the scenario the floor runs in: `name`, or the store's only one."""
    if name is not None:
        sid = uow.connection.execute(sa.select(scenarios.c.id)
                                     .where(scenarios.c.name == name)).scalar()
        if sid is None:
            uow.scenarios.versions(name)  # raises NotFound with the known names
            raise NotFound(f"no scenario {name!r}")
        return int(sid), name
    rows = list(uow.connection.execute(sa.select(scenarios.c.id, scenarios.c.name)))
    if len(rows) != 1:
        names = ", ".join(sorted(r.name for r in rows)) or "none"
        raise FloorError(f"the store holds {len(rows)} scenarios ({names}) (fix: name the "
                         "one the floor runs in with --scenario NAME or FABNET_SCENARIO)")
    return int(rows[0].id), str(rows[0].name)


def _version(uow: UnitOfWork, version_id: int) -> Scenario:
    name, version = uow.scenarios.version_of(version_id)
    return uow.scenarios.get(name, version)


def _latest(uow: UnitOfWork, scenario: str) -> tuple[int, Scenario]:
    vid = uow.scenarios.version_id(scenario)
    return vid, uow.scenarios.get(scenario)


def _floor(uow: UnitOfWork) -> FloorRepository:
    return FloorRepository(uow.connection, uow.audit)


def releasable_run(uow: UnitOfWork, scenario: str, run_id: int | None, nothing: str
                   ) -> PlanRun:
    """The plan run whose quantities go to the floor (`run_id`, or the newest): one that is
    optimal, or a whole-unit plan its MIP time limit stopped (feasible, so releasable);
    `nothing` says what a run that is neither lacks."""
    runs = [r for r in uow.plan_runs.all(scenario, limit=1000)
            if run_id is None or r.id == run_id]
    if not runs:
        raise NotFound(f"no plan run {run_id or ''} of {scenario!r} in the store (fix: "
                       f"`fabnet db plan {scenario}`, then `fabnet db runs`)")
    run = runs[0]
    if run.status != "optimal" and not (is_whole_unit(run.kpis)
                                        and run.status == "time_limit"):
        raise FloorError(f"plan run {run.id} is {run.status}, not optimal: {nothing} "
                         "(fix: plan again)")
    return run


def _run(store: Store, caller: Caller, work: Callable[[UnitOfWork, FloorRepository], T],
         read_only: bool = False) -> T:
    """`work` in a unit of work acting as the caller, retried on a concurrent change."""
    def body(uow: UnitOfWork) -> T:
        out = work(uow, _floor(uow))
        if not read_only:
            uow.commit()
        return out
    return store.acting_as(caller.name).run(body, read_only)


# ---------------------------------------------------------------- release, orders


def release(store: Store, caller: Caller, scenario: str, run_id: int | None = None,
            until: date | None = None) -> list[WorkOrder]:
    """Turn a stored plan run's production (default: the scenario's newest run) into
    released work orders, up to the bucket that contains `until`, each with the item's
    routing as operations; a site manager releases their own sites' production only.

    A whole-unit run is released as planned; a continuous run's quantities are rounded
    up to whole units and whole batches (`whole_units.release_quantity`)."""
    caller.check(FloorAction.RELEASE)

    def work(uow: UnitOfWork, floor: FloorRepository) -> list[WorkOrder]:
        sid, _ = _scenario_id(uow, scenario)
        run = releasable_run(uow, scenario, run_id, "there is no production to release")
        whole = is_whole_unit(run.kpis)
        if done := floor.released_from(run.id):
            raise FloorError(f"plan run {run.id} was released already ({len(done)} work "
                             f"orders from {work_order_code(done[0])}) (fix: see `fabnet "
                             "floor orders`)")
        vid = uow.scenarios.version_id(scenario, run.version)
        sc = uow.scenarios.get(scenario, run.version)
        routing: dict[str, list[RoutingStep]] = {}
        for r in sc.routings:
            routing.setdefault(r.item, []).append(r)
        starts = {int(b["bucket"]): date.fromisoformat(b["start"])
                  for b in run.document.get("buckets", [])}
        made: list[int] = []
        for row in run.document["tables"]["production"]:
            # the firm part is a work order already making it: release only what is new
            bucket, qty = int(row["bucket"]), float(row["qty"]) - float(row.get("firm", 0.0))
            start = starts.get(bucket, sc.horizon.start)
            if qty <= 1e-6 or (until is not None and start > until):
                continue
            if not caller.sees(row["site"]):
                continue
            made.append(floor.add_work_order(sid, vid, run.id, row["site"], row["item"],
                                             release_quantity(qty, whole, batch_on(
                                                 sc, row["site"], row["item"], start)),
                                             bucket, start,
                                             [(r.work_center, r.hours)  # steps in effect
                                              for r in routing.get(row["item"], [])
                                              if in_effect(r.start, r.until, start)]))
        orders = floor.work_orders(ids=made) if made else []
        floor.audit(Action.WORK_ORDER_RELEASE, f"plan_run:{run.id}",
                    {"scenario": scenario, "version": run.version,
                     "until": until.isoformat() if until else None,
                     "work_orders": [{"id": o.code, "site": o.site, "item": o.item,
                                      "qty": o.qty, "due": o.due_date.isoformat()}
                                     for o in orders]})
        return orders
    return _run(store, caller, work)


def list_orders(store: Store, caller: Caller, scenario: str | None = None,
                site: str | None = None, statuses: tuple[WorkOrderStatus, ...] = ()
                ) -> list[WorkOrder]:
    """Work orders by due date, of the caller's sites only, filtered by site and status."""
    caller.check(FloorAction.ORDERS, site)

    def work(uow: UnitOfWork, floor: FloorRepository) -> list[WorkOrder]:
        sid, _ = _scenario_id(uow, scenario)
        sites: set[str] | None = None if caller.sites is None else set(caller.sites)
        if site is not None:
            sites = {site}
        return floor.work_orders(sid, sites, [s.value for s in statuses] or None)
    return _run(store, caller, work, read_only=True)


# ---------------------------------------------------------------- receive


def receive(store: Store, caller: Caller, site: str, item: str, lot: str, qty: float,
            supplier: str | None = None, scenario: str | None = None) -> Lot:
    """Book a supplier's lot into a site's stock, under the code the supplier printed."""
    caller.check(FloorAction.RECEIVE, site)
    if not (qty > 0 and math.isfinite(qty)):
        raise FloorError(f"--qty {qty}: must be a number > 0")
    _lot_code(lot)

    def work(uow: UnitOfWork, floor: FloorRepository) -> Lot:
        sid, name = _scenario_id(uow, scenario)
        _, sc = _latest(uow, name)
        _known(sc, site=site, item=item, supplier=supplier)
        if floor.lots(sid, code=lot, site=site, item=item):
            raise FloorError(f"lot {lot} of {item} is at {site} already (fix: give the "
                             "delivery its own lot code)")
        lid = floor.add_lot(sid, site, item, lot, qty, supplier)
        floor.audit(Action.LOT_RECEIVE, f"lot:{site}/{item}/{lot}",
                    {"site": site, "item": item, "lot": lot, "qty": qty,
                     "supplier": supplier})
        return floor.lots(sid, ids=[lid])[0]
    return _run(store, caller, work)


def _lot_code(code: str) -> None:
    """A lot code as labels, trace reports and exports can carry it: 1 to 200 characters,
    no control characters (a line break would split a CSV row or a log line)."""
    bad = next((c for c in code if ord(c) < 32 or ord(c) == 127), None)
    if not code.strip() or len(code) > 200 or bad is not None:
        why = f"contains the control character U+{ord(bad):04X}" if bad is not None else \
            "must be 1 to 200 characters, not only spaces"
        raise FloorError(f"lot {code[:80]!r}: {why} (fix: give the code as printed on the "
                         "supplier's label)")


def _known(sc: Scenario, site: str | None = None, item: str | None = None,
           supplier: str | None = None, customer: str | None = None) -> None:
    for what, value, ids in (("site", site, {s.id for s in sc.sites}),
                             ("item", item, {i.id for i in sc.items}),
                             ("supplier", supplier, {s.id for s in sc.suppliers}),
                             ("customer", customer, {c.id for c in sc.customers})):
        if value is not None and value not in ids:
            raise FloorError(f"no {what} {value!r} in scenario {sc.name!r} (fix: use one of "
                             f"{', '.join(sorted(ids)[:8])}{', …' if len(ids) > 8 else ''})")


# ---------------------------------------------------------------- build


@dataclass(frozen=True)
class BuildResult:
    """What a build made (serials, or the lot of a non-serialized item) and consumed."""

    work_order: str
    item: str
    qty: int
    serials: tuple[str, ...]
    lot: str | None
    consumed: tuple[dict[str, Any], ...] = field(default=())


def build(store: Store, caller: Caller, wo: int, qty: int, use: Mapping[str, str] | None = None,
          operator: str | None = None, started: datetime | None = None,
          ended: datetime | None = None) -> BuildResult:
    """Build `qty` units of a work order: serials from the item's pattern, its BOM taken
    from the named lots (`use`: item -> lot code) or first-in-first-out, complete
    sub-assemblies consumed by serial, operations recorded. A shortage refuses the whole
    build with every missing component and books nothing."""
    if qty < 1:
        raise FloorError(f"--qty {qty}: build at least 1 unit")
    use = dict(use or {})

    def work(uow: UnitOfWork, floor: FloorRepository) -> BuildResult:
        order = floor.work_order(wo, lock=True)
        caller.check(FloorAction.BUILD, order.site)
        if not order.status.open:
            raise FloorError(f"{order.code} is {order.status.value} (fix: build on an open "
                             "work order)")
        if qty > order.remaining:
            raise FloorError(f"{order.code} has {order.remaining} of {order.qty} units left "
                             f"to build, not {qty} (fix: --qty {order.remaining} or less)")
        sc = _version(uow, uow.scenarios.version_id(order.scenario, order.version))
        sid, _ = _scenario_id(uow, order.scenario)
        items = {i.id: i for i in sc.items}
        bom = [b for b in sc.boms if b.parent == order.item  # the lines in effect then
               and in_effect(b.start, b.until, order.due_date)]
        unknown = sorted(set(use) - {b.item for b in bom})
        if unknown:
            raise FloorError(f"--use {unknown[0]}: not in the BOM of {order.item} (fix: use "
                             f"one of {', '.join(b.item for b in bom) or 'none'})")
        item = items[order.item]
        n_out = qty if item.serialized else 1
        # plan every component before writing anything
        missing: list[str] = []
        lot_takes: dict[str, list[list[tuple[int, float]]]] = {}
        unit_takes: dict[str, list[list[int]]] = {}
        for b in bom:
            per = b.qty * (1 if item.serialized else qty)
            if items[b.item].serialized:
                need = round(per)
                if abs(need - per) > EPS:
                    raise FloorError(f"boms[{b.parent}/{b.item}].qty: {b.qty} of a serialized "
                                     "item is not a whole number")
                free = floor.free_units(sid, order.site, b.item)
                blocked = floor.blockers([u[0] for u in free])
                free = [u for u in free if u[0] not in blocked]
                if len(free) < need * n_out:
                    missing.append(f"{b.item} at {order.site}: need {need * n_out} complete "
                                   f"units, have {len(free)}")
                    continue
                free_ids = [u[0] for u in free]
                unit_takes[b.item] = [free_ids[k * need:(k + 1) * need] for k in range(n_out)]
                continue
            lots = floor.free_lots(sid, order.site, b.item)
            if b.item in use:
                lots = [x for x in lots if x[1] == use[b.item]]
            pool = [(i, r) for i, _, r in lots]
            have = sum(r for _, r in pool)
            if have + EPS < per * n_out:
                named = f" in lot {use[b.item]}" if b.item in use else ""
                missing.append(f"{b.item} at {order.site}{named}: need {per * n_out:g}, have "
                               f"{have:g} not on hold")
                continue
            takes = []
            for _ in range(n_out):
                t = fifo(pool, per)
                left = dict(pool)
                for i, q in t:
                    left[i] -= q
                pool = [(i, r) for i, r in left.items() if r > EPS]
                takes.append(t)
            lot_takes[b.item] = takes
        if missing:
            raise Shortage(order.code, missing)
        # book it all
        t_end = ended or now()
        t_start = started or t_end
        from fabnet.services.skills import check_operations  # qualified operators only
        check_operations(uow, sid, order.site, operator or caller.name,
                         [op.work_center for op in order.operations], t_end.date())
        out_serials: list[str] = []
        made_lot: str | None = None
        plans = [p for p in sc.test_plans if p.item == order.item and p.required]
        status = UnitStatus.BUILT if plans else UnitStatus.COMPLETE
        if item.serialized:
            pattern = pattern_of(item)
            on = t_end.date()
            first = floor.next_serials(pattern.scope(item.id, order.site, on), qty)
            out_serials = serials(pattern, item.id, order.site, on, first, qty)
            ids = floor.add_units([{"serial": s, "item": item.id, "site": order.site,
                                    "work_order_id": order.id, "status": status.value}
                                   for s in out_serials])
            parents = [("parent_unit_id", ids[s]) for s in out_serials]
        else:
            made_lot = f"{order.code}-{order.qty_done + 1}"
            lid = floor.add_lot(sid, order.site, item.id, made_lot, float(qty), None, order.id)
            parents = [("parent_lot_id", lid)]
        edges, consumed = [], []
        per_lot: dict[int, float] = {}
        for comp, takes in lot_takes.items():
            for (col, pid), t in zip(parents, takes, strict=True):
                for lot_id, q in t:
                    edges.append({col: pid, "child_lot_id": lot_id, "item": comp, "qty": q})
                    per_lot[lot_id] = per_lot.get(lot_id, 0.0) + q
        for lot_id, q in per_lot.items():
            floor.take_from_lot(lot_id, round(q, 9))
        for comp, groups in unit_takes.items():
            for (col, pid), group in zip(parents, groups, strict=True):
                for uid in group:
                    if not floor.move_unit(uid, [UnitStatus.COMPLETE], UnitStatus.INSTALLED):
                        raise FloorError(f"a unit of {comp} was taken while building (fix: "
                                         "run the build again)")
                    edges.append({col: pid, "child_unit_id": uid, "item": comp, "qty": 1.0})
        floor.add_edges(edges)
        lot_codes = {x.id: x.code for x in floor.lots(sid, ids=list(per_lot))} if per_lot \
            else {}
        consumed = [{"lot": lot_codes[i], "qty": q} for i, q in per_lot.items()]
        ops = []
        for col, pid in parents:
            for op in order.operations:
                ops.append({"work_order_id": order.id, col[len("parent_"):]: pid,
                            "seq": op.seq, "work_center": op.work_center,
                            "operator": operator or caller.name, "started_at": t_start,
                            "ended_at": t_end})
        floor.add_operations(ops)
        floor.book_work_order(order.id, qty)
        floor.audit(Action.BUILD, f"work_order:{order.code}",
                    {"item": item.id, "site": order.site, "qty": qty, "serials": out_serials,
                     "lot": made_lot, "consumed": consumed,
                     "units_consumed": sum(len(g) for gs in unit_takes.values() for g in gs),
                     "operator": operator or caller.name})
        return BuildResult(order.code, item.id, qty, tuple(out_serials), made_lot,
                           tuple(consumed))
    return _run(store, caller, work)


# ---------------------------------------------------------------- test, yield


@dataclass(frozen=True)
class TestOutcome:
    """A recorded result, and where it leaves the unit."""

    result: TestResult
    complete: bool
    missing: tuple[str, ...]


def record_test(store: Store, caller: Caller, serial: str, step: str, passed: bool,
                value: float | None = None, station: str | None = None,
                operator: str | None = None) -> TestOutcome:
    """Record a test result (a value outside the step's limits is a fail) and set the
    unit complete, or back to built, by its required steps' last results."""
    if value is not None and not math.isfinite(value):
        raise FloorError(f"--value {value}: must be a finite number")

    def work(uow: UnitOfWork, floor: FloorRepository) -> TestOutcome:
        unit = floor.unit(serial)
        caller.check(FloorAction.TEST, unit.site)
        sid, vid = floor.scenario_of_unit(unit.id)
        plans = [p for p in _version(uow, vid).test_plans if p.item == unit.item]
        plan = next((p for p in plans if p.step == step), None)
        if plan is None:
            raise FloorError(f"{serial}: {unit.item} has no test step {step!r} (fix: use one "
                             f"of {', '.join(p.step for p in plans) or 'none'}, or add it to "
                             "the scenario's test_plans)")
        if passed and value is None and (plan.min is not None or plan.max is not None):
            raise FloorError(f"{serial}: step {step} has limits [{plan.limits()}] (fix: give the "
                             "measured --value)")
        from fabnet.services.repair import results_after_repair
        from fabnet.services.skills import check_qualified
        from fabnet.store.floor_repair import SkillKind
        check_qualified(uow, sid, unit.site, operator or caller.name, SkillKind.TEST_STEP,
                        step, now().date())
        ok = plan.judge(passed, value)
        tid = floor.add_test(unit.id, step, ok, value, station, operator or caller.name)
        missing = missing_steps(plans, results_after_repair(uow, unit.id))
        t = now()
        if not missing:
            floor.move_unit(unit.id, [UnitStatus.BUILT], UnitStatus.COMPLETE, completed_at=t)
        else:
            floor.move_unit(unit.id, [UnitStatus.COMPLETE], UnitStatus.BUILT, completed_at=None)
        floor.audit(Action.TEST_RECORD, f"unit:{serial}",
                    {"step": step, "passed": ok, "pressed": "pass" if passed else "fail",
                     "value": value, "station": station, "complete": not missing})
        res = TestResult(tid, serial, step, ok, value, station, operator or caller.name, t)
        return TestOutcome(res, not missing, tuple(missing))
    return _run(store, caller, work)


def yields(store: Store, caller: Caller, scenario: str | None = None
           ) -> tuple[list[YieldRow], list[FailureRow]]:
    """First-pass yield per item, site, step and week, and the failure Pareto, of the
    caller's sites (quality and the other roles: every site)."""
    caller.check(FloorAction.YIELD)

    def work(uow: UnitOfWork, floor: FloorRepository) -> tuple[list[YieldRow],
                                                                list[FailureRow]]:
        sid, _ = _scenario_id(uow, scenario)
        return floor.yields(sid, caller.sites)
    return _run(store, caller, work, read_only=True)


# ---------------------------------------------------------------- holds


def _targets(uow: UnitOfWork, floor: FloorRepository, ref: str, scenario: str | None
             ) -> tuple[list[Lot], list[int], str]:
    units = floor.units_by_serial([ref])
    if ref in units:
        return [], [units[ref].id], units[ref].site
    sid, _ = _scenario_id(uow, scenario)
    found = floor.lots(sid, code=ref)
    if not found:
        raise NotFound(f"no lot or serial {ref!r} (fix: check the code as the supplier "
                       "printed it, or the serial)")
    return found, [], ""


def hold(store: Store, caller: Caller, ref: str, reason: str, scenario: str | None = None
         ) -> list[Hold]:
    """Hold a lot (every lot with that code) or a unit: held lots are not consumed, and
    no unit built from them, nor a held unit, ships."""
    caller.check(FloorAction.HOLD)
    if not reason.strip():
        raise FloorError("--reason: say why it is held")

    def work(uow: UnitOfWork, floor: FloorRepository) -> list[Hold]:
        lots, unit_ids, _ = _targets(uow, floor, ref, scenario)
        for x in lots:
            floor.add_hold(reason, lot_id=x.id)
            floor.set_lot_held(x.id, True)
        for u in unit_ids:
            floor.add_hold(reason, unit_id=u)
            floor.set_unit_held(u, True)
        placed = floor.active_holds([x.id for x in lots], unit_ids)
        floor.audit(Action.HOLD_PLACE, f"{'unit' if unit_ids else 'lot'}:{ref}",
                    {"reason": reason, "holds": [h.id for h in placed],
                     "sites": sorted({h.site for h in placed})})
        return placed
    return _run(store, caller, work)


def release_hold(store: Store, caller: Caller, ref: str, scenario: str | None = None
                 ) -> list[Hold]:
    """Lift every hold in force on a lot code or a serial; the holds stay on record."""
    caller.check(FloorAction.RELEASE_HOLD)

    def work(uow: UnitOfWork, floor: FloorRepository) -> list[Hold]:
        lots, unit_ids, _ = _targets(uow, floor, ref, scenario)
        active = floor.active_holds([x.id for x in lots], unit_ids)
        if not active:
            raise FloorError(f"{ref} is not on hold")
        for h in active:
            floor.release_hold(h.id)
        for x in lots:
            floor.set_lot_held(x.id, False)
        for u in unit_ids:
            floor.set_unit_held(u, False)
        floor.audit(Action.HOLD_RELEASE, f"{'unit' if unit_ids else 'lot'}:{ref}",
                    {"released": [h.id for h in active]},
                    {"holds": [{"id": h.id, "reason": h.reason} for h in active]})
        return floor.holds([x.id for x in lots], unit_ids)
    return _run(store, caller, work)


# ---------------------------------------------------------------- ship


def ship(store: Store, caller: Caller, customer: str, serial_list: list[str]) -> Shipment:
    """Ship complete units to an approved customer, all or none, under the export gate
    (a valid licence with enough left, no embargo; drawn down in the same transaction):
    refused with the reason per unit (on hold, incomplete, already shipped, installed)
    or for the customer and its licences, and the refusal audited."""
    caller.check(FloorAction.SHIP)
    if not serial_list:
        raise FloorError("name at least one serial to ship")

    def work(uow: UnitOfWork, floor: FloorRepository) -> Shipment:
        from fabnet.services.repair import results_after_repair  # tests after a repair
        found = floor.units_by_serial(serial_list)
        reasons: dict[str, str] = {}
        for s in serial_list:
            u = found.get(s)
            if u is None:
                reasons[s] = Refusal.UNKNOWN.value
            elif not caller.sees(u.site):
                reasons[s] = f"{Refusal.NOT_YOURS.value} ({u.site})"
        known = [found[s] for s in serial_list if s in found]
        if not known:
            raise ShipRefused(customer, reasons)
        sid, vid = floor.scenario_of_unit(known[0].id)
        name = uow.scenarios.version_of(vid)[0]
        _, sc = _latest(uow, name)
        cust = next((c for c in sc.customers if c.id == customer), None)
        general = ""
        if cust is None:
            general = f"no customer {customer!r} in scenario {name!r}"
        elif not cust.approved:
            general = f"customer {customer} is not approved"
        blocked = floor.blockers([u.id for u in known])
        plans: dict[str, list[TestPlan]] = {}
        for p in sc.test_plans:
            plans.setdefault(p.item, []).append(p)
        for u in known:
            if u.serial in reasons:
                continue
            if u.status is UnitStatus.SHIPPED:
                reasons[u.serial] = Refusal.SHIPPED.value
            elif u.status is UnitStatus.INSTALLED:
                reasons[u.serial] = Refusal.INSTALLED.value
            elif u.id in blocked:
                reasons[u.serial] = f"{Refusal.ON_HOLD.value}: {', '.join(blocked[u.id])}"
            elif u.status not in (UnitStatus.BUILT, UnitStatus.COMPLETE):
                reasons[u.serial] = f"{Refusal.NOT_SHIPPABLE.value} ({u.status.value})"
            elif miss := missing_steps(plans.get(u.item, []),
                                       results_after_repair(uow, u.id)):
                reasons[u.serial] = f"{Refusal.INCOMPLETE.value}: {', '.join(miss)}"
        gate = None if cust is None else check_licence(
            uow.connection, sid, sc, customer, cust.country,
            Counter(u.item for u in known), now().date())
        if gate is not None and gate.reasons:
            general = "; ".join([general, *gate.reasons] if general else gate.reasons)
        if reasons or general:
            raise ShipRefused(customer, reasons, general)
        ship_id, at = floor.add_shipment(sid, customer, [u.id for u in known])
        if gate is not None:  # drawn in this transaction, or run again (LicenceChanged)
            LicenceRepository(uow.connection, uow.audit, sid).draw(gate.draws, ship_id)
        for u in known:
            if not floor.move_unit(u.id, [UnitStatus.COMPLETE], UnitStatus.SHIPPED,
                                   shipped_at=at):
                raise FloorError(f"{u.serial} changed while shipping (fix: run it again)")
        floor.audit(Action.SHIP, f"shipment:{ship_id}",
                    {"customer": customer, "serials": [u.serial for u in known]})
        return Shipment(ship_id, name, customer, tuple(u.serial for u in known), at,
                        caller.name)
    try:
        return _run(store, caller, work)
    except ShipRefused as e:  # every refusal is audited, with its reasons
        from fabnet.services.licences import audit_refusal
        audit_refusal(store, caller, customer, serial_list, e)
        raise


def transfer(store: Store, caller: Caller, serial_list: list[str], to_site: str) -> int:
    """Move units to another site at once (`fabnet.services.transfers`; a transfer with
    time in transit is `transfers.send`, then `transfers.arrive`)."""
    from fabnet.services.transfers import move_now
    return move_now(store, caller, serial_list, to_site)
