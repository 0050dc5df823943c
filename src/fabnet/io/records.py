"""Row schemas of the scenario's sections: one pydantic model per flat table.

Every format (YAML, CSV folder, XLSX workbook) is read into the same flat rows, so one
set of schemas checks types and signs, and every error names the record and the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from fabnet.model.horizon import BucketKind
from fabnet.model.scenario import DurationDist, ItemKind


def _split_list(v: Any) -> Any:
    """Lists come as YAML lists or, in a cell, as `a; b; c`."""
    if isinstance(v, str):
        return [x.strip() for x in v.split(";") if x.strip()]
    if v is None:
        return []
    return v


def _blank_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


def _as_date(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.date()
    return _blank_none(v)


def _as_bool(v: Any) -> Any:
    if isinstance(v, str) and v.strip().lower() in {"yes", "y", "1", "true"}:
        return True
    if isinstance(v, str) and v.strip().lower() in {"no", "n", "0", "false"}:
        return False
    return v


Id = Annotated[str, Field(min_length=1), BeforeValidator(lambda v: str(v).strip()
                                                         if isinstance(v, str | int) else v)]
Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else v)]
Qty = Annotated[float, Field(ge=0), BeforeValidator(_blank_none)]
PosQty = Annotated[float, Field(gt=0), BeforeValidator(_blank_none)]
OptQty = Annotated[float | None, Field(ge=0), BeforeValidator(_blank_none)]
Buckets = Annotated[int, Field(ge=0), BeforeValidator(_blank_none)]
Day = Annotated[date, BeforeValidator(_as_date)]
OptDay = Annotated[date | None, BeforeValidator(_as_date)]
IdList = Annotated[list[Id], BeforeValidator(_split_list)]
Factors = Annotated[list[Annotated[float, Field(ge=0)]], BeforeValidator(_split_list)]
Country = Annotated[str, Field(min_length=2, max_length=3), BeforeValidator(_blank_none)]


class Row(BaseModel):
    """Base of every row: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScenarioRow(Row):
    scenario: Text = ""
    start: Day
    bucket: BucketKind = BucketKind.WEEK
    buckets: Annotated[int, Field(ge=1, le=10_000)]


class ItemRow(Row):
    id: Id
    name: Text = ""
    kind: ItemKind = ItemKind.COMPONENT
    unit_cost: OptQty = None
    origin: Annotated[str | None, BeforeValidator(_blank_none)] = None
    holding_cost: OptQty = None


class BomRow(Row):
    parent: Id
    item: Id
    qty: PosQty


class RoutingRow(Row):
    item: Id
    work_center: Id
    hours: Qty


class SiteRow(Row):
    id: Id
    name: Text = ""
    country: Country
    makes: IdList = []
    location: Text = ""


class WorkCenterRow(Row):
    site: Id
    type: Id
    hours: Qty
    from_: Annotated[OptDay, Field(alias="from")] = None
    ramp: Factors = []


class SupplierRow(Row):
    id: Id
    name: Text = ""
    country: Country


class OfferRow(Row):
    supplier: Id
    item: Id
    price: Qty
    lead_time: Buckets
    capacity: OptQty = None


class CustomerRow(Row):
    id: Id
    name: Text = ""
    country: Country
    approved: Annotated[bool, BeforeValidator(_as_bool)] = True


class LaneRow(Row):
    from_: Annotated[Id, Field(alias="from")]
    to: Id
    transit: Buckets = 0
    cost: Annotated[float, Field(ge=0), BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0
    capacity: OptQty = None


class InventoryRow(Row):
    site: Id
    item: Id
    qty: Qty


class DemandRow(Row):
    id: Id
    customer: Id
    item: Id
    qty: Qty
    due: Day
    priority: Annotated[int, Field(ge=1, le=99),
                        BeforeValidator(lambda v: _blank_none(v) or 1)] = 1


class DisruptionRow(Row):
    id: Id
    target: Id
    from_: Annotated[Day, Field(alias="from")]
    buckets: Buckets
    capacity: Annotated[float, Field(ge=0),
                        BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0


class RecoveryRow(Row):
    target: Id
    days: Qty


class RiskRow(Row):
    id: Id
    target: Id
    rate: Annotated[float, Field(ge=0, le=1)]
    dist: DurationDist = DurationDist.FIXED
    duration: Buckets
    duration_max: Annotated[int | None, Field(ge=0), BeforeValidator(_blank_none)] = None
    capacity: Annotated[float, Field(ge=0),
                        BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0


SECTIONS: dict[str, type[Row]] = {
    "scenario": ScenarioRow,
    "items": ItemRow,
    "boms": BomRow,
    "routings": RoutingRow,
    "sites": SiteRow,
    "work_centers": WorkCenterRow,
    "suppliers": SupplierRow,
    "offers": OfferRow,
    "customers": CustomerRow,
    "lanes": LaneRow,
    "inventory": InventoryRow,
    "demand": DemandRow,
    "disruptions": DisruptionRow,
    "recovery": RecoveryRow,
    "risks": RiskRow,
}


def columns(section: str) -> list[str]:
    """Column names of a section's table, in schema order (aliases as users write them)."""
    model = SECTIONS[section]
    return [f.alias or name for name, f in model.model_fields.items()]
