"""Export licences over HTTP: the balances the floor's shipping gate draws down.

Compliance staff (and admins) add, change, revoke and import licences; every signed-in
role may read them and the status report (balances, expiries, refused shipments). Each
change is audited by its service, in its own transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field

from fabnet.api.deps import Allow, Principal
from fabnet.api.schemas import NAME, ApiModel
from fabnet.model.licence import Licence, LicenceStatus
from fabnet.services import licences as lic_svc
from fabnet.shop.licence_gate import LICENCE_EDITORS, LicenceBalance
from fabnet.shop.roles import Caller
from fabnet.store import Role

router = APIRouter(tags=["licences"])

Editor = Annotated[Principal, Depends(Allow(*LICENCE_EDITORS))]
Reader = Annotated[Principal, Depends(Allow(*Role))]
ScenarioQ = Annotated[str | None, Query(pattern=NAME, description="the stored scenario "
                                        "the licences belong to (default: the only one)")]
LicenceId = Annotated[str, Path(min_length=1, max_length=64)]


def caller(who: Principal) -> Caller:
    """The signed-in user as the licence services see them."""
    return Caller.of(who.name, who.role, who.user.sites)


class LicenceCreate(ApiModel):
    """A licence granted (status valid) or applied for (pending)."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    customer: Annotated[str, Field(min_length=1, max_length=64)]
    country: Annotated[str, Field(min_length=2, max_length=3)]
    items: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]],
                     Field(min_length=1, max_length=1000)]
    qty: Annotated[float, Field(gt=0, le=1e12)]
    start: date = Field(alias="from")
    until: date
    euc: Annotated[str, Field(max_length=200)] = ""
    status: LicenceStatus = LicenceStatus.VALID
    authority: Annotated[str, Field(max_length=200)] = ""
    scenario: Annotated[str | None, Field(pattern=NAME)] = None


class LicenceChange(ApiModel):
    """A new status for a licence, with the reason (a notice's reference)."""

    status: LicenceStatus
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    scenario: Annotated[str | None, Field(pattern=NAME)] = None


class LicenceImport(ApiModel):
    """Copy the stored scenario's `licences:` section into the store."""

    scenario: Annotated[str | None, Field(pattern=NAME)] = None


class LicencePublic(BaseModel):
    """A licence and what it still allows."""

    id: str
    customer: str
    country: str
    items: list[str]
    qty: float
    remaining: float
    start: date = Field(serialization_alias="from")
    until: date
    euc: str
    status: str
    authority: str
    created_at: datetime
    created_by: str
    changed_at: datetime
    changed_by: str

    @classmethod
    def of(cls, b: LicenceBalance) -> LicencePublic:
        lic = b.licence
        return cls(id=lic.id, customer=lic.customer, country=lic.country,
                   items=list(lic.items), qty=lic.qty, remaining=b.remaining, start=lic.start,
                   until=lic.until, euc=lic.euc, status=lic.status.value,
                   authority=lic.authority, created_at=b.created_at, created_by=b.created_by,
                   changed_at=b.changed_at, changed_by=b.changed_by)


class LicenceImported(BaseModel):
    """What an import added, and the ids the store held already."""

    added: list[LicencePublic]
    skipped: list[str]


class BlockedPublic(BaseModel):
    """A shipment the gate refused, as the audit trail records it."""

    seq: int
    at: str
    by: str
    customer: str
    serials: list[str]
    reason: str


class LicenceStatusPublic(BaseModel):
    """Balances, licences expiring in the next `weeks`, and the newest refused shipments."""

    on: date
    weeks: int
    balances: list[LicencePublic]
    expiring: list[LicencePublic]
    blocked: list[BlockedPublic]


@router.post("/licences", response_model=LicencePublic, response_model_by_alias=True,
             status_code=status.HTTP_201_CREATED)
def add(body: LicenceCreate, who: Editor) -> LicencePublic:
    """Record a licence with its whole quantity remaining."""
    lic = Licence(body.id, body.customer, body.country, tuple(body.items), body.qty,
                  body.start, body.until, body.euc, body.status, body.authority)
    return LicencePublic.of(lic_svc.add_licence(who.store, caller(who), lic, body.scenario))


@router.get("/licences", response_model=list[LicencePublic], response_model_by_alias=True)
def list_(who: Reader, scenario: ScenarioQ = None,
          customer: Annotated[str | None, Query(max_length=64)] = None) -> list[Any]:
    """Every licence with its balance (optionally one customer's)."""
    return [LicencePublic.of(b) for b in
            lic_svc.list_licences(who.store, caller(who), scenario, customer)]


@router.get("/licences/status", response_model=LicenceStatusPublic,
            response_model_by_alias=True)
def report(who: Reader, scenario: ScenarioQ = None,
           weeks: Annotated[int, Query(ge=0, le=520)] = 4) -> LicenceStatusPublic:
    """Balances, expiries in the next `weeks` and refused shipments."""
    r = lic_svc.licence_status(who.store, caller(who), weeks, scenario)
    return LicenceStatusPublic(
        on=r.on, weeks=r.weeks, balances=[LicencePublic.of(b) for b in r.balances],
        expiring=[LicencePublic.of(b) for b in r.expiring],
        blocked=[BlockedPublic(seq=b.seq, at=b.at, by=b.by, customer=b.customer,
                               serials=list(b.serials), reason=b.reason) for b in r.blocked])


@router.post("/licences/import", response_model=LicenceImported,
             response_model_by_alias=True)
def import_(body: LicenceImport, who: Editor) -> LicenceImported:
    """Copy the stored scenario's `licences:` section into the store."""
    added, skipped = lic_svc.import_licences(who.store, caller(who), body.scenario)
    return LicenceImported(added=[LicencePublic.of(b) for b in added], skipped=skipped)


@router.post("/licences/{licence_id}/status", response_model=LicencePublic,
             response_model_by_alias=True)
def change(licence_id: LicenceId, body: LicenceChange, who: Editor) -> LicencePublic:
    """Change a licence's status (revoke, grant a pending one, mark expired), with the
    reason; a revoked licence stays revoked."""
    return LicencePublic.of(lic_svc.set_licence_status(
        who.store, caller(who), licence_id, body.status, body.reason, body.scenario))
