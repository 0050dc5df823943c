"""Scenario records to table rows and JSON, and back: the store's one adapter to the domain.

Each section of a scenario (`items`, `lanes`, …) is a tuple of one frozen dataclass;
its table has a column per dataclass field, so the mapping is read off the dataclass
itself. JSON (branch changes, audit entries, content hashes) uses the same fields with
dates as ISO strings, and canonical JSON (sorted keys, no spaces) wherever it is hashed.
"""

from __future__ import annotations

import hashlib
import json
import types
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import Any, Union, get_args, get_origin, get_type_hints

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
from fabnet.store.records import SectionRecord

# section of the scenario contract -> record type; the Scenario attribute has the same name
SECTIONS: dict[str, type[SectionRecord]] = {
    "items": Item,
    "boms": BomLine,
    "routings": RoutingStep,
    "sites": Site,
    "work_centers": WorkCenter,
    "suppliers": Supplier,
    "offers": Offer,
    "customers": Customer,
    "lanes": Lane,
    "inventory": InventoryRecord,
    "demand": Demand,
    "disruptions": Disruption,
    "recovery": Recovery,
    "risks": Risk,
    "test_plans": TestPlan,
    "licences": Licence,
    "mitigations": Mitigation,
}

#: fields a section gained after versions were first stored and hashed, with their
#: defaults: a stored value at its default is left out of content hashes (so versions
#: stored before the field hash as they did), and a JSON record without it (an older
#: branch change) reads as the default
LATER_FIELDS: dict[str, dict[str, Any]] = {
    "items": {"serialized": False, "serial_pattern": None, "revision": None},
    "boms": {"start": None, "until": None},
    "routings": {"start": None, "until": None},
    "disruptions": {"work_center": None},
    "work_centers": {"batch": None},
    "offers": {"moq": None, "multiple": None},
}
#: sections added after versions were first hashed: left out of a hash while empty
LATER_SECTIONS = frozenset({"test_plans", "licences", "mitigations"})


def check_section(section: str) -> type[SectionRecord]:
    """The record type of `section`, or a `KeyError` that lists the sections."""
    try:
        return SECTIONS[section]
    except KeyError:
        raise KeyError(f"unknown section {section!r} (one of: {', '.join(SECTIONS)})") from None


def key_of(section: str, rec: SectionRecord) -> str:
    """The key a row is known by in its section, as validation messages name it:
    the id, `PARENT/ITEM` for BOM lines, `SITE/TYPE` for work centers, `A>B` for lanes."""
    match rec:
        case BomLine():
            return f"{rec.parent}/{rec.item}"
        case RoutingStep():
            return f"{rec.item}/{rec.work_center}"
        case WorkCenter():
            return f"{rec.site}/{rec.type}"
        case Offer():
            return f"{rec.supplier}/{rec.item}"
        case InventoryRecord():
            return f"{rec.site}/{rec.item}"
        case Recovery():
            return rec.target
        case TestPlan():
            return f"{rec.item}/{rec.step}"
        case Lane():
            return rec.id
        case _:
            return rec.id


def section_records(sc: Scenario, section: str) -> tuple[SectionRecord, ...]:
    """The records of one section of a scenario."""
    out: tuple[SectionRecord, ...] = getattr(sc, section)
    return out


Decoder = Callable[[Any], Any]


def _decoder(hint: Any) -> Decoder:
    """How to turn a stored value (DB column or JSON) into the field's Python type."""
    optional = False
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        optional, hint = True, args[0]
    if get_origin(hint) is tuple:
        inner = _decoder(get_args(hint)[0])
        base: Decoder = lambda v: tuple(inner(x) for x in v)  # noqa: E731
    elif isinstance(hint, type) and issubclass(hint, Enum):
        base = hint
    elif hint is date:
        base = lambda v: v if isinstance(v, date) else date.fromisoformat(v)  # noqa: E731
    elif hint in (float, int, bool, str):
        base = hint
    else:  # pragma: no cover - a new field type needs a decoder here
        raise TypeError(f"no decoder for {hint!r}")
    if optional:
        return lambda v: None if v is None else base(v)
    return base


@cache
def _fields(section: str) -> tuple[tuple[str, Decoder], ...]:
    cls = SECTIONS[section]
    hints = get_type_hints(cls)
    return tuple((f.name, _decoder(hints[f.name])) for f in fields(cls))


_SECTION_OF: dict[type, str] = {cls: s for s, cls in SECTIONS.items()}


def section_of(rec: SectionRecord) -> str:
    """The section a record belongs in."""
    return _SECTION_OF[type(rec)]


_PLAIN = frozenset((str, int, float, bool, type(None)))


def _plain(v: Any, iso_dates: bool) -> Any:
    if type(v) in _PLAIN:  # most values: checked first, by exact type
        return v
    if isinstance(v, tuple):
        return [_plain(x, iso_dates) for x in v]
    if isinstance(v, Enum):
        return v.value
    if iso_dates and isinstance(v, date):
        return v.isoformat()
    return v


@cache
def _layout(section: str) -> tuple[tuple[str, ...], Callable[[Any], Any], tuple[int, ...]]:
    """A section's field names, a getter of all their values at once (in C), and the
    places of the fields whose values may need `_plain` (all but text, numbers, flags)."""
    cls = SECTIONS[section]
    hints = get_type_hints(cls)
    names = tuple(f.name for f in fields(cls))
    plain = {str, int, float, bool, type(None)}

    def is_plain(hint: Any) -> bool:
        if get_origin(hint) in (Union, types.UnionType):
            return all(is_plain(a) for a in get_args(hint))
        return hint in plain
    get = attrgetter(*names)
    getter = get if len(names) > 1 else lambda rec: (get(rec),)
    return names, getter, tuple(i for i, n in enumerate(names) if not is_plain(hints[n]))


def _values(rec: SectionRecord, iso_dates: bool) -> dict[str, Any]:
    names, getter, special = _layout(section_of(rec))
    values = getter(rec)
    if special:
        values = list(values)
        for i in special:
            values[i] = _plain(values[i], iso_dates)
    return dict(zip(names, values, strict=True))


def record_row(rec: SectionRecord) -> dict[str, Any]:
    """A record as a table row: one value per field, lists for tuples, enums as text."""
    return _values(rec, False)


def record_json(rec: SectionRecord) -> dict[str, Any]:
    """A record as a JSON object (dates as YYYY-MM-DD)."""
    return _values(rec, True)


def hashed_json(rec: SectionRecord) -> dict[str, Any]:
    """A record as content hashes see it: `record_json` without the later-added fields
    that are at their defaults (see `LATER_FIELDS`)."""
    doc = record_json(rec)
    for name, default in LATER_FIELDS.get(section_of(rec), {}).items():
        if doc.get(name) == default:
            del doc[name]
    return doc


def record_from(section: str, values: Any) -> SectionRecord:
    """A section's record from a table row or a JSON object (extra keys are ignored; a
    later-added field that is missing takes its default)."""
    cls = check_section(section)
    later = LATER_FIELDS.get(section, {})
    return cls(**{name: dec(values[name]) if name in values or name not in later
                  else later[name] for name, dec in _fields(section)})


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return _CANONICAL.encode(value)


def _json_default(v: Any) -> Any:
    """Dates, enums and sets as JSON values (the encoder calls it for what it can't write)."""
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, tuple | set | frozenset):
        return list(v)
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def scenario_json(sc: Scenario) -> dict[str, Any]:
    """The whole scenario as one JSON object (sections as lists of records), as content
    hashes see it (`hashed_json`; later sections only when used)."""
    h = sc.horizon
    doc: dict[str, Any] = {"name": sc.name, "horizon": {"start": h.start.isoformat(),
                                                        "bucket": h.bucket.value,
                                                        "buckets": h.buckets}}
    for section in SECTIONS:
        records = section_records(sc, section)
        if records or section not in LATER_SECTIONS:
            doc[section] = [hashed_json(r) for r in records]
    return doc


def content_sha256(sc: Scenario) -> str:
    """A fingerprint of a scenario's content: equal scenarios, equal hashes."""
    return hashlib.sha256(canonical_json(scenario_json(sc)).encode()).hexdigest()


def row_counts(sc: Scenario) -> dict[str, int]:
    """Rows per non-empty section."""
    return {s: len(section_records(sc, s)) for s in SECTIONS if section_records(sc, s)}


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False, default=_json_default)
"""One encoder for every canonical text: `json.dumps` with options makes one per call."""

