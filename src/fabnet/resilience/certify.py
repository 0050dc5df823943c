"""Scaling an LP for the solver, and checking its answer in the model's own units.

A solver's "optimal" holds within its tolerances on its own, internally scaled model.
On a badly scaled LP (the rate-form TTS model mixes stock in units, up to 1e7, with
rates per day) an answer within an absolute dual tolerance of 1e-7 can still be far
from the optimum. So the LP is handed to HiGHS equilibrated (`equilibrate`: every
nonzero near 1, by powers of 2, so scaling adds no rounding), and every answer is
checked back on the unscaled model (`certify`): its rows and bounds hold, and the
Lagrangian bound of its duals equals its objective. Weak duality makes that bound a
lower bound on every feasible point's objective, so an answer that passes is the
optimum to the tolerance.

For min cᵀx s.t. lo ≤ Ax ≤ hi, l ≤ x ≤ u and any duals y (signs projected onto what
each row's finite bounds allow), with d = c − Aᵀy:

    bound(y) = Σ_i (y_i lo_i if y_i > 0 else y_i hi_i) + Σ_j (d_j l_j if d_j > 0 else d_j u_j)

A column whose reduced cost has the wrong sign for an infinite bound would make the
bound −∞; such a column is charged its reduced cost times its size (the larger of its
value and its scale factor), which is what a dual tolerance means on a scaled model.
Reduced costs at round-off level (64 ε × the size of the terms summed) count as zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fabnet.model.network import FloatArray

#: relative tolerance of `certify`: residuals per row magnitude, gap per objective
CERTIFY_TOL = 1e-9


def _pow2(v: FloatArray) -> FloatArray:
    """The nearest power of 2 (scaling by it is exact in floating point)."""
    return np.asarray(np.exp2(np.round(np.log2(v))), dtype=float)


def equilibrate(a: sp.csc_matrix, passes: int = 8) -> tuple[FloatArray, FloatArray]:
    """Row and column factors r, c (powers of 2) so that r_i |a_ij| c_j is close to 1.

    Geometric-mean scaling (alternately divide each row and each column by the square
    root of its largest times its smallest nonzero); empty rows and columns keep 1.
    """
    m, n = a.shape
    absa = abs(sp.csc_matrix(a))
    r, c = np.ones(m), np.ones(n)
    for _ in range(passes):
        b = sp.csr_matrix(sp.diags(r) @ absa @ sp.diags(c))
        r = r / _geo(b, m)
        b = sp.csc_matrix(sp.diags(r) @ absa @ sp.diags(c))
        c = c / _geo(b, n)
    return _pow2(r), _pow2(c)


def _geo(b: sp.csr_matrix | sp.csc_matrix, k: int) -> FloatArray:
    """sqrt(max × min) of each row (csr) or column (csc) of b's nonzeros; 1 where empty."""
    out = np.ones(k)
    counts = np.diff(b.indptr)
    full = np.nonzero(counts > 0)[0]
    if full.size and b.nnz:
        starts = b.indptr[full]
        hi = np.maximum.reduceat(b.data, starts)
        lo = np.minimum.reduceat(b.data, starts)
        out[full] = np.sqrt(hi * lo)
    return out


@dataclass(frozen=True)
class Certificate:
    """An answer checked on the unscaled model: its objective, the duals' bound, the
    largest relative primal residual, and whether it is the optimum to the tolerance."""

    objective: float
    bound: float
    residual: float
    ok: bool


def certify(a: sp.csc_matrix, row_lo: FloatArray, row_hi: FloatArray, col_lo: FloatArray,
            col_hi: FloatArray, cost: FloatArray, x: FloatArray, y: FloatArray,
            size: FloatArray, floor: float, tol: float = CERTIFY_TOL,
            abs_a: sp.csc_matrix | None = None) -> Certificate:
    """Check that x is feasible and that y's dual bound equals cᵀx (module docstring).

    `size` is each column's scale (for columns with an infinite bound), `floor` the
    smallest objective magnitude the gap is measured against; `abs_a` is |a| when the
    caller keeps it (a sweep certifies thousands of answers on one matrix).
    """
    abs_a = abs(a) if abs_a is None else abs_a
    act = a @ x
    mag = abs_a @ np.abs(x)
    lo_gap = np.where(np.isfinite(row_lo), row_lo - act, 0.0)
    hi_gap = np.where(np.isfinite(row_hi), act - row_hi, 0.0)
    fin_lo, fin_hi = np.isfinite(row_lo), np.isfinite(row_hi)
    ref = 1.0 + mag + np.where(fin_lo, np.abs(row_lo), 0.0) + np.where(fin_hi,
                                                                      np.abs(row_hi), 0.0)
    row_res = float(np.max(np.maximum(np.maximum(lo_gap, hi_gap), 0.0) / ref, initial=0.0))
    c_lo = np.where(np.isfinite(col_lo), col_lo - x, 0.0)
    c_hi = np.where(np.isfinite(col_hi), x - col_hi, 0.0)
    col_res = float(np.max(np.maximum(np.maximum(c_lo, c_hi), 0.0) / (1.0 + np.abs(x)),
                           initial=0.0))
    residual = max(row_res, col_res)
    y = np.where((y > 0) & ~fin_lo, 0.0, y)
    y = np.where((y < 0) & ~fin_hi, 0.0, y)
    d = cost - a.T @ y
    # reduced costs at round-off level (basic columns) are zero: with a wide bound (τ's
    # is 1e6) their noise alone would open a gap
    noise = 64 * np.finfo(float).eps * (np.abs(cost) + abs_a.T @ np.abs(y))
    d = np.where(np.abs(d) <= noise, 0.0, d)
    bound = float(np.sum(np.where(y > 0, y * np.where(fin_lo, row_lo, 0.0),
                                  y * np.where(fin_hi, row_hi, 0.0))))
    pos, neg = d > 0, d < 0
    lo_j = np.where(np.isfinite(col_lo), col_lo, -np.maximum(np.abs(x), size))
    hi_j = np.where(np.isfinite(col_hi), col_hi, np.maximum(np.abs(x), size))
    bound += float(np.sum(d[pos] * lo_j[pos]) + np.sum(d[neg] * hi_j[neg]))
    objective = float(cost @ x)
    scale = max(abs(objective), floor)
    ok = bool(residual <= tol and abs(objective - bound) <= tol * scale)
    return Certificate(objective, bound, residual, ok)
