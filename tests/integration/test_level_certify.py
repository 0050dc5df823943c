"""The weighted path's levels shown optimal at the start's basis, without a solve each.

Where the weighted start's basis is optimal for every level (`plan.certify`), the
solver gives the levels, duals and plan of that basis instead of solving each level
from it; these tests compare that with the same solver made to solve every level
(`certify=False`) and with the plain path, on the known optima, synthetic networks and
hypothesis-drawn ones, and check that a basis that is not optimal for a level falls back
to the level solves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario
from hypothesis import given, settings

from fabnet.io.scenario_io import load_scenario
from fabnet.model import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import solve as solve_module
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.solve import LexicographicSolver, PlanResult, PlanStatus, SolvePath
from tests.integration.test_known_optima import ALL
from tests.integration.test_random_scenarios import RANDOM, scenarios


def _lp(tmp_path: Path, text: str) -> PlanningLP:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return build_lp(compile_network(load_scenario(path)))


@pytest.fixture
def shown_levels(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many levels each certification of the solver's weighted path showed, in order
    up to the first whose check failed."""
    seen: list[int] = []
    real = solve_module.certify_levels

    def spy(*args: Any, **kw: Any) -> Any:
        got = real(*args, **kw)
        seen.append(0 if got is None else len(got))
        return got

    monkeypatch.setattr(solve_module, "certify_levels", spy)
    yield seen


@pytest.fixture
def shown(shown_levels: list[int], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each certification of the solver's weighted path showed every level."""
    seen: list[bool] = []
    real = solve_module.certify_levels

    def spy(*args: Any, **kw: Any) -> Any:
        got = real(*args, **kw)
        seen.append(got is not None and len(got) == len(args[2]))  # args[2]: the costs
        return got

    monkeypatch.setattr(solve_module, "certify_levels", spy)
    yield seen


def _same(a: PlanResult, b: PlanResult, scale: float = 1.0, duals: bool = True) -> None:
    assert a.status is PlanStatus.OPTIMAL and b.status is PlanStatus.OPTIMAL
    assert [lv.name for lv in a.levels] == [lv.name for lv in b.levels]
    for x, y in zip(a.levels, b.levels, strict=True):
        assert x.maximize == y.maximize
        assert x.objective == pytest.approx(y.objective, rel=1e-7, abs=1e-6 * scale), x.name
        if duals:
            np.testing.assert_allclose(x.duals, y.duals, rtol=1e-7, atol=1e-7 * scale,
                                       err_msg=x.name)


def _three(lp: PlanningLP, **kw: Any) -> tuple[PlanResult, PlanResult, PlanResult]:
    """The certified weighted path, the weighted path solving each level, the plain one."""
    fast = LexicographicSolver(lp).solve(**kw)
    loop = LexicographicSolver(lp, certify=False).solve(**kw)
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve(**kw)
    return fast, loop, plain


def _certified(result: PlanResult, lp: PlanningLP, upper: np.ndarray) -> None:
    """Every level took no pivot, and the first level's duals prove its optimum: as a
    minimisation, y and d = c - Aᵀy have the optimal signs at the plan (the first level
    is on the whole polytope, so no earlier face enters), and c·x = the level's value."""
    assert result.path is SolvePath.WEIGHTED
    assert result.level_iterations == [0] * len(result.level_iterations)
    assert all(lv.duals.size == lp.num_rows for lv in result.levels)
    assert all(lv.seconds >= 0.0 for lv in result.levels)
    first = result.levels[0]
    c = np.where(lp.priority_of_col == int(first.name.removeprefix("delivered_p")),
                 lp.delivered, 0.0)
    assert first.objective == pytest.approx(float(c @ result.x), abs=1e-9)
    y = -first.duals  # maximised: HiGHS' duals of the maximisation, negated
    d = -c - lp.matrix.T @ y
    x, act, tol = result.x, lp.matrix @ result.x, 1e-7
    at_lo = np.abs(x - lp.col_lower) <= 1e-9
    at_up = np.isfinite(upper) & (np.abs(x - upper) <= 1e-9 * np.maximum(1.0, upper))
    fixed = lp.col_lower == upper
    assert not (~fixed & at_lo & ~at_up & (d < -tol)).any()
    assert not (~fixed & at_up & ~at_lo & (d > tol)).any()
    assert not (~at_lo & ~at_up & (np.abs(d) > tol)).any()
    eq = lp.row_lower == lp.row_upper
    r_lo = np.isfinite(lp.row_lower) & (np.abs(act - lp.row_lower) <= 1e-7 * np.maximum(
        1.0, np.abs(lp.row_lower)))
    r_up = np.isfinite(lp.row_upper) & (np.abs(act - lp.row_upper) <= 1e-7 * np.maximum(
        1.0, np.abs(lp.row_upper)))
    assert not (~eq & r_lo & ~r_up & (y < -tol)).any()
    assert not (~eq & r_up & ~r_lo & (y > tol)).any()
    assert not (~eq & ~r_lo & ~r_up & (np.abs(y) > tol)).any()


@pytest.mark.parametrize("name", sorted(ALL))
def test_known_optima_certified_equal_the_level_solves(tmp_path: Path, name: str,
                                                       shown: list[bool]) -> None:
    lp = _lp(tmp_path, ALL[name])
    fast, loop, plain = _three(lp)
    if len(fast.levels) < 2:
        return  # one level: the plain path, nothing to certify
    assert shown[0] is True  # certified, not solved
    _certified(fast, lp, solve_module.solver_upper(lp))
    _same(fast, loop)
    _same(fast, plain, scale=1e3, duals=False)  # the plain path's duals hold its rows
    np.testing.assert_allclose(fast.x, loop.x, atol=1e-9)


@pytest.mark.parametrize("args", [(2, 8, 3, 2, 6, 1), (3, 12, 4, 3, 8, 2),
                                  (4, 20, 6, 4, 12, 1), (3, 30, 5, 3, 10, 3)])
def test_synthetic_networks_certified_equal_the_level_solves(
        args: tuple[int, ...], shown: list[bool]) -> None:
    *size, seed = args
    lp = build_lp(compile_network(synthetic_scenario(*size, seed=seed)))
    fast, loop, plain = _three(lp)
    assert shown[0] is True
    _certified(fast, lp, solve_module.solver_upper(lp))
    scale = float(lp.row_upper[lp.rows["demand"].offset:].max())
    _same(fast, loop, scale=scale)
    _same(fast, plain, scale=scale, duals=False)


def test_a_basis_not_optimal_for_a_level_falls_back_to_the_level_solves(
        shown: list[bool]) -> None:
    # 5 sites, 40 items, 26 weeks: the weighted optimum is not lateness' own (28 pivots)
    lp = build_lp(compile_network(synthetic_scenario(5, 40, 10, 4, 26, seed=7)))
    fast, loop, plain = _three(lp)
    assert shown[0] is False
    assert fast.path is SolvePath.WEIGHTED
    assert fast.level_iterations == loop.level_iterations
    assert any(fast.level_iterations)
    scale = float(lp.row_upper[lp.rows["demand"].offset:].max())
    _same(fast, loop, scale=scale)
    _same(fast, plain, scale=scale, duals=False)


def test_weights_far_too_small_fail_the_check_and_still_give_every_level(
        tmp_path: Path, shown: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solve_module, "WEIGHT_RATIO", 1.0)  # the levels trade
    lp = _lp(tmp_path, ALL["late_but_cheap"])
    fast, loop, plain = _three(lp)
    assert shown[0] is False
    _same(fast, loop)
    _same(fast, plain, duals=False)


def test_reference_level_and_frozen_horizon_after_certified_levels(
        tmp_path: Path, shown: list[bool]) -> None:
    lp = _lp(tmp_path, ALL["uk_plant_needed"])
    base = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    for kw in ({"reference": base.x * 0.9}, {"reference": base.x, "frozen": 2}):
        shown.clear()
        solver = LexicographicSolver(lp)
        fast = solver.solve(**kw)  # type: ignore[arg-type]
        loop = LexicographicSolver(lp, certify=False).solve(**kw)  # type: ignore[arg-type]
        plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve(**kw)  # type: ignore[arg-type]
        assert shown == [True]
        assert fast.levels[-1].name == "reference"
        assert fast.reference_status is PlanStatus.OPTIMAL
        _same(fast, loop)
        _same(fast, plain, duals=False)
        # the kept model is the one built: the faces given back, the last hold row only
        model = solver.highs.getLp()
        assert model.num_row_ == lp.num_rows + 1
        assert np.array_equal(np.asarray(model.col_lower_), lp.col_lower)
        assert np.array_equal(np.asarray(model.col_upper_),
                              np.where(np.isinf(solver.col_upper), np.inf, solver.col_upper))
        assert np.array_equal(np.asarray(model.row_lower_)[: lp.num_rows], lp.row_lower)
        assert np.array_equal(np.asarray(model.row_upper_)[: lp.num_rows], lp.row_upper)


def test_a_kept_model_re_solves_after_a_capacity_change_certified(
        tmp_path: Path, shown: list[bool]) -> None:
    from fabnet.plan.lp import capacity_rows
    from fabnet.resilience.whatif import parse_disruption

    text = ALL["uk_plant_needed"]
    lp = _lp(tmp_path, text)
    path = tmp_path / "scenario.yaml"
    sc = load_scenario(path)
    cut = parse_disruption("UK-PLANT@2027-01-11+2x0.5", sc)
    rows, caps = capacity_rows(compile_network(sc.with_disruptions((cut,))), lp)
    solver = LexicographicSolver(lp, perturbed_start=True)
    solver.solve()
    solver.set_row_upper(rows, caps)
    warm = solver.solve()
    cold = LexicographicSolver(build_lp(compile_network(sc.with_disruptions((cut,)))),
                               certify=False).solve()
    assert shown[-1] is True
    _same(warm, cold, duals=False)
    again = solver.solve(levels_upto="delivered")
    assert [lv.name for lv in again.levels] == [lv.name for lv in warm.levels
                                                if lv.name.startswith("delivered")]


@settings(RANDOM, max_examples=20)
@given(sc=scenarios())
def test_random_networks_certified_equal_the_level_solves(sc: Scenario) -> None:
    lp = build_lp(compile_network(sc))
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    for kw in ({}, {"levels_upto": "delivered"}):
        fast, loop, plain = _three(lp, **kw)
        _same(fast, loop, scale=scale)
        _same(fast, plain, scale=scale, duals=False)


def test_the_levels_shown_before_a_failing_one_are_not_solved_again(
        shown_levels: list[int]) -> None:
    # the same network: the three delivery classes are shown optimal at the start's
    # basis, lateness is not; only lateness and cost are solved, on the classes' face
    lp = build_lp(compile_network(synthetic_scenario(5, 40, 10, 4, 26, seed=7)))
    solver = LexicographicSolver(lp)
    runs: list[int] = []
    real = solver._level_run

    def counted() -> tuple[PlanStatus, int]:
        got = real()
        runs.append(got[1])
        return got

    solver._level_run = counted  # type: ignore[method-assign]
    fast = solver.solve()
    assert shown_levels == [3]
    assert len(runs) == 2 and fast.level_iterations == [0, 0, 0, *runs]
    loop = LexicographicSolver(lp, certify=False).solve()
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    scale = float(lp.row_upper[lp.rows["demand"].offset:].max())
    _same(fast, loop, scale=scale)
    _same(fast, plain, scale=scale, duals=False)
