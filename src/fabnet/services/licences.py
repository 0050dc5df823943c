"""Export licences in the store: add, list, revoke, import from a scenario, and the
status report (balances, expiries, blocked shipments); the shipping gate itself is
`fabnet.shop.licence_gate.check_licence`, called by `fabnet.services.floor.ship`.

The store's `licences` table is the floor's source of truth: it holds each licence's
live remaining quantity. A scenario's `licences:` section is what the plan assumes;
`import_licences` copies the licences of the stored scenario's newest version that the
store doesn't hold yet (a licence already in the store keeps its balance and status).
Only export compliance (and admins) create and change licences; every change is audited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from fabnet.model.licence import Licence, LicenceStatus
from fabnet.model.scenario import Scenario
from fabnet.services.floor import _latest, _run, _scenario_id
from fabnet.shop.errors import FloorError, NotPermitted, ShipRefused
from fabnet.shop.licence_gate import (
    LICENCE_EDITORS,
    BlockedShipment,
    LicenceBalance,
    LicenceRepository,
    expiring,
    read_licences,
    refused_shipments,
)
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller
from fabnet.store import Action, Role, Store, UnitOfWork
from fabnet.store.repository import now


def check_editor(caller: Caller) -> None:
    """Refuse (`NotPermitted`) anyone but export compliance (and admins)."""
    if caller.role not in LICENCE_EDITORS:
        who = ", ".join(r.value for r in Role if r in LICENCE_EDITORS)
        raise NotPermitted(f"{caller.name} ({caller.role.value}) may not create or change "
                           f"export licences (roles that may: {who}) (fix: ask export "
                           "compliance)")


def _checked(sc: Scenario, lic: Licence) -> None:
    """Refuse a licence the scenario can't use: unknown customer or item, a country that
    is not the customer's, bad dates or quantity."""
    where = f"licence {lic.id}"
    if not lic.id.strip():
        raise FloorError("licence id: empty (fix: give the licence's reference, e.g. L-UA-07)")
    cust = next((c for c in sc.customers if c.id == lic.customer), None)
    if cust is None:
        raise FloorError(f"{where}.customer: no customer {lic.customer!r} in scenario "
                         f"{sc.name!r} (fix: use one of "
                         f"{', '.join(sorted(c.id for c in sc.customers)[:8])})")
    if cust.country != lic.country:
        raise FloorError(f"{where}.country: {lic.country} is not the country of "
                         f"{lic.customer} ({cust.country}): it would cover nothing (fix: "
                         f"--country {cust.country})")
    known = {i.id for i in sc.items}
    if not lic.items:
        raise FloorError(f"{where}.items: empty (fix: name the items it allows)")
    if bad := [i for i in lic.items if i not in known]:
        raise FloorError(f"{where}.items: no item {bad[0]!r} in scenario {sc.name!r}")
    if not (math.isfinite(lic.qty) and lic.qty > 0):
        raise FloorError(f"{where}.qty: {lic.qty:g}: must be a number > 0")
    if lic.until < lic.start:
        raise FloorError(f"{where}.until: {lic.until.isoformat()} is before its from "
                         f"{lic.start.isoformat()} (fix: swap them)")


def _repo(uow: UnitOfWork, scenario: str | None) -> tuple[LicenceRepository, Scenario]:
    sid, name = _scenario_id(uow, scenario)
    return LicenceRepository(uow.connection, uow.audit, sid), _latest(uow, name)[1]


def add_licence(store: Store, caller: Caller, lic: Licence, scenario: str | None = None
                ) -> LicenceBalance:
    """Record a licence granted (or pending) with its whole `qty` remaining; audited."""
    check_editor(caller)
    if lic.status not in (LicenceStatus.VALID, LicenceStatus.PENDING):
        raise FloorError(f"licence {lic.id}.status: a new licence is valid or pending, not "
                         f"{lic.status.value}")

    def work(uow: UnitOfWork, _: FloorRepository) -> LicenceBalance:
        repo, sc = _repo(uow, scenario)
        _checked(sc, lic)
        if repo.all(ids=[lic.id]):
            raise FloorError(f"licence {lic.id} is in the store already (fix: give the new "
                             "licence its own id, or revoke the old one)")
        return repo.add(lic)
    return _run(store, caller, work)


def list_licences(store: Store, caller: Caller, scenario: str | None = None,
                  customer: str | None = None) -> list[LicenceBalance]:
    """The store's licences with their balances (every role may read them)."""
    def work(uow: UnitOfWork, _: FloorRepository) -> list[LicenceBalance]:
        sid, _name = _scenario_id(uow, scenario)
        return read_licences(uow.connection, sid, customer)
    return _run(store, caller, work, read_only=True)


def set_licence_status(store: Store, caller: Caller, licence_id: str, status: LicenceStatus,
                       reason: str, scenario: str | None = None) -> LicenceBalance:
    """Change a licence's status (revoke it, grant a pending one, mark it expired), with
    the reason; audited. A revoked licence stays revoked."""
    check_editor(caller)
    if not reason.strip():
        raise FloorError("--reason: say why (the authority's notice, a letter's reference)")

    def work(uow: UnitOfWork, _: FloorRepository) -> LicenceBalance:
        repo, _sc = _repo(uow, scenario)
        now_ = repo.get(licence_id, lock=True).licence.status
        if now_ is LicenceStatus.REVOKED and status is not LicenceStatus.REVOKED:
            raise FloorError(f"licence {licence_id} was revoked: it can't become "
                             f"{status.value} again (fix: add the new grant as a new licence)")
        if now_ is status:
            raise FloorError(f"licence {licence_id} is {status.value} already")
        return repo.set_status(licence_id, status, reason)
    return _run(store, caller, work)


def revoke_licence(store: Store, caller: Caller, licence_id: str, reason: str,
                   scenario: str | None = None) -> LicenceBalance:
    """Revoke a licence: nothing ships under it from now on; audited with the reason."""
    return set_licence_status(store, caller, licence_id, LicenceStatus.REVOKED, reason,
                              scenario)


def import_licences(store: Store, caller: Caller, scenario: str | None = None
                    ) -> tuple[list[LicenceBalance], list[str]]:
    """Copy the stored scenario's `licences:` section into the store: each licence the
    store doesn't hold yet is added with its `qty` remaining; (added, ids skipped because
    the store holds them already)."""
    check_editor(caller)

    def work(uow: UnitOfWork, _: FloorRepository) -> tuple[list[LicenceBalance], list[str]]:
        repo, sc = _repo(uow, scenario)
        have = {b.licence.id for b in repo.all()}
        added, skipped = [], []
        for lic in sc.licences:
            if lic.id in have:
                skipped.append(lic.id)
                continue
            _checked(sc, lic)
            added.append(repo.add(lic))
        return added, skipped
    return _run(store, caller, work)


@dataclass(frozen=True)
class LicenceReport:
    """`fabnet licence status`: balances, licences expiring soon, refused shipments."""

    on: date
    weeks: int
    balances: tuple[LicenceBalance, ...]
    expiring: tuple[LicenceBalance, ...]
    blocked: tuple[BlockedShipment, ...]


def licence_status(store: Store, caller: Caller, weeks: int = 4,
                   scenario: str | None = None, on: date | None = None) -> LicenceReport:
    """Every licence's balance, those expiring in the next `weeks`, and the newest refused
    shipments from the audit trail (every role may read it)."""
    if weeks < 0:
        raise FloorError(f"--weeks {weeks}: must be >= 0")
    day = on or now().date()

    def work(uow: UnitOfWork, _: FloorRepository) -> LicenceReport:
        sid, _name = _scenario_id(uow, scenario)
        rows = read_licences(uow.connection, sid)
        return LicenceReport(day, weeks, tuple(rows), tuple(expiring(rows, day, weeks)),
                             tuple(refused_shipments(uow.connection)))
    return _run(store, caller, work, read_only=True)


def audit_refusal(store: Store, caller: Caller, customer: str, serials: list[str],
                  refused: ShipRefused) -> None:
    """Record a refused shipment in the audit trail, in its own transaction (the
    shipment's own rolled back): who tried, for whom, which units and why."""
    def work(uow: UnitOfWork) -> None:
        uow.audit.append(Action.SHIP_REFUSED, f"customer:{customer}", None,
                         {"customer": customer, "serials": list(serials),
                          "general": refused.general, "reasons": dict(refused.reasons)})
        uow.commit()
    store.acting_as(caller.name).run(work)
