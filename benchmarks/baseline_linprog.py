"""The planning LP as a straightforward scipy `linprog` model, two levels solved cold.

What a user of scipy writes for the same network: fabnet's rows and columns split into
`A_eq` (stock balances), `A_ub` (capacities, demand caps; a row with a finite lower bound
negated into `A_ub` too) and column bounds, then `linprog(method="highs")` twice, cold:
most units delivered (all priority classes at once), then least cost with the first
level held (units delivered >= its optimum - 1e-7). Two levels, not fabnet's five, so it
is a generous yardstick: it neither ranks priority classes nor minimises lateness.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from fabnet.model.network import Network
from fabnet.plan.lp import build_lp


def solve_two_levels(net: Network) -> dict[str, Any]:
    """Build the linprog model of `net` and solve its two levels cold; times in seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    lp = build_lp(net)
    a = sp.csr_matrix(lp.matrix)
    eq = np.isfinite(lp.row_lower) & (lp.row_lower == lp.row_upper)
    up = ~eq & np.isfinite(lp.row_upper)
    lo = ~eq & np.isfinite(lp.row_lower)
    a_eq, b_eq = a[eq], lp.row_lower[eq]
    a_ub = sp.vstack([a[up], -a[lo]]).tocsr()
    b_ub = np.concatenate([lp.row_upper[up], -lp.row_lower[lo]])
    bounds = np.column_stack([lp.col_lower, np.where(np.isinf(lp.col_upper), np.inf,
                                                     lp.col_upper)])
    out: dict[str, Any] = {"linprog_build_s": time.perf_counter() - t0}
    t1 = time.perf_counter()
    first = linprog(-lp.delivered, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                    bounds=bounds, method="highs")
    out["linprog_level1_s"] = time.perf_counter() - t1
    out["linprog_delivered"] = -float(first.fun) if first.status == 0 else float("nan")
    held = sp.vstack([a_ub, sp.csr_matrix(-lp.delivered)]).tocsr()
    t2 = time.perf_counter()
    second = linprog(lp.cost, A_ub=held,
                     b_ub=np.append(b_ub, -(out["linprog_delivered"] - 1e-7)),
                     A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    out["linprog_level2_s"] = time.perf_counter() - t2
    out["linprog_cost"] = float(second.fun) if second.status == 0 else float("nan")
    out["linprog_s"] = time.perf_counter() - t0
    out["cpu_linprog_s"] = time.process_time() - c0
    out["linprog_status"] = [int(first.status), int(second.status)]
    return out
