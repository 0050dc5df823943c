"""Each level after the start runs primal simplex with HiGHS' bound perturbation off.

That run must give every level as the plain path and HiGHS' own default run do, in
fewer pivots on a network whose levels need them; should it stall past its guard, primal
simplex must go on perturbed from where it stopped, to the same levels, with both runs'
pivots counted; and the kept model must get HiGHS' options back afterwards.
"""

from __future__ import annotations

import highspy
import pytest
from benchmarks.synthetic import synthetic_scenario

from fabnet.model import compile_network
from fabnet.plan import solve as solve_module
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.solve import LexicographicSolver, PlanStatus, SolvePath
from tests.integration.test_solve_paths import _levels, _same

MULTIPLIER = "primal_simplex_bound_perturbation_multiplier"


def _lp() -> PlanningLP:
    # a network whose lateness and cost levels take pivots after the weighted start
    return build_lp(compile_network(synthetic_scenario(5, 40, 10, 4, 26, seed=7)))


def _stall_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guard of one pivot: every unperturbed level run stops at once."""
    monkeypatch.setattr(solve_module, "LEVEL_PIVOTS", 0.0)
    monkeypatch.setattr(solve_module, "WARM_MIN_PIVOTS", 1)


def test_levels_run_unperturbed_to_the_plain_paths_optima(
        monkeypatch: pytest.MonkeyPatch) -> None:
    lp = _lp()
    result = LexicographicSolver(lp).solve()
    assert result.path is SolvePath.WEIGHTED
    assert sum(result.level_iterations) > 0  # the levels are solved, not only shown
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    _same(_levels(result), _levels(plain))
    _stall_at_once(monkeypatch)
    perturbed = LexicographicSolver(lp).solve()
    _same(_levels(perturbed), _levels(result))
    # the perturbed run takes more pivots here: the unperturbed one is what ran
    assert sum(result.level_iterations) < sum(perturbed.level_iterations)


def test_a_stalled_level_run_goes_on_perturbed(monkeypatch: pytest.MonkeyPatch) -> None:
    lp = _lp()
    unguarded = {path: LexicographicSolver(lp, path=path).solve() for path in SolvePath}
    _stall_at_once(monkeypatch)
    for path, expected in unguarded.items():
        result = LexicographicSolver(lp, path=path).solve()
        assert result.status is PlanStatus.OPTIMAL
        # a level that moved took its one unperturbed pivot and the perturbed ones after
        moved = [n for n in result.level_iterations[1:] if n > 0]
        assert moved and all(n >= 2 for n in moved)
        _same(_levels(result), _levels(expected))


def test_the_kept_model_gets_its_options_back() -> None:
    lp = _lp()
    solver = LexicographicSolver(lp)
    h = solver.highs
    _, before = h.getOptionValue(MULTIPLIER)
    result = solver.solve()
    assert sum(result.level_iterations) > 0
    assert h.getOptionValue(MULTIPLIER)[1] == before
    assert h.getOptionValue("simplex_iteration_limit")[1] == highspy.kHighsIInf
