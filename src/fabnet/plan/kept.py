"""Kept planning models: a re-plan after a capacity change re-solves warm.

A planner edits one work center's hours and plans again. The LP of the edited network
has the same columns, rows, matrix and objectives as the one just solved; only the
right-hand sides of capacity rows differ. `KeptModels` keeps, per key (a stored
scenario and branch), the last LP and its HiGHS model with the basis of its first solve;
`KeptModels.solve` sets the new capacities on it when nothing else changed, and builds
a fresh one otherwise. A re-solve starts from the kept weighted start's
basis (still dual feasible after a bound change; dual simplex with the costs unperturbed,
`LexicographicSolver._warm_dual`) and solves every level exactly, so its answer is a
cold plan's. A kept model's own first solve starts perturbed (`perturbed_start`), as
HiGHS runs dual simplex: from that basis the re-plans take fewer pivots. A kept model
also keeps the parts of the read-back that depend only on the LP's structure
(`plan.plan.ReadBack`), so a re-plan settles its solution without slicing the matrix
again, and `KeptModels.lp_for` copies its LP with new bounds instead of a build when
only capacities changed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from fabnet.model.network import FloatArray, Network
from fabnet.plan.lp import (
    BOUND_FIELDS,
    UNREAD_FIELDS,
    PlanningLP,
    build_lp,
    capacity_rows,
    with_bounds,
)
from fabnet.plan.plan import ReadBack
from fabnet.plan.solve import LexicographicSolver, PlanResult, PlanStatus

#: models kept at most (the least recently used goes first): each holds its LP and its
#: HiGHS model, about 1.9 GiB per million columns at the peak of a solve
KEEP = 2


@dataclass
class _Kept:
    lp: PlanningLP
    solver: LexicographicSolver
    lock: threading.Lock
    readback: ReadBack | None = None
    #: the network `lp` was built from (None: the LP came without one)
    net: Network | None = None


def _equal(a: object, b: object) -> bool:
    """Deep equality of network fields: arrays by dtype, shape and entries."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b)))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, list | tuple):
        return (isinstance(b, list | tuple) and type(a) is type(b) and len(a) == len(b)
                and all(_equal(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_equal(a[k], b[k]) for k in a))
    return bool(a == b)


def _same_kind(a: FloatArray, b: FloatArray) -> bool:
    """Same shape, and each entry of the same kind: zero, negative, positive, unlimited."""
    return (a.shape == b.shape and not (np.isnan(a).any() or np.isnan(b).any())
            and bool(np.array_equal(np.sign(a), np.sign(b)))
            and bool(np.array_equal(np.isinf(a), np.isinf(b))))


def same_network(a: Network, b: Network) -> bool:
    """Whether the LP built from `b` is the one built from `a` but for the capacity and
    demand rows' upper bounds: every field equal but `lp.BOUND_FIELDS` (of the same
    kind entry by entry) and `lp.UNREAD_FIELDS`."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name in BOUND_FIELDS:
            if not _same_kind(np.asarray(x, dtype=float), np.asarray(y, dtype=float)):
                return False
        elif f.name not in UNREAD_FIELDS and not _equal(x, y):
            return False
    return True


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
                 "priority_of_col", "firm_cols", "firm_qty", "zero_cols", "deliver_due"):
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
        #: how many `solve` calls re-used a kept model, and how many built one
        self.reused = 0
        self.built = 0
        #: how many `lp_for` calls set bounds on a copy of a kept LP instead of a build
        self.patched = 0
        #: simplex pivots of the last `solve`: its weighted start's, and every level's
        self.last_pivots: tuple[int, list[int]] = (0, [])

    def lp_for(self, key: Hashable, net: Network) -> PlanningLP:
        """The LP of `net`: a copy of the one kept under `key` with `net`'s capacity and
        demand bounds when the networks differ only there (`same_network`), else a
        build. Either way `build_lp(net)`, entry for entry."""
        with self._lock:
            kept = self._models.get(key)
        if kept is not None and kept.net is not None and same_network(kept.net, net):
            with self._lock:
                self.patched += 1
            return with_bounds(kept.lp, net)
        return build_lp(net)

    def solve(self, key: Hashable, net: Network, lp: PlanningLP,
              threads: int | None = None, reference: FloatArray | None = None,
              frozen: int = 0) -> tuple[PlanResult, bool]:
        """Solve `lp` (built from `net`) with the model kept under `key`, its capacity
        and demand rows set to `net`'s, when only they differ; else with a new model,
        kept under `key` in its place. Returns the result and whether a kept model was
        re-used. The bounds are set and the levels solved under the model's own lock,
        so concurrent re-plans of one key never see each other's capacities."""
        result, reuse, _ = self.solve_kept(key, net, lp, threads, reference, frozen)
        return result, reuse

    def solve_kept(self, key: Hashable, net: Network, lp: PlanningLP,
                   threads: int | None = None, reference: FloatArray | None = None,
                   frozen: int = 0) -> tuple[PlanResult, bool, ReadBack]:
        """`solve`, and the kept model's read-back parts, good for `lp` (same structure)."""
        with self._lock:
            kept = self._models.get(key)
            reuse = kept is not None and _same_structure(kept.lp, lp)
            if kept is None or not reuse:
                # the perturbed start: its basis re-solves warm in fewer pivots than the
                # unperturbed one's (docs/performance.md, "The combined LP unperturbed")
                kept = _Kept(lp, LexicographicSolver(lp, threads, perturbed_start=True),
                             threading.Lock(), net=net)
                self._models[key] = kept
                self.built += 1
            else:
                self.reused += 1
            self._models.move_to_end(key)
            while len(self._models) > self.keep:
                self._models.popitem(last=False)
        with kept.lock:
            if reuse:
                rows, caps = capacity_rows(net, kept.lp)
                kept.solver.set_row_upper(rows, caps)
                d = kept.lp.rows["demand"]
                dem = np.arange(d.offset, d.offset + d.size, dtype=np.int64)
                kept.solver.set_row_upper(dem, lp.row_upper[dem])
            result = kept.solver.solve(reference=reference, frozen=frozen)
            if kept.readback is None:
                kept.readback = ReadBack(kept.lp)
            readback = kept.readback
        self.last_pivots = (result.start_iterations, list(result.level_iterations))
        if result.status is PlanStatus.ERROR:
            self.forget(key)
        return result, reuse, readback

    def forget(self, key: Hashable) -> None:
        """Drop the model kept under `key` (a scenario deleted, say)."""
        with self._lock:
            self._models.pop(key, None)


#: the process's kept models (stored re-plans of the CLI, the API's worker threads)
KEPT = KeptModels()
