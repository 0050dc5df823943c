"""Trace: which units contain a lot or a unit (down), and what a unit is made of (up).

Each is one recursive statement on the genealogy (`fabnet.shop.genealogy_sql`), built
once; down then reads the few shipments it names, up the operations and tests of the
unit and its parts. A site manager sees the units of their own sites, cut in SQL, and is
told how many others there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.services.floor import _floor, _scenario_id
from fabnet.shop.genealogy import Component, Contained, OperationRecord
from fabnet.shop.roles import Caller, FloorAction
from fabnet.shop.testing import TestResult
from fabnet.store import NotFound, Store


@dataclass(frozen=True)
class TraceDown:
    """Every unit containing `ref` (a lot code or a serial), with where it went."""

    ref: str
    units: tuple[Contained, ...]
    hidden: int = 0  # units at sites the caller does not see


@dataclass(frozen=True)
class TraceUp:
    """What unit `serial` is made of, with its operations and tests (and its parts')."""

    serial: str
    item: str
    components: tuple[Component, ...]
    operations: tuple[OperationRecord, ...]
    tests: tuple[TestResult, ...]


def trace_down(store: Store, caller: Caller, ref: str, scenario: str | None = None
               ) -> TraceDown:
    """Every unit that contains the lot (every lot with that code) or unit, at any depth;
    a caller limited to some sites gets theirs, the others only counted (in SQL)."""
    caller.check(FloorAction.TRACE)
    with store.unit_of_work(read_only=True) as uow:
        floor = _floor(uow)
        unit_ids = list(floor.unit_ids([ref]).values())
        lot_ids: list[int] = []
        if not unit_ids:
            sid, _ = _scenario_id(uow, scenario)
            lot_ids = floor.lot_ids(sid, ref)
            if not lot_ids:
                raise NotFound(f"no lot or serial {ref!r} (fix: check the code)")
        seen, hidden = floor.contained_in(lot_ids, unit_ids, caller.sites)
    return TraceDown(ref, tuple(seen), hidden)


def trace_up(store: Store, caller: Caller, serial: str) -> TraceUp:
    """A unit's whole tree down to the suppliers' lots, its operations and tests."""
    caller.check(FloorAction.TRACE)
    with store.unit_of_work(read_only=True) as uow:
        floor = _floor(uow)
        unit, parts, ops, tests = floor.whole_tree(serial)
        caller.check(FloorAction.TRACE, unit.site)  # before anything of it leaves here
    return TraceUp(serial, unit.item, tuple(parts), tuple(ops), tuple(tests))
