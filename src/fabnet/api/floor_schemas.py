"""The floor's request and response shapes: release, orders, receive, build, tests,
yield, holds, shipments and trace, as the CLI's `--json` has them.

Requests refuse unknown fields and odd values like every other request (`ApiModel`);
responses are read off the shop's records (`from_attributes`), so a field the shop adds
appears only when a model here names it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from fabnet.api.schemas import MAX_INT, NAME, ApiModel

Code = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Scenario = Annotated[str | None, Field(default=None, pattern=NAME, description=
                                        "the stored scenario the floor runs in (default: "
                                        "the store's only one)")]


class Out(BaseModel):
    """Base of the floor's answers: read from the shop's dataclasses."""

    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- requests


class ReleaseRequest(ApiModel):
    """Release a stored plan run's production as work orders."""

    scenario: Annotated[str, Field(pattern=NAME)]
    run: int | None = Field(default=None, ge=1, le=MAX_INT,
                            description="plan run id (default: the newest)")
    until: date | None = Field(default=None, description="release buckets starting on or "
                               "before this date")


class ReceiveRequest(ApiModel):
    """Book a supplier's lot into a site's stock."""

    site: Code
    item: Code
    lot: Code
    qty: float = Field(gt=0, le=1e12)
    supplier: Code | None = None
    scenario: Scenario = None


class BuildRequest(ApiModel):
    """Build units of a work order."""

    qty: int = Field(ge=1, le=100_000)
    use: dict[Code, Code] = Field(default={}, max_length=1000,
                                  description="ITEM -> LOT to take that item from")
    operator: Code | None = None


class TestRequest(ApiModel):
    """Record a test result on a unit."""

    step: Code
    passed: bool
    value: float | None = None
    station: Code | None = None


class HoldRequest(ApiModel):
    """Hold a lot (every lot with that code) or a unit."""

    ref: Code = Field(description="a lot code as the supplier printed it, or a serial")
    reason: Reason
    scenario: Scenario = None


class HoldReleaseRequest(ApiModel):
    """Lift the holds in force on a lot code or a serial."""

    ref: Code
    scenario: Scenario = None


class ShipRequest(ApiModel):
    """Ship complete units to an approved customer, all or none."""

    customer: Code
    serials: list[Code] = Field(min_length=1, max_length=10_000)


# ---------------------------------------------------------------- answers


class OperationPublic(Out):
    """A routing step of a work order."""

    seq: int
    work_center: str
    hours: float


class WorkOrderPublic(Out):
    """A work order: make `qty` of `item` at `site` by `due_date`."""

    id: int
    code: str
    scenario: str
    version: int
    plan_run: int | None
    site: str
    item: str
    qty: int
    qty_done: int
    due_bucket: int
    due_date: date
    status: str
    operations: list[OperationPublic]
    created_at: datetime
    created_by: str


class LotPublic(Out):
    """A lot at a site."""

    id: int
    scenario: str
    site: str
    item: str
    code: str
    supplier: str | None
    qty_received: float
    remaining: float
    held: bool
    received_at: datetime
    received_by: str


class Consumed(Out):
    """What a build took from one lot."""

    lot: str
    qty: float


class BuildPublic(BaseModel):
    """What a build made: serials (or the lot of a non-serialized item), and took."""

    work_order: str
    item: str
    qty: int
    serials: list[str]
    lot: str | None
    consumed: list[Consumed]


class TestResultPublic(Out):
    """One recorded test result."""

    id: int
    serial: str
    step: str
    passed: bool
    value: float | None
    station: str | None
    operator: str
    at: datetime


class TestOutcomePublic(Out):
    """A recorded result, and whether the unit is complete now (or what it still needs)."""

    result: TestResultPublic
    complete: bool
    missing: list[str]


class YieldRowPublic(Out):
    """First-pass yield of one step of one item at one site in one ISO week."""

    item: str
    site: str
    step: str
    week: str
    tested: int
    first_pass: int
    fpy: float


class FailurePublic(Out):
    """A bar of the failure Pareto."""

    item: str
    step: str
    failures: int
    share: float


class YieldPublic(BaseModel):
    """First-pass yield and the failure Pareto, of the caller's sites."""

    yields: list[YieldRowPublic]
    pareto: list[FailurePublic]


class HoldPublic(Out):
    """A hold, in force or released."""

    id: int
    reason: str
    placed_at: datetime
    placed_by: str
    lot: str | None
    serial: str | None
    site: str
    item: str
    released_at: datetime | None
    released_by: str | None
    active: bool


class ShipmentPublic(Out):
    """Units delivered to a customer."""

    id: int
    scenario: str
    customer: str
    serials: list[str]
    shipped_at: datetime
    shipped_by: str


class ContainedPublic(Out):
    """A unit that contains the traced lot or unit, and where it went."""

    serial: str
    item: str
    site: str
    status: str
    depth: int
    shipment: int | None
    customer: str | None
    shipped_at: datetime | None


class ComponentPublic(Out):
    """A part in the traced unit's tree (a unit by serial, or a lot)."""

    depth: int
    parent: str
    item: str
    qty: float
    serial: str | None
    lot: str | None
    supplier: str | None
    site: str
    held: bool
    added_at: datetime | None


class OperationRecordPublic(Out):
    """An operation done on a unit."""

    serial: str
    seq: int
    work_center: str
    operator: str
    started_at: datetime
    ended_at: datetime


class TracePublic(BaseModel):
    """A trace: `down` lists the units that contain `ref` (`hidden`: how many more are at
    sites the caller does not see); `up` lists what unit `ref` is made of, with its and
    its parts' operations and tests."""

    ref: str
    direction: Literal["down", "up"]
    units: list[ContainedPublic] = []
    hidden: int = 0
    item: str | None = None
    components: list[ComponentPublic] = []
    operations: list[OperationRecordPublic] = []
    tests: list[TestResultPublic] = []
