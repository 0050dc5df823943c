"""Planning: the LP built from a `Network`, solved level by level, read back as a `Plan`."""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from typing import Any

from fabnet.model.errors import FabnetError
from fabnet.model.network import Network
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.plan import (
    PLAN_COLUMNS,
    Plan,
    ReadBack,
    assemble_plan,
    demand_outcome,
    settle_solution,
)
from fabnet.plan.reference import reference_values
from fabnet.plan.shortfall import explain_shortfalls
from fabnet.plan.solve import LexicographicSolver, PlanResult, PlanStatus, solve_lp

__all__ = ["PLAN_COLUMNS", "LexicographicSolver", "Plan", "PlanResult", "PlanStatus",
           "PlanningLP", "build_lp", "make_plan", "read_back", "solve_lp"]


def read_back(net: Network, lp: PlanningLP, result: PlanResult,
              readback: ReadBack | None = None) -> Plan:
    """The `Plan` of a solved LP: its solution settled once (with `readback`'s parts, made
    for an LP of this structure, when given), then shortfall reasons, tables and KPIs all
    read from that one written solution."""
    x = settle_solution(net, lp, result.x, readback)
    outcome = demand_outcome(net, lp, x, settled=True)
    short = explain_shortfalls(net, lp, result, outcome["late"], outcome["lost"])
    return assemble_plan(net, lp, result, short, settled=x, outcome=outcome)


def make_plan(net: Network, threads: int | None = None,
              reference: Mapping[str, Any] | None = None, frozen: int = 0,
              keep: Hashable | None = None) -> Plan:
    """Build, solve and read back the plan for a compiled network.

    `reference` (a plan document, plan.json's form) adds the last level: the optimal plan
    closest to it; `frozen` keeps its flows in the first `frozen` buckets. With `keep` (a
    stored scenario's key), the model is kept (`plan.kept.KEPT`) and the next plan under
    the same key, when only capacities changed, re-solves it warm: the same levels.
    """
    from fabnet.plan.kept import KEPT

    t0 = time.perf_counter()
    # a kept model's LP with only capacities changed is copied with the new bounds
    lp = build_lp(net) if keep is None else KEPT.lp_for(keep, net)
    ref = reference_values(net, lp, reference) if reference is not None else None
    build_s = time.perf_counter() - t0
    readback: ReadBack | None = None
    if keep is None:
        result = solve_lp(lp, threads, ref, frozen)
    else:
        result, _, readback = KEPT.solve_kept(keep, net, lp, threads, ref, frozen)
        if result.status is PlanStatus.ERROR:
            raise FabnetError("the solver failed on the planning LP (fix: report this "
                              "scenario)")
    t1 = time.perf_counter()
    plan = read_back(net, lp, result, readback)
    plan.kpis["build_seconds"] = round(build_s, 4)
    plan.kpis["readback_seconds"] = round(time.perf_counter() - t1, 4)
    plan.kpis["lp_columns"] = lp.num_cols
    plan.kpis["lp_rows"] = lp.num_rows
    return plan
