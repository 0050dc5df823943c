"""Repairs and service of delivered units: return, repair (part swaps), service records.

A delivered unit that comes back is returned: a repair order opens (or the one already
open for it, such as an ECO's retrofit, is used) and the unit is in repair, not
shippable. Repairing it swaps parts (`ITEM=LOT_OR_SERIAL`): the genealogy keeps what was
taken out and when, and what went in, from which lot or which unit; the replacement is
drawn from stock with compare-and-set, and a held lot or unit is refused. The repair
closes the unit's open orders, and the unit must pass every required test again, after
the repair, before it ships: results from before it no longer count
(`results_after_repair`, which the floor's test and ship verbs call). Service visits of
delivered units (the hub's testing and maintenance services) are recorded with their
hours or their date. Every change is audited in its own transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from fabnet.services.floor import _version
from fabnet.shop import more_roles
from fabnet.shop.errors import FloorError
from fabnet.shop.lot import EPS
from fabnet.shop.more_roles import MoreAction
from fabnet.shop.repository import FloorRepository, LotChanged
from fabnet.shop.roles import Caller
from fabnet.shop.testing import missing_steps
from fabnet.shop.unit import Unit, UnitStatus
from fabnet.store import Action, Store, UnitOfWork
from fabnet.store.floor_repair import (
    Edge,
    RepairOrder,
    RepairRepository,
    RepairStatus,
    ServiceKind,
    ServiceRecord,
)
from fabnet.store.repository import now

T = TypeVar("T")


def _run(store: Store, caller: Caller,
         work: Callable[[UnitOfWork, FloorRepository, RepairRepository], T],
         read_only: bool = False) -> T:
    """`work` in a unit of work acting as the caller, retried on a concurrent change."""
    def body(uow: UnitOfWork) -> T:
        out = work(uow, FloorRepository(uow.connection, uow.audit),
                    RepairRepository(uow.connection, uow.audit))
        if not read_only:
            uow.commit()
        return out
    return store.acting_as(caller.name).run(body, read_only)


def results_after_repair(uow: UnitOfWork, unit_id: int) -> dict[str, bool]:
    """step -> whether the unit's last result of that step passed, counting only results
    recorded after its last repair (all of them for a unit never returned): the floor's
    completeness rule after a repair."""
    rep = RepairRepository(uow.connection, uow.audit)
    return rep.results_since(unit_id, rep.repaired_at(unit_id))


# ---------------------------------------------------------------- return


def return_unit(store: Store, caller: Caller, serial: str, reason: str,
                site: str | None = None) -> RepairOrder:
    """Open a repair order for a delivered unit that came back (to `site`, default the
    site that shipped it): it is in repair, and ships again only once repaired and
    re-tested."""
    if not reason.strip():
        raise FloorError("--reason: say why the unit came back")

    def work(uow: UnitOfWork, floor: FloorRepository, rep: RepairRepository) -> RepairOrder:
        unit = floor.unit(serial)
        at = site or unit.site
        more_roles.check(caller, MoreAction.RETURN, at)
        if site is not None:
            _check_site(uow, floor, unit, site)
        if not rep.lock_unit(unit.id, [UnitStatus.SHIPPED.value]):
            raise FloorError(f"{serial} is {unit.status.value}, not delivered: only a shipped "
                             "unit comes back for repair (fix: hold it or test it again "
                             "instead)")
        waiting = rep.repairs([unit.id], RepairStatus.OPEN)  # e.g. an ECO's retrofit
        rid = waiting[0].id if waiting else rep.open_repair(unit.id, reason)
        rep.set_unit(unit.id, status=UnitStatus.IN_REPAIR.value, site=at, completed_at=None,
                     shipped_at=None)
        rep.audit(Action.REPAIR_OPEN, f"unit:{serial}",
                  {"repair_order": f"RO-{rid}", "reason": reason, "site": at,
                   "order_opened_before": bool(waiting)},
                  {"status": unit.status.value, "site": unit.site})
        return next(o for o in rep.repairs([unit.id]) if o.id == rid)
    return _run(store, caller, work)


def _check_site(uow: UnitOfWork, floor: FloorRepository, unit: Unit, site: str) -> None:
    name = uow.scenarios.version_of(floor.scenario_of_unit(unit.id)[1])[0]
    known = {s.id for s in uow.scenarios.get(name).sites}
    if site not in known:
        raise FloorError(f"--site {site}: no such site in scenario {name!r} (fix: use one of "
                         f"{', '.join(sorted(known))})")


# ---------------------------------------------------------------- repair


@dataclass(frozen=True)
class Swap:
    """One part swapped in a repair: what came out (lots or serials, with quantities)
    and what went in."""

    item: str
    removed: tuple[dict[str, Any], ...]
    added: str
    qty: float


@dataclass(frozen=True)
class RepairResult:
    """A repaired unit: its (now closed) repair order, the swaps, and the required test
    steps it must pass again before it ships."""

    order: RepairOrder
    serial: str
    swaps: tuple[Swap, ...]
    retest: tuple[str, ...]
    complete: bool


def repair(store: Store, caller: Caller, serial: str, replace: Mapping[str, str]
           ) -> RepairResult:
    """Repair a returned unit: swap parts (item -> lot code or serial of the replacement),
    close its repair order, and make it wait for its required tests again. Nothing is
    booked unless every swap can be made."""

    def work(uow: UnitOfWork, floor: FloorRepository, rep: RepairRepository
             ) -> RepairResult:
        unit = floor.unit(serial)
        more_roles.check(caller, MoreAction.REPAIR, unit.site)
        if not rep.lock_unit(unit.id, [UnitStatus.IN_REPAIR.value]):
            raise FloorError(f"{serial} is {unit.status.value}, not in repair (fix: `fabnet "
                             f"floor return {serial} --reason …` opens a repair order)")
        open_orders = rep.repairs([unit.id], RepairStatus.OPEN)
        if not open_orders:  # pragma: no cover - a unit in repair always has one
            raise FloorError(f"{serial} has no open repair order")
        order = open_orders[-1]  # the oldest: the return's, or the retrofit it came in for
        sid, vid = floor.scenario_of_unit(unit.id)
        sc = _version(uow, vid)
        t = now()
        plans: list[tuple[str, list[Edge], int | None, int | None, float]] = []
        for item, ref in replace.items():
            old = rep.parts(unit.id, item)
            if not old:
                have = sorted({b.item for b in sc.boms if b.parent == unit.item})
                raise FloorError(f"{serial}: no {item} in it to replace (fix: --replace one "
                                 f"of {', '.join(have) or 'none'})")
            qty = sum(e.qty for e in old)
            lot_id, unit_id = _replacement(floor, sid, unit, item, ref, qty)
            plans.append((item, old, lot_id, unit_id, qty))
        swaps: list[Swap] = []
        for item, old, lot_id, new_unit, qty in plans:
            if rep.remove_parts([e.id for e in old], t) != len(old):
                raise LotChanged(f"{serial}: its {item} changed while repairing (fix: run it "
                                 "again)")
            removed = _describe(floor, rep, sid, old)
            for e in old:
                if e.unit_id is not None:
                    rep.set_unit(e.unit_id, status=UnitStatus.SCRAPPED.value)
            if lot_id is not None and not rep.take_from_lot(lot_id, round(qty, 9)):
                raise LotChanged(f"lot {replace[item]} changed while repairing (fix: run it "
                                 "again)")
            if new_unit is not None and not floor.move_unit(new_unit, [UnitStatus.COMPLETE],
                                                            UnitStatus.INSTALLED):
                raise LotChanged(f"{replace[item]} was taken while repairing (fix: run it "
                                 "again)")
            rep.add_part(unit.id, item, qty, t, order.id, lot_id=lot_id,
                         child_unit_id=new_unit)
            swaps.append(Swap(item, tuple(removed), replace[item], qty))
        if swaps:
            rep.audit(Action.PART_SWAP, f"unit:{serial}",
                      {"repair_order": order.code,
                       "swaps": [{"item": s.item, "removed": list(s.removed), "added": s.added,
                                  "qty": s.qty} for s in swaps]})
        closed = rep.close_repairs(unit.id)  # the unit is repaired: every order of it
        required = [p for p in sc.test_plans if p.item == unit.item and p.required]
        status = UnitStatus.BUILT if required else UnitStatus.COMPLETE
        rep.set_unit(unit.id, status=status.value,
                     completed_at=None if required else closed)
        rep.audit(Action.REPAIR_CLOSE, f"unit:{serial}",
                  {"repair_order": order.code, "closed": [o.code for o in open_orders],
                   "status": status.value,
                   "retest": [p.step for p in required]}, {"status": "in_repair"})
        return RepairResult(next(o for o in rep.repairs([unit.id]) if o.id == order.id),
                            serial, tuple(swaps),
                            tuple(p.step for p in required), not required)
    return _run(store, caller, work)


def _replacement(floor: FloorRepository, sid: int, unit: Unit, item: str, ref: str,
                 qty: float) -> tuple[int | None, int | None]:
    """(lot id, unit id) of the replacement named `ref`, checked: at the unit's site, of
    the right item, not held, enough of it."""
    units = floor.units_by_serial([ref])
    if ref in units:
        part = units[ref]
        if part.item != item:
            raise FloorError(f"--replace {item}={ref}: {ref} is a {part.item}, not a {item}")
        if part.site != unit.site:
            raise FloorError(f"--replace {item}={ref}: {ref} is at {part.site}, the unit at "
                             f"{unit.site} (fix: transfer it first)")
        blocked = floor.blockers([part.id]).get(part.id)
        if part.held or blocked:
            raise FloorError(f"--replace {item}={ref}: {ref} is on hold "
                             f"({', '.join(blocked or ['unit hold'])}) (fix: use another, or "
                             "have quality release the hold)")
        if part.status is not UnitStatus.COMPLETE:
            raise FloorError(f"--replace {item}={ref}: {ref} is {part.status.value}, not "
                             "complete (fix: test it, or use a complete one)")
        if abs(qty - 1.0) > EPS:
            raise FloorError(f"--replace {item}={ref}: the unit holds {qty:g} of {item}, and "
                             "one serial replaces one")
        return None, part.id
    found = floor.lots(sid, code=ref, site=unit.site, item=item)
    if not found:
        raise FloorError(f"--replace {item}={ref}: no lot {ref} of {item} at {unit.site} and "
                         f"no unit with that serial (fix: receive the lot at {unit.site}, or "
                         "check the code)")
    lot = found[0]
    if lot.held:
        raise FloorError(f"--replace {item}={ref}: lot {ref} is on hold (fix: use another "
                         "lot, or have quality release the hold)")
    if lot.remaining + EPS < qty:
        raise FloorError(f"--replace {item}={ref}: lot {ref} has {lot.remaining:g} left, the "
                         f"repair needs {qty:g} (fix: use a lot with enough)")
    return lot.id, None


def _describe(floor: FloorRepository, rep: RepairRepository, sid: int, edges: list[Edge]
              ) -> list[dict[str, Any]]:
    """The parts taken out, as the audit trail and the result name them."""
    lot_ids = [e.lot_id for e in edges if e.lot_id is not None]
    codes = {x.id: x.code for x in floor.lots(sid, ids=lot_ids)} if lot_ids else {}
    serial_of = rep.serials_of([e.unit_id for e in edges if e.unit_id is not None])
    return [{"lot": None if e.lot_id is None else codes.get(e.lot_id),
             "serial": None if e.unit_id is None else serial_of.get(e.unit_id),
             "qty": e.qty} for e in edges]


# ---------------------------------------------------------------- service


def record_service(store: Store, caller: Caller, serial: str, note: str,
                   hours: float | None = None, on: date | None = None,
                   kind: ServiceKind = ServiceKind.MAINTENANCE) -> ServiceRecord:
    """Record a service visit of a delivered unit: the hours worked, the date, or both."""
    if hours is None and on is None:
        raise FloorError("a service record needs --hours H or --date YYYY-MM-DD (or both)")
    if hours is not None and not (math.isfinite(hours) and hours > 0):
        raise FloorError(f"--hours {hours}: must be a number > 0")
    if not note.strip():
        raise FloorError("--note: say what was done")

    def work(uow: UnitOfWork, floor: FloorRepository, rep: RepairRepository
             ) -> ServiceRecord:
        unit = floor.unit(serial)
        more_roles.check(caller, MoreAction.SERVICE, unit.site)
        if unit.status is not UnitStatus.SHIPPED:
            raise FloorError(f"{serial} is {unit.status.value}: service records are for "
                             "delivered units (fix: ship it first, or return it for repair)")
        sid = rep.add_service(unit.id, kind, note, hours, on)
        rep.audit(Action.SERVICE_RECORD, f"unit:{serial}",
                  {"service": sid, "kind": kind.value, "note": note, "hours": hours,
                   "date": on.isoformat() if on else None})
        return rep.services([unit.id])[-1]
    return _run(store, caller, work)


@dataclass(frozen=True)
class UnitHistory:
    """A unit's repair orders, the parts taken out of it, its service records, and the
    required steps it still has to pass (after its last repair)."""

    serial: str
    status: str
    repairs: tuple[RepairOrder, ...]
    removed: tuple[dict[str, Any], ...]
    services: tuple[ServiceRecord, ...]
    missing: tuple[str, ...]


def unit_history(store: Store, caller: Caller, serial: str) -> UnitHistory:
    """What happened to a unit after it was built: returns, swaps, service visits."""

    def work(uow: UnitOfWork, floor: FloorRepository, rep: RepairRepository
             ) -> UnitHistory:
        unit = floor.unit(serial)
        more_roles.check(caller, MoreAction.HISTORY, unit.site)
        _, vid = floor.scenario_of_unit(unit.id)
        plans = [p for p in _version(uow, vid).test_plans if p.item == unit.item]
        missing = missing_steps(plans, results_after_repair(uow, unit.id))
        return UnitHistory(serial, unit.status.value, tuple(rep.repairs([unit.id])),
                           tuple(rep.removed_parts(unit.id)), tuple(rep.services([unit.id])),
                           tuple(missing))
    return _run(store, caller, work, read_only=True)
