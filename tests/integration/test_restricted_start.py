"""The weighted start that leaves columns out at first reaches the levels of the plain path.

`plan.sift` holds late and early deliveries (and, on networks with more transfer arcs
than stock keys, every transfer) at zero for the cold start, then prices them at its
optimum and gives back those that would improve it. However the held columns are chosen
(the default windows, windows of zero buckets that hold nearly every delivery, no
pricing rounds at all) every level must equal the plain sequential path's, the model
must be left as built, and where a held column pays (a shortage that makes deliveries
late) pricing must bring it back.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario
from hypothesis import given

from fabnet.model import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import make_plan, sift
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.solve import LexicographicSolver, PlanResult, SolvePath, blend
from tests.integration.test_known_optima import ALL
from tests.integration.test_random_scenarios import RANDOM, scenarios
from tests.integration.test_solve_paths import _levels, _same, _scenario


def _many_customers() -> PlanningLP:
    """3 sites, 12 items, 30 customers, 30 weeks: most columns are deliveries, so the
    default rule takes the restricted start (held share about 0.56)."""
    return build_lp(compile_network(synthetic_scenario(3, 12, 4, 30, 30, seed=7)))


def _plain(lp: PlanningLP, **kw: object) -> PlanResult:
    return LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve(**kw)  # type: ignore[arg-type]


def _scale(lp: PlanningLP) -> float:
    demand = lp.rows["demand"]
    return float(lp.row_upper[demand.offset:demand.offset + demand.size].sum()) * 52


def _model_as_built(solver: LexicographicSolver, lp: PlanningLP) -> None:
    model = solver.highs.getLp()
    assert np.array_equal(np.asarray(model.col_lower_), lp.col_lower)
    assert np.array_equal(np.asarray(model.col_upper_),
                          np.where(np.isinf(solver.col_upper), np.inf, solver.col_upper))


def test_the_default_rule_holds_columns_on_a_delivery_heavy_network() -> None:
    lp = _many_customers()
    solver = LexicographicSolver(lp)
    result = solver.solve()
    assert result.path is SolvePath.WEIGHTED
    assert result.start_held > 0 and result.start_rounds >= 1
    whole = LexicographicSolver(lp, restricted_start=False).solve()
    assert whole.start_held == 0
    plain = _plain(lp)
    _same(_levels(result), _levels(plain), scale=_scale(lp))
    _same(_levels(whole), _levels(plain), scale=_scale(lp))
    _model_as_built(solver, lp)
    # a second solve goes on from the kept start basis, with every column in the model
    again = solver.solve()
    assert again.start_held == 0
    _same(_levels(again), _levels(plain), scale=_scale(lp))


def test_the_default_rule_leaves_the_synthetic_sizes_whole() -> None:
    # 5 sites, 40 items, 4 customers: deliveries and transfers are a small share
    lp = build_lp(compile_network(synthetic_scenario(5, 40, 10, 4, 26, seed=7)))
    assert sift.candidate_columns(lp).size > 0
    assert LexicographicSolver(lp).solve().start_held == 0


def test_pricing_brings_back_the_late_deliveries_a_shortage_needs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # windows of zero buckets: every delivery that is not exactly on time is held, and on
    # this network demand outruns capacity, so late deliveries pay and must come back
    monkeypatch.setattr(sift, "LATE_WINDOW", 0)
    monkeypatch.setattr(sift, "EARLY_WINDOW", 0)
    lp = _many_customers()
    solver = LexicographicSolver(lp, restricted_start=True)
    result = solver.solve()
    assert result.start_held > 0 and result.start_rounds >= 1
    plain = _plain(lp)
    assert _levels(plain)["lateness"] > 0  # late units are part of every optimum
    _same(_levels(result), _levels(plain), scale=_scale(lp))
    _model_as_built(solver, lp)


def test_rounds_that_run_out_leave_primal_simplex_to_finish_on_the_whole_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sift, "MAX_ROUNDS", 0)
    monkeypatch.setattr(sift, "LATE_WINDOW", 0)
    lp = _many_customers()
    result = LexicographicSolver(lp, restricted_start=True).solve()
    assert result.start_held > 0 and result.start_rounds == 0
    _same(_levels(result), _levels(_plain(lp)), scale=_scale(lp))


def test_the_start_is_an_optimum_of_the_whole_combined_lp() -> None:
    lp = _many_customers()
    solver = LexicographicSolver(lp, certify=False)
    solver.solve()
    # the kept start basis, re-solved on a fresh model of the whole LP, takes no pivot
    h = LexicographicSolver(lp).highs
    h.changeColsCost(lp.num_cols, np.arange(lp.num_cols, dtype=np.int32),
                     blend(solver.objectives()))
    h.setBasis(solver._crash_basis[None])
    h.setOptionValue("simplex_strategy", 4)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().simplex_iteration_count == 0


def test_a_time_limit_keeps_the_start_whole() -> None:
    lp = _many_customers()
    result = LexicographicSolver(lp, options={"time_limit": 600.0}).solve()
    assert result.start_held == 0
    _same(_levels(result), _levels(_plain(lp)), scale=_scale(lp))


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_restricted_start_reaches_the_known_optima(tmp_path: Path, name: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sift, "LATE_WINDOW", 0)
    monkeypatch.setattr(sift, "EARLY_WINDOW", 0)
    lp = build_lp(compile_network(_scenario(tmp_path, ALL[name])))
    result = LexicographicSolver(lp, restricted_start=True).solve()
    _same(_levels(result), _levels(_plain(lp)))


def test_reference_level_and_frozen_horizon_after_a_restricted_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sift, "LATE_WINDOW", 0)
    lp = build_lp(compile_network(_scenario(tmp_path, ALL["uk_plant_needed"])))
    base = _plain(lp)
    for kw in ({"reference": base.x * 0.9}, {"reference": base.x, "frozen": 2}):
        fast = LexicographicSolver(lp, restricted_start=True).solve(**kw)  # type: ignore[arg-type]
        _same(_levels(fast), _levels(_plain(lp, **kw)))


def test_a_plan_of_a_delivery_heavy_network_is_the_whole_starts_plan() -> None:
    sc = synthetic_scenario(3, 12, 4, 30, 30, seed=7)
    plan = make_plan(compile_network(sc))
    lp = build_lp(compile_network(sc))
    whole = LexicographicSolver(lp, restricted_start=False).solve()
    _same(plan.levels, _levels(whole), scale=_scale(lp))


@RANDOM
@given(sc=scenarios())
def test_the_restricted_start_equals_the_plain_path_on_random_networks(sc: Scenario) -> None:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(sift, "LATE_WINDOW", 0)
        m.setattr(sift, "EARLY_WINDOW", 0)
        lp = build_lp(compile_network(sc))
        fast = LexicographicSolver(lp, restricted_start=True).solve()
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    _same(_levels(fast), _levels(_plain(lp)), scale=scale)
