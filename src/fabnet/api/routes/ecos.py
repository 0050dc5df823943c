"""Engineering change orders over HTTP, with the CLI's verbs: create, submit, release or
reject, list, show, impact and retrofit (`fabnet eco …`).

Engineering (and admins) write, submit, release, reject and retrofit; planners, quality,
auditors (and engineering and admins) read ECOs and their impact, as
`fabnet.shop.eco.ECO_ROLES` has it. The author of an ECO never releases or rejects it:
that is a 403 naming the rule, audited by the service. A step the workflow does not allow
from where the ECO is (releasing a draft) is a 422 saying which steps are. Every change is
audited by its service, in its own transaction; every POST takes an `Idempotency-Key`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fabnet.api.deps import Allow, Principal
from fabnet.api.floor_schemas import WorkOrderPublic
from fabnet.api.schemas import NAME, ApiModel
from fabnet.services import eco as eco_svc
from fabnet.shop.eco import ECO_ROLES, EcoAction, EcoKind, EcoLine, EcoOp, EcoStatus, parse_eco
from fabnet.shop.roles import Caller

router = APIRouter(tags=["ecos"])


def may(action: EcoAction) -> Any:
    """`Depends(Allow(...))` with the roles the ECO matrix gives `action`."""
    return Depends(Allow(*ECO_ROLES[action]))


def caller(who: Principal) -> Caller:
    """The signed-in user as the ECO services see them."""
    return Caller.of(who.name, who.role, who.user.sites)


EcoId = Annotated[str, Path(min_length=1, max_length=20, description="ECO-3 or 3")]
ScenarioQ = Annotated[str | None, Query(pattern=NAME, description="the stored scenario "
                                        "the ECOs change (default: the store's only one)")]
Ref = Annotated[str, Field(min_length=1, max_length=64)]


# ---------------------------------------------------------------- requests


class EcoLineIn(ApiModel):
    """One change: `op` the BOM line `parent`/`component` (`qty` per unit of parent) or
    the routing step `parent`/`component` (a work-center type, `qty` hours per unit);
    no `qty` for a removed line."""

    kind: EcoKind
    op: EcoOp
    parent: Ref
    component: Ref
    qty: Annotated[float | None, Field(gt=0, le=1e9)] = None

    @model_validator(mode="after")
    def _qty_unless_removed(self) -> Self:
        if (self.qty is None) != (self.op is EcoOp.REMOVE):
            raise ValueError(f"{self.op.value} {self.kind.value} {self.parent}/"
                             f"{self.component}: " + ("a removed line takes no qty"
                                                      if self.op is EcoOp.REMOVE else
                                                      "give its qty (> 0)"))
        return self

    def line(self) -> EcoLine:
        """The shop's ECO line."""
        return EcoLine(self.kind, self.op, self.parent, self.component, self.qty)


class EcoCreate(ApiModel):
    """A draft ECO: what changes and why, its lines, effective from a date or for the
    units built after a serial."""

    description: Annotated[str, Field(min_length=1, max_length=2000)]
    lines: Annotated[list[EcoLineIn], Field(min_length=1, max_length=500)]
    effective: date | None = Field(default=None, alias="from",
                                   description="effective from this day")
    effective_serial: Annotated[str | None, Field(
        min_length=1, max_length=200, alias="from_serial",
        description="effective for the units built after this serial")] = None
    scenario: Annotated[str | None, Field(pattern=NAME)] = None


class EcoDecision(ApiModel):
    """The reviewer's note on a release (optional)."""

    note: Annotated[str, Field(max_length=2000)] = ""


class EcoRejection(ApiModel):
    """Why the ECO is rejected."""

    note: Annotated[str, Field(min_length=1, max_length=2000)]


# ---------------------------------------------------------------- answers


class Out(BaseModel):
    """Base of the answers: read from the shop's and services' dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class EcoLinePublic(Out):
    """One line of an ECO, and how it reads (`change bom DRONE/FRAME = 2`)."""

    kind: str
    op: str
    parent: str
    component: str
    qty: float | None
    label: str


class EcoPublic(Out):
    """An ECO, where it is in review, and who wrote, submitted and decided it."""

    id: int
    code: str
    scenario: str
    description: str
    effective: date | None = Field(serialization_alias="from")
    effective_serial: str | None = Field(serialization_alias="from_serial")
    status: str
    lines: list[EcoLinePublic]
    created_at: datetime
    created_by: str
    submitted_by: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    version: int | None
    applied_on: date | None


class AffectedUnitPublic(Out):
    """A unit that carries `parts` the ECO retires, in `via` (itself or a sub-assembly)."""

    serial: str
    item: str
    site: str
    status: str
    via: str
    parts: list[str]


class DemandChangePublic(Out):
    """Planned purchases or production of `item` in `bucket`, without and with the
    change."""

    item: str
    table: str
    bucket: int
    start: date
    before: float
    after: float
    delta: float


class LeftoverLotPublic(Out):
    """Stock of a phased-out part; `still_used`: another BOM line still takes it."""

    site: str
    item: str
    lot: str
    remaining: float
    still_used: bool


class EcoImpactPublic(Out):
    """What releasing the ECO would touch, with its lines changing on `on`."""

    eco: EcoPublic
    on: date
    work_orders: list[WorkOrderPublic]
    in_stock: list[AffectedUnitPublic]
    delivered: list[AffectedUnitPublic]
    demand: list[DemandChangePublic]
    leftovers: list[LeftoverLotPublic]


class RetrofitPublic(Out):
    """A repair order opened to retrofit one delivered unit."""

    serial: str
    repair_order: str
    parts: list[str]


# ---------------------------------------------------------------- routes

_OUT: dict[str, Any] = {"response_model": EcoPublic, "response_model_by_alias": True}


def _public(e: Any) -> EcoPublic:
    return EcoPublic.model_validate(e)


@router.post("/ecos", status_code=status.HTTP_201_CREATED, **_OUT)
def create(body: EcoCreate, who: Annotated[Principal, may(EcoAction.CREATE)]) -> EcoPublic:
    """Write a draft ECO on the stored scenario, checked against its newest version (the
    change must apply from its date and leave a valid scenario: 422 naming the line)."""
    return _public(eco_svc.create_eco(
        who.store, caller(who), body.description, [ln.line() for ln in body.lines],
        body.effective, body.effective_serial, body.scenario))


@router.get("/ecos", response_model=list[EcoPublic], response_model_by_alias=True)
def list_(who: Annotated[Principal, may(EcoAction.IMPACT)], scenario: ScenarioQ = None,
          status_: Annotated[EcoStatus | None, Query(alias="status")] = None) -> list[Any]:
    """The ECOs of the stored scenario, newest first (optionally those in one status)."""
    return [_public(e) for e in eco_svc.list_ecos(who.store, caller(who), scenario, status_)]


@router.get("/ecos/{eco_id}", **_OUT)
def show(eco_id: EcoId, who: Annotated[Principal, may(EcoAction.IMPACT)]) -> EcoPublic:
    """One ECO with its lines."""
    return _public(eco_svc.get_eco(who.store, caller(who), parse_eco(eco_id)))


@router.post("/ecos/{eco_id}/submit", **_OUT)
def submit(eco_id: EcoId, who: Annotated[Principal, may(EcoAction.SUBMIT)]) -> EcoPublic:
    """Send a draft to review."""
    return _public(eco_svc.submit_eco(who.store, caller(who), parse_eco(eco_id)))


@router.post("/ecos/{eco_id}/release", **_OUT)
def release(eco_id: EcoId, who: Annotated[Principal, may(EcoAction.DECIDE)],
            body: EcoDecision | None = None) -> EcoPublic:
    """Release an ECO in review (its author may not: 403): the change goes into the
    stored scenario as a new version, from its date (from a serial only: from today)."""
    note = body.note if body is not None else ""
    return _public(eco_svc.release_eco(who.store, caller(who), parse_eco(eco_id), note))


@router.post("/ecos/{eco_id}/reject", **_OUT)
def reject(eco_id: EcoId, body: EcoRejection,
           who: Annotated[Principal, may(EcoAction.DECIDE)]) -> EcoPublic:
    """Reject an ECO in review (its author may not: 403), saying why."""
    return _public(eco_svc.reject_eco(who.store, caller(who), parse_eco(eco_id), body.note))


@router.get("/ecos/{eco_id}/impact", response_model=EcoImpactPublic,
            response_model_by_alias=True)
def impact(eco_id: EcoId, who: Annotated[Principal, may(EcoAction.IMPACT)],
           from_floor: Annotated[bool, Query(description="plan from the floor's firm "
                                             "supply, as a stored plan does")] = True
           ) -> EcoImpactPublic:
    """What releasing the ECO would touch: open work orders of the old design, units in
    stock and delivered that carry a retired part, component demand planned without and
    with the change (two plans: this takes as long as planning the scenario twice), and
    phased-out stock left over."""
    imp = eco_svc.eco_impact(who.store, caller(who), parse_eco(eco_id),
                             from_floor=from_floor)
    return EcoImpactPublic.model_validate(imp)


@router.post("/ecos/{eco_id}/retrofit", response_model=list[RetrofitPublic],
             status_code=status.HTTP_201_CREATED)
def retrofit(eco_id: EcoId, who: Annotated[Principal, may(EcoAction.RETROFIT)]
             ) -> list[RetrofitPublic]:
    """Open a repair order for each delivered unit a released ECO affects (once: a unit
    with an open retrofit order for it is left as it is)."""
    return [RetrofitPublic.model_validate(r)
            for r in eco_svc.retrofit(who.store, caller(who), parse_eco(eco_id))]
