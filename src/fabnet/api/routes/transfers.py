"""Transfers between sites over HTTP, with the CLI's verbs: send units to another site
(in transit), book a transfer in at its destination, list transfers.

Each route admits the roles of `FloorAction.TRANSFER` (listing: every role), and the
service checks the sites: the sending site's manager sends, the destination's books in
(a refusal is a 403 that names no other site); a site manager lists the transfers from
or to their own sites. Every change is audited by its service, in its own transaction;
every POST takes an `Idempotency-Key`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import Field

from fabnet.api.deps import Principal
from fabnet.api.floor_schemas import Code, Out, Scenario
from fabnet.api.routes.floor import ScenarioQ, caller, may
from fabnet.api.schemas import ApiModel, Page
from fabnet.services import transfers as transfer_svc
from fabnet.shop.roles import FloorAction
from fabnet.shop.transfer import TransferStatus, parse_transfer

router = APIRouter(tags=["floor"])

TransferRef = Annotated[str, Path(max_length=20, description="TR-7 or 7")]


class TransferRequest(ApiModel):
    """Send units (all at one site) to another site along the lane between them."""

    serials: list[Code] = Field(min_length=1, max_length=10_000)
    to: Code
    lane: Code | None = Field(default=None, description="FROM>TO, must be the units' way")
    sent: date | None = Field(default=None, description="the day they left (default: today)")
    scenario: Scenario = None


class ArriveRequest(ApiModel):
    """Book a transfer in at its destination."""

    scenario: Scenario = None


class TransferPublic(Out):
    """Units `serials` (of `items`) sent `origin` > `destination` on `sent_date`, expected
    on `expected_date`; `status` in_transit until booked in."""

    id: int
    code: str
    scenario: str
    origin: str
    destination: str
    lane: str
    sent_date: date
    expected_date: date
    status: str
    serials: list[str]
    items: list[str]
    sent_at: datetime
    sent_by: str
    arrived_at: datetime | None
    arrived_by: str | None


@router.post("/floor/transfers", response_model=TransferPublic,
             status_code=status.HTTP_201_CREATED)
def send(body: TransferRequest, who: Annotated[Principal, may(FloorAction.TRANSFER)]
         ) -> TransferPublic:
    """Send units from one of your sites: they leave its stock and are in transit,
    expected the lane's transit after `sent`; the next plan counts them at the
    destination then."""
    t = transfer_svc.send(who.store, caller(who), list(body.serials), body.to, body.lane,
                          body.sent, body.scenario)
    return TransferPublic.model_validate(t)


@router.post("/floor/transfers/{transfer}/arrive", response_model=TransferPublic)
def arrive(transfer: TransferRef, body: ArriveRequest,
           who: Annotated[Principal, may(FloorAction.TRANSFER)]) -> TransferPublic:
    """Book a transfer in at its destination, one of your sites: its units are in that
    site's stock with the status they left with."""
    t = transfer_svc.arrive(who.store, caller(who), parse_transfer(transfer), body.scenario)
    return TransferPublic.model_validate(t)


@router.get("/floor/transfers", response_model=Page[TransferPublic])
def list_transfers(who: Annotated[Principal, may(FloorAction.ORDERS)],
                   scenario: ScenarioQ = None,
                   status_: Annotated[TransferStatus | None, Query(alias="status")] = None
                   ) -> Page[TransferPublic]:
    """Transfers (filter: `status`); a site manager sees those from or to their sites."""
    found = transfer_svc.list_transfers(who.store, caller(who), scenario, status_)
    return Page(data=[TransferPublic.model_validate(t) for t in found], count=len(found))
