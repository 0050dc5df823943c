"""Lexicographic solve of the planning LP with HiGHS.

Levels, in order (DESIGN.md): most units delivered, one priority class at a time
(class 1 first); then least lateness in unit-buckets; then least cost. Each level is
solved on the same HiGHS model, warm-started from the previous basis, and its optimum
is then held by an added row, so no weighting can trade a level for a later one.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

import highspy
import numpy as np

from fabnet.model.errors import FabnetError
from fabnet.model.network import FloatArray, IntArray
from fabnet.plan.lp import PlanningLP

#: slack granted when an earlier level's optimum is held: absolute + relative part
HOLD_ABS = 1e-7
HOLD_REL = 1e-9


class PlanStatus(StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass
class Level:
    """One objective level: its name, sense, optimum and the row duals at that optimum."""

    name: str
    maximize: bool
    objective: float
    duals: FloatArray
    seconds: float


@dataclass
class PlanResult:
    """The outcome of a lexicographic solve."""

    status: PlanStatus
    x: FloatArray
    row_activity: FloatArray
    levels: list[Level] = field(default_factory=list)
    solve_seconds: float = 0.0
    pass_seconds: float = 0.0


#: HiGHS prints its start-up banner once per process, from the first constructor
_BANNER_LOCK = threading.Lock()
_banner_due = True


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance.

    HiGHS 1.16 prints a banner to the process's standard output when the first instance
    of a process is created, before any option can be set; that would corrupt `--json`
    output. Until a constructor has been seen to print nothing, file descriptor 1 is
    pointed at a scratch file for the constructor, under a lock: concurrent constructors
    can't interleave the save and restore (that once left fd 1 at /dev/null for good),
    and once the banner is out, later constructors touch no file descriptor at all.
    """
    global _banner_due
    if not _banner_due:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    else:
        with _BANNER_LOCK:
            if not _banner_due:
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            else:
                sys.stdout.flush()
                saved = os.dup(1)
                try:
                    with tempfile.TemporaryFile() as scratch:
                        os.dup2(scratch.fileno(), 1)
                        try:
                            h = highspy.Highs()  # type: ignore[no-untyped-call]
                        finally:
                            os.dup2(saved, 1)
                        _banner_due = os.fstat(scratch.fileno()).st_size > 0
                finally:
                    os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def _to_highs(lp: PlanningLP, threads: int | None = None) -> highspy.Highs:
    h = new_highs()
    if threads:
        h.setOptionValue("threads", threads)
    model = highspy.HighsLp()
    model.num_col_ = lp.num_cols
    model.num_row_ = lp.num_rows
    model.col_cost_ = np.zeros(lp.num_cols)
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    model.row_lower_ = lp.row_lower
    model.row_upper_ = lp.row_upper
    a = lp.matrix
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_ = lp.num_cols
    model.a_matrix_.num_row_ = lp.num_rows
    model.a_matrix_.start_ = a.indptr.astype(np.int32)
    model.a_matrix_.index_ = a.indices.astype(np.int32)
    model.a_matrix_.value_ = a.data.astype(np.float64)
    h.passModel(model)
    return h


class LexicographicSolver:
    """Holds one HiGHS model of a planning LP and solves its levels in order.

    The model is kept so that a what-if can change bounds and re-solve warm.
    """

    def __init__(self, lp: PlanningLP, threads: int | None = None) -> None:
        t0 = time.perf_counter()
        self.lp = lp
        self.highs = _to_highs(lp, threads)
        self.pass_seconds = time.perf_counter() - t0
        self._all = np.arange(lp.num_cols, dtype=np.int32)
        self._hold_rows: list[int] = []
        self._first_basis: highspy.HighsBasis | None = None

    def _set_objective(self, c: FloatArray, maximize: bool) -> None:
        self.highs.changeColsCost(self.lp.num_cols, self._all, c.astype(np.float64))
        sense = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        self.highs.changeObjectiveSense(sense)

    def _run(self, primal: bool) -> PlanStatus:
        # a new objective leaves the last basis primal feasible (the hold row is met), so
        # primal simplex goes on from it; dual simplex would start over in phase 1 (on the
        # Europe example it takes 13 s for the cost level where primal takes 2 s; on some
        # synthetic networks dual wins, see docs/performance.md)
        self.highs.setOptionValue("simplex_strategy", 4 if primal else 1)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return PlanStatus.OPTIMAL
        if status == highspy.HighsModelStatus.kInfeasible:
            return PlanStatus.INFEASIBLE
        if status == highspy.HighsModelStatus.kTimeLimit:
            return PlanStatus.TIME_LIMIT
        return PlanStatus.ERROR

    def _hold(self, c: FloatArray, value: float, maximize: bool) -> None:
        """Keep a solved level at its optimum while later levels are solved."""
        idx = np.nonzero(c)[0].astype(np.int32)
        slack = HOLD_ABS + HOLD_REL * abs(value)
        lo, hi = (value - slack, highspy.kHighsInf) if maximize else \
            (-highspy.kHighsInf, value + slack)
        self.highs.addRow(lo, hi, idx.size, idx, c[idx].astype(np.float64))
        self._hold_rows.append(self.lp.num_rows + len(self._hold_rows))

    @property
    def has_start_basis(self) -> bool:
        """True once a first solve has left the basis that re-solves start from."""
        return self._first_basis is not None

    def release_holds(self) -> None:
        """Drop the rows added by earlier solves, to re-solve after a change."""
        if self._hold_rows:
            idx = np.array(self._hold_rows, dtype=np.int32)
            self.highs.deleteRows(idx.size, idx)
            self._hold_rows = []

    def set_row_upper(self, rows: IntArray, upper: FloatArray) -> int:
        """Change the upper bounds of `rows` where they differ; returns how many changed.

        The basis is kept, so the next solve starts warm from the last optimum.
        """
        cur = self.lp.row_upper[rows]
        changed = ~((cur == upper) | (np.isinf(cur) & np.isinf(upper)))
        if changed.any():
            r = rows[changed].astype(np.int32)
            up = np.where(np.isinf(upper[changed]), highspy.kHighsInf, upper[changed])
            lo = self.lp.row_lower[rows[changed]]
            lo = np.where(np.isinf(lo), -highspy.kHighsInf, lo)
            change = self.highs.changeRowsBounds  # type: ignore[attr-defined]
            change(r.size, r, lo.astype(np.float64), up.astype(np.float64))
            self.lp.row_upper[rows[changed]] = upper[changed]
        return int(changed.sum())

    def objectives(self) -> list[tuple[str, FloatArray, bool]]:
        """The levels in order: one per priority class, then lateness, then cost."""
        lp = self.lp
        out: list[tuple[str, FloatArray, bool]] = []
        for p in sorted(set(np.unique(lp.priority_of_col[lp.delivered > 0]).tolist())):
            out.append((f"delivered_p{p}", np.where(lp.priority_of_col == p,
                                                    lp.delivered, 0.0), True))
        out.append(("lateness", lp.lateness.copy(), False))
        out.append(("cost", lp.cost.copy(), False))
        return out

    def solve(self, levels_upto: str | None = None) -> PlanResult:
        """Solve every level in order; the result carries the last level's solution.

        `levels_upto="delivered"` stops after the delivery levels: enough for units
        delivered and lost (stress tests), not for lateness or cost.
        """
        self.release_holds()
        levels: list[Level] = []
        t_all = time.perf_counter()
        status = PlanStatus.OPTIMAL
        objectives = self.objectives()
        if levels_upto == "delivered":
            objectives = [o for o in objectives if o[0].startswith("delivered")]
        for i, (name, c, maximize) in enumerate(objectives):
            t0 = time.perf_counter()
            self._set_objective(c, maximize)
            if i == 0 and self._first_basis is not None:
                # re-solves start from the first level's optimal basis of the first solve:
                # still dual feasible after a bound change, and the same start every time,
                # so a re-plan's answer does not depend on what was solved before it
                self.highs.setBasis(self._first_basis)
            status = self._run(primal=i > 0)
            if i == 0 and status is PlanStatus.OPTIMAL and self._first_basis is None:
                self._first_basis = self.highs.getBasis()
            if status is not PlanStatus.OPTIMAL:
                break
            value = float(self.highs.getInfo().objective_function_value)
            sol = self.highs.getSolution()
            duals = np.asarray(sol.row_dual, dtype=float)[: self.lp.num_rows]
            levels.append(Level(name, maximize, value, duals, time.perf_counter() - t0))
            self._hold(c, value, maximize)
        sol = self.highs.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        act = np.asarray(sol.row_value, dtype=float)[: self.lp.num_rows]
        if status is not PlanStatus.OPTIMAL:
            if x.size != self.lp.num_cols:
                x = np.zeros(self.lp.num_cols)
                act = np.zeros(self.lp.num_rows)
        return PlanResult(status, x, act, levels, time.perf_counter() - t_all,
                          self.pass_seconds)


def solve_lp(lp: PlanningLP, threads: int | None = None) -> PlanResult:
    """Build a HiGHS model for `lp` and solve its levels in order."""
    result = LexicographicSolver(lp, threads).solve()
    if result.status is PlanStatus.ERROR:
        raise FabnetError("the solver failed on the planning LP (fix: report this scenario)")
    return result
