"""The ECO verbs: create, submit, release or reject, impact, retrofit; and the store's
door to the `eco` tables.

Each verb runs in one unit of work and is audited in it; a refused review step (the
author releasing their own ECO) is audited in a transaction of its own, so the refusal
stays on the trail although nothing changed. The impact is read before release: open
work orders that would build the old design, units in stock and delivered units whose
genealogy still carries a removed or changed part, the component demand that appears or
disappears (the stored scenario planned with and without the change, side by side), and
the stock of phased-out parts left over. Release applies the change to the stored
scenario as a new version, with effectivity dates (`fabnet.shop.eco.apply_eco`), so the
plans and work orders made from it build the new revision.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa

from fabnet.model.consistency import check_scenario
from fabnet.model.errors import ScenarioError, split_issues
from fabnet.model.firm_supply import FirmSupply
from fabnet.model.scenario import Scenario
from fabnet.services.floor import _floor, _scenario_id
from fabnet.shop.eco import (
    Eco,
    EcoAction,
    EcoError,
    EcoKind,
    EcoLine,
    EcoOp,
    EcoRefused,
    EcoStatus,
    apply_eco,
    check_role,
    eco_code,
)
from fabnet.shop.lot import EPS
from fabnet.shop.roles import Caller
from fabnet.shop.unit import UnitStatus
from fabnet.shop.work_order import WorkOrder, WorkOrderStatus
from fabnet.store import Action, NotFound, Store, UnitOfWork
from fabnet.store.eco_schema import eco, eco_lines
from fabnet.store.floor_repair import RepairRepository
from fabnet.store.floor_schema import genealogy, lots, repair_orders, units, work_orders
from fabnet.store.repository import Repository, as_utc, as_utc_or_none, now
from fabnet.store.schema import scenario_versions, scenarios

T = TypeVar("T")
G, L, UN, WO, RO = genealogy, lots, units, work_orders, repair_orders


# ---------------------------------------------------------------- the store's door


class EcoRepository(Repository):
    """ECOs and their lines, inside one unit of work."""

    def add(self, scenario_id: int, description: str, effective: date | None,
            serial: str | None, lines: Iterable[EcoLine]) -> int:
        """A new draft ECO with its lines; returns its id."""
        eid = int(self._conn.execute(sa.insert(eco).values(
            scenario_id=scenario_id, description=description, effective=effective,
            effective_serial=serial, status=EcoStatus.DRAFT.value, created_at=now(),
            created_by=self.actor).returning(eco.c.id)).scalar_one())
        rows = [{"eco_id": eid, "seq": i, "kind": ln.kind.value, "op": ln.op.value,
                 "parent": ln.parent, "component": ln.component, "qty": ln.qty}
                for i, ln in enumerate(lines)]
        self._conn.execute(sa.insert(eco_lines), rows)
        return eid

    def get(self, eco_id: int, lock: bool = False) -> Eco:
        """One ECO (locked until the transaction ends with `lock`); `NotFound` otherwise."""
        found = self.all(ids=[eco_id], lock=lock)
        if not found:
            raise NotFound(f"no ECO {eco_code(eco_id)} (fix: see `fabnet eco list`)")
        return found[0]

    def all(self, scenario_id: int | None = None, status: EcoStatus | None = None,
            ids: list[int] | None = None, lock: bool = False) -> list[Eco]:
        """ECOs, newest first, with their lines."""
        q = (sa.select(eco, scenarios.c.name.label("scenario"),
                       scenario_versions.c.version.label("version"))
             .join(scenarios, scenarios.c.id == eco.c.scenario_id)
             .outerjoin(scenario_versions, scenario_versions.c.id == eco.c.version_id)
             .order_by(eco.c.id.desc()))
        if scenario_id is not None:
            q = q.where(eco.c.scenario_id == scenario_id)
        if status is not None:
            q = q.where(eco.c.status == status.value)
        if ids is not None:
            q = q.where(eco.c.id.in_(ids))
        if lock:
            q = q.with_for_update(of=eco)
        heads = list(self._conn.execute(q))
        by_eco: dict[int, list[EcoLine]] = {}
        if heads:
            for r in self._conn.execute(sa.select(eco_lines).where(
                    eco_lines.c.eco_id.in_([h.id for h in heads]))
                    .order_by(eco_lines.c.eco_id, eco_lines.c.seq)):
                by_eco.setdefault(r.eco_id, []).append(
                    EcoLine(EcoKind(r.kind), EcoOp(r.op), r.parent, r.component, r.qty))
        return [Eco(h.id, h.scenario, h.description, h.effective, h.effective_serial,
                    EcoStatus(h.status), tuple(by_eco.get(h.id, ())), as_utc(h.created_at),
                    h.created_by, h.submitted_by, as_utc_or_none(h.decided_at), h.decided_by,
                    h.decision_note, h.version, h.applied_on) for h in heads]

    def move(self, eco_id: int, to: EcoStatus, **values: Any) -> None:
        """Set an ECO's status, stamping who moved it."""
        stamp = {"submitted_at": now(), "submitted_by": self.actor} \
            if to is EcoStatus.IN_REVIEW else {"decided_at": now(), "decided_by": self.actor}
        self._conn.execute(sa.update(eco).where(eco.c.id == eco_id)
                           .values(status=to.value, **stamp, **values))

    def affected_units(self, scenario_id: int, pairs: set[tuple[str, str]],
                       serial: str | None) -> list[Any]:
        """(unit id, serial, item, site, status, part) for each unit of a parent whose
        genealogy still holds a component the ECO removes or changes (one query); with a
        `serial`, only the units built after it."""
        if not pairs:
            return []
        q = (sa.select(UN.c.id, UN.c.serial, UN.c.item, UN.c.site, UN.c.status,
                       G.c.item.label("part"))
             .join(G, G.c.parent_unit_id == UN.c.id)
             .join(WO, WO.c.id == UN.c.work_order_id)
             .where(WO.c.scenario_id == scenario_id, G.c.removed_at.is_(None),
                    UN.c.status != UnitStatus.SCRAPPED.value,
                    sa.or_(*[sa.and_(UN.c.item == p, G.c.item == c) for p, c in sorted(pairs)]))
             .order_by(UN.c.id, G.c.item))
        if serial is not None:
            anchor = self._conn.execute(sa.select(UN.c.id, UN.c.item)
                                        .where(UN.c.serial == serial)).first()
            if anchor is not None:
                q = q.where(UN.c.id > anchor.id)
            else:  # not built yet: the units whose serial sorts after it
                q = q.where(UN.c.serial > serial)
        return list(self._conn.execute(q))

    def open_retrofits(self, unit_ids: list[int], code: str) -> set[int]:
        """The units that have an open repair order for this ECO's retrofit already."""
        if not unit_ids:
            return set()
        return {int(r[0]) for r in self._conn.execute(
            sa.select(RO.c.unit_id).where(RO.c.unit_id.in_(unit_ids), RO.c.status == "open",
                                          RO.c.reason.like(f"{code} retrofit%")))}

    def lots_of(self, scenario_id: int, items: set[str]) -> list[Any]:
        """Lots of `items` with stock left, oldest first."""
        if not items:
            return []
        return list(self._conn.execute(
            sa.select(L.c.site, L.c.item, L.c.code, L.c.remaining)
            .where(L.c.scenario_id == scenario_id, L.c.item.in_(sorted(items)),
                   L.c.remaining > EPS).order_by(L.c.item, L.c.site, L.c.id)))


def _run(store: Store, caller: Caller, work: Callable[[UnitOfWork, EcoRepository], T],
         read_only: bool = False) -> T:
    def body(uow: UnitOfWork) -> T:
        out = work(uow, EcoRepository(uow.connection, uow.audit))
        if not read_only:
            uow.commit()
        return out
    return store.acting_as(caller.name).run(body, read_only)


def _validated(sc: Scenario, where: str) -> Scenario:
    errors, warnings = split_issues(i.located(where) for i in check_scenario(sc))
    if errors:
        raise ScenarioError(errors, warnings)
    return sc


def _on(e: Eco | None, effective: date | None, today: date | None) -> date:
    """The day the planner's lines change: the ECO's date, or (effective from a serial
    only) the day it is released (`today`)."""
    day = e.effective if e is not None else effective
    return day or today or date.today()


def _check_lines(sc: Scenario, lines: tuple[EcoLine, ...]) -> None:
    items = {i.id for i in sc.items}
    types = {w.type for w in sc.work_centers}
    for ln in lines:
        if ln.parent not in items:
            raise EcoError(f"{ln.label}: no item {ln.parent!r} in scenario {sc.name!r} "
                           "(fix: name an item of the scenario)")
        known = items if ln.kind is EcoKind.BOM else types
        if ln.component not in known:
            what = "item" if ln.kind is EcoKind.BOM else "work-center type"
            raise EcoError(f"{ln.label}: no {what} {ln.component!r} in scenario {sc.name!r} "
                           f"(fix: add it to the scenario first, or name one it has)")


def _audit_doc(e: Eco) -> dict[str, Any]:
    return {"scenario": e.scenario, "description": e.description,
            "effective": e.effective.isoformat() if e.effective else None,
            "effective_serial": e.effective_serial, "status": e.status.value,
            "lines": [ln.label for ln in e.lines]}


# ---------------------------------------------------------------- the workflow


def create_eco(store: Store, caller: Caller, description: str, lines: list[EcoLine],
               effective: date | None = None, effective_serial: str | None = None,
               scenario: str | None = None) -> Eco:
    """A draft ECO on the stored scenario, checked against its newest version (the
    change must apply from its date and leave a valid scenario)."""
    check_role(caller, EcoAction.CREATE)
    if not description.strip():
        raise EcoError("--description: say what the change is and why")
    if not lines:
        raise EcoError("an ECO needs at least one line (fix: --add-bom, --remove-bom, "
                       "--change-bom, --add-step, --remove-step or --change-step)")
    if effective is None and not effective_serial:
        raise EcoError("an ECO is effective from a date or a serial (fix: --from DATE or "
                       "--from-serial SERIAL)")
    keys = [(ln.kind, ln.parent, ln.component) for ln in lines]
    if len(set(keys)) != len(keys):
        raise EcoError("an ECO names one line twice (fix: one line per parent/component)")

    def work(uow: UnitOfWork, ecos: EcoRepository) -> Eco:
        sid, name = _scenario_id(uow, scenario)
        sc = uow.scenarios.get(name)
        _check_lines(sc, tuple(lines))
        _validated(apply_eco(sc, tuple(lines), _on(None, effective, None)), f"ECO on {name}")
        eid = ecos.add(sid, description.strip(), effective, effective_serial or None, lines)
        e = ecos.get(eid)
        uow.audit.append(Action.ECO_CREATE, e.code, None, _audit_doc(e))
        return e
    return _run(store, caller, work)


def submit_eco(store: Store, caller: Caller, eco_id: int) -> Eco:
    """Send a draft to review."""
    check_role(caller, EcoAction.SUBMIT)

    def work(uow: UnitOfWork, ecos: EcoRepository) -> Eco:
        e = ecos.get(eco_id, lock=True)
        e.check_step(caller.name, EcoStatus.IN_REVIEW)
        ecos.move(e.id, EcoStatus.IN_REVIEW)
        uow.audit.append(Action.ECO_SUBMIT, e.code, {"status": e.status.value},
                         {"status": EcoStatus.IN_REVIEW.value})
        return ecos.get(e.id)
    return _run(store, caller, work)


def _decide(store: Store, caller: Caller, eco_id: int, to: EcoStatus,
            work: Callable[[UnitOfWork, EcoRepository, Eco], Eco]) -> Eco:
    check_role(caller, EcoAction.DECIDE)

    def body(uow: UnitOfWork, ecos: EcoRepository) -> Eco:
        e = ecos.get(eco_id, lock=True)
        e.check_step(caller.name, to)
        return work(uow, ecos, e)
    try:
        return _run(store, caller, body)
    except EcoRefused as refused:
        reason = str(refused)

        def trail(uow: UnitOfWork, ecos: EcoRepository) -> None:
            uow.audit.append(Action.ECO_REFUSED, eco_code(eco_id), None,
                             {"step": to.value, "reason": reason})
        _run(store, caller, trail)
        raise


def release_eco(store: Store, caller: Caller, eco_id: int, note: str = "",
                today: date | None = None) -> Eco:
    """Release an ECO in review (its author may not): its change goes into the stored
    scenario's newest version as a new version, from its date (effective from a serial
    only: from `today`, the day of release)."""
    def work(uow: UnitOfWork, ecos: EcoRepository, e: Eco) -> Eco:
        RepairRepository(uow.connection, uow.audit).lock_scenario(e.scenario)
        sc = uow.scenarios.get(e.scenario)
        on = _on(e, None, today)
        new = _validated(apply_eco(sc, e.lines, on), f"{e.code} on {e.scenario}")
        info = uow.scenarios.add_version(e.scenario, new, f"{e.code}: {e.description}")
        ecos.move(e.id, EcoStatus.RELEASED, decision_note=note or None,
                  version_id=uow.scenarios.version_id(e.scenario, info.version),
                  applied_on=on)
        out = ecos.get(e.id)
        uow.audit.append(Action.ECO_RELEASE, e.code, {"status": e.status.value},
                         {**_audit_doc(out), "version": info.version,
                          "applied_on": on.isoformat(), "note": note})
        return out
    return _decide(store, caller, eco_id, EcoStatus.RELEASED, work)


def reject_eco(store: Store, caller: Caller, eco_id: int, note: str) -> Eco:
    """Reject an ECO in review (its author may not), saying why."""
    if not note.strip():
        raise EcoError("--note: say why the change is rejected")

    def work(uow: UnitOfWork, ecos: EcoRepository, e: Eco) -> Eco:
        ecos.move(e.id, EcoStatus.REJECTED, decision_note=note)
        uow.audit.append(Action.ECO_REJECT, e.code, {"status": e.status.value},
                         {"status": EcoStatus.REJECTED.value, "note": note})
        return ecos.get(e.id)
    return _decide(store, caller, eco_id, EcoStatus.REJECTED, work)


def list_ecos(store: Store, caller: Caller, scenario: str | None = None,
              status: EcoStatus | None = None) -> list[Eco]:
    """The ECOs of the stored scenario, newest first."""
    check_role(caller, EcoAction.IMPACT)

    def work(uow: UnitOfWork, ecos: EcoRepository) -> list[Eco]:
        sid, _ = _scenario_id(uow, scenario)
        return ecos.all(sid, status)
    return _run(store, caller, work, read_only=True)


def get_eco(store: Store, caller: Caller, eco_id: int) -> Eco:
    """One ECO with its lines."""
    check_role(caller, EcoAction.IMPACT)
    return _run(store, caller, lambda uow, ecos: ecos.get(eco_id), read_only=True)


# ---------------------------------------------------------------- impact


@dataclass(frozen=True)
class AffectedUnit:
    """A unit that carries a part the ECO retires: `parts` (component items) in `via`
    (itself, or the sub-assembly installed in it)."""

    id: int
    serial: str
    item: str
    site: str
    status: str
    via: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class DemandChange:
    """Planned `table` (purchases or production) of `item` in `bucket`, before and after."""

    item: str
    table: str
    bucket: int
    start: date
    before: float
    after: float

    @property
    def delta(self) -> float:
        """After minus before."""
        return self.after - self.before


@dataclass(frozen=True)
class LeftoverLot:
    """Stock of a phased-out part; `still_used`: another BOM line still takes it."""

    site: str
    item: str
    lot: str
    remaining: float
    still_used: bool


@dataclass(frozen=True)
class EcoImpact:
    """What an ECO touches: work orders, units in stock and delivered, demand, leftovers."""

    eco: Eco
    on: date
    work_orders: tuple[WorkOrder, ...]
    in_stock: tuple[AffectedUnit, ...]
    delivered: tuple[AffectedUnit, ...]
    demand: tuple[DemandChange, ...]
    leftovers: tuple[LeftoverLot, ...]


def _affected(uow: UnitOfWork, ecos: EcoRepository, sid: int, e: Eco
              ) -> tuple[list[AffectedUnit], list[AffectedUnit]]:
    """(in stock, delivered): units whose genealogy holds a retired part; a sub-assembly
    installed in another unit counts as that top unit."""
    rows = ecos.affected_units(sid, e.retired(), e.effective_serial)
    parts: dict[int, list[str]] = {}
    first: dict[int, Any] = {}
    for r in rows:
        parts.setdefault(r.id, []).append(r.part)
        first.setdefault(r.id, r)
    floor = _floor(uow)
    found: dict[int, AffectedUnit] = {}
    for uid, r in first.items():
        top, status, site, item, serial = uid, r.status, r.site, r.item, r.serial
        if r.status == UnitStatus.INSTALLED.value:
            up = [c for c in floor.down([], [uid]) if c.status != UnitStatus.INSTALLED.value]
            if up:
                c = max(up, key=lambda c: c.depth)
                top = floor.units_by_serial([c.serial])[c.serial].id
                status, site, item, serial = c.status, c.site, c.item, c.serial
        prev = found.get(top)
        ps = tuple(sorted(set(parts[uid]) | set(prev.parts if prev else ())))
        via = r.serial if prev is None else prev.via
        found[top] = AffectedUnit(top, serial, item, site, status, via, ps)
    units_ = sorted(found.values(), key=lambda a: a.serial)
    delivered = [a for a in units_ if a.status == UnitStatus.SHIPPED.value]
    return [a for a in units_ if a.status != UnitStatus.SHIPPED.value], delivered


def _plan_doc(sc: Scenario, reference: dict[str, Any] | None, label: str,
              firm: FirmSupply | None) -> dict[str, Any]:
    from fabnet.io.plan_io import plan_document
    from fabnet.model.network import compile_network
    from fabnet.plan import PLAN_COLUMNS, make_plan

    plan = make_plan(compile_network(sc, firm=firm), reference=reference)
    if not plan.status.solved:
        raise EcoError(f"the plan {label} is {plan.status.value}, not optimal: no demand "
                       "change can be read from it (fix: plan the scenario and fix what it "
                       "reports)")
    doc = plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                        plan.bucket_starts)
    out: dict[str, Any] = json.loads(json.dumps(
        doc, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
    return out


def _totals(doc: dict[str, Any]) -> dict[tuple[str, str, int], float]:
    out: dict[tuple[str, str, int], float] = {}
    for table, col in (("purchases", "order_bucket"), ("production", "bucket")):
        for r in doc["tables"][table]:
            k = (str(r["item"]), table, int(r[col]))
            out[k] = out.get(k, 0.0) + float(r["qty"])
    return out


def demand_changes(before: Scenario, after: Scenario,
                   reference: dict[str, Any] | None = None,
                   firm: FirmSupply | None = None) -> list[DemandChange]:
    """Plan both scenarios on the same firm supply (the second closest to the first's
    plan, so only the change shows) and diff purchases and production per item and
    bucket."""
    a = _plan_doc(before, reference, "without the change", firm)
    b = _plan_doc(after, a, "with the change", firm)
    ta, tb = _totals(a), _totals(b)
    starts = [before.horizon.bucket_start(t) for t in range(before.horizon.buckets)]
    return [DemandChange(k[0], k[1], k[2], starts[k[2]], ta.get(k, 0.0), tb.get(k, 0.0))
            for k in sorted(set(ta) | set(tb))
            if abs(tb.get(k, 0.0) - ta.get(k, 0.0)) > 1e-6]


def eco_impact(store: Store, caller: Caller, eco_id: int, today: date | None = None,
               from_floor: bool = True) -> EcoImpact:
    """What releasing the ECO would touch (see the module's docstring); its plans start,
    with `from_floor`, from the floor's firm supply, as a stored plan does."""
    from fabnet.services.firm_supply import firm_supply

    check_role(caller, EcoAction.IMPACT)

    def work(uow: UnitOfWork, ecos: EcoRepository) -> tuple[Any, ...]:
        e = ecos.get(eco_id)
        sid, name = _scenario_id(uow, e.scenario)
        sc = uow.scenarios.get(name)
        on = _on(e, None, today)
        parents = set(e.parents)
        orders = [o for o in _floor(uow).work_orders(
            sid, None, [WorkOrderStatus.RELEASED.value, WorkOrderStatus.IN_PROGRESS.value])
            if o.item in parents and (e.effective is None or o.due_date >= e.effective)]
        stock, delivered = _affected(uow, ecos, sid, e)
        removed = {ln.component for ln in e.lines
                   if ln.kind is EcoKind.BOM and ln.op is EcoOp.REMOVE}
        last = next((r for r in uow.plan_runs.all(name, 20)
                     if r.branch is None and r.status == "optimal"), None)
        return e, sc, on, orders, stock, delivered, removed, ecos.lots_of(sid, removed), \
            (last.document if last else None)
    e, sc, on, orders, stock, delivered, removed, lot_rows, ref = _run(
        store, caller, work, read_only=True)
    after = _validated(apply_eco(sc, e.lines, on), f"{e.code} on {e.scenario}")
    firm = firm_supply(store, e.scenario, sc) if from_floor else None
    demand = demand_changes(sc, after, ref, firm)
    used = {b.item for b in after.boms if b.until is None or b.until >= on}
    leftovers = tuple(LeftoverLot(r.site, r.item, r.code, float(r.remaining), r.item in used)
                      for r in lot_rows)
    return EcoImpact(e, on, tuple(orders), tuple(stock), tuple(delivered), tuple(demand),
                     leftovers)


# ---------------------------------------------------------------- retrofit


@dataclass(frozen=True)
class Retrofit:
    """A repair order opened to retrofit one delivered unit."""

    serial: str
    repair_order: str
    parts: tuple[str, ...]


def retrofit(store: Store, caller: Caller, eco_id: int) -> list[Retrofit]:
    """Open a repair order for each delivered unit a released ECO affects (once: a unit
    with an open retrofit order for it already is left as it is)."""
    check_role(caller, EcoAction.RETROFIT)

    def work(uow: UnitOfWork, ecos: EcoRepository) -> list[Retrofit]:
        e = ecos.get(eco_id, lock=True)
        if e.status is not EcoStatus.RELEASED:
            raise EcoError(f"{e.code} is {e.status.value}: only a released ECO is retrofitted "
                           "(fix: have it reviewed and released first)")
        sid, _ = _scenario_id(uow, e.scenario)
        _, delivered = _affected(uow, ecos, sid, e)
        done = ecos.open_retrofits([a.id for a in delivered], e.code)
        rep = RepairRepository(uow.connection, uow.audit)
        out = []
        for a in delivered:
            if a.id in done:
                continue
            rid = rep.open_repair(a.id, f"{e.code} retrofit: {e.description} (replace "
                                  f"{', '.join(a.parts)} in {a.via})")
            out.append(Retrofit(a.serial, f"RO-{rid}", a.parts))
        uow.audit.append(Action.ECO_RETROFIT, e.code, None,
                         {"repair_orders": [{"serial": r.serial, "order": r.repair_order,
                                             "parts": list(r.parts)} for r in out],
                          "already_open": len(done)})
        return out
    return _run(store, caller, work)


__all__ = ["AffectedUnit", "DemandChange", "EcoImpact", "EcoRepository", "LeftoverLot",
           "Retrofit", "create_eco", "demand_changes", "eco_impact", "get_eco",
           "list_ecos", "reject_eco", "release_eco", "retrofit", "submit_eco"]
