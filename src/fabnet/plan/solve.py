"""Lexicographic solve of the planning LP with HiGHS.

Levels, in order (DESIGN.md): most units delivered, one priority class at a time
(class 1 first); then least lateness in unit-buckets; then least cost; then, when a
reference plan is given, the least total absolute change of the flows against it, so a
re-plan shows only the changes it must make. Each level is solved on the same HiGHS
model, warm-started from the basis before it, and its optimum is then kept (by an
added row, or by fixing its optimal face), so no weighting can trade a level for a
later one. A frozen horizon fixes the
reference's flows in the first buckets (the "frozen" or "firm" zone of frePPLe and
SAP APO: what is released to the floor is not re-planned).

Two paths reach the same levels (`SolvePath`). The plain one solves the first level
cold with dual simplex and each later level with primal simplex from the basis before
it, each solved level held by a row. The default, weighted one first solves a single
LP whose objective weighs every level far above the next (`blend`), cold with dual
simplex, its costs unperturbed (`_cold_dual`; perturbed, as HiGHS runs it, for a model
kept for warm re-plans: `perturbed_start`); from its optimal basis each level is then
solved in turn to HiGHS' optimality by primal simplex, and its optimum kept by
complementary slackness instead of a row: every column with a non-zero reduced cost
and every row with a non-zero dual is fixed at the bound it is at, which leaves exactly
the level's optimal plans (`_keep_face`).
Where the weights were large enough, the weighted optimum is optimal for every level:
that is first shown from its basis without a solve (`plan.certify`: each level's duals
and reduced costs have the optimal signs on the face the earlier levels leave), and
then no level is solved; where a check fails, the levels before it are kept as shown
(their faces fixed) and the rest are solved as above, a level the weights fell short for
pivoting on to its own optimum. At the end every
level's optimum is checked on the final plan (to the hold rows' slack) and, should one
have slipped, the plain path solves again from cold; the weights only choose where the
exact solves start. On both paths a level's primal simplex runs with HiGHS' bound
perturbation off, going on perturbed should it stall (`_level_run`). A kept model's
re-solves start from the first solve's start basis, or, where its levels pivoted on
from there, from its final basis with weights that make that basis optimal for the
combined LP (`_reweighted_start`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fabnet.model.errors import FabnetError
from fabnet.model.network import FloatArray, IntArray
from fabnet.plan import sift
from fabnet.plan.certify import (
    COL_AT,
    ROW_AT,
    LevelDuals,
    at_bound,
    basic_variables,
    certify_levels,
    level_weights,
)
from fabnet.plan.lp import PlanningLP, flow_columns

#: slack granted when an earlier level's optimum is held: absolute + relative part
HOLD_ABS = 1e-7
HOLD_REL = 1e-9


class PlanStatus(StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    ERROR = "error"

    @property
    def solved(self) -> bool:
        """True when the solve reached an optimum (the only status that gives numbers)."""
        return self is PlanStatus.OPTIMAL


#: options a caller may pass through to HiGHS (name: value), e.g. a time limit
SolverOptions = Mapping[str, bool | int | float | str]
#: level names `LexicographicSolver.solve(levels_upto=...)` can stop after
LEVELS_UPTO = ("delivered", "cost")
#: weight of one level over the next in the weighted start (each objective scaled to a
#: largest coefficient of 1); lowered so the first level's weight stays <= WEIGHT_RANGE
WEIGHT_RATIO = 100.0
WEIGHT_RANGE = 1e8
#: on the weighted path a solved level's optimal face is kept by complementary
#: slackness: a reduced cost or row dual above this × the level's largest coefficient
#: fixes its column or row at the bound it is at
FACE_TOL = 1e-9
#: a warm re-solve of the combined LP runs unperturbed for at most this share of its
#: cold solve's pivots before the perturbed dual simplex takes over (`_warm_dual`)
WARM_PIVOTS = 0.5
#: ... and never fewer pivots than this (a first solve that went on from a basis is short)
WARM_MIN_PIVOTS = 1000
#: the cold combined LP, too, runs unperturbed (`_cold_dual`), for at most this many
#: pivots per row and column of the model before the perturbed dual simplex starts over
COLD_PIVOTS = 1.0
#: a level's primal simplex runs with HiGHS' bound perturbation off for at most this many
#: pivots per row of the model (and at least `WARM_MIN_PIVOTS`), then perturbed (`_level_run`)
LEVEL_PIVOTS = 0.05


class SolvePath(StrEnum):
    """How the levels are reached; both give every level at HiGHS' optimum."""

    #: first level cold (dual simplex), each later one warm from the one before (primal)
    SEQUENTIAL = "sequential"
    #: one weighted LP of all levels first (dual simplex), then each level checked from
    #: its basis and, where the weights fell short, solved on to its optimum (primal)
    WEIGHTED = "weighted"


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
    #: how the reference level ended; None when no reference level was solved. When it
    #: is not optimal, the plan is the cost level's optimum (every earlier level holds)
    reference_status: PlanStatus | None = None
    #: firm (work-order) production the network could not make; 0 when all of it is made
    firm_short: float = 0.0
    #: the path the levels were solved by, the seconds and simplex iterations of its
    #: weighted start (0 on the sequential path), and each level's simplex iterations
    path: SolvePath = SolvePath.SEQUENTIAL
    start_seconds: float = 0.0
    start_iterations: int = 0
    level_iterations: list[int] = field(default_factory=list)
    #: columns the weighted start held at zero at first, and its pricing rounds
    #: (`plan.sift`; 0 where the start took the whole LP from the first pivot)
    start_held: int = 0
    start_rounds: int = 0


#: HiGHS prints its start-up banner once per process, from the first constructor
_BANNER_LOCK = threading.Lock()
_banner_due = True


def _highs() -> highspy.Highs:
    return highspy.Highs()  # type: ignore[no-untyped-call]


def _highs_with_stdout_aside() -> highspy.Highs:
    """Construct with fd 1 on a scratch file (the caller holds the lock); note whether
    HiGHS wrote to it, so that the redirect stops once a constructor prints nothing."""
    global _banner_due
    if not _banner_due:
        return _highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with tempfile.TemporaryFile() as scratch:
            os.dup2(scratch.fileno(), 1)
            try:
                h = _highs()
            finally:
                os.dup2(saved, 1)
            _banner_due = os.fstat(scratch.fileno()).st_size > 0
    finally:
        os.close(saved)
    return h


def new_highs() -> highspy.Highs:
    """A silent HiGHS instance.

    HiGHS 1.16 prints a banner to the process's standard output when the first instance
    of a process is created, before any option can be set; that would corrupt `--json`
    output. Until a constructor has been seen to print nothing, file descriptor 1 is
    pointed at a scratch file for the constructor, under a lock: concurrent constructors
    can't interleave the save and restore (that once left fd 1 at /dev/null for good),
    and once the banner is out, later constructors touch no file descriptor at all.
    """
    if not _banner_due:
        h = _highs()
    else:
        with _BANNER_LOCK:
            h = _highs_with_stdout_aside()
    h.setOptionValue("output_flag", False)
    return h


def highs_status(h: highspy.Highs) -> PlanStatus:
    """How HiGHS' last run ended, as a `PlanStatus` (an empty model is optimal: nothing to
    decide, no demand and nothing to make)."""
    status = h.getModelStatus()
    if status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kModelEmpty):
        return PlanStatus.OPTIMAL
    return {highspy.HighsModelStatus.kInfeasible: PlanStatus.INFEASIBLE,
            highspy.HighsModelStatus.kTimeLimit: PlanStatus.TIME_LIMIT,
            highspy.HighsModelStatus.kIterationLimit: PlanStatus.ITERATION_LIMIT,
            }.get(status, PlanStatus.ERROR)


@contextmanager
def option_off(h: highspy.Highs, option: str, guard: int) -> Iterator[bool]:
    """HiGHS with `option` (a perturbation multiplier) at 0 for at most `guard` pivots,
    both options put back after. Yields whether `guard` is below the model's own
    iteration limit: only then does an iteration limit mean the unperturbed run stalled,
    and the caller goes on perturbed."""
    _, multiplier = h.getOptionValue(option)
    _, limit = h.getOptionValue("simplex_iteration_limit")
    h.setOptionValue(option, 0.0)
    h.setOptionValue("simplex_iteration_limit", min(int(limit), guard))
    try:
        yield guard < int(limit)
    finally:
        h.setOptionValue(option, multiplier)
        h.setOptionValue("simplex_iteration_limit", limit)


def cost_unperturbed(h: highspy.Highs, guard: int) -> AbstractContextManager[bool]:
    """Dual simplex with HiGHS' cost perturbation off for at most `guard` pivots
    (`option_off`); on a stall the caller starts the perturbed dual simplex over."""
    return option_off(h, "dual_simplex_cost_perturbation_multiplier", guard)


def solver_upper(lp: PlanningLP, reduce: bool = True) -> FloatArray:
    """The column upper bounds the solver's model gets: the built ones, with the LP's
    `zero_cols` (exact reductions, `plan.reduce`) at zero when `reduce`."""
    upper = lp.col_upper.copy()
    if reduce:
        upper[lp.zero_cols] = 0.0
    return upper


def _to_highs(lp: PlanningLP, threads: int | None = None,
              options: SolverOptions | None = None,
              upper: FloatArray | None = None) -> highspy.Highs:
    h = new_highs()
    if threads:
        h.setOptionValue("threads", threads)
    for name, value in (options or {}).items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise FabnetError(f"solver option {name}={value!r}: HiGHS does not accept it "
                              "(fix: see the HiGHS options list, e.g. time_limit=60)")
    pass_lp(h, lp.matrix, np.zeros(lp.num_cols), lp.col_lower,
            lp.col_upper if upper is None else upper, lp.row_lower, lp.row_upper)
    return h


def pass_lp(h: highspy.Highs, a: sp.csc_matrix, cost: FloatArray, col_lower: FloatArray,
            col_upper: FloatArray, row_lower: FloatArray, row_upper: FloatArray,
            maximize: bool = False, integer: npt.NDArray[np.bool_] | None = None) -> None:
    """Hand HiGHS an LP (columns of `a` with their costs and bounds, rows with theirs;
    continuous, or integer where `integer`) through its array interface, which reads the
    buffers as they are: a `HighsLp` converts every entry of every vector on assignment
    (3 ms at 8,000 columns, 0.5 s at a million, against a tenth of that)."""
    n, m = a.shape[1], a.shape[0]
    f64, i32 = np.float64, np.int32
    sense = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    status = h.passModel(
        n, m, int(a.nnz), int(highspy.MatrixFormat.kColwise), int(sense), 0.0,
        np.ascontiguousarray(cost, f64), np.ascontiguousarray(col_lower, f64),
        np.ascontiguousarray(col_upper, f64), np.ascontiguousarray(row_lower, f64),
        np.ascontiguousarray(row_upper, f64), np.ascontiguousarray(a.indptr[:n], i32),
        np.ascontiguousarray(a.indices, i32), np.ascontiguousarray(a.data, f64),
        # one entry per column even for an LP: an empty array is read past its end
        # (highspy 1.16)
        np.zeros(n, i32) if integer is None else np.where(
            integer, int(highspy.HighsVarType.kInteger),
            int(highspy.HighsVarType.kContinuous)).astype(i32))
    if status == highspy.HighsStatus.kError:
        raise ValueError(f"HiGHS refused an LP of {n} columns and {m} rows")


@dataclass
class _Shown:
    """The levels shown optimal at the weighted start's basis (`_certified`), in order,
    the start's solution, and whether every level was."""

    levels: list[Level]
    x: FloatArray
    act: FloatArray
    complete: bool


@dataclass
class _Fixed:
    """Columns (with their bounds before) and rows fixed to keep levels' optimal faces."""

    cols: list[tuple[npt.NDArray[np.int32], FloatArray, FloatArray]] = field(default_factory=list)
    rows: list[npt.NDArray[np.int32]] = field(default_factory=list)


@dataclass
class _Final:
    """A weighted solve's final basis, after levels solved from its start: a lexicographic
    optimum's, with which non-basic columns and rows sit at their upper bound and which
    may move, as the model is without the levels' faces (`_reweighted_start`)."""

    basis: highspy.HighsBasis
    #: its basic variables, sorted, as HiGHS numbers them (column j, row i as -1 - i)
    basic: npt.NDArray[np.int64]
    col_up: npt.NDArray[np.bool_]
    row_up: npt.NDArray[np.bool_]
    open_c: npt.NDArray[np.bool_]
    open_r: npt.NDArray[np.bool_]


@dataclass
class _FinalState:
    """HiGHS' basis and solution after a weighted solve's last level, with the model's
    bounds as built then: kept as taken, and made a `_Final` only for a re-solve."""

    basis: highspy.HighsBasis
    x: FloatArray
    act: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray


class LexicographicSolver:
    """Holds one HiGHS model of a planning LP and solves its levels in order.

    The model is kept so that a what-if can change bounds and re-solve warm. With
    `reduce` (the default) the LP's `zero_cols` are fixed at zero in the model: the same
    optimum at every level, on a smaller LP.
    """

    def __init__(self, lp: PlanningLP, threads: int | None = None,
                 options: SolverOptions | None = None,
                 path: SolvePath = SolvePath.WEIGHTED, reduce: bool = True,
                 perturbed_start: bool = False, certify: bool = True,
                 restricted_start: bool | None = None, reweigh: bool = True) -> None:
        """`perturbed_start`: a kept model's start, whose basis re-plans warm in fewer pivots.
        `certify=False` solves every level of the weighted path from the start's basis
        even where that basis is already shown optimal for all of them (for comparisons).
        `restricted_start`: the cold start first leaves out the columns `plan.sift`
        holds; None where they are a large enough share of the model, True wherever
        there are any, False never (the same levels every way). `reweigh=False` starts
        every re-solve from the first start's basis and weights, even where the levels
        after that start were solved (`_reweighted_start`; for comparisons)."""
        t0 = time.perf_counter()
        self.lp = lp
        self.path = SolvePath(path)
        #: show the levels optimal at the weighted start's basis before solving them
        self.certify = certify
        #: Aᵀ of the model, built on the first certification
        self._at: sp.csr_matrix | None = None
        #: the weighted path's cold start: perturbed (a kept model's) or not (`_cold_dual`)
        self.perturbed_start = perturbed_start
        #: the model's own column upper bounds (the built ones, reductions applied)
        self.col_upper = solver_upper(lp, reduce)
        self.highs = _to_highs(lp, threads, options, self.col_upper)
        self.pass_seconds = time.perf_counter() - t0
        self._all = np.arange(lp.num_cols, dtype=np.int32)
        self._hold_rows: list[int] = []
        self._first_basis: highspy.HighsBasis | None = None
        #: optimal basis of the combined LP of `solve(crash=True)`, per `levels_upto`
        self._crash_basis: dict[str | None, highspy.HighsBasis] = {}
        #: simplex pivots the combined LP's first (cold) solve took, per `levels_upto`
        self._crash_iterations: dict[str | None, int] = {}
        #: pivots of an unperturbed start run abandoned for the perturbed one (or 0)
        self._abandoned = 0
        #: the first weighted solve's final basis, where levels were solved after its
        #: start, per `levels_upto`; taken up by the next solve (`_reweighted_start`)
        self._final: dict[str | None, _FinalState] = {}
        #: the re-weighted start (objective, basis) of re-solves, per `levels_upto`, or
        #: None where the final basis gives none
        self._reweighted: dict[str | None, tuple[FloatArray, highspy.HighsBasis] | None] = {}
        #: whether this solve's start was the first, from which the kept basis comes
        self._first_start = False
        self.reweigh = reweigh
        #: whether the cold start may leave columns out at first (`plan.sift`)
        self.restricted_start = restricted_start
        #: pivots of the restricted start's runs before its last one, the columns it held
        #: at first and its pricing rounds (0 when it was not taken)
        self._sift_pivots = 0
        self.start_held = 0
        self.start_rounds = 0

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
        return highs_status(self.highs)

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

    def has_crash_basis(self, levels_upto: str | None) -> bool:
        """True once a `solve(levels_upto, crash=True)` has kept its combined basis."""
        return levels_upto in self._crash_basis

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

    def solve(self, levels_upto: str | None = None, reference: FloatArray | None = None,
              frozen: int = 0, crash: bool | None = None) -> PlanResult:
        """Solve every level in order; the result carries the last level's solution.

        `levels_upto="delivered"` stops after the delivery levels: enough for units
        delivered and lost (stress tests), not for lateness or cost; `"cost"` stops
        before the reference level. `reference` (a value per LP column; only the flow
        columns are read) adds the reference level after cost; `frozen` fixes the flows
        of buckets 0 … frozen-1 at the reference's values for every level. The kept
        model is the same afterwards: the level's own rows, columns and bounds go.
        `crash=True` starts the levels from one combined LP (`_crash`, the weighted path),
        `crash=False` takes the sequential path, None the solver's own `path`: the same
        optima every way.
        """
        if levels_upto is not None and levels_upto not in LEVELS_UPTO:
            raise ValueError(f"levels_upto={levels_upto!r}: expected one of {LEVELS_UPTO}")
        if frozen < 0 or (frozen and reference is None):
            raise ValueError(f"frozen={frozen}: needs a reference plan and frozen >= 0")
        if reference is not None and reference.size != self.lp.num_cols:
            raise ValueError(f"reference has {reference.size} values, the LP "
                             f"{self.lp.num_cols} columns")
        self.release_holds()
        fixed = self._freeze(reference, frozen) if reference is not None and frozen else None
        try:
            firm = self._firm_level()
            if firm is not None and not firm.status.solved:
                return firm
            result = self._solve_levels(levels_upto, reference, crash)
            if firm is not None:
                result.levels.insert(0, firm.levels[0])
                result.firm_short = firm.firm_short
            return result
        finally:
            if fixed is not None:
                self._unfreeze(fixed)
            self._unfirm()

    def _firm_level(self) -> PlanResult | None:
        """Level 0 when work orders are firm: make as much of each as the network allows.

        Firm columns are bounded by [0, firm] and their sum maximized; each then keeps at
        least what it reached for the levels after (with no shortage that is the whole
        firm quantity, the same as a lower bound; with one, the plan makes what it can
        and reports the rest as `firm_short` instead of failing as infeasible).
        """
        lp = self.lp
        cols = lp.firm_cols
        if cols.size == 0:
            return None
        t0 = time.perf_counter()
        c32 = cols.astype(np.int32)
        upper = np.minimum(lp.firm_qty, self.col_upper[cols])
        self.highs.changeColsBounds(c32.size, c32, np.zeros(c32.size),
                                    upper.astype(np.float64))
        c = np.zeros(lp.num_cols)
        c[cols] = 1.0
        self._set_objective(c, True)
        status = self._run(primal=False)
        if status is not PlanStatus.OPTIMAL:
            return PlanResult(status, np.zeros(lp.num_cols), np.zeros(lp.num_rows))
        sol = self.highs.getSolution()
        reached = np.clip(np.asarray(sol.col_value, dtype=float)[cols], 0.0, upper)
        # made in full (to the solver's tolerance): exactly the firm quantity, as a lower
        # bound would have it; otherwise what was reached
        keep = np.where(reached >= upper - HOLD_ABS - HOLD_REL * upper, upper, reached)
        up = np.where(np.isinf(self.col_upper[cols]), highspy.kHighsInf, self.col_upper[cols])
        self.highs.changeColsBounds(c32.size, c32, keep.astype(np.float64),
                                    up.astype(np.float64))
        value = float(reached.sum())
        duals = np.asarray(sol.row_dual, dtype=float)[: lp.num_rows]
        out = PlanResult(status, np.zeros(0), np.zeros(0),
                         [Level("firm", True, value, duals, time.perf_counter() - t0)])
        out.firm_short = float(np.maximum(lp.firm_qty - keep, 0.0).sum())
        return out

    def _unfirm(self) -> None:
        """Give firm columns their built bounds back (the kept model is the one built)."""
        cols = self.lp.firm_cols
        if cols.size:
            up = np.where(np.isinf(self.col_upper[cols]), highspy.kHighsInf,
                          self.col_upper[cols])
            self.highs.changeColsBounds(cols.size, cols.astype(np.int32),
                                        self.lp.col_lower[cols].astype(np.float64),
                                        up.astype(np.float64))

    def _crash(self, objectives: list[tuple[str, FloatArray, bool]],
               levels_upto: str | None) -> PlanStatus:
        """Solve one LP whose objective weighs the levels in order (`blend`), as a start.

        Its optimum is only where the levels start (each is still solved to its own
        optimum, from there, by primal simplex), so the weights need not be right for the
        answer to be exact; when they are, every level is optimal at once. The first call
        per `levels_upto` starts cold with dual simplex, or, when an earlier solve left a
        basis (a what-if's base plan, whose last level is nearly the combined optimum),
        goes on from it by primal simplex; it keeps its optimal basis, and later calls (a
        bound change leaves it dual feasible) start dual simplex from that, the same start
        every time.
        """
        c = blend(objectives)
        self._abandoned = 0
        self._sift_pivots = self.start_held = self.start_rounds = 0
        kept = self._crash_basis.get(levels_upto)
        self._first_start = kept is None
        if kept is not None and self.reweigh:
            again = self._reweighted_start(levels_upto, objectives)
            if again is not None:
                c, kept = again
        self._set_objective(c, False)
        if kept is not None:
            # HiGHS keeps its data (edge weights) from the run before, which changes the
            # pivots and, among equal optima, the plan; cleared, a re-solve is the same
            # whatever came before it (a reference level, another edit)
            self.highs.clearSolver()
            self.highs.setBasis(kept)
            status = self._warm_dual(kept, self._crash_iterations.get(levels_upto, 0))
        elif self.highs.getBasis().valid:
            status = self._run(primal=True)
        else:
            status = self._cold_dual(c)
        if status is PlanStatus.OPTIMAL and kept is None:
            self._crash_basis[levels_upto] = self.highs.getBasis()
            self._crash_iterations[levels_upto] = self._sift_pivots + self._iterations()
        return status

    def _reweighted_start(self, levels_upto: str | None,
                          objectives: list[tuple[str, FloatArray, bool]]
                          ) -> tuple[FloatArray, highspy.HighsBasis] | None:
        """The start of a re-solve where the first solve's levels were not all optimal at
        its weighted start: that solve's final basis, and level weights under which it is
        optimal for the combined objective (`certify.level_weights`); None where there is
        none (every level was shown at the start, or no weights within `WEIGHT_RANGE`).

        The weights of `blend` fell short there, so a re-solve from the kept start would
        pivot through the same levels again; from the final basis, with weights that fit
        it, a bound change leaves a start that is dual feasible for the combined LP and
        usually optimal for every level once re-solved, so the levels are shown instead
        of solved. Worked out once, on the first re-solve, and the same every time after,
        so a re-plan does not depend on the ones before it; every level is still shown
        or solved exactly from wherever the start ends.
        """
        if levels_upto in self._reweighted:
            return self._reweighted[levels_upto]
        state = self._final.pop(levels_upto, None)
        final = None if state is None else self._final_of(state)
        h, lp = self.highs, self.lp
        start = None
        if final is not None and self._factorized(final):
            costs = []
            for _, c, maximize in objectives:
                top = float(np.abs(c).max()) if c.size else 0.0
                costs.append((-c if maximize else c) / top if top > 0 else np.zeros(c.size))
            if self._at is None:
                self._at = lp.matrix.T.tocsr()
            _, tol = h.getOptionValue("dual_feasibility_tolerance")
            w = level_weights(h, self._at, costs, final.col_up, final.row_up, final.open_c,
                              final.open_r, float(tol), WEIGHT_RANGE)
            if w is not None:
                start = (np.sum([wk * ck for wk, ck in zip(w, costs, strict=True)], axis=0),
                         final.basis)
        self._reweighted[levels_upto] = start
        return start

    def _factorized(self, final: _Final) -> bool:
        """Set `final`'s basis on the model and factorize it, taking no pivot; False
        where the model has rows beyond the LP's, or HiGHS refuses the basis or replaces
        a part of it (singular), so it is not that basis that is factorized."""
        h = self.highs
        if h.getNumRow() != self.lp.num_rows or \
                h.setBasis(final.basis) != highspy.HighsStatus.kOk:
            return False
        _, limit = h.getOptionValue("simplex_iteration_limit")
        h.setOptionValue("simplex_iteration_limit", 0)
        try:
            h.run()
        finally:
            h.setOptionValue("simplex_iteration_limit", limit)
        return bool(np.array_equal(np.sort(basic_variables(h)), final.basic))

    def _final_basis(self) -> _FinalState:
        """HiGHS' basis and solution now, after the last level's solve, with the model's
        bounds as built: what `_final_of` makes a re-solve's start of, when there is one
        (most plans never re-solve, so nothing more is worked out here)."""
        h, lp = self.highs, self.lp
        sol = h.getSolution()
        # the bounds copied: a re-plan changes the LP's row bounds in place (set_row_upper)
        return _FinalState(h.getBasis(), np.array(sol.col_value, dtype=float),
                           np.array(sol.row_value, dtype=float)[: lp.num_rows],
                           lp.col_lower.copy(), self.col_upper.copy(),
                           lp.row_lower.copy(), lp.row_upper.copy())

    @staticmethod
    def _final_of(state: _FinalState) -> _Final | None:
        """`state`'s basis as the model is without the levels' faces: each non-basic
        column and row at the bound of the model as built that it sits at; None where
        one sits at neither."""
        basis, x, act = state.basis, state.x, state.act
        lo, up, rlo, rup = state.col_lower, state.col_upper, state.row_lower, state.row_upper
        n, m = lo.size, rlo.size
        if not basis.valid or x.size != n or len(basis.row_status) < m:
            return None
        basic = highspy.HighsBasisStatus.kBasic
        col_basic = np.array([s == basic for s in basis.col_status], dtype=bool)
        row_basic = np.array([s == basic for s in basis.row_status[:m]], dtype=bool)
        c_lo, c_up = at_bound(x, lo, COL_AT), at_bound(x, up, COL_AT)
        r_lo, r_up = at_bound(act, rlo, ROW_AT), at_bound(act, rup, ROW_AT)
        if (~col_basic & ~c_lo & ~c_up).any() or (~row_basic & ~r_lo & ~r_up).any():
            return None
        col_up = ~col_basic & ~c_lo
        row_up = ~row_basic & ~r_lo
        status = np.array([highspy.HighsBasisStatus.kLower, basic,
                           highspy.HighsBasisStatus.kUpper], dtype=object)
        out = highspy.HighsBasis()
        out.col_status = status[np.where(col_basic, 1, np.where(col_up, 2, 0))].tolist()
        out.row_status = status[np.where(row_basic, 1, np.where(row_up, 2, 0))].tolist()
        out.valid = True
        basic_vars = np.sort(np.concatenate([np.nonzero(col_basic)[0],
                                             -1 - np.nonzero(row_basic)[0]]))
        return _Final(out, basic_vars.astype(np.int64), col_up, row_up,
                      ~col_basic & (lo < up), ~row_basic & (rlo < rup))

    def _cold_dual(self, c: FloatArray) -> PlanStatus:
        """The combined LP (objective `c`) from cold (presolve, dual simplex), costs
        unperturbed, or perturbed for a kept model; first with the columns `plan.sift`
        holds left out, where it holds any.

        HiGHS perturbs the costs before dual simplex against stalling on degenerate
        pivots; on the combined LP, whose levels' weights span 1e8 and whose balance rows
        are degenerate, the perturbation costs more pivots than it saves (size m of
        docs/performance.md: 16,637 pivots unperturbed against 19,199, l 54,795 against
        64,779, the Europe example 26,771 against 36,364). Should the unperturbed run
        stall past `COLD_PIVOTS` pivots per row and column, the perturbed dual simplex
        starts over from cold; either way the optimum is HiGHS' own, and only a start.
        A kept model (`perturbed_start`) runs perturbed, as HiGHS does: warm re-solves
        from the unperturbed start's basis take 1.5 to 2 times the pivots of those from
        the perturbed one's (the Europe example, five capacity edits: 10,669 against 6,552).
        """
        lp = self.lp
        guard = max(int(COLD_PIVOTS * (lp.num_rows + lp.num_cols)), WARM_MIN_PIVOTS)
        held, lower, upper = self._held_at_start()
        if held.size:
            return self._sifted_dual(c, guard, held, lower, upper)
        return self._cold_run(guard)

    def _cold_run(self, guard: int) -> PlanStatus:
        """One cold dual simplex run of the model as it is: perturbed for a kept model
        (`perturbed_start`), else unperturbed within `guard` pivots."""
        if self.perturbed_start:
            return self._run(primal=False)
        return self._unperturbed_dual(guard, None)

    def _held_at_start(self) -> tuple[npt.NDArray[np.int32], FloatArray, FloatArray]:
        """The columns the cold start holds at zero at first (`plan.sift`) and their
        bounds in the model now; none when `restricted_start` is off, when the model has
        rows beyond the LP's, or when a time or iteration limit is set (it bounds each
        HiGHS run, and the restricted start is several)."""
        none = np.zeros(0, dtype=np.int32), np.zeros(0), np.zeros(0)
        h, lp = self.highs, self.lp
        if self.restricted_start is False or h.getNumRow() != lp.num_rows:
            return none
        _, time_limit = h.getOptionValue("time_limit")
        _, iteration_limit = h.getOptionValue("simplex_iteration_limit")
        if np.isfinite(float(time_limit)) or int(iteration_limit) < highspy.kHighsIInf:
            return none
        cand = sift.candidate_columns(lp).astype(np.int32)
        if cand.size == 0:
            return none
        _, _, _, lo, up, _ = h.getCols(cand.size, cand)
        lo, up = np.asarray(lo, dtype=float), np.asarray(up, dtype=float)
        opened = (lo == 0) & (up > 0)
        share = cand[opened].size >= sift.SIFT_SHARE * self._open_columns()
        if not opened.any() or (self.restricted_start is None and not share):
            return none
        return cand[opened], lo[opened], up[opened]

    def _open_columns(self) -> int:
        """Columns of the model that may leave zero (lower bound 0, upper above it)."""
        lp = self.lp.col_lower
        return int(np.count_nonzero((lp == 0) & (self.col_upper > 0)))

    def _sifted_dual(self, c: FloatArray, guard: int, held: npt.NDArray[np.int32],
                     lower: FloatArray, upper: FloatArray) -> PlanStatus:
        """The cold start with `held` at zero, then each held column whose reduced cost
        is negative at the optimum given its bounds back and primal simplex on from the
        basis, round by round (`plan.sift`), until no held column would improve it: the
        basis is then optimal for the whole combined LP, and every bound is given back.
        Should the rounds run out first, primal simplex finishes on the whole model;
        should the restricted LP not solve, the whole one starts cold.
        """
        h = self.highs
        zeros = np.zeros(held.size)
        h.changeColsBounds(held.size, held, zeros, zeros)
        self.start_held = int(held.size)
        self.start_rounds = 0
        try:
            status = self._cold_run(guard)
            self._sift_pivots = self._abandoned + self._iterations()
            self._abandoned = 0
            if self._at is None:
                self._at = self.lp.matrix.T.tocsr()
            at = self._at[held]
            _, tol = h.getOptionValue("dual_feasibility_tolerance")
            m = self.lp.num_rows
            priced = False  # no held column left that would improve the optimum
            while status is PlanStatus.OPTIMAL and self.start_rounds < sift.MAX_ROUNDS:
                y = np.asarray(h.getSolution().row_dual, dtype=float)[:m]
                back = sift.attractive(at, c[held], y, float(tol))
                if not back.any():
                    priced = True
                    break
                h.changeColsBounds(int(back.sum()), held[back], lower[back], upper[back])
                keep = ~back
                held, lower, upper, at = held[keep], lower[keep], upper[keep], at[keep]
                status = self._run(primal=True)
                self._sift_pivots += self._iterations()
                self.start_rounds += 1
        finally:
            if held.size:
                h.changeColsBounds(held.size, held, lower, upper)
        if status is not PlanStatus.OPTIMAL:
            h.clearSolver()
            return self._cold_run(guard)
        if priced:
            # every column now has an optimal reduced cost at this basis: giving the
            # held ones their bounds back (at zero, a bound they keep) moves nothing,
            # and the levels are shown or solved from this basis on the whole model
            return status
        return self._run(primal=True)

    def _unperturbed_dual(self, guard: int, basis: highspy.HighsBasis | None) -> PlanStatus:
        """Dual simplex with HiGHS' cost perturbation off for at most `guard` pivots;
        should it run out, the perturbed dual simplex starts over from `basis` (from
        cold when None), and the abandoned run's pivots are kept in `_abandoned`."""
        h = self.highs
        with cost_unperturbed(h, guard) as guarded:
            status = self._run(primal=False)
        if status is PlanStatus.ITERATION_LIMIT and guarded:
            self._abandoned = self._iterations()
            if basis is None:
                h.clearSolver()
            else:
                h.setBasis(basis)
            status = self._run(primal=False)
        return status

    def _warm_dual(self, basis: highspy.HighsBasis, cold_iterations: int) -> PlanStatus:
        """Dual simplex from a kept optimal basis after a bound change, costs unperturbed.

        HiGHS perturbs the costs before dual simplex, which spreads a start that is
        already dual feasible and costs pivots: on the Europe example, after one work
        center's hours change by -20 %, 1,700 pivots unperturbed against 5,500 perturbed
        (+20 %: 300 against 800). Perturbation only guards against stalling on
        degenerate pivots, so the unperturbed run gets at most half the cold start's
        pivots (`WARM_PIVOTS`, `WARM_MIN_PIVOTS`) and, should it stall, the perturbed
        run starts again from the kept basis. Either way the optimum is HiGHS' own and
        every level is then solved from it as before; only the path there differs.
        """
        guard = max(int(WARM_PIVOTS * cold_iterations), WARM_MIN_PIVOTS)
        return self._unperturbed_dual(guard, basis)

    def _level_run(self) -> tuple[PlanStatus, int]:
        """Primal simplex for a level from the basis before it, and its pivots.

        HiGHS perturbs the bounds for primal simplex and takes them back at its end,
        which costs pivots on these degenerate levels: at size xl lateness and cost took
        151 + 1,720 pivots unperturbed against 868 + 3,950 (docs/performance.md). The
        perturbation only guards against stalling, so the unperturbed run gets at most
        `LEVEL_PIVOTS` per row; should it stall, primal simplex goes on perturbed from
        the basis it reached, which is still feasible, so no pivot is lost. Either way
        the level's optimum is HiGHS' own.
        """
        h = self.highs
        guard = max(int(LEVEL_PIVOTS * self.lp.num_rows), WARM_MIN_PIVOTS)
        with option_off(h, "primal_simplex_bound_perturbation_multiplier", guard) as guarded:
            status = self._run(primal=True)
        pivots = self._iterations()
        if status is PlanStatus.ITERATION_LIMIT and guarded:
            status = self._run(primal=True)
            pivots += self._iterations()
        return status, pivots

    def _iterations(self) -> int:
        return int(self.highs.getInfo().simplex_iteration_count)

    def _keep_face(self, c: FloatArray, maximize: bool, fixed: _Fixed) -> None:
        """Keep a solved level's optimum on the weighted path: fix every column with a
        non-zero reduced cost, and every row with a non-zero dual, at the bound it is at.

        With any optimal duals, the feasible points that meet complementary slackness
        with them are exactly the level's optimal plans, so later levels search that face
        and nothing else, with no dense hold row and no slack to trade. Duals below
        `FACE_TOL` × the objective's scale count as zero (that face is a little larger);
        `_faces_hold` checks afterwards that no level was given up.
        """
        sol = self.highs.getSolution()
        m = self.lp.num_rows
        tol = FACE_TOL * max(float(np.abs(c).max()) if c.size else 0.0, 1.0)
        sense = -1.0 if maximize else 1.0
        d = sense * np.asarray(sol.col_dual, dtype=float)[: self.lp.num_cols]
        cols = np.nonzero(np.abs(d) > tol)[0].astype(np.int32)
        col_at = col_lo = col_up = np.zeros(0)
        if cols.size:
            _, _, _, lo, up, _ = self.highs.getCols(cols.size, cols)
            x = np.asarray(sol.col_value, dtype=float)[cols]
            # at the bound its reduced cost points to (lower for d > 0), if it is there
            at = np.where(d[cols] > 0, lo, up)
            keep = np.isfinite(at) & (np.abs(x - at) <= 1e-9 * np.maximum(1.0, np.abs(at)))
            cols, col_at, col_lo, col_up = cols[keep], at[keep], lo[keep], up[keep]
        y = sense * np.asarray(sol.row_dual, dtype=float)[:m]
        rows = np.nonzero(np.abs(y) > tol)[0].astype(np.int32)
        row_at = np.zeros(0)
        if rows.size:
            lo, up = self.lp.row_lower[rows], self.lp.row_upper[rows]
            act = np.asarray(sol.row_value, dtype=float)[rows]
            at = np.where(y[rows] > 0, lo, up)
            keep = np.isfinite(at) & (np.abs(act - at) <= 1e-7 * np.maximum(1.0, np.abs(at)))
            rows, row_at = rows[keep], at[keep]
        self._fix(cols, col_at, col_lo, col_up, rows, row_at, fixed)

    def _fix(self, cols: npt.NDArray[np.int32], col_at: FloatArray, col_lo: FloatArray,
             col_up: FloatArray, rows: npt.NDArray[np.int32], row_at: FloatArray,
             fixed: _Fixed) -> None:
        """Fix `cols` (whose bounds are `col_lo`, `col_up`) at `col_at` and `rows` at
        `row_at`, noting them in `fixed` to be put back."""
        if cols.size:
            self.highs.changeColsBounds(cols.size, cols, col_at.astype(np.float64),
                                        col_at.astype(np.float64))
            fixed.cols.append((cols, col_lo, col_up))
        if rows.size:
            change = self.highs.changeRowsBounds  # type: ignore[attr-defined]
            change(rows.size, rows, row_at.astype(np.float64), row_at.astype(np.float64))
            fixed.rows.append(rows)

    def _free_face(self, fixed: _Fixed) -> None:
        """Give the columns and rows `_keep_face` fixed their bounds back."""
        for cols, lo, up in reversed(fixed.cols):
            self.highs.changeColsBounds(cols.size, cols, lo, up)
        if fixed.rows:
            rows = np.unique(np.concatenate(fixed.rows)).astype(np.int32)
            lo = np.where(np.isinf(self.lp.row_lower[rows]), -highspy.kHighsInf,
                          self.lp.row_lower[rows])
            up = np.where(np.isinf(self.lp.row_upper[rows]), highspy.kHighsInf,
                          self.lp.row_upper[rows])
            change = self.highs.changeRowsBounds  # type: ignore[attr-defined]
            change(rows.size, rows, lo.astype(np.float64), up.astype(np.float64))
        fixed.cols.clear()
        fixed.rows.clear()

    def _certified(self, objectives: list[tuple[str, FloatArray, bool]], fixed: _Fixed,
                   faces: bool) -> _Shown | None:
        """The levels at the weighted start's optimum shown optimal from its basis without
        a solve (`certify.certify_levels`), in order up to the first whose check fails;
        None where the model or solution can't be read.

        Each level's value is c·x and its duals those of the start's basis, which is
        what primal simplex from that basis returns, taking no pivot: the per-level runs
        (on the Europe example ~0 pivots but 60-70 ms each, re-factorization and the
        solution's copy) are left out. When every level is shown, the last is held by its
        row, as after its solve, and with `faces` (the reference level follows) every
        earlier level's optimal face is fixed as `_keep_face` fixes it; when only some
        are, each of their faces is fixed, and the levels after them are solved on it.
        The levels shown share the check's seconds.
        """
        t0 = time.perf_counter()
        h, lp = self.highs, self.lp
        n, m = lp.num_cols, lp.num_rows
        model = h.getLp()  # the bounds the model has now (a frozen horizon, firm orders)
        if model.num_col_ != n or model.num_row_ != m:
            return None
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        act = np.asarray(sol.row_value, dtype=float)
        if x.size != n or act.size != m:
            return None
        lower = np.asarray(model.col_lower_, dtype=float)
        upper = np.asarray(model.col_upper_, dtype=float)
        row_lower = np.asarray(model.row_lower_, dtype=float)
        row_upper = np.asarray(model.row_upper_, dtype=float)
        if self._at is None:
            self._at = lp.matrix.T.tocsr()
        _, dual_tol = h.getOptionValue("dual_feasibility_tolerance")
        costs = [-c if maximize else c for _, c, maximize in objectives]
        got = certify_levels(h, self._at, costs, lower, upper, row_lower, row_upper,
                             x, act, FACE_TOL, float(dual_tol), partial=True)
        if not got:
            return None
        share = (time.perf_counter() - t0) / len(got)
        levels = [Level(name, maximize, float(c @ x), (-lv.y if maximize else lv.y), share)
                  for (name, c, maximize), lv in zip(objectives, got, strict=False)]
        complete = len(got) == len(objectives)
        if faces or not complete:
            for lv in got[:-1] if complete else got:
                self._fix_certified(lv, lower, upper, fixed)
        if complete:
            name, c, maximize = objectives[-1]
            self._hold(c, levels[-1].objective, maximize)
        return _Shown(levels, x, act, complete)

    def _fix_certified(self, lv: LevelDuals, lower: FloatArray, upper: FloatArray,
                       fixed: _Fixed) -> None:
        """Fix a certified level's optimal face, as `_keep_face` does after a solve."""
        cols = np.nonzero(lv.fix_cols)[0].astype(np.int32)
        rows = np.nonzero(lv.fix_rows)[0].astype(np.int32)
        col_at = np.where(lv.d[cols] > 0, lower[cols], upper[cols])
        row_at = np.where(lv.y[rows] > 0, self.lp.row_lower[rows], self.lp.row_upper[rows])
        self._fix(cols, col_at, lower[cols], upper[cols], rows, row_at, fixed)

    @staticmethod
    def _faces_hold(objectives: list[tuple[str, FloatArray, bool]], levels: list[Level],
                    x: FloatArray) -> bool:
        """True when the final plan keeps every level's optimum to its hold slack."""
        for (_, c, maximize), lv in zip(objectives, levels, strict=False):
            slack = HOLD_ABS + HOLD_REL * abs(lv.objective)
            value = float(c @ x)
            if (value < lv.objective - slack) if maximize else (value > lv.objective + slack):
                return False
        return True

    def _solve_levels(self, levels_upto: str | None, reference: FloatArray | None,
                      crash: bool | None = None) -> PlanResult:
        path = self.path if crash is None else \
            (SolvePath.WEIGHTED if crash else SolvePath.SEQUENTIAL)
        if path is SolvePath.WEIGHTED:
            result = self._levels(levels_upto, reference, SolvePath.WEIGHTED)
            if result.status is not PlanStatus.ERROR:
                return result
            # the weighted path could not keep a level (or failed numerically): the
            # plain path from a cold start, so the plan never depends on the weights
            self.release_holds()
            self.highs.clearSolver()
        return self._levels(levels_upto, reference, SolvePath.SEQUENTIAL)

    def _levels(self, levels_upto: str | None, reference: FloatArray | None,
                path: SolvePath) -> PlanResult:
        levels: list[Level] = []
        iterations: list[int] = []
        t_all = time.perf_counter()
        status = PlanStatus.OPTIMAL
        objectives = self.objectives()
        if levels_upto == "delivered":
            objectives = [o for o in objectives if o[0].startswith("delivered")]
        if len(objectives) < 2:
            path = SolvePath.SEQUENTIAL  # one level: nothing to weigh
        start_s, start_it = 0.0, 0
        faces = path is SolvePath.WEIGHTED
        fixed = _Fixed()
        final: _FinalState | None = None
        if path is SolvePath.WEIGHTED:
            status = self._crash(objectives, levels_upto)
            start_s = time.perf_counter() - t_all
            start_it = self._abandoned + self._sift_pivots + self._iterations()
            if status is not PlanStatus.OPTIMAL and status is not PlanStatus.INFEASIBLE:
                return PlanResult(PlanStatus.ERROR, np.zeros(0), np.zeros(0))
        try:
            closest = reference is not None and levels_upto is None
            shown = self._certified(objectives, fixed, closest) \
                if status is PlanStatus.OPTIMAL and faces and self.certify else None
            if shown is not None:
                # the levels shown optimal at the start's basis need no run of their own
                levels = list(shown.levels)
                iterations = [0] * len(levels)
            if shown is not None and shown.complete:
                x, act = shown.x, shown.act
            elif status is PlanStatus.OPTIMAL:
                last = len(objectives) - 1
                for i, (name, c, maximize) in enumerate(objectives):
                    if i < len(levels):
                        continue
                    t0 = time.perf_counter()
                    self._set_objective(c, maximize)
                    first = i == 0 and path is SolvePath.SEQUENTIAL
                    if first and self._first_basis is not None:
                        # re-solves start from the first level's optimal basis of the
                        # first solve: still dual feasible after a bound change, and the
                        # same start every time, so a re-plan does not depend on the past
                        self.highs.setBasis(self._first_basis)
                    if first:
                        status, pivots = self._run(primal=False), self._iterations()
                    else:
                        status, pivots = self._level_run()
                    if first and status is PlanStatus.OPTIMAL and self._first_basis is None:
                        self._first_basis = self.highs.getBasis()
                    iterations.append(pivots)
                    if status is not PlanStatus.OPTIMAL:
                        break
                    value = float(self.highs.getInfo().objective_function_value)
                    sol = self.highs.getSolution()
                    duals = np.asarray(sol.row_dual, dtype=float)[: self.lp.num_rows]
                    levels.append(Level(name, maximize, value, duals,
                                        time.perf_counter() - t0))
                    if not faces:
                        self._hold(c, value, maximize)
                    elif i < last:
                        self._keep_face(c, maximize, fixed)
                    else:  # the reference level keeps cost by a row, as on the plain path
                        if self._first_start and self.reweigh and reference is None \
                                and not self.lp.firm_cols.size:
                            final = self._final_basis()  # for re-solves' start
                        self._hold(c, value, maximize)
            if shown is None or not shown.complete:
                sol = self.highs.getSolution()
                x = np.asarray(sol.col_value, dtype=float)
                act = np.asarray(sol.row_value, dtype=float)[: self.lp.num_rows]
            if status is not PlanStatus.OPTIMAL:
                if x.size != self.lp.num_cols:
                    x = np.zeros(self.lp.num_cols)
                    act = np.zeros(self.lp.num_rows)
            elif faces and not self._faces_hold(objectives, levels, x):
                return PlanResult(PlanStatus.ERROR, np.zeros(0), np.zeros(0))
            elif final is not None:
                self._final[levels_upto] = final
            result = PlanResult(status, x, act, levels, 0.0, self.pass_seconds, path=path,
                                start_seconds=start_s, start_iterations=start_it,
                                start_held=self.start_held, start_rounds=self.start_rounds,
                                level_iterations=iterations)
            if status is PlanStatus.OPTIMAL and closest and reference is not None:
                self._closest(reference, result)
        finally:
            self._free_face(fixed)
        result.solve_seconds = time.perf_counter() - t_all
        return result

    def _freeze(self, reference: FloatArray, frozen: int) -> IntArray:
        """Fix the flows of the first `frozen` buckets at the reference's values."""
        flow, bucket = flow_columns(self.lp)
        cols = flow[bucket < frozen]
        value = np.clip(reference[cols], self.lp.col_lower[cols], self.lp.col_upper[cols])
        self.highs.changeColsBounds(cols.size, cols.astype(np.int32), value.astype(np.float64),
                                    value.astype(np.float64))
        return cols

    def _unfreeze(self, cols: IntArray) -> None:
        """Give frozen columns their own bounds back."""
        up = np.where(np.isinf(self.col_upper[cols]), highspy.kHighsInf,
                      self.col_upper[cols])
        self.highs.changeColsBounds(cols.size, cols.astype(np.int32),
                                    self.lp.col_lower[cols].astype(np.float64),
                                    up.astype(np.float64))

    def _closest(self, reference: FloatArray, result: PlanResult) -> None:
        """The reference level: least total |flow - reference| with every level held.

        |x - r| = x - r + 2 max(r - x, 0) for x >= 0, so flows whose reference is 0 need
        nothing but a unit cost; each flow with r > 0 gets one column n >= 0 and one row
        x + n >= r, costing 2 n. The start basis makes n basic where x < r, so primal
        simplex goes on from the cost level's optimum without a phase 1. The columns
        and rows are deleted afterwards, so the kept model is the one that was built.
        """
        t0 = time.perf_counter()
        lp, h = self.lp, self.highs
        flow, _ = flow_columns(lp)
        r = np.clip(reference[flow], lp.col_lower[flow], lp.col_upper[flow])
        c = np.zeros(lp.num_cols)
        c[flow] = 1.0
        pos = flow[r > 0].astype(np.int32)
        rpos = r[r > 0].astype(np.float64)
        k = pos.size
        n_col, n_row = h.getNumCol(), h.getNumRow()
        basis = h.getBasis()
        self._set_objective(c, False)
        empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0)
        h.addCols(k, np.full(k, 2.0), np.zeros(k), np.full(k, highspy.kHighsInf), 0,
                  empty_i, empty_i, empty_f)
        aux = np.arange(n_col, n_col + k, dtype=np.int32)
        h.addRows(k, rpos, np.full(k, highspy.kHighsInf), 2 * k,
                  np.arange(0, 2 * k, 2, dtype=np.int32),
                  np.column_stack([pos, aux]).ravel().astype(np.int32), np.ones(2 * k))
        new_rows = np.arange(n_row, n_row + k, dtype=np.int32)
        if basis.valid:
            short = result.x[pos] < rpos
            st = np.array([highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic],
                          dtype=object)
            basis.col_status = list(basis.col_status) + st[short.astype(int)].tolist()
            basis.row_status = list(basis.row_status) + st[(~short).astype(int)].tolist()
            h.setBasis(basis)
        try:
            status = self._run(primal=True)
            if status is PlanStatus.OPTIMAL:
                sol = h.getSolution()
                x = np.asarray(sol.col_value, dtype=float)[: lp.num_cols]
                act = np.asarray(sol.row_value, dtype=float)[: lp.num_rows]
                duals = np.asarray(sol.row_dual, dtype=float)[: lp.num_rows]
                value = float(np.abs(x[flow] - r).sum())
                result.x, result.row_activity = x, act
                result.levels.append(Level("reference", False, value, duals,
                                           time.perf_counter() - t0))
        finally:
            h.deleteRows(k, new_rows)
            h.deleteCols(k, aux)
        # not optimal (a hold row the solver can't meet, a limit): the cost level's plan
        # stands, every earlier level optimal, and the status says the level was not met
        result.reference_status = status


def blend(objectives: list[tuple[str, FloatArray, bool]]) -> FloatArray:
    """One minimised objective of all levels: each scaled to a largest |coefficient| of 1,
    maximised ones negated, level k weighted `ratio` times level k+1 (the last gets 1),
    with ratio = WEIGHT_RATIO, or less where the first level's weight would pass
    WEIGHT_RANGE. Only a start: the levels are solved exactly from its optimum."""
    k = len(objectives)
    ratio = min(WEIGHT_RATIO, WEIGHT_RANGE ** (1.0 / max(k - 1, 1)))
    out = np.zeros(objectives[0][1].size if objectives else 0)
    weight = 1.0
    for _, c, maximize in reversed(objectives):
        top = float(np.abs(c).max()) if c.size else 0.0
        if top > 0:
            out += (-weight if maximize else weight) / top * c
        weight *= ratio
    return out


def solve_lp(lp: PlanningLP, threads: int | None = None,
             reference: FloatArray | None = None, frozen: int = 0,
             path: SolvePath = SolvePath.WEIGHTED) -> PlanResult:
    """Build a HiGHS model for `lp` and solve its levels in order (see `solve`)."""
    result = LexicographicSolver(lp, threads, path=path).solve(reference=reference,
                                                               frozen=frozen)
    if result.status is PlanStatus.ERROR:
        raise FabnetError("the solver failed on the planning LP (fix: report this scenario)")
    return result
