"""Flat tables, the hub every scenario format goes through.

A reader turns its format into `RawTables` (rows per section, each with the record
label and file to name in errors); `build_scenario` checks and assembles them into a
`Scenario`; `scenario_tables` turns a scenario back into rows for any writer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from fabnet.io import limits
from fabnet.io.limits import short_repr, short_text
from fabnet.io.records import (
    SECTIONS,
    Row,
    ScenarioRow,
    columns,
    required_columns,
)
from fabnet.model.consistency import check_scenario
from fabnet.model.errors import Issue, ScenarioError, split_issues, warning
from fabnet.model.horizon import Horizon
from fabnet.model.licence import Licence
from fabnet.model.mitigation import Mitigation
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
    TestPlan,
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
    full: set[str] = field(default_factory=set)
    unreadable: bool = False

    def file_of(self, section: str) -> str:
        """The file (or file and sheet) a section came from, for error messages."""
        return self.files.get(section, self.source)

    def add(self, section: str, label: str, values: dict[str, Any]) -> bool:
        """Append a raw row to a section; False (and one issue) once the section is full."""
        rows = self.rows.setdefault(section, [])
        if len(rows) >= limits.MAX_RECORDS:
            self.overflow(section)
            return False
        rows.append(RawRow(label, values))
        return True

    def overflow(self, section: str) -> None:
        """Report, once, that a section holds more records than `MAX_RECORDS`."""
        if section not in self.full:
            self.full.add(section)
            self.issues.append(Issue(section, "", "", f"more than {limits.MAX_RECORDS:,} "
                                     "records; the rest were not read",
                                     "split the scenario or remove records",
                                     self.file_of(section)))


def _key(name: str) -> str:
    """A sheet, file or column name as compared: case and surrounding spaces don't count."""
    return name.strip().lower()


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(_key(name), choices, n=1, cutoff=0.7)
    return f"did you mean {close[0]!r}? " if close else ""


def match_sections(raw: RawTables, names: list[str], what: str,
                   strip_suffix: str = "") -> dict[str, str]:
    """Section -> the sheet or file name that holds it, matched regardless of case; an
    unknown one is ignored with a warning, two for the same section are an error."""
    found: dict[str, str] = {}
    known = list(SECTIONS)
    for name in names:
        stem = name[:len(name) - len(strip_suffix)] if strip_suffix else name
        section = _key(stem)
        if section not in SECTIONS:
            raw.issues.append(warning(short_text(stem), "", "", f"{what} {short_repr(name)} "
                                      "is not a section; ignored",
                                      f"{_suggest(stem, known)}sections are: "
                                      f"{', '.join(known)}", raw.source))
        elif section in found:
            raw.issues.append(Issue(section, "", "", f"two {what}s for {section}: "
                                    f"{found[section]!r} and {name!r}",
                                    f"keep one {what} for {section}", raw.source))
        else:
            found[section] = name
    return found


def match_header(raw: RawTables, section: str, header: list[str]) -> list[str | None]:
    """Each header cell's column name (None: not read), matched regardless of case and
    spaces; an unknown column is ignored with one warning, not one per row."""
    known = columns(section)
    out: list[str | None] = []
    seen: set[str] = set()
    for h in header[:limits.MAX_COLUMNS]:
        col = _key(h)
        if not col:
            out.append(None)
        elif col not in known:
            raw.issues.append(warning(section, "", short_text(h.strip()),
                                      f"column {short_repr(h.strip())} is not a column of "
                                      f"{section}; ignored", f"{_suggest(col, known)}columns "
                                      f"are: {', '.join(known)}", raw.file_of(section)))
            out.append(None)
        elif col in seen:
            raw.issues.append(Issue(section, "", col, f"column {col!r} appears twice",
                                    "keep one of them", raw.file_of(section)))
            out.append(None)
        else:
            seen.add(col)
            out.append(col)
    if len(header) > limits.MAX_COLUMNS:
        raw.issues.append(warning(section, "", "", f"more than {limits.MAX_COLUMNS} columns; "
                                  "the rest were not read", "remove the extra columns",
                                  raw.file_of(section)))
    return out


def report_missing_columns(raw: RawTables, section: str, header: list[str | None]) -> None:
    """One issue per required column missing from a table that has rows."""
    n = len(raw.rows.get(section, []))
    if n == 0:
        return
    for col in required_columns(section):
        if col not in header:
            raw.issues.append(Issue(section, "", col, f"no column {col!r} ({n} "
                                    f"row{'s' if n != 1 else ''} need it)",
                                    f"add a column {col!r} to the header row",
                                    raw.file_of(section)))


def _number(value: Any, unknown: str = "the limit") -> str:
    """A limit as people write it (1e+12, 100000), or `unknown` when not given."""
    return f"{value:g}" if isinstance(value, int | float) else unknown


def _fix_for(err_type: str, field_name: str, ctx: dict[str, Any] | None = None) -> str:
    if ctx and isinstance(ctx.get("fix"), str):
        return str(ctx["fix"])
    fixes = {
        "finite_number": "use a finite number (not .inf or .nan)",
        "missing": f"add a value for {field_name}",
        "extra_forbidden": f"remove {field_name!r} or correct its spelling",
        "greater_than_equal": f"use a value >= {_number((ctx or {}).get('ge'), '0')}",
        "greater_than": f"use a value > {_number((ctx or {}).get('gt'), '0')}",
        "less_than_equal": f"use a value <= {_number((ctx or {}).get('le'))}",
        "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
        "date_parsing": "write the date as YYYY-MM-DD",
        "enum": "use one of the listed values",
    }
    for key, fix in fixes.items():
        if err_type.startswith(key):
            return fix
    return f"correct {field_name}"


def _validate(raw: RawTables, section: str) -> list[tuple[RawRow, Row]]:
    """Rows that pass their schema; the others become issues, except where the reader
    already said what is wrong with that field (a missing column, a formula cell)."""
    model = SECTIONS[section]
    said = {(i.record, i.field) for i in raw.issues if i.section == section and i.field}
    out: list[tuple[RawRow, Row]] = []
    for r in raw.rows.get(section, []):
        try:
            out.append((r, model.model_validate(r.values)))
        except ValidationError as e:
            for err in e.errors():
                fld = ".".join(str(x) for x in err["loc"]) or "?"
                if ("", fld) in said or (r.label, fld) in said:
                    continue
                got = err.get("input")
                got_s = "" if err["type"] == "missing" or isinstance(got, dict) or (
                    isinstance(got, str) and got.strip() and got.strip() in err["msg"]) \
                    else f", got {short_repr(got)}"
                raw.issues.append(Issue(section, r.label, fld, f"{err['msg']}{got_s}",
                                        _fix_for(err["type"], fld, err.get("ctx")),
                                        raw.file_of(section)))
    return out


_REFERRED = {"item": "items", "site": "sites", "supplier": "suppliers",
             "customer": "customers"}
_UNKNOWN = re.compile(r"unknown (item|site|supplier|customer) '")
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d+(?:[.,:/-]\d+)*")
MAX_ALIKE = 3
"""Issues of one kind in one field shown one by one; more are shown as one line."""


def _missing_sections(issues: list[Issue], sc: Scenario, raw: RawTables) -> list[Issue]:
    """One issue per referenced section that is missing, instead of every unknown id in it
    (when there are more than `MAX_ALIKE` of them: a few are clearer one by one)."""
    def missing(i: Issue) -> str:
        m = _UNKNOWN.match(i.message)
        section = _REFERRED[m.group(1)] if m else ""
        return section if section and not getattr(sc, section) and not raw.rows.get(section) \
            else ""
    taken: dict[str, list[Issue]] = {}
    for i in issues:
        if section := missing(i):
            taken.setdefault(section, []).append(i)
    taken = {s: refs for s, refs in taken.items() if len(refs) > MAX_ALIKE}
    out = [i for i in issues if missing(i) not in taken]
    for section, refs in taken.items():
        fields = sorted({f"{i.section}.{i.field}" for i in refs})
        out.append(Issue(section, "", "", f"no {section} given, but {len(refs)} "
                         f"references name one ({', '.join(fields)})",
                         f"add the {section} section (or {section}.csv, or a sheet named "
                         f"{section})", raw.file_of(section)))
    return out


def collapse_alike(issues: list[Issue]) -> list[Issue]:
    """Issues saying the same thing about the same field of many records, as one line each."""
    groups: dict[tuple[object, ...], list[Issue]] = {}
    for i in issues:
        key = (i.severity, i.file, i.section, i.field, _VALUES.sub("…", i.message))
        groups.setdefault(key, []).append(i)
    out: list[Issue] = []
    for group in groups.values():
        if len(group) <= MAX_ALIKE:
            out += group
            continue
        first, rest = group[0], group[1:]
        names = ", ".join(i.record or "?" for i in rest[:MAX_ALIKE])
        more = ", …" if len(rest) > MAX_ALIKE else ""
        out.append(replace(first, message=f"{first.message}; the same in {len(rest)} more "
                           f"records ({names}{more})"))
    return out


#: how each section's checked row becomes its record (the row's schema is `SECTIONS`)
RECORDS: dict[str, Callable[[Any], Any]] = {
    "items": lambda r: Item(r.id, r.name, r.kind, r.unit_cost, r.origin, r.holding_cost,
                            r.serialized, r.serial_pattern, r.revision),
    "boms": lambda r: BomLine(r.parent, r.item, r.qty, r.from_, r.until),
    "routings": lambda r: RoutingStep(r.item, r.work_center, r.hours, r.from_, r.until),
    "sites": lambda r: Site(r.id, r.country, r.name, tuple(r.makes), r.location),
    "work_centers": lambda r: WorkCenter(r.site, r.type, r.hours, r.from_, tuple(r.ramp),
                                         r.batch),
    "suppliers": lambda r: Supplier(r.id, r.country, r.name),
    "offers": lambda r: Offer(r.supplier, r.item, r.price, r.lead_time, r.capacity, r.moq,
                              r.multiple),
    "customers": lambda r: Customer(r.id, r.country, r.name, r.approved),
    "lanes": lambda r: Lane(r.from_, r.to, r.transit, r.cost, r.capacity),
    "inventory": lambda r: InventoryRecord(r.site, r.item, r.qty),
    "demand": lambda r: Demand(r.id, r.customer, r.item, r.qty, r.due, r.priority),
    "disruptions": lambda r: Disruption(r.id, r.target, r.from_, r.buckets, r.capacity,
                                        r.work_center),
    "recovery": lambda r: Recovery(r.target, r.days),
    "risks": lambda r: Risk(r.id, r.target, r.rate, r.duration, r.dist, r.duration_max,
                            r.capacity),
    "test_plans": lambda r: TestPlan(r.item, r.step, r.required, r.min, r.max),
    "licences": lambda r: Licence(r.id, r.customer, r.country, tuple(r.items), r.qty,
                                  r.from_, r.until, r.euc, r.status, r.authority),
    "mitigations": lambda r: Mitigation(
        r.id, r.kind, r.cost, r.available_after, r.supplier, r.country, r.item, r.price,
        r.lead_time, r.capacity, r.transit, r.site, r.work_center, r.hours, tuple(r.ramp),
        r.qty, r.holding_cost, r.from_, r.to, r.lane_cost),
}


def record_of(section: str, values: dict[str, Any]) -> Any:
    """One row of `section` (columns as in the scenario files) checked against its schema
    and made its record, as `build_scenario` makes each; a bad field raises pydantic's
    `ValidationError`."""
    return RECORDS[section](SECTIONS[section].model_validate(values))


def raw_of_tables(tables: Mapping[str, list[dict[str, Any]]], source: str,
                  label: Callable[[str, Mapping[str, Any]], str] | None = None) -> RawTables:
    """Tables in the scenario files' columns (`scenario_tables`) as rows to check, as a
    reader would have read them from `source`; `label` names a row's record in messages
    (default: its id)."""
    raw = RawTables(source)
    for section, rows in tables.items():
        for r in rows:
            name = "" if section == "scenario" else \
                label(section, r) if label is not None else str(r.get("id") or "?")
            raw.add(section, name, dict(r))
    return raw


def build_scenario(raw: RawTables) -> Scenario:
    """Check every row and every cross-reference; raise `ScenarioError` with all issues."""
    if raw.full:  # over a limit: say so before spending minutes validating the rest
        errors, warnings = split_issues(raw.issues)
        raise ScenarioError(errors, warnings)
    v = {s: [row for _, row in _validate(raw, s)] for s in SECTIONS}
    meta = v["scenario"]
    if not meta and not raw.unreadable and not any(i.section == "scenario"
                                                   for i in raw.issues):
        raw.issues.append(Issue("scenario", "", "horizon", "no horizon given",
                                "add horizon: {start: YYYY-MM-DD, bucket: week, buckets: N}",
                                raw.file_of("scenario")))
    if not meta:
        errors, warnings = split_issues(collapse_alike(raw.issues))
        raise ScenarioError(errors, warnings)
    if len(meta) > 1:
        raw.issues.append(Issue("scenario", "", "", f"{len(meta)} rows; a scenario has one "
                                "horizon", "keep one row: the others would be dropped",
                                raw.file_of("scenario")))
    m = meta[0]
    assert isinstance(m, ScenarioRow)
    sc = Scenario(name=m.scenario, horizon=Horizon(m.start, m.bucket, m.buckets),
                  **{s: tuple(make(r) for r in v[s]) for s, make in RECORDS.items()})
    # cross-record rules run on the sound rows too, so every problem is listed at once;
    # an id whose own row was rejected is not reported again as unknown
    flagged = {i.record for i in raw.issues if not i.is_warning}
    rejected = {repr(str(r.values.get("id"))) for rows in raw.rows.values() for r in rows
                if r.label in flagged and r.values.get("id")}
    issues = [i.located(raw.file_of(i.section)) for i in check_scenario(sc)
              if not (i.message.startswith("unknown") and
                      i.message.split(" ", 2)[-1] in rejected)]
    errors, warnings = split_issues(collapse_alike(_missing_sections(raw.issues + issues,
                                                                     sc, raw)))
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
                   "holding_cost": _num(i.holding_cost), "serialized": i.serialized,
                   "serial_pattern": i.serial_pattern, "revision": i.revision}
                  for i in sc.items],
        "boms": [{"parent": b.parent, "item": b.item, "qty": _num(b.qty), "from": b.start,
                  "until": b.until} for b in sc.boms],
        "routings": [{"item": r.item, "work_center": r.work_center, "hours": _num(r.hours),
                      "from": r.start, "until": r.until} for r in sc.routings],
        "sites": [{"id": s.id, "name": s.name, "country": s.country, "makes": list(s.makes),
                   "location": s.location} for s in sc.sites],
        "work_centers": [{"site": w.site, "type": w.type, "hours": _num(w.hours),
                          "from": w.start, "ramp": [_num(f) for f in w.ramp],
                          "batch": w.batch}
                         for w in sc.work_centers],
        "suppliers": [{"id": s.id, "name": s.name, "country": s.country}
                      for s in sc.suppliers],
        "offers": [{"supplier": o.supplier, "item": o.item, "price": _num(o.price),
                    "lead_time": o.lead_time, "capacity": _num(o.capacity),
                    "moq": _num(o.moq), "multiple": o.multiple}
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
                         "buckets": x.buckets, "capacity": _num(x.capacity),
                         "work_center": x.work_center}
                        for x in sc.disruptions],
        "recovery": [{"target": r.target, "days": _num(r.days)} for r in sc.recovery],
        "risks": [{"id": r.id, "target": r.target, "rate": _num(r.rate), "dist": str(r.dist),
                   "duration": r.duration, "duration_max": r.duration_max,
                   "capacity": _num(r.capacity)} for r in sc.risks],
        "test_plans": [{"item": t.item, "step": t.step, "required": t.required,
                        "min": _num(t.min), "max": _num(t.max)} for t in sc.test_plans],
        "licences": [{"id": x.id, "customer": x.customer, "country": x.country,
                      "items": list(x.items), "qty": _num(x.qty), "from": x.start,
                      "until": x.until, "euc": x.euc, "status": str(x.status),
                      "authority": x.authority} for x in sc.licences],
        "mitigations": [{"id": m.id, "kind": str(m.kind), "cost": _num(m.cost),
                         "available_after": m.available_after, "supplier": m.supplier,
                         "country": m.country, "item": m.item, "price": _num(m.price),
                         "lead_time": m.lead_time, "capacity": _num(m.capacity),
                         "transit": m.transit, "site": m.site, "work_center": m.work_center,
                         "hours": _num(m.hours), "ramp": [_num(f) for f in m.ramp],
                         "qty": _num(m.qty), "holding_cost": _num(m.holding_cost),
                         "from": m.origin, "to": m.destination,
                         "lane_cost": _num(m.lane_cost)} for m in sc.mitigations],
    }
    for section, rows in t.items():
        cols = columns(section)
        assert all(list(r) == cols for r in rows), section
    return t
