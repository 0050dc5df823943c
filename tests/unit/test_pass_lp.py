"""The LP handed to HiGHS through its array interface is the LP as built, and continuous."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

from fabnet.plan.solve import new_highs, pass_lp


def _lp() -> tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    a = sp.csc_matrix(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]]))
    return (a, np.array([-1.0, -2.0, 0.5]), np.zeros(3), np.array([4.0, np.inf, 3.0]),
            np.array([-np.inf, 0.0]), np.array([6.0, 0.0]))


def test_the_model_holds_the_matrix_bounds_and_costs_as_given() -> None:
    a, cost, lo, up, rlo, rup = _lp()
    h = new_highs()
    pass_lp(h, a, cost, lo, up, rlo, rup)
    got = h.getLp()
    for mine, theirs in ((cost, got.col_cost_), (lo, got.col_lower_), (up, got.col_upper_),
                         (rlo, got.row_lower_), (rup, got.row_upper_)):
        assert np.array_equal(mine, np.asarray(theirs))
    m = got.a_matrix_
    back = sp.csc_matrix((np.asarray(m.value_), np.asarray(m.index_), np.asarray(m.start_)),
                         shape=a.shape)
    assert (back != a).nnz == 0
    assert got.sense_ == highspy.ObjSense.kMinimize
    # an LP, not a MIP: every column continuous, solved by simplex to its optimum
    assert all(v == highspy.HighsVarType.kContinuous for v in got.integrality_)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    # x1 + 2 x2 <= 6, x2 = x3 <= 3: -x1 - 2 x2 + x3/2 is least at x1 = 4, x2 = x3 = 1
    assert h.getInfo().objective_function_value == pytest.approx(-5.5)
    assert not h.getInfo().mip_node_count > 0


def test_a_maximisation_keeps_its_sense() -> None:
    a, cost, lo, up, rlo, rup = _lp()
    h = new_highs()
    pass_lp(h, a, -cost, lo, up, rlo, rup, maximize=True)
    assert h.getLp().sense_ == highspy.ObjSense.kMaximize
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(5.5)


def test_an_lp_highs_refuses_is_an_error_not_an_empty_model() -> None:
    a, cost, lo, up, rlo, rup = _lp()
    lo[1] = np.nan
    with pytest.raises(ValueError, match="3 columns and 2 rows"):
        pass_lp(new_highs(), a, cost, lo, up, rlo, rup)


def test_columns_marked_integer_are_integer_and_the_rest_continuous() -> None:
    a, cost, lo, up, rlo, rup = _lp()
    rup[0] = 7.0  # the LP optimum then has x2 = 1.5
    h = new_highs()
    pass_lp(h, a, cost, lo, up, rlo, rup, integer=np.array([False, True, False]))
    kinds = list(h.getLp().integrality_)
    assert kinds == [highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger,
                     highspy.HighsVarType.kContinuous]
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    # x2 = x3 = 2, x1 = 3: -3 - 4 + 1 = -6 (the LP's -6.25 needs x2 = 1.5)
    assert h.getInfo().objective_function_value == pytest.approx(-6.0)
    assert np.asarray(h.getSolution().col_value)[1] == pytest.approx(2.0)
