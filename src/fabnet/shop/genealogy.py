"""Genealogy: what went into what. One edge per component put into a unit (or into a lot
a non-serialized build made), with its quantity, when it went in and, after a repair
swapped it out, when it came out.

Traced both ways: down from a lot or a unit to every unit that contains it, at any depth
(a recall: which drones carry battery lot L?), and up from a unit to everything it is
made of, down to the suppliers' lots.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

_pause_lock = threading.Lock()
_pause = {"count": 0, "was_on": True}  # reads holding the collector off; was it on


@contextmanager
def collection_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector off while a trace makes its answer.

    A down trace makes tens of thousands of rows and units, none in a reference cycle,
    so the collector has nothing to find in them; but allocating them sets it off, and a
    full collection walks every object of the process (about 100 ms with fabnet loaded),
    which made one trace in ten take twice the median. Nested and threaded reads count
    the pauses, so the collector comes back on when the last one ends, and only if it
    was on before the first."""
    with _pause_lock:
        if _pause["count"] == 0:
            _pause["was_on"] = gc.isenabled()
            gc.disable()
        _pause["count"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause["count"] -= 1
            if _pause["count"] == 0 and _pause["was_on"]:
                gc.enable()


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
