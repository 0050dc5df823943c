"""The floor's after-sales and people records: repair orders and part swaps, service
records of delivered units, operator qualifications and each site's qualification rule.

A repair order is opened when a delivered unit comes back and closed when it is
repaired. A part swap never deletes genealogy: the edge of the part taken out gets its
`removed_at`, and the part put in gets a new edge that names the repair order, so
"what was in this drone on 3 May" stays answerable. Replacement stock moves with the
same compare-and-set update a build uses (`remaining = remaining - q WHERE remaining >= q
AND NOT held`), so a repair and a build never take more of a lot than it holds.

Qualifications are per operator and per work-center type or test step, at one site or
every site (`site` None), valid through `valid_until`. Counting who is qualified at a
work center on a date is one GROUP BY in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from fabnet.store.audit import Action
from fabnet.store.floor_schema import (
    genealogy,
    lots,
    operator_qualifications,
    repair_orders,
    service_records,
    site_floor_settings,
    test_results,
    units,
)
from fabnet.store.repository import Repository, as_utc, as_utc_or_none, now
from fabnet.store.scenarios import in_version
from fabnet.store.schema import SECTION_TABLES, scenarios

G, L, UN, RO, SR = genealogy, lots, units, repair_orders, service_records
OQ, SFS, TR = operator_qualifications, site_floor_settings, test_results


class RepairStatus(StrEnum):
    """A repair order is open from the return until the unit is repaired."""

    OPEN = "open"
    CLOSED = "closed"


class ServiceKind(StrEnum):
    """What a service visit of a delivered unit was (the seeds' hub sells both)."""

    TESTING = "testing"
    MAINTENANCE = "maintenance"


class SkillKind(StrEnum):
    """What a qualification covers: a work-center type or a test step."""

    WORK_CENTER = "work_center"
    TEST_STEP = "test_step"


@dataclass(frozen=True)
class RepairOrder:
    """A returned unit (`serial`) and why; closed once it is repaired."""

    id: int
    serial: str
    reason: str
    status: RepairStatus
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None = None
    closed_by: str | None = None

    @property
    def code(self) -> str:
        """How people name it: `RO-12`."""
        return f"RO-{self.id}"


@dataclass(frozen=True)
class Edge:
    """A part in a unit: a lot (`lot_id`) or a unit (`unit_id`) of `item`, `qty` of it."""

    id: int
    item: str
    qty: float
    lot_id: int | None
    unit_id: int | None


@dataclass(frozen=True)
class ServiceRecord:
    """A service visit of a delivered unit: hours worked or the date of the visit."""

    id: int
    serial: str
    kind: ServiceKind
    note: str
    hours: float | None
    service_date: date | None
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class Qualification:
    """`operator` may work `name` (a work-center type or a test step, by `kind`) at `site`
    (None: every site) through `valid_until`."""

    id: int
    operator: str
    kind: SkillKind
    name: str
    site: str | None
    valid_until: date
    granted_at: datetime
    granted_by: str


@dataclass(frozen=True)
class SkillCount:
    """How many operators are qualified for one work center (or test step) of a site, on
    the day asked and 30 and 90 days later."""

    site: str
    kind: SkillKind
    name: str
    now: int
    in_30: int
    in_90: int


class RepairRepository(Repository):
    """Repairs, service records and qualifications, inside one unit of work; a service
    makes it on its unit of work: `RepairRepository(uow.connection, uow.audit)`."""

    def audit(self, action: Action, entity: str, after: Any, before: Any = None) -> None:
        """One audit entry for a change made through this repository."""
        self._audit.append(action, entity, before, after)

    def lock_scenario(self, name: str) -> None:
        """Lock a scenario's row until the transaction ends, so that a change computed
        from its newest version can't be overtaken by another one (PostgreSQL; a SQLite
        writer holds the whole file already)."""
        self._conn.execute(sa.select(scenarios.c.id).where(scenarios.c.name == name)
                           .with_for_update())

    # ------------------------------------------------------------ repair orders

    def open_repair(self, unit_id: int, reason: str) -> int:
        """A new open repair order for a unit; returns its id."""
        return int(self._conn.execute(sa.insert(RO).values(
            unit_id=unit_id, reason=reason, status=RepairStatus.OPEN.value, opened_at=now(),
            opened_by=self.actor).returning(RO.c.id)).scalar_one())

    def close_repair(self, order_id: int) -> datetime:
        """Close an open repair order (the caller locked its unit); returns when."""
        t = now()
        self._conn.execute(sa.update(RO).where(RO.c.id == order_id,
                                               RO.c.status == RepairStatus.OPEN.value)
                           .values(status=RepairStatus.CLOSED.value, closed_at=t,
                                   closed_by=self.actor))
        return t

    def close_repairs(self, unit_id: int) -> datetime:
        """Close every open repair order of a unit (the caller locked it); returns when."""
        t = now()
        self._conn.execute(sa.update(RO).where(RO.c.unit_id == unit_id,
                                               RO.c.status == RepairStatus.OPEN.value)
                           .values(status=RepairStatus.CLOSED.value, closed_at=t,
                                   closed_by=self.actor))
        return t

    def repairs(self, unit_ids: list[int] | None = None, status: RepairStatus | None = None
                ) -> list[RepairOrder]:
        """Repair orders, newest first, of some units and status (None: all)."""
        q = (sa.select(RO, UN.c.serial).join(UN, UN.c.id == RO.c.unit_id)
             .order_by(RO.c.id.desc()))
        if unit_ids is not None:
            q = q.where(RO.c.unit_id.in_(unit_ids))
        if status is not None:
            q = q.where(RO.c.status == status.value)
        return [RepairOrder(int(r.id), r.serial, r.reason, RepairStatus(r.status),
                            as_utc(r.opened_at), r.opened_by, as_utc_or_none(r.closed_at),
                            r.closed_by) for r in self._conn.execute(q)]

    def lock_unit(self, unit_id: int, statuses: list[str]) -> bool:
        """Lock a unit's row if it is in one of `statuses` (a no-op update on SQLite,
        where the writer holds the file); False when it is not."""
        return self._conn.execute(sa.update(UN).where(UN.c.id == unit_id,
                                                      UN.c.status.in_(statuses))
                                  .values(status=UN.c.status)).rowcount == 1

    def set_unit(self, unit_id: int, **values: Any) -> None:
        """Set columns of a unit (status, site, completed_at, shipped_at)."""
        self._conn.execute(sa.update(UN).where(UN.c.id == unit_id).values(**values))

    # ------------------------------------------------------------ part swaps

    def parts(self, unit_id: int, item: str) -> list[Edge]:
        """The parts of `item` in a unit now (edges not removed)."""
        q = (sa.select(G.c.id, G.c.item, G.c.qty, G.c.child_lot_id, G.c.child_unit_id)
             .where(G.c.parent_unit_id == unit_id, G.c.item == item, G.c.removed_at.is_(None))
             .order_by(G.c.id))
        return [Edge(int(r.id), r.item, float(r.qty), r.child_lot_id, r.child_unit_id)
                for r in self._conn.execute(q)]

    def remove_parts(self, edge_ids: list[int], at: datetime) -> int:
        """Mark parts as taken out at `at` (only those still in); how many were."""
        return int(self._conn.execute(sa.update(G).where(G.c.id.in_(edge_ids),
                                                         G.c.removed_at.is_(None))
                                      .values(removed_at=at)).rowcount)

    def add_part(self, unit_id: int, item: str, qty: float, at: datetime, order_id: int,
                 lot_id: int | None = None, child_unit_id: int | None = None) -> None:
        """Put a part into a unit in a repair (an edge naming the repair order)."""
        self._conn.execute(sa.insert(G).values(
            parent_unit_id=unit_id, parent_lot_id=None, child_lot_id=lot_id,
            child_unit_id=child_unit_id, item=item, qty=qty, added_at=at,
            repair_order_id=order_id))

    def take_from_lot(self, lot_id: int, qty: float) -> bool:
        """Draw `qty` from a lot if it holds that much and is not held (compare-and-set);
        False when it does not (any more)."""
        return self._conn.execute(sa.update(L).where(
            L.c.id == lot_id, L.c.remaining >= qty, L.c.held.is_(False))
            .values(remaining=L.c.remaining - qty)).rowcount == 1

    def serials_of(self, unit_ids: list[int]) -> dict[int, str]:
        """unit id -> serial."""
        if not unit_ids:
            return {}
        rows = self._conn.execute(sa.select(UN.c.id, UN.c.serial).where(UN.c.id.in_(unit_ids)))
        return {int(i): str(s) for i, s in rows}

    def removed_parts(self, unit_id: int) -> list[dict[str, Any]]:
        """Every part taken out of a unit, oldest first: item, lot or serial, qty, when
        it went in and came out."""
        cu = UN.alias("cu")
        q = (sa.select(G.c.item, G.c.qty, G.c.added_at, G.c.removed_at, L.c.code,
                       cu.c.serial).outerjoin(L, L.c.id == G.c.child_lot_id)
             .outerjoin(cu, cu.c.id == G.c.child_unit_id)
             .where(G.c.parent_unit_id == unit_id, G.c.removed_at.is_not(None))
             .order_by(G.c.removed_at, G.c.id))
        return [{"item": r.item, "qty": float(r.qty), "lot": r.code, "serial": r.serial,
                 "added_at": as_utc(r.added_at), "removed_at": as_utc(r.removed_at)}
                for r in self._conn.execute(q)]

    def results_since(self, unit_id: int, since: datetime | None) -> dict[str, bool]:
        """step -> whether the unit's last result of that step, recorded after `since`
        (None: ever), passed."""
        last = sa.select(sa.func.max(TR.c.id)).where(TR.c.unit_id == unit_id)
        if since is not None:
            last = last.where(TR.c.at > since)
        q = sa.select(TR.c.step, TR.c.passed).where(TR.c.id.in_(last.group_by(TR.c.step)))
        return {s: bool(p) for s, p in self._conn.execute(q)}

    def repaired_at(self, unit_id: int) -> datetime | None:
        """When the unit's last repair order was closed (or opened, while it is open):
        tests from before it no longer count; None for a unit never returned."""
        r = self._conn.execute(sa.select(RO.c.opened_at, RO.c.closed_at)
                               .where(RO.c.unit_id == unit_id)
                               .order_by(RO.c.id.desc()).limit(1)).one_or_none()
        if r is None:
            return None
        return as_utc(r.closed_at if r.closed_at is not None else r.opened_at)

    # ------------------------------------------------------------ service records

    def add_service(self, unit_id: int, kind: ServiceKind, note: str, hours: float | None,
                    service_date: date | None) -> int:
        """A service record of a unit; returns its id."""
        return int(self._conn.execute(sa.insert(SR).values(
            unit_id=unit_id, kind=kind.value, note=note, hours=hours,
            service_date=service_date, recorded_at=now(), recorded_by=self.actor)
            .returning(SR.c.id)).scalar_one())

    def services(self, unit_ids: list[int]) -> list[ServiceRecord]:
        """Service records of units, oldest first."""
        q = (sa.select(SR, UN.c.serial).join(UN, UN.c.id == SR.c.unit_id)
             .where(SR.c.unit_id.in_(unit_ids)).order_by(SR.c.id))
        return [ServiceRecord(int(r.id), r.serial, ServiceKind(r.kind), r.note, r.hours,
                              r.service_date, as_utc(r.recorded_at), r.recorded_by)
                for r in self._conn.execute(q)]

    # ------------------------------------------------------------ qualifications

    def add_qualification(self, scenario_id: int, operator: str, kind: SkillKind, name: str,
                          site: str | None, valid_until: date) -> Qualification:
        """Grant (or renew: a newer row with a later date) a qualification."""
        col = kind.value if kind is SkillKind.WORK_CENTER else "test_step"
        t = now()
        qid = int(self._conn.execute(sa.insert(OQ).values(
            scenario_id=scenario_id, operator=operator, site=site, **{col: name},
            valid_until=valid_until, granted_at=t, granted_by=self.actor)
            .returning(OQ.c.id)).scalar_one())
        return Qualification(qid, operator, kind, name, site, valid_until, t, self.actor)

    def qualifications(self, scenario_id: int, operator: str | None = None,
                       sites: frozenset[str] | None = None) -> list[Qualification]:
        """Qualifications, by operator and name; those of every site are included when
        `sites` limits the list."""
        q = sa.select(OQ).where(OQ.c.scenario_id == scenario_id)
        if operator is not None:
            q = q.where(OQ.c.operator == operator)
        if sites is not None:
            q = q.where(OQ.c.site.in_(sorted(sites)) | OQ.c.site.is_(None))
        q = q.order_by(OQ.c.operator, OQ.c.work_center, OQ.c.test_step, OQ.c.id)
        return [Qualification(int(r.id), r.operator,
                              SkillKind.WORK_CENTER if r.work_center else SkillKind.TEST_STEP,
                              r.work_center or r.test_step, r.site, r.valid_until,
                              as_utc(r.granted_at), r.granted_by)
                for r in self._conn.execute(q)]

    def is_qualified(self, scenario_id: int, site: str, operator: str, kind: SkillKind,
                     name: str, on: date) -> bool:
        """Whether `operator` holds a qualification for `name` at `site` (or every site)
        valid on day `on`."""
        col = OQ.c.work_center if kind is SkillKind.WORK_CENTER else OQ.c.test_step
        q = (sa.select(OQ.c.id).where(OQ.c.scenario_id == scenario_id,
                                      OQ.c.operator == operator, col == name,
                                      OQ.c.valid_until >= on,
                                      (OQ.c.site == site) | OQ.c.site.is_(None)).limit(1))
        return self._conn.execute(q).first() is not None

    def requires_qualification(self, scenario_id: int, site: str) -> bool:
        """Whether the site's rule is on (off where it was never set)."""
        v = self._conn.execute(sa.select(SFS.c.require_qualification).where(
            SFS.c.scenario_id == scenario_id, SFS.c.site == site)).scalar()
        return bool(v)

    def set_requires_qualification(self, scenario_id: int, site: str, on: bool) -> bool:
        """Turn the site's rule on or off; returns what it was."""
        was = self.requires_qualification(scenario_id, site)
        done = self._conn.execute(sa.update(SFS).where(
            SFS.c.scenario_id == scenario_id, SFS.c.site == site)
            .values(require_qualification=on)).rowcount
        if not done:
            self._conn.execute(sa.insert(SFS).values(scenario_id=scenario_id, site=site,
                                                     require_qualification=on))
        return was

    def rules(self, scenario_id: int) -> dict[str, bool]:
        """site -> whether its rule is on, for the sites where it was ever set."""
        return {r.site: bool(r.require_qualification) for r in self._conn.execute(
            sa.select(SFS.c.site, SFS.c.require_qualification)
            .where(SFS.c.scenario_id == scenario_id))}

    def skill_counts(self, scenario_id: int, version: int, on: date,
                     sites: frozenset[str] | None = None) -> list[SkillCount]:
        """Per work center of the version (site, type), and per test step of the version
        at every site that has work centers, how many distinct operators are qualified on
        day `on`, 30 days and 90 days later (one GROUP BY each)."""
        days = [on, on + timedelta(days=30), on + timedelta(days=90)]

        def mine(col: Any) -> list[Any]:
            return [] if sites is None else [col.in_(sorted(sites))]
        wc = SECTION_TABLES["work_centers"]
        tp = SECTION_TABLES["test_plans"]

        def counted() -> list[Any]:
            return [sa.func.count(sa.distinct(sa.case((OQ.c.valid_until >= d, OQ.c.operator))))
                    .label(f"n{k}") for k, d in enumerate(days)]

        wcs = (sa.select(wc.c.site, wc.c.type.label("name"), *counted())
               .select_from(wc)
               .outerjoin(OQ, (OQ.c.scenario_id == scenario_id) & (OQ.c.work_center == wc.c.type)
                          & ((OQ.c.site == wc.c.site) | OQ.c.site.is_(None)))
               .where(in_version(wc, scenario_id, version), *mine(wc.c.site))
               .group_by(wc.c.site, wc.c.type).order_by(wc.c.site, wc.c.type))
        site_list = (sa.select(wc.c.site).where(in_version(wc, scenario_id, version),
                                                *mine(wc.c.site)).distinct().subquery())
        steps = (sa.select(tp.c.step).where(in_version(tp, scenario_id, version)).distinct()
                 .subquery())
        tps = (sa.select(site_list.c.site, steps.c.step.label("name"),
                         *counted())
               .select_from(site_list.join(steps, sa.true()))
               .outerjoin(OQ, (OQ.c.scenario_id == scenario_id) & (OQ.c.test_step == steps.c.step)
                          & ((OQ.c.site == site_list.c.site) | OQ.c.site.is_(None)))
               .group_by(site_list.c.site, steps.c.step)
               .order_by(site_list.c.site, steps.c.step))
        out: list[SkillCount] = []
        for kind, q in ((SkillKind.WORK_CENTER, wcs), (SkillKind.TEST_STEP, tps)):
            out += [SkillCount(r.site, kind, r.name, int(r.n0), int(r.n1), int(r.n2))
                    for r in self._conn.execute(q)]
        return out
