"""Flat tables, the hub every scenario format goes through.

A reader turns its format into `RawTables` (rows per section, each with the record
label and file to name in errors); `build_scenario` checks and assembles them into a
`Scenario`; `scenario_tables` turns a scenario back into rows for any writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from fabnet.io.records import (
    SECTIONS,
    BomRow,
    CustomerRow,
    DemandRow,
    DisruptionRow,
    InventoryRow,
    ItemRow,
    LaneRow,
    OfferRow,
    RecoveryRow,
    RiskRow,
    RoutingRow,
    Row,
    ScenarioRow,
    SiteRow,
    SupplierRow,
    WorkCenterRow,
    columns,
)
from fabnet.model.consistency import check_scenario
from fabnet.model.errors import Issue, ScenarioError, split_issues
from fabnet.model.horizon import Horizon
from fabnet.model.scenario import (
    BomLine,
    Customer,
    Demand,
    Disruption,
    InventoryRecord,
    Item,
    Lane,
    Offer,
    Recovery,
    Risk,
    RoutingStep,
    Scenario,
    Site,
    Supplier,
    WorkCenter,
)


@dataclass
class RawRow:
    """One record as read, with the label errors will name it by."""

    label: str
    values: dict[str, Any]


@dataclass
class RawTables:
    """A scenario as read from some format, before any checking."""

    source: str
    rows: dict[str, list[RawRow]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def file_of(self, section: str) -> str:
        """The file (or file and sheet) a section came from, for error messages."""
        return self.files.get(section, self.source)

    def add(self, section: str, label: str, values: dict[str, Any]) -> None:
        """Append a raw row to a section."""
        self.rows.setdefault(section, []).append(RawRow(label, values))


def _fix_for(err_type: str, field_name: str) -> str:
    fixes = {
        "missing": f"add a value for {field_name}",
        "extra_forbidden": f"remove {field_name!r} or correct its spelling",
        "greater_than_equal": "use a value >= 0",
        "greater_than": "use a value > 0",
        "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
        "date_parsing": "write the date as YYYY-MM-DD",
        "enum": "use one of the listed values",
    }
    for key, fix in fixes.items():
        if err_type.startswith(key):
            return fix
    return f"correct {field_name}"


def _validate(raw: RawTables, section: str) -> list[tuple[RawRow, Row]]:
    model = SECTIONS[section]
    out: list[tuple[RawRow, Row]] = []
    for r in raw.rows.get(section, []):
        try:
            out.append((r, model.model_validate(r.values)))
        except ValidationError as e:
            for err in e.errors():
                fld = ".".join(str(x) for x in err["loc"]) or "?"
                got = err.get("input")
                got_s = "" if err["type"] == "missing" or isinstance(got, dict) else \
                    f", got {got!r}"
                raw.issues.append(Issue(section, r.label, fld, f"{err['msg']}{got_s}",
                                        _fix_for(err["type"], fld), raw.file_of(section)))
    return out


def build_scenario(raw: RawTables) -> Scenario:
    """Check every row and every cross-reference; raise `ScenarioError` with all issues."""
    v = {s: [row for _, row in _validate(raw, s)] for s in SECTIONS}
    meta = v["scenario"]
    if not meta and not any(i.section == "scenario" for i in raw.issues):
        raw.issues.append(Issue("scenario", "", "horizon", "no horizon given",
                                "add horizon: {start: YYYY-MM-DD, bucket: week, buckets: N}",
                                raw.file_of("scenario")))
    if not meta:
        errors, warnings = split_issues(raw.issues)
        raise ScenarioError(errors, warnings)
    m = meta[0]
    assert isinstance(m, ScenarioRow)
    sc = Scenario(
        name=m.scenario,
        horizon=Horizon(m.start, m.bucket, m.buckets),
        items=tuple(Item(r.id, r.name, r.kind, r.unit_cost, r.origin, r.holding_cost)
                    for r in v["items"] if isinstance(r, ItemRow)),
        boms=tuple(BomLine(r.parent, r.item, r.qty) for r in v["boms"]
                   if isinstance(r, BomRow)),
        routings=tuple(RoutingStep(r.item, r.work_center, r.hours) for r in v["routings"]
                       if isinstance(r, RoutingRow)),
        sites=tuple(Site(r.id, r.country, r.name, tuple(r.makes), r.location) for r in v["sites"]
                    if isinstance(r, SiteRow)),
        work_centers=tuple(WorkCenter(r.site, r.type, r.hours, r.from_, tuple(r.ramp))
                           for r in v["work_centers"] if isinstance(r, WorkCenterRow)),
        suppliers=tuple(Supplier(r.id, r.country, r.name) for r in v["suppliers"]
                        if isinstance(r, SupplierRow)),
        offers=tuple(Offer(r.supplier, r.item, r.price, r.lead_time, r.capacity)
                     for r in v["offers"] if isinstance(r, OfferRow)),
        customers=tuple(Customer(r.id, r.country, r.name, r.approved) for r in v["customers"]
                        if isinstance(r, CustomerRow)),
        lanes=tuple(Lane(r.from_, r.to, r.transit, r.cost, r.capacity) for r in v["lanes"]
                    if isinstance(r, LaneRow)),
        inventory=tuple(InventoryRecord(r.site, r.item, r.qty) for r in v["inventory"]
                        if isinstance(r, InventoryRow)),
        demand=tuple(Demand(r.id, r.customer, r.item, r.qty, r.due, r.priority)
                     for r in v["demand"] if isinstance(r, DemandRow)),
        disruptions=tuple(Disruption(r.id, r.target, r.from_, r.buckets, r.capacity)
                          for r in v["disruptions"] if isinstance(r, DisruptionRow)),
        recovery=tuple(Recovery(r.target, r.days) for r in v["recovery"]
                       if isinstance(r, RecoveryRow)),
        risks=tuple(Risk(r.id, r.target, r.rate, r.duration, r.dist, r.duration_max, r.capacity)
                    for r in v["risks"] if isinstance(r, RiskRow)),
    )
    # cross-record rules run on the sound rows too, so every problem is listed at once;
    # an id whose own row was rejected is not reported again as unknown
    rejected = {repr(str(r.values.get("id"))) for rows in raw.rows.values() for r in rows
                if any(i.record == r.label and not i.is_warning for i in raw.issues)
                and r.values.get("id")}
    issues = [i.located(raw.file_of(i.section)) for i in check_scenario(sc)
              if not (i.message.startswith("unknown") and
                      any(i.message.endswith(x) for x in rejected))]
    errors, warnings = split_issues(raw.issues + issues)
    if errors:
        raise ScenarioError(errors, warnings)
    return replace(sc, warnings=tuple(warnings))


def _num(x: float | None) -> float | int | None:
    """Whole numbers as ints, so 500.0 is written 500 and reads back equal."""
    if x is None:
        return None
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def scenario_tables(sc: Scenario) -> dict[str, list[dict[str, Any]]]:
    """A scenario as flat rows per section, column names as in `columns(section)`."""
    h = sc.horizon
    t: dict[str, list[dict[str, Any]]] = {
        "scenario": [{"scenario": sc.name, "start": h.start, "bucket": str(h.bucket),
                      "buckets": h.buckets}],
        "items": [{"id": i.id, "name": i.name, "kind": str(i.kind),
                   "unit_cost": _num(i.unit_cost), "origin": i.origin,
                   "holding_cost": _num(i.holding_cost)} for i in sc.items],
        "boms": [{"parent": b.parent, "item": b.item, "qty": _num(b.qty)} for b in sc.boms],
        "routings": [{"item": r.item, "work_center": r.work_center, "hours": _num(r.hours)}
                     for r in sc.routings],
        "sites": [{"id": s.id, "name": s.name, "country": s.country, "makes": list(s.makes),
                   "location": s.location} for s in sc.sites],
        "work_centers": [{"site": w.site, "type": w.type, "hours": _num(w.hours),
                          "from": w.start, "ramp": [_num(f) for f in w.ramp]}
                         for w in sc.work_centers],
        "suppliers": [{"id": s.id, "name": s.name, "country": s.country}
                      for s in sc.suppliers],
        "offers": [{"supplier": o.supplier, "item": o.item, "price": _num(o.price),
                    "lead_time": o.lead_time, "capacity": _num(o.capacity)}
                   for o in sc.offers],
        "customers": [{"id": c.id, "name": c.name, "country": c.country,
                       "approved": c.approved} for c in sc.customers],
        "lanes": [{"from": ln.origin, "to": ln.destination, "transit": ln.transit,
                   "cost": _num(ln.cost), "capacity": _num(ln.capacity)} for ln in sc.lanes],
        "inventory": [{"site": x.site, "item": x.item, "qty": _num(x.qty)}
                      for x in sc.inventory],
        "demand": [{"id": d.id, "customer": d.customer, "item": d.item, "qty": _num(d.qty),
                    "due": d.due, "priority": d.priority} for d in sc.demand],
        "disruptions": [{"id": x.id, "target": x.target, "from": x.start,
                         "buckets": x.buckets, "capacity": _num(x.capacity)}
                        for x in sc.disruptions],
        "recovery": [{"target": r.target, "days": _num(r.days)} for r in sc.recovery],
        "risks": [{"id": r.id, "target": r.target, "rate": _num(r.rate), "dist": str(r.dist),
                   "duration": r.duration, "duration_max": r.duration_max,
                   "capacity": _num(r.capacity)} for r in sc.risks],
    }
    for section, rows in t.items():
        cols = columns(section)
        assert all(list(r) == cols for r in rows), section
    return t
