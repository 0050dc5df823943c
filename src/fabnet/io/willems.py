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
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

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


def read_stages(path: Path) -> list[Stage]:
    """Parse a `willems_NN.csv` file; errors name the file, row and field."""
    if not path.exists():
        raise FabnetError(f"{path}: no such file (fix: check the path)")
    out: list[Stage] = []
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows, [])
        if header[:1] != ["stage_id"]:
            raise FabnetError(f"{path}: row 1: expected a header starting with stage_id "
                              "(fix: use a file of the Willems data set)")
        for n, row in enumerate(rows, start=2):
            if not row or not row[0].strip():
                continue
            try:
                lead = float(row[1] or 0)
                dem = float(row[5]) if len(row) > 5 and row[5].strip() else 0.0
                pairs = [c for c in row[8:] if c.strip()]
                if len(pairs) % 2:
                    raise ValueError("up_stages: an upstream stage without its quantity")
                inputs = tuple((pairs[i].strip(), float(pairs[i + 1]))
                               for i in range(0, len(pairs), 2))
            except (ValueError, IndexError) as e:
                raise FabnetError(f"{path}: row {n} ({row[0]}): {e} "
                                  "(fix: numbers in lead_time, ext_demand_mean and the "
                                  "upstream quantities)") from None
            out.append(Stage(row[0].strip(), lead, dem, inputs))
    known = {s.id for s in out}
    for s in out:
        for up, _ in s.inputs:
            if up not in known:
                raise FabnetError(f"{path}: stage {s.id}: unknown upstream stage {up!r} "
                                  "(fix: every upstream stage needs its own row)")
    return out


def derived_demand(stages: list[Stage]) -> dict[str, float]:
    """External demand plus what downstream stages need of each stage, per day."""
    down: dict[str, list[tuple[str, float]]] = {s.id: [] for s in stages}
    for s in stages:
        for up, q in s.inputs:
            down[up].append((s.id, q))
    own = {s.id: s.demand for s in stages}
    memo: dict[str, float] = {}

    def need(sid: str, depth: int = 0) -> float:
        if depth > len(stages):
            raise FabnetError(f"stage {sid}: the chain has a cycle (fix: check up_stages)")
        if sid not in memo:
            memo[sid] = own[sid] + sum(q * need(k, depth + 1) for k, q in down[sid])
        return memo[sid]

    return {s.id: need(s.id) for s in stages}


def willems_scenario(path: Path, capacity_factor: float = 1.25,
                     stock_days: float | None = None, ttr: float = 28.0) -> Scenario:
    """The scenario of one Willems chain under the conventions in the module docstring."""
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
    return Scenario(
        name=f"Willems {path.stem}", horizon=horizon, items=tuple(items), boms=tuple(boms),
        routings=tuple(routings), sites=tuple(sites), work_centers=tuple(wcs),
        customers=tuple(customers), lanes=tuple(lanes), inventory=tuple(inv),
        demand=tuple(demand), recovery=(Recovery("default", ttr),),
    )
