"""Settling a solution leaves one that holds as written, however far it was off.

A plan's solution is settled before it is written (`settle_solution`): noise snapped,
capacities kept, stock re-derived bucket by bucket with overdrawn outflows cut. Here the
optimum of a synthetic network is disturbed (flows scaled up and down at random, so
stocks run short in many buckets and a cut in one bucket changes the flows of later
ones) and settled: every stock balance row, capacity row and column bound of the LP must
hold, flows may only be cut, and settling again changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario

from fabnet.model.network import compile_network
from fabnet.plan import build_lp
from fabnet.plan.lp import PlanningLP
from fabnet.plan.plan import ReadBack, _balance_stock, settle_solution
from fabnet.plan.solve import LexicographicSolver


def _violations(lp: PlanningLP, x: np.ndarray) -> dict[str, float]:
    """How far `x` breaks the balance and capacity rows and the column bounds."""
    act = lp.matrix @ x
    out: dict[str, float] = {}
    for name in ("balance", "work", "supply", "lane", "demand"):
        b = lp.rows[name]
        sl = slice(b.offset, b.offset + b.size)
        scale = np.maximum(1.0, np.abs(lp.row_upper[sl]).clip(max=1e12))
        over = np.maximum(act[sl] - lp.row_upper[sl], lp.row_lower[sl] - act[sl]) / scale
        out[name] = float(over.max(initial=0.0))
    out["bounds"] = float(np.maximum(x - lp.col_upper, lp.col_lower - x).max())
    return out


@pytest.mark.parametrize("seed", [3, 11])
def test_a_disturbed_solution_settles_to_one_that_balances_and_keeps_capacities(
        seed: int) -> None:
    net = compile_network(synthetic_scenario(4, 24, 6, 3, 10, seed=seed))
    lp = build_lp(net)
    x = LexicographicSolver(lp).solve().x
    rb = ReadBack(lp)
    rng = np.random.default_rng(seed)
    nf = lp.cols["stock"].offset
    for share in (0.05, 0.3, 1.0):
        y = x.copy()
        pick = rng.random(nf) < share
        y[:nf][pick] *= rng.uniform(0.3, 1.7, int(pick.sum()))
        settled = settle_solution(net, lp, y, rb)
        assert all(v <= 1e-9 for v in _violations(lp, settled).values()), \
            (share, _violations(lp, settled))
        # flows are only ever cut (or capped at their bound), never raised
        assert np.all(settled[:nf] <= np.minimum(y[:nf], lp.col_upper[:nf]) + 1e-12)
        cut = int(np.sum(settled[:nf] < np.minimum(y[:nf], lp.col_upper[:nf]) - 1e-9))
        if share == 1.0:  # every flow disturbed: stock overdrawn, flows cut
            assert cut > 0
        assert np.array_equal(settle_solution(net, lp, settled, rb), settled)


def test_settling_an_optimum_moves_it_only_by_noise() -> None:
    net = compile_network(synthetic_scenario(4, 24, 6, 3, 10, seed=5))
    lp = build_lp(net)
    x = LexicographicSolver(lp).solve().x
    settled = settle_solution(net, lp, x)
    nf = lp.cols["stock"].offset
    assert np.abs(settled[:nf] - x[:nf]).max() <= 1e-6
    assert all(v <= 1e-9 for v in _violations(lp, settled).values())


@pytest.mark.parametrize(("seed", "draw"), [(3, 0), (7, 0), (11, 1)])
def test_one_pass_of_the_stock_balance_derives_stock_from_the_flows_as_cut(
        seed: int, draw: int) -> None:
    """A cut in one bucket changes what arrives later: the later stock must follow it."""
    net = compile_network(synthetic_scenario(4, 24, 6, 3, 10, seed=seed))
    lp = build_lp(net)
    x = LexicographicSolver(lp).solve().x
    nf = lp.cols["stock"].offset
    y = x.copy()
    y[:nf] *= np.random.default_rng(draw).uniform(0.3, 1.7, nf)
    y[y < 0] = 0.0
    before = y[:nf].copy()
    _balance_stock(net, lp, y, ReadBack(lp))
    assert np.any(y[:nf] < before - 1e-9)  # stock ran short somewhere: flows were cut
    assert _violations(lp, y)["balance"] <= 1e-9
    stock = lp.cols["stock"]
    assert y[stock.offset:stock.offset + stock.size].min() >= 0.0
