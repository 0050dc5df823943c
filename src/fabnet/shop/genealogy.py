"""Genealogy: what went into what. One edge per component put into a unit (or into a lot
a non-serialized build made), with its quantity, when it went in and, after a repair
swapped it out, when it came out.

Traced both ways: down from a lot or a unit to every unit that contains it, at any depth
(a recall: which drones carry battery lot L?), and up from a unit to everything it is
made of, down to the suppliers' lots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class Contained:
    """A unit that contains the traced lot or unit, `depth` levels up, and where it went.

    Not frozen: a trace down of one lot makes one per unit, tens of thousands, and a
    frozen dataclass takes five times as long to make; the trace fills in the shipment's
    customer and time once it has read them, and nothing changes one after that."""

    serial: str
    item: str
    site: str
    status: str
    depth: int
    shipment: int | None = None
    customer: str | None = None
    shipped_at: datetime | None = None


def first_of_each(found: list[Contained]) -> list[Contained]:
    """Each unit once, at its first row: the trace reads them by depth, so a unit reached
    by paths of different lengths (a lot in a drone directly and through its pack) keeps
    its shortest."""
    if len({u.serial for u in found}) == len(found):
        return found
    kept: set[str] = set()
    first = []
    for u in found:
        if u.serial not in kept:
            kept.add(u.serial)
            first.append(u)
    return first


@dataclass(frozen=True)
class Component:
    """A component in the traced unit's tree: `parent` holds `qty` of `item`, a unit
    (`serial`) or a lot (`lot`, with its supplier), `depth` levels down."""

    depth: int
    parent: str
    item: str
    qty: float
    serial: str | None = None
    lot: str | None = None
    supplier: str | None = None
    site: str = ""
    held: bool = False
    added_at: datetime | None = None


@dataclass(frozen=True)
class OperationRecord:
    """An operation done on a unit: work center, operator, start and end."""

    serial: str
    seq: int
    work_center: str
    operator: str
    started_at: datetime
    ended_at: datetime
