"""The export gate: a shipment leaves only under a valid licence that covers it, and it
draws the licence down in the same transaction.

Like a customs officer with a ledger, the gate asks of every item in a shipment: is
there a licence in the store, `valid` (not pending, expired or revoked), for this end
user, this destination country, this item and today's date, with enough left? Then it
writes the draw into the ledger by compare-and-set (`remaining = remaining - q WHERE
remaining >= q AND status = 'valid'`): when two shipments reach for the last units at
once, the second finds the row changed (`LicenceChanged`, a `Collision`, so the service
runs it again and is refused on what is left). A country under embargo (a
`country:XX` disruption with capacity 0 in force on the day) blocks every shipment to
it, licensed or not.

A customer that no licence names, neither in the store nor in the scenario's
`licences:` section, is not under licence (a domestic customer): the `approved` flag
alone rules it, as in the plan (docs/compliance.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from fabnet.model.licence import Licence, LicenceStatus
from fabnet.model.scenario import Disruption, Scenario
from fabnet.model.target import Target, TargetKind
from fabnet.store.audit import Action, AuditLog, strict_loads
from fabnet.store.errors import NotFound
from fabnet.store.licence_schema import licences as LI
from fabnet.store.records import Role
from fabnet.store.repository import Repository, as_utc, now
from fabnet.store.schema import audit
from fabnet.store.unit_of_work import Collision

EPS = 1e-9


#: who may create and change licences: export compliance (and admins, who may do
#: everything, as the one user of a store without accounts is); everyone reads them
LICENCE_EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.COMPLIANCE})


class LicenceChanged(Collision):  # a Collision: `Store.run` runs the shipment again
    """A licence drawn on by a concurrent shipment between the check and the draw."""


@dataclass(frozen=True)
class LicenceBalance:
    """A licence as the store keeps it: the record, what it still allows, who made and
    last changed it."""

    licence: Licence
    remaining: float
    created_at: datetime
    created_by: str
    changed_at: datetime
    changed_by: str

    def status_on(self, on: date) -> LicenceStatus:
        """The status as of day `on`: a valid or pending licence past its `until` is
        expired, whatever the record says."""
        st = self.licence.status
        return LicenceStatus.EXPIRED if st.counts and on > self.licence.until else st


@dataclass(frozen=True)
class Draw:
    """`qty` units of `item` drawn on licence `licence`."""

    licence: str
    item: str
    qty: float


@dataclass(frozen=True)
class GateVerdict:
    """What the gate says about a shipment: why it can't go (empty: it may), and the
    draws to book if it goes."""

    reasons: tuple[str, ...]
    draws: tuple[Draw, ...]
    under_licence: bool


class LicenceRepository(Repository):
    """The store's licences of one scenario, inside one unit of work."""

    def __init__(self, conn: sa.Connection, audit: AuditLog, scenario_id: int) -> None:
        super().__init__(conn, audit)
        self.scenario_id = scenario_id

    def add(self, lic: Licence, remaining: float | None = None) -> LicenceBalance:
        """Insert a licence with `remaining` (default: its whole `qty`); audited."""
        t = now()
        left = lic.qty if remaining is None else remaining
        self._conn.execute(sa.insert(LI).values(
            scenario_id=self.scenario_id, id=lic.id, customer=lic.customer,
            country=lic.country, items=list(lic.items), qty=lic.qty, remaining=left,
            start=lic.start, until=lic.until, euc=lic.euc, status=lic.status.value,
            authority=lic.authority, created_at=t, created_by=self.actor, changed_at=t,
            changed_by=self.actor))
        bal = self.get(lic.id)
        self._audit.append(Action.LICENCE_ADD, f"licence:{lic.id}", None, _doc(bal))
        return bal

    def get(self, licence_id: str, lock: bool = False) -> LicenceBalance:
        """One licence by id; `NotFound` names the fix."""
        found = self.all(ids=[licence_id], lock=lock)
        if not found:
            raise NotFound(f"no licence {licence_id!r} in the store (fix: see `fabnet "
                           "licence list`, or add it with `fabnet licence add`)")
        return found[0]

    def all(self, customer: str | None = None, ids: Iterable[str] | None = None,
            lock: bool = False) -> list[LicenceBalance]:
        """The scenario's licences by id, filtered by customer or ids."""
        return read_licences(self._conn, self.scenario_id, customer, ids, lock)

    def set_status(self, licence_id: str, status: LicenceStatus, why: str) -> LicenceBalance:
        """Change a licence's status (revoke it, grant a pending one); audited with the
        reason."""
        before = self.get(licence_id, lock=True)
        self._conn.execute(sa.update(LI).where(
            LI.c.scenario_id == self.scenario_id, LI.c.id == licence_id).values(
            status=status.value, changed_at=now(), changed_by=self.actor))
        after = self.get(licence_id)
        self._audit.append(Action.LICENCE_CHANGE, f"licence:{licence_id}", _doc(before),
                           {**_doc(after), "reason": why})
        return after

    def draw(self, draws: Sequence[Draw], shipment: int) -> None:
        """Book the draws of a shipment by compare-and-set; a licence that no longer has
        enough left, or is no longer valid, raises `LicenceChanged` (run it again)."""
        per: dict[str, float] = {}
        for d in draws:
            per[d.licence] = per.get(d.licence, 0.0) + d.qty
        for lid, q in sorted(per.items()):
            res = self._conn.execute(
                sa.update(LI).where(LI.c.scenario_id == self.scenario_id, LI.c.id == lid,
                                    LI.c.remaining >= q,
                                    LI.c.status == LicenceStatus.VALID.value)
                .values(remaining=LI.c.remaining - q, changed_at=now(),
                        changed_by=self.actor))
            if res.rowcount != 1:
                raise LicenceChanged(f"licence {lid} changed while shipping (fix: run it "
                                     "again)")
            left = self.get(lid).remaining
            self._audit.append(Action.LICENCE_DRAW, f"licence:{lid}", {"remaining": left + q},
                               {"remaining": left, "shipment": shipment, "qty": q,
                                "items": {d.item: d.qty for d in draws if d.licence == lid}})


def read_licences(conn: sa.Connection, scenario_id: int, customer: str | None = None,
                  ids: Iterable[str] | None = None, lock: bool = False
                  ) -> list[LicenceBalance]:
    """A scenario's licences in the store by id, filtered by customer or ids."""
    q = sa.select(LI).where(LI.c.scenario_id == scenario_id).order_by(LI.c.id)
    if customer is not None:
        q = q.where(LI.c.customer == customer)
    if ids is not None:
        q = q.where(LI.c.id.in_(list(ids)))
    if lock:
        q = q.with_for_update()
    return [_balance(r) for r in conn.execute(q)]


def _balance(r: Any) -> LicenceBalance:
    lic = Licence(r.id, r.customer, r.country, tuple(r.items), float(r.qty), r.start,
                  r.until, r.euc, LicenceStatus(r.status), r.authority)
    return LicenceBalance(lic, float(r.remaining), as_utc(r.created_at), r.created_by,
                          as_utc(r.changed_at), r.changed_by)


def _doc(b: LicenceBalance) -> dict[str, Any]:
    """A licence as its audit entries record it."""
    x = b.licence
    return {"id": x.id, "customer": x.customer, "country": x.country, "items": list(x.items),
            "qty": x.qty, "remaining": b.remaining, "from": x.start.isoformat(),
            "until": x.until.isoformat(), "euc": x.euc, "status": x.status.value,
            "authority": x.authority}


def embargo_on(sc: Scenario, country: str, on: date) -> Disruption | None:
    """The embargo on `country` in force on day `on`: a `country:XX` disruption with
    capacity 0 (and no work center), from its start for its `buckets` buckets."""
    for x in sc.disruptions:
        if x.capacity > EPS or x.work_center is not None:
            continue
        t = Target.parse(x.target)
        if t.kind is not TargetKind.COUNTRY or t.value != country:
            continue
        end = sc.horizon.bucket_start(sc.horizon.bucket_of(x.start) + x.buckets)
        if x.start <= on < end:
            return x
    return None


def check_licence(conn: sa.Connection, scenario_id: int, sc: Scenario, customer: str,
                  country: str, items_qty: Mapping[str, float], on_date: date
                  ) -> GateVerdict:
    """Why a shipment of `items_qty` (item -> units) to `customer` in `country` on
    `on_date` can't go under the store's licences and the scenario's embargoes (no
    reasons: it may), and which licences it draws on (those expiring first)."""
    reasons: list[str] = []
    if (x := embargo_on(sc, country, on_date)) is not None:
        reasons.append(f"{country} is under embargo ({x.id}, from {x.start.isoformat()}): "
                       "no licence to it counts")
    rows = read_licences(conn, scenario_id, customer)
    named = bool(rows) or any(lic.customer == customer for lic in sc.licences)
    if not named:
        return GateVerdict(tuple(reasons), (), False)
    left = {b.licence.id: b.remaining for b in rows}
    draws: list[Draw] = []
    for item, need in sorted(items_qty.items()):
        mine = [b for b in rows if item in b.licence.items]
        usable = sorted((b for b in mine if b.licence.status is LicenceStatus.VALID
                         and b.licence.country == country
                         and b.licence.start <= on_date <= b.licence.until),
                        key=lambda b: (b.licence.until, b.licence.id))
        if not usable:
            reasons.append(_no_cover(item, customer, country, on_date, mine))
            continue
        want = need
        for b in usable:
            take = min(want, left[b.licence.id])
            if take > EPS:
                draws.append(Draw(b.licence.id, item, take))
                left[b.licence.id] -= take
                want -= take
        if want > EPS:
            have = need - want
            names = ", ".join(f"{b.licence.id} ({b.remaining:g} left)" for b in usable)
            reasons.append(f"licence exhausted: {names} allow {have:g} more {item}, the "
                           f"shipment needs {need:g}")
    return GateVerdict(tuple(reasons), tuple(draws) if not reasons else (), True)


def _no_cover(item: str, customer: str, country: str, on: date,
              mine: list[LicenceBalance]) -> str:
    """Why no licence covers `item`: name each licence that nearly does, and what fails."""
    head = f"no valid licence covers {item} to {customer} in {country} on {on.isoformat()}"
    why = []
    for b in mine:
        x = b.licence
        if x.status is not LicenceStatus.VALID:
            why.append(f"{x.id} {x.status.value}")
        elif x.country != country:
            why.append(f"{x.id} is for {x.country}")
        elif on > x.until:
            why.append(f"{x.id} expired {x.until.isoformat()}")
        elif on < x.start:
            why.append(f"{x.id} opens {x.start.isoformat()}")
    if not mine:
        why.append("none names the item in the store (fix: `fabnet licence add`, or "
                   "`fabnet licence import`)")
    return f"{head}: {', '.join(why)}" if why else head


def expiring(rows: Iterable[LicenceBalance], on: date, weeks: int) -> list[LicenceBalance]:
    """The licences still counting on `on` whose `until` falls in the next `weeks`."""
    end = on + timedelta(weeks=weeks)
    return [b for b in rows if b.status_on(on).counts and on <= b.licence.until < end]


def with_status(lic: Licence, status: LicenceStatus) -> Licence:
    """The same licence in another status."""
    return replace(lic, status=status)


@dataclass(frozen=True)
class BlockedShipment:
    """A shipment the floor refused, as its audit entry records it."""

    seq: int
    at: str
    by: str
    customer: str
    serials: tuple[str, ...]
    reason: str


def refused_shipments(conn: sa.Connection, limit: int = 50) -> list[BlockedShipment]:
    """The newest refused shipments (`floor.ship.refused` audit entries), newest first."""
    q = (sa.select(audit).where(audit.c.action == Action.SHIP_REFUSED.value)
         .order_by(audit.c.seq.desc()).limit(limit))
    out = []
    for r in conn.execute(q):
        doc = strict_loads(r.after) if r.after else {}
        parts = ([doc["general"]] if doc.get("general") else []) + [
            f"{s}: {why}" for s, why in (doc.get("reasons") or {}).items()]
        out.append(BlockedShipment(int(r.seq), r.at, r.actor, str(doc.get("customer", "")),
                                   tuple(doc.get("serials") or ()), "; ".join(parts)))
    return out
