"""Returns, repairs, service records, line-downs and qualified operators over HTTP, with
the CLI's verbs (`fabnet floor return|repair|service|history|line-down|qualify|
qualifications|require-qualification|skills`).

Each route admits the roles of `fabnet.shop.more_roles.MORE_ROLES` for its action, and
the services check the caller's sites on every record; every change is audited by its
service, in its own transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from fabnet.api.deps import Allow, Principal
from fabnet.api.routes.floor import ScenarioQ, Serial, caller
from fabnet.api.schemas import NAME, ApiModel, Page
from fabnet.services import line_down as ld
from fabnet.services import repair as rp
from fabnet.services import skills as sk
from fabnet.shop.more_roles import MORE_ROLES, MoreAction
from fabnet.store.floor_repair import ServiceKind, SkillKind

router = APIRouter(tags=["floor"])

Code = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Scenario = Annotated[str | None, Field(default=None, pattern=NAME)]


def may(action: MoreAction) -> Any:
    """`Depends(Allow(...))` with the roles the matrix gives `action`."""
    return Depends(Allow(*MORE_ROLES[action]))


class Out(BaseModel):
    """Base of the answers: read from the services' dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class ReturnRequest(ApiModel):
    """A delivered unit came back."""

    reason: Text
    site: Code | None = Field(default=None, description="the repairing site (default: "
                              "the one that shipped it)")


class RepairRequest(ApiModel):
    """Parts swapped in a repair: item -> lot code or serial of the replacement."""

    replace: dict[Code, Code] = Field(default={}, max_length=200)


class ServiceRequest(ApiModel):
    """A service visit of a delivered unit (hours, date, or both)."""

    note: Text
    hours: float | None = Field(default=None, gt=0, le=1e6)
    on: date | None = Field(default=None, alias="date", description="day of the visit")
    kind: ServiceKind = ServiceKind.MAINTENANCE


class LineDownRequest(ApiModel):
    """One work center of a site at a factor of its hours for a while."""

    site: Code
    work_center: Code
    start: date = Field(alias="from")
    until: date | None = None
    capacity: float = Field(default=0.0, ge=0, lt=1)
    scenario: Scenario = None


class QualifyRequest(ApiModel):
    """Qualify an operator for a work-center type or a test step."""

    operator: Code
    name: Code = Field(description="a work-center type or a test step")
    until: date
    site: Code | None = None
    kind: SkillKind | None = None
    scenario: Scenario = None


class RuleRequest(ApiModel):
    """Whether operations and tests at the site need a qualified operator."""

    site: Code
    required: bool
    scenario: Scenario = None


class RepairOrderPublic(Out):
    """A repair order."""

    id: int
    code: str
    serial: str
    reason: str
    status: str
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    closed_by: str | None


class SwapPublic(Out):
    """A part swapped: what came out (lot or serial, qty) and what went in."""

    item: str
    removed: list[dict[str, Any]]
    added: str
    qty: float


class RepairPublic(Out):
    """A repaired unit and the steps it must pass again."""

    order: RepairOrderPublic
    serial: str
    swaps: list[SwapPublic]
    retest: list[str]
    complete: bool


class ServicePublic(Out):
    """A service record."""

    id: int
    serial: str
    kind: str
    note: str
    hours: float | None
    service_date: date | None
    recorded_at: datetime
    recorded_by: str


class HistoryPublic(Out):
    """A unit's repairs, the parts taken out of it and its service visits."""

    serial: str
    status: str
    repairs: list[RepairOrderPublic]
    removed: list[dict[str, Any]]
    services: list[ServicePublic]
    missing: list[str]


class LineDownPublic(BaseModel):
    """A recorded line-down and the scenario version it went into."""

    disruption: str
    site: str
    work_center: str
    start: date = Field(serialization_alias="from")
    until: date
    buckets: int
    capacity: float
    scenario: str
    version: int


class QualificationPublic(Out):
    """A qualification."""

    id: int
    operator: str
    kind: str
    name: str
    site: str | None
    valid_until: date
    granted_at: datetime
    granted_by: str


class SkillCountPublic(Out):
    """Operators qualified for one work center or test step of a site."""

    site: str
    kind: str
    name: str
    now: int
    in_30: int
    in_90: int


class SkillsPublic(Out):
    """The skills report."""

    on: date
    counts: list[SkillCountPublic]
    rules: dict[str, bool]


@router.post("/floor/units/{serial}/return", response_model=RepairOrderPublic,
             status_code=status.HTTP_201_CREATED)
def return_unit(serial: Serial, body: ReturnRequest,
                who: Annotated[Principal, may(MoreAction.RETURN)]) -> RepairOrderPublic:
    """Open a repair order for a delivered unit that came back."""
    o = rp.return_unit(who.store, caller(who), serial, body.reason, body.site)
    return RepairOrderPublic.model_validate(o)


@router.post("/floor/units/{serial}/repair", response_model=RepairPublic,
             status_code=status.HTTP_201_CREATED)
def repair(serial: Serial, body: RepairRequest,
           who: Annotated[Principal, may(MoreAction.REPAIR)]) -> RepairPublic:
    """Repair a returned unit: swap parts, close its repair order; it is tested again."""
    return RepairPublic.model_validate(rp.repair(who.store, caller(who), serial,
                                                 body.replace))


@router.post("/floor/units/{serial}/services", response_model=ServicePublic,
             status_code=status.HTTP_201_CREATED)
def record_service(serial: Serial, body: ServiceRequest,
                   who: Annotated[Principal, may(MoreAction.SERVICE)]) -> ServicePublic:
    """Record a service visit of a delivered unit."""
    r = rp.record_service(who.store, caller(who), serial, body.note, body.hours, body.on,
                          body.kind)
    return ServicePublic.model_validate(r)


@router.get("/floor/units/{serial}/history", response_model=HistoryPublic)
def history(serial: Serial, who: Annotated[Principal, may(MoreAction.HISTORY)]
            ) -> HistoryPublic:
    """A unit's repair orders, the parts taken out of it and its service visits."""
    return HistoryPublic.model_validate(rp.unit_history(who.store, caller(who), serial))


@router.post("/floor/line-downs", response_model=LineDownPublic,
             status_code=status.HTTP_201_CREATED)
def line_down(body: LineDownRequest,
              who: Annotated[Principal, may(MoreAction.LINE_DOWN)]) -> LineDownPublic:
    """Record a line down on the stored scenario (a new version): the next stored plan
    has that work center's hours cut to `capacity`."""
    r = ld.line_down(who.store, caller(who), body.site, body.work_center, body.start,
                     body.until, body.capacity, body.scenario)
    d = r.disruption
    return LineDownPublic(disruption=d.id, site=d.target, work_center=d.work_center or "",
                          start=d.start, until=r.until, buckets=d.buckets,
                          capacity=d.capacity, scenario=r.version.scenario,
                          version=r.version.version)


@router.post("/floor/qualifications", response_model=QualificationPublic,
             status_code=status.HTTP_201_CREATED)
def qualify(body: QualifyRequest,
            who: Annotated[Principal, may(MoreAction.QUALIFY)]) -> QualificationPublic:
    """Qualify an operator for a work-center type or a test step, until a date."""
    q = sk.qualify(who.store, caller(who), body.operator, body.name, body.until, body.site,
                   body.kind, body.scenario)
    return QualificationPublic.model_validate(q)


@router.get("/floor/qualifications", response_model=Page[QualificationPublic])
def qualifications(who: Annotated[Principal, may(MoreAction.SKILLS)],
                   operator: Annotated[str | None, Query(min_length=1, max_length=200)]
                   = None, scenario: ScenarioQ = None) -> Page[QualificationPublic]:
    """Qualifications of the caller's sites, and those valid at every site."""
    qs = sk.qualifications(who.store, caller(who), operator, scenario)
    return Page(data=[QualificationPublic.model_validate(q) for q in qs], count=len(qs))


@router.put("/floor/qualification-rule", response_model=RuleRequest)
def qualification_rule(body: RuleRequest,
                       who: Annotated[Principal, may(MoreAction.REQUIRE_QUALIFICATION)]
                       ) -> RuleRequest:
    """Turn a site's rule on or off: with it on, operations and tests there need a
    qualified operator."""
    sk.require_qualification(who.store, caller(who), body.site, body.required,
                             body.scenario)
    return body


@router.get("/floor/skills", response_model=SkillsPublic)
def skills(who: Annotated[Principal, may(MoreAction.SKILLS)],
           site: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
           on: Annotated[date | None, Query(alias="date")] = None,
           scenario: ScenarioQ = None) -> SkillsPublic:
    """Per work center and test step, the operators qualified on `date` (default today),
    30 and 90 days later."""
    return SkillsPublic.model_validate(sk.skills(who.store, caller(who), site, scenario, on))
