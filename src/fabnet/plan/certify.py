"""Every level's optimality shown at one basis, without a solve.

The weighted start of the planner (`solve.LexicographicSolver`) and the stress test's
model of the delivery levels (`resilience.montecarlo`) both end at one optimal basis of
an LP that weighs the levels in order. Where the weights were large enough, that basis
is optimal for every level at once: for each level, in order, its duals y = B⁻ᵀc_B and
reduced costs d = c − Aᵀy have the optimal signs on every column and row the earlier
levels leave free. A level leaves free what its optimal face keeps free: a column whose
reduced cost, or a row whose dual, is above `face_tol` × the level's largest
coefficient and that is at the bound it points to is fixed there for later levels,
exactly as `LexicographicSolver._keep_face` fixes it after a level's solve. When any
check fails, `certify_levels` returns None and the caller solves the levels; with
`partial` it returns the levels shown before the failing one, and the caller solves the
rest on the face those leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fabnet.model.network import FloatArray

#: a column at a bound counts as there within this × max(1, |bound|); a row within ROW_AT
COL_AT = 1e-9
ROW_AT = 1e-7

BoolArray = npt.NDArray[np.bool_]


@dataclass
class LevelDuals:
    """One level's duals at the basis, as a minimisation: row duals `y` and reduced costs
    `d`, and the columns and rows its optimal face fixes for the levels after it."""

    y: FloatArray
    d: FloatArray
    fix_cols: BoolArray
    fix_rows: BoolArray


def at_bound(value: FloatArray, bound: FloatArray, tol: float) -> BoolArray:
    """Where `value` is at a finite `bound`, within `tol` × max(1, |bound|)."""
    return np.isfinite(bound) & (np.abs(value - bound) <= tol * np.maximum(1.0, np.abs(bound)))


def basic_variables(h: highspy.Highs) -> npt.NDArray[np.int64]:
    """HiGHS' basic variables in basis order: column j as j, row i as -1 - i."""
    _, basic = h.getBasicVariables()  # type: ignore[attr-defined]
    return np.asarray(basic, dtype=np.int64)


def level_duals(h: highspy.Highs, at: sp.csr_matrix, basic: npt.NDArray[np.int64],
                c: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Row duals y = B⁻ᵀc_B and reduced costs d = c − Aᵀy of cost `c` (a minimisation)
    at HiGHS' current basis, whose basic variables are `basic`."""
    rhs = np.where(basic >= 0, c[np.maximum(basic, 0)], 0.0)
    _, y = h.getBasisTransposeSolve(rhs)  # type: ignore[attr-defined]
    y = np.asarray(y, dtype=float)
    return y, c - at @ y


def certify_levels(h: highspy.Highs, at: sp.csr_matrix, costs: Sequence[FloatArray],
                   lower: FloatArray, upper: FloatArray,
                   row_lower: FloatArray, row_upper: FloatArray,
                   x: FloatArray, act: FloatArray, face_tol: float,
                   dual_tol: float, partial: bool = False) -> list[LevelDuals] | None:
    """Each level's duals at HiGHS' current basis when that basis is optimal for every
    level on the face the earlier ones leave, else None.

    `at` is Aᵀ of HiGHS' model (its columns by its rows), `costs` the levels' costs as
    minimisations (a maximised level negated), in order; `lower`, `upper`, `row_lower`
    and `row_upper` the model's bounds (±inf where there is none) and `x`, `act` the
    basic solution's column values and row activities. A reduced cost or dual within
    `dual_tol` of the optimal sign counts as optimal (HiGHS' dual feasibility tolerance).
    With `partial`, a failing check ends the list instead: the levels before it, each
    optimal on the face the ones before it leave (possibly none).
    """
    basic = basic_variables(h)
    n, m = lower.size, row_lower.size
    is_basic_col = np.zeros(n, dtype=bool)
    is_basic_col[basic[basic >= 0]] = True
    is_basic_row = np.zeros(m, dtype=bool)
    is_basic_row[-1 - basic[basic < 0]] = True
    eq = row_upper == row_lower
    c_lo = ~is_basic_col & at_bound(x, lower, COL_AT)
    c_up = ~is_basic_col & ~c_lo & at_bound(x, upper, COL_AT)
    c_free = ~is_basic_col & ~c_lo & ~c_up  # nonbasic off its bounds: d must be 0
    r_lo = ~is_basic_row & ~eq & at_bound(act, row_lower, ROW_AT)
    r_up = ~is_basic_row & ~eq & ~r_lo & at_bound(act, row_upper, ROW_AT)
    r_free = ~is_basic_row & ~eq & ~r_lo & ~r_up
    col_at_lo, col_at_up = at_bound(x, lower, COL_AT), at_bound(x, upper, COL_AT)
    row_at_lo, row_at_up = at_bound(act, row_lower, ROW_AT), at_bound(act, row_upper, ROW_AT)
    open_c = ~is_basic_col & (lower < upper)  # a fixed column's reduced cost is free
    open_r = ~is_basic_row & ~eq  # an equality row's dual may have any sign
    out: list[LevelDuals] = []
    for c in costs:
        y, d = level_duals(h, at, basic, c)
        # minimising: a column at its lower bound needs d >= 0, at its upper d <= 0; a
        # row at its lower bound needs y >= 0, at its upper y <= 0 (d_row = y)
        bad_c = open_c & ((c_lo & (d < -dual_tol)) | (c_up & (d > dual_tol))
                          | (c_free & (np.abs(d) > dual_tol)))
        bad_r = open_r & ((r_lo & (y < -dual_tol)) | (r_up & (y > dual_tol))
                          | (r_free & (np.abs(y) > dual_tol)))
        if bad_c.any() or bad_r.any():
            return out if partial else None
        scale = face_tol * max(float(np.abs(c).max()) if c.size else 0.0, 1.0)
        fix_c = (d > scale) & col_at_lo | (d < -scale) & col_at_up
        fix_r = (y > scale) & row_at_lo | (y < -scale) & row_at_up
        out.append(LevelDuals(y, d, fix_c, fix_r))
        open_c &= ~fix_c
        open_r &= ~fix_r
    return out


#: the re-weighted start's weights are this many times what the basis needs, for margin
WEIGHT_SAFETY = (10.0, 2.0)
#: a scaled reduced cost or dual beyond this counts as non-zero in `level_weights`
SIGNED = 1e-9


def level_weights(h: highspy.Highs, at: sp.csr_matrix, costs: Sequence[FloatArray],
                  col_up: BoolArray, row_up: BoolArray, open_c: BoolArray,
                  open_r: BoolArray, dual_tol: float, weight_range: float) -> FloatArray | None:
    """Weights w, the last level's 1, under which HiGHS' current basis (a lexicographic
    optimum's) is optimal for the one objective Σ w_k c_k; None where none within
    `weight_range` does.

    At such a basis each level's reduced costs have the optimal signs on what the earlier
    levels leave free, so a column or row the later levels' weighted sum prices wrongly
    has a right-signed, non-zero reduced cost at some earlier level: going up from the
    last level, each level's weight is the least that outweighs what the levels below it
    price wrongly where its own reduced cost is right-signed, times `WEIGHT_SAFETY` (the
    smaller factor where the larger would pass `weight_range`). `costs` are the levels as
    minimisations, each scaled to a largest |coefficient| of 1; `col_up` and `row_up`
    say which non-basic columns and rows are at their upper bound (the others at their
    lower), `open_c` and `open_r` which may move (not basic, not fixed).
    """
    basic = basic_variables(h)
    sign_c = np.where(col_up, -1.0, 1.0)  # at lower d >= 0 is optimal, at upper d <= 0
    sign_r = np.where(row_up, -1.0, 1.0)
    dk: list[FloatArray] = []
    yk: list[FloatArray] = []
    for c in costs:
        y, d = level_duals(h, at, basic, c)
        dk.append(np.where(open_c, sign_c * d, 0.0))
        yk.append(np.where(open_r, sign_r * y, 0.0))
    for safety in WEIGHT_SAFETY:
        w = np.ones(len(costs))
        d, y = dk[-1].copy(), yk[-1].copy()
        for k in range(len(costs) - 2, -1, -1):
            # wrongly priced below level k, and right-signed at level k
            need_c = (d < -SIGNED) & (dk[k] > SIGNED)
            need_r = (y < -SIGNED) & (yk[k] > SIGNED)
            req = max(float((-d[need_c] / dk[k][need_c]).max()) if need_c.any() else 0.0,
                      float((-y[need_r] / yk[k][need_r]).max()) if need_r.any() else 0.0)
            w[k] = max(safety * req, w[k + 1])
            d += w[k] * dk[k]
            y += w[k] * yk[k]
        if w[0] <= weight_range:
            return w if (d >= -dual_tol).all() and (y >= -dual_tol).all() else None
    return None
