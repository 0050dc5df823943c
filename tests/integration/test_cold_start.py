"""The weighted path's cold start runs HiGHS' dual simplex with its cost perturbation off.

It must take the pivots of exactly that run (one fresh HiGHS model of the combined LP,
presolve, dual simplex, no perturbation), and, should the unperturbed run stall past its
guard, the perturbed dual simplex must start over from cold and give every level as the
plain path does. A model kept for re-plans (`perturbed_start=True`) must start with the
perturbed run, as HiGHS runs it, and give the same levels.
"""

from __future__ import annotations

import highspy
import pytest
from benchmarks.synthetic import synthetic_scenario

from fabnet.model import compile_network
from fabnet.plan import solve as solve_module
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.solve import LexicographicSolver, SolvePath, blend
from tests.integration.test_solve_paths import _levels, _same


def _lp() -> PlanningLP:
    return build_lp(compile_network(synthetic_scenario(5, 40, 10, 4, 26, seed=7)))


def _combined_pivots(lp: PlanningLP, multiplier: float) -> int:
    """Pivots of the combined LP solved cold by hand, at a cost perturbation multiplier."""
    solver = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL)
    h = solver.highs
    solver._set_objective(blend(solver.objectives()), False)
    h.setOptionValue("dual_simplex_cost_perturbation_multiplier", multiplier)
    h.setOptionValue("simplex_strategy", 1)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return int(h.getInfo().simplex_iteration_count)


def test_the_cold_start_is_the_unperturbed_dual_simplex() -> None:
    lp = _lp()
    unperturbed, perturbed = _combined_pivots(lp, 0.0), _combined_pivots(lp, 1.0)
    assert unperturbed != perturbed  # the two runs are told apart on this network
    result = LexicographicSolver(lp).solve()
    assert result.path is SolvePath.WEIGHTED
    assert result.start_iterations == unperturbed
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    _same(_levels(result), _levels(plain))


def test_a_stalled_unperturbed_cold_start_falls_back_to_the_perturbed_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a guard of one pivot: the unperturbed run stops at once, the perturbed one starts
    # over from cold and its pivots are counted with the abandoned one
    monkeypatch.setattr(solve_module, "COLD_PIVOTS", 0.0)
    monkeypatch.setattr(solve_module, "WARM_MIN_PIVOTS", 1)
    lp = _lp()
    perturbed = _combined_pivots(lp, 1.0)
    result = LexicographicSolver(lp).solve()
    assert result.path is SolvePath.WEIGHTED
    assert result.start_iterations == 1 + perturbed
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    _same(_levels(result), _levels(plain))


def test_a_kept_models_cold_start_is_the_perturbed_dual_simplex() -> None:
    lp = _lp()
    unperturbed, perturbed = _combined_pivots(lp, 0.0), _combined_pivots(lp, 1.0)
    assert unperturbed != perturbed
    solver = LexicographicSolver(lp, perturbed_start=True)
    result = solver.solve()
    assert result.path is SolvePath.WEIGHTED
    assert result.start_iterations == perturbed
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    _same(_levels(result), _levels(plain))
    # solved again, it goes on from the perturbed start's kept basis: no pivot to make
    again = solver.solve()
    assert again.start_iterations == 0
    _same(_levels(again), _levels(plain))
