"""Which columns a cold weighted start may leave out at first, and which it must take back.

On a network with many ways to serve a demand (several sources, every departure bucket
of a long horizon, several lanes per item), the optimal plan uses few of the LP's
columns: on the Europe example 270 of 17,549 open delivery columns and 264 of 24,472
transfer columns. Dual simplex still prices every one at every pivot. The start then
first solves the LP with the columns least likely to pay held at zero
(`candidate_columns`), and prices them at its optimum: those whose reduced cost under
the weighted objective is negative (`attractive`) get their bounds back and primal
simplex goes on from the basis, until none is left. That is column generation (sifting)
on the start only. When pricing finds none, every column of the whole model has an
optimal reduced cost at the final basis (the held ones by this test, at HiGHS' dual
feasibility tolerance, the others by HiGHS'), so it is an optimal basis of the whole
weighted LP; should the rounds run out first, primal simplex finishes on the whole
model. Every level is then shown or solved exactly from that basis, on the whole model,
as before (the certificate checks every column's reduced cost again, level by level).
The choice of held columns changes the path to that optimum, never which levels it
reaches.

Held, where the network gives them in bulk:

- delivery columns arriving more than `LATE_WINDOW` buckets after their demand is due, or
  more than `EARLY_WINDOW` before (the optimum delivers on time or nearly, unless a
  shortage says otherwise, which pricing finds);
- every transfer column, where the network has at least as many transfer arcs as stock
  keys (alternative lanes: the resilience circuit's second routes are mostly idle).

The restricted start pays only where it leaves out much of the model: it is taken when
the held columns are at least `SIFT_SHARE` of the open ones (the Europe example 56 %,
the `site12` benchmark network 69 %, the synthetic sizes at most 12 %; on those the
pricing rounds cost more than the smaller LP saves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from fabnet.model.network import BoolArray, FloatArray, IntArray

if TYPE_CHECKING:
    from fabnet.plan.lp import PlanningLP

#: a delivery column arriving more than this many buckets late is held at first
LATE_WINDOW = 8
#: ... or more than this many buckets before its due bucket
EARLY_WINDOW = 2
#: the restricted start is taken when the held columns are at least this share of the
#: open ones (upper bound above zero, lower bound zero)
SIFT_SHARE = 0.4
#: pricing rounds before every held column gets its bounds back at once
MAX_ROUNDS = 25


def candidate_columns(lp: PlanningLP) -> IntArray:
    """Columns the restricted start would hold: late or early deliveries, and every
    transfer where transfer arcs are at least as many as stock keys."""
    parts: list[IntArray] = []
    b = lp.cols["deliver"]
    if b.size and lp.deliver_due.size == b.count:
        arrive = lp.arrival["deliver"]
        due = lp.deliver_due[:, None]
        a, t = np.nonzero((arrive > due + LATE_WINDOW) | (arrive < due - EARLY_WINDOW))
        parts.append(b.at(a, t))
    tr, st = lp.cols["transfer"], lp.cols["stock"]
    if tr.size and tr.count >= st.count:
        parts.append(np.arange(tr.offset, tr.offset + tr.size, dtype=np.int64))
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(np.sort(np.concatenate(parts)), dtype=np.int64)


def attractive(at_held: sp.csr_matrix, cost_held: FloatArray, row_dual: FloatArray,
               tol: float) -> BoolArray:
    """Held columns whose reduced cost c - aᵀy is below -`tol` (a minimisation): each
    would improve the restricted optimum if it could leave zero. `at_held` holds their
    columns of A as rows."""
    return np.asarray(cost_held - at_held @ row_dual < -tol)
