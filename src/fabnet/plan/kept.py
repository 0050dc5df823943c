"""Kept planning models: a re-plan after a capacity change re-solves warm.

A planner edits one work center's hours and plans again. The LP of the edited network
has the same columns, rows, matrix and objectives as the one just solved; only the
right-hand sides of capacity rows differ. `KeptModels` keeps, per key (a stored
scenario and branch), the last LP and its HiGHS model with the basis of its first solve;
`solver_for` hands that solver back with the new capacities set when nothing else
changed, and a fresh one otherwise. A re-solve starts from the kept weighted start's
basis (still dual feasible after a bound change) and solves every level exactly, so its
answer is a cold plan's.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from fabnet.model.network import Network
from fabnet.plan.lp import PlanningLP, capacity_rows
from fabnet.plan.solve import LexicographicSolver

#: models kept at most (the least recently used goes first)
KEEP = 4


@dataclass
class _Kept:
    lp: PlanningLP
    solver: LexicographicSolver
    lock: threading.Lock


def _same_structure(a: PlanningLP, b: PlanningLP) -> bool:
    """Same columns, rows, matrix, column bounds, objectives and non-capacity rows."""
    if (a.num_cols, a.num_rows, a.matrix.nnz) != (b.num_cols, b.num_rows, b.matrix.nnz):
        return False
    if a.cols != b.cols or a.rows != b.rows:
        return False
    ma, mb = a.matrix, b.matrix
    if not (np.array_equal(ma.indptr, mb.indptr) and np.array_equal(ma.indices, mb.indices)
            and np.array_equal(ma.data, mb.data)):
        return False
    for name in ("col_lower", "col_upper", "row_lower", "delivered", "lateness", "cost",
                 "priority_of_col", "firm_cols", "firm_qty"):
        if not np.array_equal(getattr(a, name), getattr(b, name)):
            return False
    other = np.ones(a.num_rows, dtype=bool)  # rows whose upper bound is no capacity
    for name in ("work", "supply", "lane", "demand"):
        block = a.rows[name]
        other[block.offset:block.offset + block.size] = False
    return bool(np.array_equal(a.row_upper[other], b.row_upper[other]))


class KeptModels:
    """The last few planning models, by key, for warm re-plans (thread-safe)."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._models: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._lock = threading.Lock()
        #: how many `solver_for` calls re-used a kept model, and how many built one
        self.reused = 0
        self.built = 0

    def solver_for(self, key: Hashable, net: Network, lp: PlanningLP,
                   threads: int | None = None) -> tuple[LexicographicSolver, threading.Lock,
                                                        bool]:
        """The solver to plan `lp` (built from `net`) with, its lock, and whether it is a
        kept one: the kept model of `key` with the capacity rows set to `net`'s when only
        they differ, else a new model kept under `key` in its place."""
        with self._lock:
            kept = self._models.get(key)
            if kept is not None and _same_structure(kept.lp, lp):
                self._models.move_to_end(key)
                self.reused += 1
                rows, caps = capacity_rows(net, kept.lp)
                with kept.lock:
                    kept.solver.set_row_upper(rows, caps)
                    d = kept.lp.rows["demand"]
                    dem = np.arange(d.offset, d.offset + d.size, dtype=np.int64)
                    kept.solver.set_row_upper(dem, lp.row_upper[dem])
                return kept.solver, kept.lock, True
            solver = LexicographicSolver(lp, threads)
            self._models[key] = _Kept(lp, solver, threading.Lock())
            self._models.move_to_end(key)
            while len(self._models) > self.keep:
                self._models.popitem(last=False)
            self.built += 1
            return solver, self._models[key].lock, False

    def forget(self, key: Hashable) -> None:
        """Drop the model kept under `key` (a scenario deleted, say)."""
        with self._lock:
            self._models.pop(key, None)


#: the process's kept models (stored re-plans of the CLI, the API's worker threads)
KEPT = KeptModels()
