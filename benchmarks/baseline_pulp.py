"""The baseline: the same planning LP written by hand with PuLP, as a user would.

`build_pulp` loops over make pairs, arcs, stock keys and buckets, creates one
`LpVariable` per column and collects each row's terms, then adds every row as an
`lpSum` constraint and the cost level as the objective. It lays the columns out in the
order `fabnet.plan.lp.build_lp` does (so column j of both is the same quantity) and
names every row after its family, entity and bucket, so `to_arrays` can compare the two
LPs entry by entry. Like a hand-written model it leaves out rows with no terms and rows
with no finite bound (an unlimited lane or supplier), which HiGHS would drop anyway.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pulp  # type: ignore[import-untyped, unused-ignore]
import scipy.sparse as sp

from fabnet.model.network import Network

Terms = dict[tuple[str, int, int], list[tuple[float, pulp.LpVariable]]]


@dataclass
class PulpModel:
    """A PuLP problem with its variables in fabnet's column order."""

    problem: pulp.LpProblem
    variables: list[pulp.LpVariable]
    rows: dict[str, tuple[str, int, int]]  # constraint name -> (family, entity, bucket)


def build_pulp(net: Network, objective: str = "cost") -> PulpModel:
    """Build the planning LP with one objective level: "cost" (min) or "delivered" (max)."""
    T = net.buckets
    sense = pulp.LpMaximize if objective == "delivered" else pulp.LpMinimize
    prob = pulp.LpProblem("plan", sense)
    key = {(int(s), int(i)): k for k, (s, i) in
           enumerate(zip(net.stock_site, net.stock_item, strict=True))}
    bom: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for p, c, q in zip(net.bom_parent, net.bom_child, net.bom_qty, strict=True):
        bom[int(p)].append((int(c), float(q)))
    uses: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for m, w, h in zip(net.use_make, net.use_wc, net.use_hours, strict=True):
        uses[int(m)].append((int(w), float(h)))

    terms: Terms = defaultdict(list)
    objective_terms: list[tuple[float, pulp.LpVariable]] = []
    variables: list[pulp.LpVariable] = []

    # production: into the site's stock, components out of it, hours on its work centers
    for m in range(net.make_site.size):
        s, i = int(net.make_site[m]), int(net.make_item[m])
        for t in range(T):
            x = pulp.LpVariable(f"make_{m}_{t}", lowBound=0)
            variables.append(x)
            terms["balance", key[s, i], t].append((-1.0, x))
            for c, q in bom[i]:
                terms["balance", key[s, c], t].append((q, x))
            for w, h in uses[m]:
                terms["work", w, t].append((h, x))

    # purchases: ordered in t, leave the supplier at t+lead, reach the site at t+lead+transit
    for a in range(net.pur_offer.size):
        o, lane, s = int(net.pur_offer[a]), int(net.pur_lane[a]), int(net.pur_site[a])
        k = key[s, int(net.offer_item[o])]
        lead, transit = int(net.offer_lead[o]), int(net.lane_transit[lane])
        unit = float(net.offer_price[o] + net.lane_cost[lane])
        for t in range(T):
            arrive = t + lead + transit
            x = pulp.LpVariable(f"buy_{a}_{t}", lowBound=0, upBound=None if arrive < T else 0)
            variables.append(x)
            objective_terms.append((unit, x))
            if arrive < T:
                terms["balance", k, arrive].append((-1.0, x))
                terms["supply", o, t + lead].append((1.0, x))
                terms["lane", lane, t + lead].append((1.0, x))

    # transfers between sites
    for r in range(net.tr_lane.size):
        lane, i = int(net.tr_lane[r]), int(net.tr_item[r])
        k_from, k_to = key[int(net.tr_from[r]), i], key[int(net.tr_to[r]), i]
        transit, unit = int(net.lane_transit[lane]), float(net.lane_cost[lane])
        for t in range(T):
            arrive = t + transit
            x = pulp.LpVariable(f"move_{r}_{t}", lowBound=0, upBound=None if arrive < T else 0)
            variables.append(x)
            objective_terms.append((unit, x))
            if arrive < T:
                terms["balance", k_from, t].append((1.0, x))
                terms["balance", k_to, arrive].append((-1.0, x))
                terms["lane", lane, t].append((1.0, x))

    # deliveries to customers, at most the demand
    delivered_terms: list[tuple[float, pulp.LpVariable]] = []
    for a in range(net.del_demand.size):
        d, lane, s = int(net.del_demand[a]), int(net.del_lane[a]), int(net.del_site[a])
        k = key[s, int(net.demand_item[d])]
        transit, unit = int(net.lane_transit[lane]), float(net.lane_cost[lane])
        due = int(net.demand_due[d])
        # arriving early pays only where the lane is limited or holding the units costs
        early_ok = bool(np.isfinite(net.lane_cap[lane]).any() or net.stock_holding[k] != 0)
        for t in range(T):
            arrive = t + transit
            closed = arrive >= T or (arrive < due and not early_ok)
            x = pulp.LpVariable(f"ship_{a}_{t}", lowBound=0, upBound=0 if closed else None)
            variables.append(x)
            objective_terms.append((unit, x))
            if arrive < T:
                terms["balance", k, t].append((1.0, x))
                terms["lane", lane, t].append((1.0, x))
                terms["demand", d, 0].append((1.0, x))
                delivered_terms.append((1.0, x))

    # end-of-bucket stock
    for k in range(net.stock_site.size):
        hold = float(net.stock_holding[k])
        for t in range(T):
            x = pulp.LpVariable(f"stock_{k}_{t}", lowBound=0)
            variables.append(x)
            objective_terms.append((hold, x))
            terms["balance", k, t].append((1.0, x))
            if t + 1 < T:
                terms["balance", k, t + 1].append((-1.0, x))

    # objective, then one constraint per row that has terms and a finite bound
    chosen = delivered_terms if objective == "delivered" else objective_terms
    prob += pulp.lpSum(c * x for c, x in chosen if c != 0.0), objective
    rows: dict[str, tuple[str, int, int]] = {}
    for (family, e, t), row in terms.items():
        expr = pulp.lpSum(c * x for c, x in row)
        name = f"{family}_{e}_{t}"
        if family == "balance":
            prob += expr == (float(net.stock_open[e]) if t == 0 else 0.0), name
        else:
            if family == "work":
                cap = float(net.wc_hours[e, t])
            elif family == "supply":
                cap = float(net.offer_cap[e, t])
            elif family == "lane":
                cap = float(net.lane_cap[e, t])
            else:
                cap = float(net.demand_qty[e])
            if not math.isfinite(cap):
                continue
            prob += expr <= cap, name
        rows[name] = (family, e, t)
    return PulpModel(prob, variables, rows)


def pass_to_highs(model: PulpModel) -> pulp.HiGHS:
    """Hand the problem to HiGHS through PuLP's own highspy interface, without solving."""
    solver = pulp.HiGHS(msg=False)
    solver.createAndConfigureSolver(model.problem)
    solver.buildSolverModel(model.problem)
    return solver


def to_arrays(model: PulpModel, row_index: dict[tuple[str, int, int], int], n_cols: int
              ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, list[int]]:
    """The PuLP problem as (matrix, row lower, row upper, fabnet row of each constraint)."""
    col = {x.name: j for j, x in enumerate(model.variables)}
    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    rows: list[int] = []
    for n, (name, con) in enumerate(model.problem.constraints.items()):
        for x, v in con.items():
            r_idx.append(n)
            c_idx.append(col[x.name])
            vals.append(float(v))
        rhs = -float(con.constant)
        lower.append(rhs if con.sense == pulp.LpConstraintEQ else -np.inf)
        upper.append(rhs)
        rows.append(row_index[model.rows[name]])
    mat = sp.csr_matrix((vals, (r_idx, c_idx)), shape=(len(rows), n_cols))
    return mat, np.array(lower), np.array(upper), rows
