"""Import a chain of Willems' data set (MSOM 2008) as a fabnet scenario.

Conventions (also the defaults of `fabnet stress tts --willems`):
- every stage is a site making an item of its own name; `Part_*` stages have no inputs;
- each upstream pair (stage, qty) is a required input: a BOM line and a lane to the stage;
- external demand per day = `ext_demand_mean` where given, delivered to a customer
  `C-<stage>`; derived demand propagates upstream through the BOM quantities;
- capacity per day = `capacity_factor` (1.25) × derived demand, as a `process` work
  center with one hour per unit;
- stock at every stage = `stock_days` (default: the stage's own `lead_time`) × its
  derived demand; TTR = `ttr` (28) days for every node; time unit: day (weekly buckets).
"""

from __future__ import annotations

import csv
import math
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fabnet.io.limits import MAX_AMOUNT, MAX_FILE_BYTES, MAX_RECORDS
from fabnet.io.tables import build_scenario, raw_of_tables, scenario_tables
from fabnet.model.errors import FabnetError
from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.scenario import (
    BomLine,
    Customer,
    Demand,
    InventoryRecord,
    Item,
    ItemKind,
    Lane,
    Recovery,
    RoutingStep,
    Scenario,
    Site,
    WorkCenter,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

START = date(2027, 1, 4)
WEEKS = 52
DEMAND_EVERY_WEEKS = 4


@dataclass(frozen=True)
class Stage:
    """One row of a Willems chain."""

    id: str
    lead_time: float
    demand: float
    inputs: tuple[tuple[str, float], ...]


def _amount(text: str, field: str, positive: bool = False) -> float:
    """A number of a Willems row: finite, >= 0 (> 0 where `positive`), at most 1e12."""
    value = float(text)
    low = "> 0" if positive else ">= 0"
    if not math.isfinite(value) or value < 0 or (positive and value == 0) or \
            value > MAX_AMOUNT:
        raise ValueError(f"{field}: {text.strip()!r} is not a number {low} and at most "
                         f"{MAX_AMOUNT:g}")
    return value


def read_stages(path: Path) -> list[Stage]:
    """Parse a `willems_NN.csv` file; errors name the file, row and field."""
    if not path.exists():
        raise FabnetError(f"{path}: no such file (fix: check the path)")
    if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
        raise FabnetError(f"{path}: {path.stat().st_size:,} bytes, over the "
                          f"{MAX_FILE_BYTES:,} a chain may have (fix: check the file; a "
                          "chain of the data set is a few kilobytes)")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            out = _stages(path, csv.reader(f))
    except UnicodeDecodeError as e:
        raise FabnetError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}) (fix: "
                          "save the chain as a UTF-8 CSV file)") from None
    except csv.Error as e:
        raise FabnetError(f"{path}: not a CSV file ({e}) (fix: use a file of the Willems "
                          "data set)") from None
    known = {s.id for s in out}
    for s in out:
        for up, _ in s.inputs:
            if up not in known:
                raise FabnetError(f"{path}: stage {s.id}: unknown upstream stage {up!r} "
                                  "(fix: every upstream stage needs its own row)")
    return out


def _stages(path: Path, rows: Iterator[list[str]]) -> list[Stage]:
    """The stages of the rows after the header, each number checked."""
    header = next(rows, [])
    if header[:1] != ["stage_id"]:
        raise FabnetError(f"{path}: row 1: expected a header starting with stage_id "
                          "(fix: use a file of the Willems data set)")
    out: list[Stage] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        if not row or not row[0].strip():
            continue
        if len(out) >= MAX_RECORDS:
            raise FabnetError(f"{path}: over {MAX_RECORDS:,} stages (fix: check the file; "
                              "the data set's largest chain has a few thousand)")
        sid = row[0].strip()
        try:
            lead = _amount(row[1] or "0", "lead_time") if len(row) > 1 else 0.0
            dem = _amount(row[5], "ext_demand_mean") if len(row) > 5 and row[5].strip() \
                else 0.0
            pairs = [c for c in row[8:] if c.strip()]
            if len(pairs) % 2:
                raise ValueError("up_stages: an upstream stage without its quantity")
            inputs = tuple((pairs[i].strip(), _amount(pairs[i + 1], "upstream quantity",
                                                      positive=True))
                           for i in range(0, len(pairs), 2))
        except ValueError as e:
            raise FabnetError(f"{path}: row {n} ({sid[:64]}): {e} (fix: numbers in "
                              "lead_time, ext_demand_mean and the upstream quantities)"
                              ) from None
        if sid in seen:
            raise FabnetError(f"{path}: row {n}: stage {sid[:64]!r} has a row already (fix: "
                              "give each stage one row)")
        seen.add(sid)
        out.append(Stage(sid, lead, dem, inputs))
    return out


def derived_demand(stages: list[Stage]) -> dict[str, float]:
    """External demand plus what downstream stages need of each stage, per day.

    Worked out from the most downstream stages up, in one pass (no recursion, so a chain
    of any length is fine); a chain with a cycle is refused."""
    down: dict[str, list[tuple[str, float]]] = {s.id: [] for s in stages}
    for s in stages:
        for up, q in s.inputs:
            down[up].append((s.id, q))
    waiting = {sid: len(d) for sid, d in down.items()}
    ready = deque(sid for sid, k in waiting.items() if k == 0)
    by_id = {s.id: s for s in stages}
    need: dict[str, float] = {}
    while ready:
        sid = ready.popleft()
        need[sid] = by_id[sid].demand + sum(q * need[k] for k, q in down[sid])
        for up, _ in by_id[sid].inputs:
            waiting[up] -= 1
            if waiting[up] == 0:
                ready.append(up)
    if len(need) < len(stages):
        stuck = next(s.id for s in stages if s.id not in need)
        raise FabnetError(f"stage {stuck}: the chain has a cycle (fix: check up_stages)")
    return {s.id: need[s.id] for s in stages}


def willems_scenario(path: Path, capacity_factor: float = 1.25,
                     stock_days: float | None = None, ttr: float = 28.0) -> Scenario:
    """The scenario of one Willems chain under the conventions in the module docstring."""
    for name, value, low in (("--capacity-factor", capacity_factor, 0.0), ("--ttr", ttr, 0.0),
                             ("--stock-days", stock_days, -1.0)):
        if value is not None and not (math.isfinite(value) and low < value <= MAX_AMOUNT):
            raise FabnetError(f"{name} {value}: must be a finite number "
                              f"{'>= 0' if low < 0 else '> 0'} (fix: e.g. 1.25 capacity "
                              "factor, 28 days to recover, 14 days of stock)")
    stages = read_stages(path)
    dd = derived_demand(stages)
    horizon = Horizon(START, BucketKind.WEEK, WEEKS)
    week = 7.0
    items, sites, wcs, routings, boms, lanes, inv = [], [], [], [], [], [], []
    customers, demand = [], []
    for s in stages:
        kind = ItemKind.PRODUCT if s.demand > 0 else (
            ItemKind.COMPONENT if not s.inputs else ItemKind.ASSEMBLY)
        items.append(Item(s.id, s.id, kind))
        sites.append(Site(s.id, "ZZ", s.id, (s.id,)))
        wcs.append(WorkCenter(s.id, "process", capacity_factor * dd[s.id] * week))
        routings.append(RoutingStep(s.id, "process", 1.0))
        for up, q in s.inputs:
            boms.append(BomLine(s.id, up, q))
            lanes.append(Lane(up, s.id, 0))
        days = s.lead_time if stock_days is None else stock_days
        if days * dd[s.id] > 0:
            inv.append(InventoryRecord(s.id, s.id, days * dd[s.id]))
        if s.demand > 0:
            cid = f"C-{s.id}"
            customers.append(Customer(cid, "ZZ", cid, True))
            lanes.append(Lane(s.id, cid, 0))
            for k in range(0, WEEKS, DEMAND_EVERY_WEEKS):
                due = START + timedelta(weeks=k + DEMAND_EVERY_WEEKS - 1)
                demand.append(Demand(f"{s.id}-{k // DEMAND_EVERY_WEEKS + 1:02d}", cid, s.id,
                                     s.demand * week * DEMAND_EVERY_WEEKS, due))
    sc = Scenario(
        name=f"Willems {path.stem}", horizon=horizon, items=tuple(items), boms=tuple(boms),
        routings=tuple(routings), sites=tuple(sites), work_centers=tuple(wcs),
        customers=tuple(customers), lanes=tuple(lanes), inventory=tuple(inv),
        demand=tuple(demand), recovery=(Recovery("default", ttr),),
    )
    # every row and rule checked as a scenario file is, so an import never writes (or
    # sweeps) a scenario that `fabnet validate` would refuse
    return build_scenario(raw_of_tables(scenario_tables(sc), str(path)))
