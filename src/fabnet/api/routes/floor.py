"""The floor over HTTP, with the CLI's verbs: release, orders, receive, build, tests,
yield, holds and their release, shipments, and trace down or up.

Each route admits the roles of `fabnet.shop.roles.FLOOR_ROLES` for its action, and the
services check the caller's sites on every record (a site manager's lists hold their
sites only; a refusal is a 403 that names no other site). Every change is audited by its
service, in its own transaction; every POST takes an `Idempotency-Key`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from fabnet.api.deps import Allow, Principal
from fabnet.api.floor_schemas import (
    BuildPublic,
    BuildRequest,
    ComponentPublic,
    Consumed,
    ContainedPublic,
    FailurePublic,
    HoldPublic,
    HoldReleaseRequest,
    HoldRequest,
    LotPublic,
    OperationRecordPublic,
    ReceiveRequest,
    ReleaseRequest,
    ShipmentPublic,
    ShipRequest,
    TestOutcomePublic,
    TestRequest,
    TestResultPublic,
    TracePublic,
    WorkOrderPublic,
    YieldPublic,
    YieldRowPublic,
)
from fabnet.api.schemas import NAME, Page
from fabnet.services import floor as fl
from fabnet.services import trace as tr
from fabnet.shop.errors import ShipRefused
from fabnet.shop.roles import FLOOR_ROLES, Caller, FloorAction
from fabnet.shop.shipment import Refusal
from fabnet.shop.work_order import WorkOrderStatus, parse_work_order

router = APIRouter(tags=["floor"])


def may(action: FloorAction) -> Any:
    """`Depends(Allow(...))` with the roles the floor's matrix gives `action`."""
    return Depends(Allow(*FLOOR_ROLES[action]))


def caller(who: Principal) -> Caller:
    """The signed-in user as the floor's services see them (role and sites)."""
    return Caller.of(who.name, who.role, who.user.sites)


ScenarioQ = Annotated[str | None, Query(pattern=NAME, description="the stored scenario "
                                        "the floor runs in (default: the store's only one)")]
Serial = Annotated[str, Path(min_length=1, max_length=200)]


def _orders(found: list[Any]) -> list[WorkOrderPublic]:
    return [WorkOrderPublic.model_validate(o) for o in found]


@router.post("/floor/release", response_model=list[WorkOrderPublic],
             status_code=status.HTTP_201_CREATED)
def release(body: ReleaseRequest,
            who: Annotated[Principal, may(FloorAction.RELEASE)]) -> list[WorkOrderPublic]:
    """Turn a stored plan run's production (default: the newest run) into released work
    orders with the routing's operations, up to the bucket of `until`; a site manager
    releases their own sites' production."""
    return _orders(fl.release(who.store, caller(who), body.scenario, body.run, body.until))


@router.get("/floor/orders", response_model=Page[WorkOrderPublic])
def list_orders(who: Annotated[Principal, may(FloorAction.ORDERS)], scenario: ScenarioQ = None,
                site: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
                status_: Annotated[list[WorkOrderStatus] | None,
                                   Query(alias="status", max_length=4)] = None
                ) -> Page[WorkOrderPublic]:
    """Work orders by due date (filters: `site`, `status`, repeated); a site manager sees
    the queue of their own sites."""
    found = fl.list_orders(who.store, caller(who), scenario, site, tuple(status_ or ()))
    return Page(data=_orders(found), count=len(found))


@router.post("/floor/receive", response_model=LotPublic, status_code=status.HTTP_201_CREATED)
def receive(body: ReceiveRequest,
            who: Annotated[Principal, may(FloorAction.RECEIVE)]) -> LotPublic:
    """Book a supplier's lot into a site's stock, under the code the supplier printed."""
    lot = fl.receive(who.store, caller(who), body.site, body.item, body.lot, body.qty,
                     body.supplier, body.scenario)
    return LotPublic.model_validate(lot)


@router.post("/floor/work-orders/{work_order}/build", response_model=BuildPublic,
             status_code=status.HTTP_201_CREATED)
def build(work_order: Annotated[str, Path(max_length=20, description="WO-12 or 12")],
          body: BuildRequest, who: Annotated[Principal, may(FloorAction.BUILD)]
          ) -> BuildPublic:
    """Build `qty` units of an open work order at one of your sites: serials from the
    item's pattern, the BOM from the named lots (`use`) or first in, first out; all or
    nothing (409 with every missing component)."""
    r = fl.build(who.store, caller(who), parse_work_order(work_order), body.qty, body.use,
                 body.operator)
    return BuildPublic(work_order=r.work_order, item=r.item, qty=r.qty,
                       serials=list(r.serials), lot=r.lot,
                       consumed=[Consumed(lot=c["lot"], qty=c["qty"]) for c in r.consumed])


@router.post("/floor/units/{serial}/tests", response_model=TestOutcomePublic,
             status_code=status.HTTP_201_CREATED)
def record_test(serial: Serial, body: TestRequest,
                who: Annotated[Principal, may(FloorAction.TEST)]) -> TestOutcomePublic:
    """Record a test result (a value outside the step's limits is a fail); the answer
    says whether the unit is complete, or which required steps it still needs."""
    o = fl.record_test(who.store, caller(who), serial, body.step, body.passed, body.value,
                       body.station)
    return TestOutcomePublic.model_validate(o)


@router.get("/floor/yield", response_model=YieldPublic)
def yields(who: Annotated[Principal, may(FloorAction.YIELD)], scenario: ScenarioQ = None
           ) -> YieldPublic:
    """First-pass yield per item, site, step and ISO week, and the failure Pareto (a site
    manager: their own sites)."""
    rows, pareto = fl.yields(who.store, caller(who), scenario)
    return YieldPublic(yields=[YieldRowPublic.model_validate(r) for r in rows],
                       pareto=[FailurePublic.model_validate(f) for f in pareto])


@router.post("/floor/holds", response_model=list[HoldPublic],
             status_code=status.HTTP_201_CREATED)
def hold(body: HoldRequest, who: Annotated[Principal, may(FloorAction.HOLD)]
         ) -> list[HoldPublic]:
    """Hold a lot (every lot with that code) or a unit: held lots are not consumed, and no
    unit built from them, nor a held unit, ships."""
    found = fl.hold(who.store, caller(who), body.ref, body.reason, body.scenario)
    return [HoldPublic.model_validate(h) for h in found]


@router.post("/floor/holds/release", response_model=list[HoldPublic])
def release_hold(body: HoldReleaseRequest,
                 who: Annotated[Principal, may(FloorAction.RELEASE_HOLD)]) -> list[HoldPublic]:
    """Lift every hold in force on a lot code or a serial; the answer lists its holds,
    which stay on record with who released them."""
    found = fl.release_hold(who.store, caller(who), body.ref, body.scenario)
    return [HoldPublic.model_validate(h) for h in found]


@router.post("/floor/shipments", response_model=ShipmentPublic,
             status_code=status.HTTP_201_CREATED)
def ship(body: ShipRequest, who: Annotated[Principal, may(FloorAction.SHIP)]
         ) -> ShipmentPublic:
    """Ship complete units to an approved customer, all or none: 409 with the reason for
    each unit that can't go (on hold, incomplete, already shipped, installed); 403 for
    units at sites that are not yours."""
    try:
        s = fl.ship(who.store, caller(who), body.customer, body.serials)
    except ShipRefused as e:
        theirs = [x for x, r in e.reasons.items() if r.startswith(Refusal.NOT_YOURS.value)]
        if theirs:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"{who.name} may not ship {', '.join(theirs)}: not at one of "
                                f"your sites ({', '.join(sorted(who.user.sites)) or 'none'})"
                                " (fix: ship only your sites' units)") from None
        raise
    return ShipmentPublic.model_validate(s)


@router.get("/trace/{ref:path}", response_model=TracePublic)
def trace(ref: Annotated[str, Path(min_length=1, max_length=200)],
          who: Annotated[Principal, may(FloorAction.TRACE)],
          direction: Annotated[Literal["down", "up"], Query(
              description="down: the units that contain the lot or unit; up: what the "
              "unit is made of")] = "down",
          scenario: ScenarioQ = None) -> TracePublic:
    """Trace a lot code or a serial through the genealogy: `down`, every unit that
    contains it at any depth with its latest shipment and customer (a site manager: their
    sites' units, `hidden` counts the others); `up`, a unit's parts down to the suppliers'
    lots with operations and tests."""
    if direction == "down":
        d = tr.trace_down(who.store, caller(who), ref, scenario)
        return TracePublic(ref=ref, direction="down", hidden=d.hidden,
                           units=[ContainedPublic.model_validate(u) for u in d.units])
    t = tr.trace_up(who.store, caller(who), ref)
    return TracePublic(ref=ref, direction="up", item=t.item,
                       components=[ComponentPublic.model_validate(c) for c in t.components],
                       operations=[OperationRecordPublic.model_validate(o)
                                   for o in t.operations],
                       tests=[TestResultPublic.model_validate(r) for r in t.tests])
