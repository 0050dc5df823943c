"""Row schemas of the scenario's sections: one pydantic model per flat table.

Every format (YAML, CSV folder, XLSX workbook) is read into the same flat rows, so one
set of schemas checks types and signs, and every error names the record and the field.
Numbers must be finite (`.inf` and `.nan` are refused), dates must exist in the calendar,
and ids must be safe to write into any format (no control characters, no `;`, no
leading or trailing spaces, at most `MAX_ID_LENGTH` characters).
"""

from __future__ import annotations

import calendar
import re
import types
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from fabnet.io.limits import (
    MAX_AMOUNT,
    MAX_BUCKET_COUNT,
    MAX_BUCKETS,
    MAX_ID_LENGTH,
    MAX_TARGET_LENGTH,
    MAX_TEXT_LENGTH,
)
from fabnet.model.horizon import BucketKind
from fabnet.model.licence import LicenceStatus
from fabnet.model.mitigation import REQUIRED, MitigationKind
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


def _problem(why: str, fix: str) -> PydanticCustomError:
    """A validation error whose message and fix are ours (the fix travels in its context)."""
    return PydanticCustomError("fabnet", "{why}", {"why": why, "fix": fix})


_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def _as_date(v: Any) -> Any:
    """Dates as real dates; `2027-02-30` is named as a day that isn't in the calendar, a
    time of day or a bare number (read as seconds since 1970) is refused."""
    if isinstance(v, datetime):
        if v.time() != datetime.min.time():
            raise _problem(f"{v.isoformat(sep=' ')} has a time of day",
                           "write the date alone, as YYYY-MM-DD")
        return v.date()
    if isinstance(v, int | float) and not isinstance(v, bool):
        raise _problem(f"{v} is a number, not a date", "write the date as YYYY-MM-DD")
    v = _blank_none(v)
    if isinstance(v, str) and (m := _ISO_DAY.fullmatch(v.strip())):
        year, month, day = (int(x) for x in m.groups())
        if year < 1 or not 1 <= month <= 12:
            raise _problem(f"{v.strip()} is not a calendar date (no month {month})",
                           "write the date as YYYY-MM-DD with a month from 01 to 12")
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise _problem(f"{v.strip()} is not a calendar date ({calendar.month_name[month]} "
                           f"{year} has {last} days)", f"use a day from 1 to {last}")
        return date(year, month, day)
    return v


_UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, format, line separators


def _id_check(limit: int, noun: str = "id") -> Callable[[Any], Any]:
    """A validator refusing ids that can't be written back into every format unchanged."""
    def check(v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        if not isinstance(v, str):
            return v
        bad = None if v.isascii() and v.isprintable() else next(  # printable ASCII is safe
            (c for c in v if unicodedata.category(c) in _UNSAFE), None)
        if bad is not None:
            raise _problem(f"{noun} contains the control character U+{ord(bad):04X}",
                           "remove it (ids are printable text on one line)")
        if v != v.strip():
            raise _problem(f"{noun} has leading or trailing spaces", "remove the spaces")
        if ";" in v:
            raise _problem(f"{noun} contains ';', which separates ids in a list cell",
                           "use another character, such as '-'")
        if len(v) > limit:
            raise _problem(f"{noun} is {len(v)} characters long, over the limit of {limit}",
                           f"shorten it to at most {limit} characters")
        return v
    return check


def _as_bool(v: Any) -> Any:
    if isinstance(v, str) and v.strip().lower() in {"yes", "y", "1", "true"}:
        return True
    if isinstance(v, str) and v.strip().lower() in {"no", "n", "0", "false"}:
        return False
    return v


Id = Annotated[str, Field(min_length=1), BeforeValidator(_id_check(MAX_ID_LENGTH))]
Target = Annotated[str, Field(min_length=1), BeforeValidator(_id_check(MAX_TARGET_LENGTH))]
Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH),
                 BeforeValidator(lambda v: "" if v is None else v)]
Qty = Annotated[float, Field(ge=0, le=MAX_AMOUNT), BeforeValidator(_blank_none)]
PosQty = Annotated[float, Field(gt=0, le=MAX_AMOUNT), BeforeValidator(_blank_none)]
OptQty = Annotated[float | None, Field(ge=0, le=MAX_AMOUNT), BeforeValidator(_blank_none)]
Buckets = Annotated[int, Field(ge=0, le=MAX_BUCKET_COUNT), BeforeValidator(_blank_none)]
#: a pack or batch size: a whole number of units, at least 1 (blank: none)
OptCount = Annotated[int | None, Field(ge=1, le=int(MAX_AMOUNT)), BeforeValidator(_blank_none)]
Day = Annotated[date, BeforeValidator(_as_date)]
OptDay = Annotated[date | None, BeforeValidator(_as_date)]
IdList = Annotated[list[Id], BeforeValidator(_split_list)]
Factors = Annotated[list[Annotated[float, Field(ge=0, le=MAX_AMOUNT)]],
                   Field(max_length=MAX_BUCKETS), BeforeValidator(_split_list)]
Country = Annotated[str, Field(min_length=2, max_length=3),
                    BeforeValidator(_id_check(3, "country code")), BeforeValidator(_blank_none)]


def scalar_types(annotation: Any) -> frozenset[type] | None:
    """The plain types a field takes (`int | None` -> {int}), None for anything else
    (lists, models, enums, text): what a sent value is compared with."""
    if get_origin(annotation) is Annotated:
        return scalar_types(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        out: frozenset[type] = frozenset()
        for a in get_args(annotation):
            if a is type(None):
                continue
            part = scalar_types(a)
            if part is None:
                return None
            out |= part
        return out
    return frozenset({annotation}) if annotation in (int, float, bool) else None


class Row(BaseModel):
    """Base of every row: unknown fields are errors, not silently dropped; numbers finite;
    true or false is not a number (YAML's `qty: yes` would otherwise be 1)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_yes_no_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        kinds = None if field is None else scalar_types(field.annotation)
        if isinstance(value, bool) and kinds is not None and kinds <= {int, float}:
            raise PydanticCustomError("number_type", "true or false is not a number",
                                      {"fix": "write a number, e.g. 1"})
        return value


class ScenarioRow(Row):
    scenario: Text = ""
    start: Day
    bucket: BucketKind = BucketKind.WEEK
    buckets: Annotated[int, Field(ge=1, le=MAX_BUCKETS)]


class ItemRow(Row):
    id: Id
    name: Text = ""
    kind: ItemKind = ItemKind.COMPONENT
    unit_cost: OptQty = None
    origin: Annotated[str | None, BeforeValidator(_blank_none)] = None
    holding_cost: OptQty = None
    serialized: Annotated[bool, BeforeValidator(lambda v: _as_bool(_blank_none(v) or False))] \
        = False
    serial_pattern: Annotated[str | None, Field(max_length=MAX_ID_LENGTH * 2),
                              BeforeValidator(_blank_none)] = None
    revision: Annotated[str | None, BeforeValidator(_blank_none),
                        BeforeValidator(_id_check(MAX_ID_LENGTH, "revision"))] = None


class BomRow(Row):
    parent: Id
    item: Id
    qty: PosQty
    from_: Annotated[OptDay, Field(alias="from")] = None
    until: OptDay = None


class RoutingRow(Row):
    item: Id
    work_center: Id
    hours: Qty
    from_: Annotated[OptDay, Field(alias="from")] = None
    until: OptDay = None


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
    batch: OptCount = None


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
    moq: Annotated[float | None, Field(gt=0, le=MAX_AMOUNT), BeforeValidator(_blank_none)] \
        = None
    multiple: OptCount = None


class CustomerRow(Row):
    id: Id
    name: Text = ""
    country: Country
    approved: Annotated[bool, BeforeValidator(_as_bool)] = True


class LaneRow(Row):
    from_: Annotated[Id, Field(alias="from")]
    to: Id
    transit: Buckets = 0
    cost: Annotated[float, Field(ge=0, le=MAX_AMOUNT),
                    BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0
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
    target: Target
    from_: Annotated[Day, Field(alias="from")]
    buckets: Buckets
    capacity: Annotated[float, Field(ge=0, le=MAX_AMOUNT),
                        BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0
    work_center: Annotated[str | None, BeforeValidator(_id_check(MAX_ID_LENGTH, "work center")),
                           BeforeValidator(_blank_none)] = None


class RecoveryRow(Row):
    target: Target
    days: Qty


class RiskRow(Row):
    id: Id
    target: Target
    rate: Annotated[float, Field(ge=0, le=1)]
    dist: DurationDist = DurationDist.FIXED
    duration: Buckets
    duration_max: Annotated[int | None, Field(ge=0, le=MAX_BUCKET_COUNT),
                            BeforeValidator(_blank_none)] = None
    capacity: Annotated[float, Field(ge=0, le=MAX_AMOUNT),
                        BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0


OptLimit = Annotated[float | None, BeforeValidator(_blank_none)]


class TestPlanRow(Row):
    item: Id
    step: Id
    required: Annotated[bool, BeforeValidator(
        lambda v: True if _blank_none(v) is None else _as_bool(v))] = True
    min: OptLimit = None
    max: OptLimit = None


class LicenceRow(Row):
    id: Id
    customer: Id
    country: Country
    items: Annotated[list[Id], Field(min_length=1), BeforeValidator(_split_list)]
    qty: Qty
    from_: Annotated[Day, Field(alias="from")]
    until: Day
    euc: Text = ""
    status: Annotated[LicenceStatus, BeforeValidator(
        lambda v: _blank_none(v) or LicenceStatus.VALID)] = LicenceStatus.VALID
    authority: Text = ""


class MitigationRow(Row):
    id: Id
    kind: MitigationKind
    cost: Qty
    available_after: Annotated[int, Field(ge=0, le=MAX_BUCKET_COUNT),
                               BeforeValidator(lambda v: _blank_none(v) or 0)] = 0
    supplier: Annotated[str | None, BeforeValidator(_id_check(MAX_ID_LENGTH, "supplier")),
                        BeforeValidator(_blank_none)] = None
    country: Annotated[str | None, Field(min_length=2, max_length=3),
                       BeforeValidator(_blank_none)] = None
    item: Annotated[str | None, BeforeValidator(_id_check(MAX_ID_LENGTH, "item")),
                    BeforeValidator(_blank_none)] = None
    price: OptQty = None
    lead_time: Annotated[int, Field(ge=0, le=MAX_BUCKET_COUNT),
                         BeforeValidator(lambda v: _blank_none(v) or 0)] = 0
    capacity: OptQty = None
    transit: Annotated[int, Field(ge=0, le=MAX_BUCKET_COUNT),
                       BeforeValidator(lambda v: _blank_none(v) or 0)] = 0
    site: Annotated[str | None, BeforeValidator(_id_check(MAX_ID_LENGTH, "site")),
                    BeforeValidator(_blank_none)] = None
    work_center: Annotated[str | None, BeforeValidator(_id_check(MAX_ID_LENGTH, "work center")),
                           BeforeValidator(_blank_none)] = None
    hours: OptQty = None
    ramp: Factors = []
    qty: OptQty = None
    holding_cost: Annotated[float, Field(ge=0, le=MAX_AMOUNT),
                            BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0
    from_: Annotated[str | None, Field(alias="from"), BeforeValidator(_blank_none)] = None
    to: Annotated[str | None, BeforeValidator(_blank_none)] = None
    lane_cost: Annotated[float, Field(ge=0, le=MAX_AMOUNT),
                         BeforeValidator(lambda v: _blank_none(v) or 0.0)] = 0.0

    @model_validator(mode="after")
    def _kind_fields(self) -> MitigationRow:
        """Each kind names the fields it needs (`REQUIRED`, lanes as from/to)."""
        named = {"origin": "from", "destination": "to"}
        have = {"origin": self.from_, "destination": self.to}
        for f in REQUIRED[self.kind]:
            if (have[f] if f in have else getattr(self, f)) is None:
                name = named.get(f, f)
                why = _problem(f"a {self.kind} mitigation needs {name}", f"give {name}")
                raise ValidationError.from_exception_data(
                    "MitigationRow", [InitErrorDetails(type=why, loc=(name,), input=None)])
        return self


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
    "test_plans": TestPlanRow,
    "licences": LicenceRow,
    "mitigations": MitigationRow,
}


def columns(section: str) -> list[str]:
    """Column names of a section's table, in schema order (aliases as users write them)."""
    model = SECTIONS[section]
    return [f.alias or name for name, f in model.model_fields.items()]


def _is_number(annotation: Any) -> bool:
    """Whether a field holds a number (or a list of numbers), possibly optional."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) in (Union, types.UnionType, list):
        return any(_is_number(a) for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        return _is_number(get_args(annotation)[0])
    return False


def numeric_columns(section: str) -> set[str]:
    """Columns of a section that hold numbers (where a decimal comma may be read)."""
    model = SECTIONS[section]
    return {f.alias or name for name, f in model.model_fields.items()
            if _is_number(f.annotation)}


def required_columns(section: str) -> list[str]:
    """Columns every row of a section must give."""
    model = SECTIONS[section]
    return [f.alias or name for name, f in model.model_fields.items() if f.is_required()]
