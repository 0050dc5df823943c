"""What the compliance, engineering and auditor pages show, read through the services
the API and the CLI call (`licences.licence_status`, `eco.list_ecos`, `eco.eco_impact`,
`pages.audit_page`, `audit_trail.verify_audit`), with the roles each page admits.

A desk is one person's view of the store: export compliance reads licences, their
balances and expiries and the shipments the gate refused; engineering reads its ECOs,
their review and what releasing one would touch; the auditor reads the trail and
whether it verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fabnet.model.licence import LicenceStatus
from fabnet.services import audit_trail, pages
from fabnet.services import eco as eco_svc
from fabnet.services import licences as lic_svc
from fabnet.shop.eco import ECO_ROLES, Eco, EcoAction
from fabnet.shop.licence_gate import BlockedShipment
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from fabnet.store.audit import Action
from fabnet.store.records import AuditEntry

#: who may open the compliance page: every role but a site manager, because the refused
#: shipments it lists name the units and customers of every site
COMPLIANCE_READERS: frozenset[Role] = frozenset(Role) - {Role.SITE_MANAGER}
#: who may open the engineering page: the roles that may read an ECO and its impact
ENGINEERING_READERS: frozenset[Role] = ECO_ROLES[EcoAction.IMPACT]
#: who may release or reject an ECO in review from the page
ECO_DECIDERS: frozenset[Role] = ECO_ROLES[EcoAction.DECIDE]
#: audit entries per page of the auditor's page
AUDIT_PAGE = 50


@dataclass(frozen=True)
class LicenceLine:
    """A licence as compliance reads it on a day: its balance, status and days left."""

    id: str
    customer: str
    country: str
    items: tuple[str, ...]
    qty: float
    remaining: float
    start: date
    until: date
    status: LicenceStatus
    days_left: int  # days from the report's day to its last day (negative: past)
    expiring: bool  # ends within the report's weeks
    euc: str
    authority: str
    changed_by: str

    @property
    def used(self) -> float:
        """Share of the granted quantity drawn, 0 to 1."""
        return 1 - self.remaining / self.qty if self.qty else 0.0


@dataclass(frozen=True)
class ComplianceDesk:
    """Every licence with its balance, those expiring soon, and the refused shipments."""

    on: date
    weeks: int
    licences: tuple[LicenceLine, ...]
    refused: tuple[BlockedShipment, ...]


def compliance_desk(store: Store, caller: Caller, weeks: int = 4,
                    scenario: str | None = None) -> ComplianceDesk:
    """The licence status report (`fabnet licence status`) as the compliance page shows it."""
    report = lic_svc.licence_status(store, caller, weeks, scenario)
    soon = {b.licence.id for b in report.expiring}
    lines = []
    for b in report.balances:
        lic = b.licence
        lines.append(LicenceLine(lic.id, lic.customer, lic.country, tuple(lic.items), lic.qty,
                                 b.remaining, lic.start, lic.until, b.status_on(report.on),
                                 (lic.until - report.on).days, lic.id in soon, lic.euc,
                                 lic.authority, b.changed_by))
    lines.sort(key=lambda x: (x.until, x.id))
    return ComplianceDesk(report.on, report.weeks, tuple(lines), report.blocked)


def eco_list(store: Store, caller: Caller, scenario: str | None = None) -> list[Eco]:
    """The ECOs of the stored scenario, newest first (`fabnet eco list`)."""
    return eco_svc.list_ecos(store, caller, scenario)


@dataclass(frozen=True)
class AuditDesk:
    """One page of the audit trail, its filters, and whether the trail verifies."""

    entries: tuple[AuditEntry, ...]
    count: int
    offset: int
    limit: int
    actor: str | None
    action: str | None
    entity: str | None
    verify: audit_trail.TrailReport
    actions: tuple[str, ...]


def audit_count(store: Store, actor: str | None = None, action: str | None = None,
                entity: str | None = None) -> int:
    """How many audit entries match the filters."""
    return pages.audit_page(store, 1, 0, actor, action, entity).count


def audit_desk(store: Store, offset: int = 0, actor: str | None = None,
               action: str | None = None, entity: str | None = None,
               limit: int = AUDIT_PAGE) -> AuditDesk:
    """A page of entries (`GET /audit`, the same filters) and the verify status
    (`GET /audit/verify`); the caller's role is checked by the page."""
    page = pages.audit_page(store, limit, offset, actor, action, entity)
    return AuditDesk(tuple(page.rows), page.count, offset, limit, actor, action, entity,
                     audit_trail.verify_audit(store), tuple(sorted(a.value for a in Action)))
