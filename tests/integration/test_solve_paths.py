"""Every way of solving the levels reaches the same optima as the plain sequential path.

The weighted path (one weighted LP first, each level then solved exactly from its basis
on the face the levels before it leave) must give, level by level, the optima of the
plain path (each level warm from the one before, held by a row): on the known-optima
networks, on hypothesis-drawn networks (where both are also checked against the
reference LP written from scratch in `tests.plancheck`), with weights too small to be
right, with firm work orders, stopping after the delivery levels, with a reference plan
and a frozen horizon, and when a kept model is re-solved after a capacity change
(`plan.kept`: the same levels and KPIs as a cold plan of the edited network).
"""

from __future__ import annotations

import dataclasses
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario
from hypothesis import given

from fabnet.io.scenario_io import load_scenario
from fabnet.model import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import make_plan
from fabnet.plan import solve as solve_module
from fabnet.plan.kept import KEPT
from fabnet.plan.lp import PlanningLP, build_lp, capacity_rows
from fabnet.plan.solve import LexicographicSolver, PlanResult, PlanStatus, SolvePath
from fabnet.resilience.whatif import Replanner, parse_disruption
from tests.integration.test_known_optima import ALL
from tests.integration.test_random_scenarios import RANDOM, scenarios
from tests.plancheck import reference_levels


def _scenario(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_scenario(path)


def _levels(result: PlanResult) -> dict[str, float]:
    assert result.status is PlanStatus.OPTIMAL
    return {lv.name: lv.objective for lv in result.levels}


def _same(a: dict[str, float], b: dict[str, float], scale: float = 1.0) -> None:
    """Level optima equal to far below the tests' tolerances (holds allow 1e-7 + 1e-9|v|)."""
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == pytest.approx(b[name], rel=1e-7, abs=1e-6 * scale), name


def _both(lp: PlanningLP, **kw: object) -> tuple[PlanResult, PlanResult]:
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve(**kw)  # type: ignore[arg-type]
    fast = LexicographicSolver(lp, path=SolvePath.WEIGHTED).solve(**kw)  # type: ignore[arg-type]
    return plain, fast


@pytest.mark.parametrize("name", sorted(ALL))
def test_weighted_path_reaches_the_known_optima_level_by_level(tmp_path: Path,
                                                               name: str) -> None:
    sc = _scenario(tmp_path, ALL[name])
    lp = build_lp(compile_network(sc))
    plain, fast = _both(lp)
    _same(_levels(fast), _levels(plain))
    assert plain.path is SolvePath.SEQUENTIAL
    if len(fast.levels) > 1:
        assert fast.path is SolvePath.WEIGHTED  # taken, not fallen back from
    want = reference_levels(sc)  # a class with nothing deliverable is no level of ours
    got = _levels(fast)
    _same({k: got.get(k, 0.0) for k in want}, want, scale=1e3)


@RANDOM
@given(sc=scenarios())
def test_weighted_path_equals_the_plain_path_on_random_networks(sc: Scenario) -> None:
    lp = build_lp(compile_network(sc))
    plain, fast = _both(lp)
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    _same(_levels(fast), _levels(plain), scale=scale)
    plain_d, fast_d = _both(lp, levels_upto="delivered")
    _same(_levels(fast_d), _levels(plain_d), scale=scale)


@RANDOM
@given(sc=scenarios(sites=(2, 4), demands=(3, 8)))
def test_weights_far_too_small_still_give_every_level_exactly(sc: Scenario) -> None:
    # equal weights: the weighted optimum trades levels, so the level solves must pivot on
    with pytest.MonkeyPatch.context() as m:
        m.setattr(solve_module, "WEIGHT_RATIO", 1.0)
        lp = build_lp(compile_network(sc))
        plain, fast = _both(lp)
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    _same(_levels(fast), _levels(plain), scale=scale)
    want = reference_levels(sc)
    got = {k: _levels(fast).get(k, 0.0) for k in want}
    for name in want:
        tol = 1e-5 * scale if name != "cost" else 0.02 + 1e-5 * abs(want[name])
        if name == "cost" and any(i.holding_cost for i in sc.items):
            assert got[name] >= want[name] - tol  # see test_random_scenarios
        else:
            assert got[name] == pytest.approx(want[name], abs=tol), name


def test_weighted_path_on_a_synthetic_network_leaves_the_kept_model_as_built() -> None:
    # 5 sites, 40 items, 26 weeks: 8,000 columns, three priority classes
    lp = build_lp(compile_network(synthetic_scenario(5, 40, 10, 4, 26, seed=7)))
    solver = LexicographicSolver(lp, path=SolvePath.WEIGHTED)
    first = solver.solve()
    plain = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    scale = float(lp.row_upper[lp.rows["demand"].offset:].max())
    _same(_levels(first), _levels(plain), scale=scale)
    model = solver.highs.getLp()
    assert model.num_row_ == lp.num_rows + 1  # the last level's hold row only
    assert np.array_equal(np.asarray(model.col_lower_), lp.col_lower)
    assert np.array_equal(np.asarray(model.col_upper_),  # the built bounds, reduced
                          np.where(np.isinf(solver.col_upper), np.inf, solver.col_upper))
    up = np.asarray(model.row_upper_)[: lp.num_rows]
    assert np.array_equal(up, lp.row_upper)
    again = solver.solve()
    _same(_levels(again), _levels(first))


def test_reference_level_and_frozen_horizon_agree_on_both_paths(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, ALL["uk_plant_needed"])
    lp = build_lp(compile_network(sc))
    base = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
    ref = base.x * 0.9  # a reference that is not itself optimal
    plain, fast = _both(lp, reference=ref)
    _same(_levels(fast), _levels(plain))
    assert "reference" in _levels(fast)
    plain, fast = _both(lp, reference=base.x, frozen=2)
    _same(_levels(fast), _levels(plain))


def test_replan_after_a_capacity_change_equals_a_cold_plan_on_both_paths(
        tmp_path: Path) -> None:
    sc = _scenario(tmp_path, ALL["uk_plant_needed"])
    cut = parse_disruption("UK-PLANT@2027-01-11+2x0.5", sc)
    fresh = LexicographicSolver(build_lp(compile_network(sc.with_disruptions((cut,)))),
                                path=SolvePath.SEQUENTIAL).solve()
    for crash in (False, True):
        rp = Replanner(sc)
        rp.solve((), crash=crash)
        _, warm = rp.solve((cut,), crash=crash)
        _same(_levels(warm), _levels(fresh))
        assert warm.path is (SolvePath.WEIGHTED if crash else SolvePath.SEQUENTIAL)
    # and back: the intact capacities again give the intact plan's levels
    lp = build_lp(compile_network(sc))
    solver = LexicographicSolver(lp)
    intact = solver.solve()
    rows, caps = capacity_rows(compile_network(sc.with_disruptions((cut,))), lp)
    base_caps = lp.row_upper[rows].copy()
    solver.set_row_upper(rows, caps)
    solver.solve()
    solver.set_row_upper(rows, base_caps)
    _same(_levels(solver.solve()), _levels(intact))


def _with_hours(sc: Scenario, factor: float) -> Scenario:
    """`sc` with its first work center's hours scaled: one capacity edited."""
    first, *rest = sc.work_centers
    return dataclasses.replace(sc, work_centers=(dataclasses.replace(
        first, hours=first.hours * factor), *rest))


def test_a_kept_model_re_plans_a_capacity_edit_warm_with_a_cold_plans_levels(
        tmp_path: Path) -> None:
    sc = _scenario(tmp_path, ALL["uk_plant_needed"])
    key = ("test", str(tmp_path))
    make_plan(compile_network(sc), keep=key)
    reused, built = KEPT.reused, KEPT.built
    for factor in (0.6, 1.4, 1.0):
        edited = _with_hours(sc, factor)
        warm = make_plan(compile_network(edited), keep=key)
        cold = make_plan(compile_network(edited))
        _same(warm.levels, cold.levels)
        for name in ("units_delivered", "units_lost", "lateness_unit_buckets", "cost_total"):
            assert warm.kpis[name] == pytest.approx(cold.kpis[name], rel=1e-9, abs=1e-6)
    assert (KEPT.reused - reused, KEPT.built - built) == (3, 0)
    # a change of structure (another demand) is a new model, kept in the old one's place
    more = dataclasses.replace(sc.demand[0], id="D2", qty=15.0)
    moved = dataclasses.replace(sc, demand=(*sc.demand, more))
    warm = make_plan(compile_network(moved), keep=key)
    _same(warm.levels, make_plan(compile_network(moved)).levels)
    assert KEPT.built - built == 1
    KEPT.forget(key)


def test_concurrent_re_plans_of_one_kept_model_each_get_their_own_capacities(
        tmp_path: Path) -> None:
    sc = _scenario(tmp_path, ALL["uk_plant_needed"])
    key = ("test-threads", str(tmp_path))
    make_plan(compile_network(sc), keep=key)
    factors = [0.3, 0.6, 1.0, 1.4] * 2
    edited = [_with_hours(sc, f) for f in factors]
    with ThreadPoolExecutor(4) as pool:
        warm = list(pool.map(lambda e: make_plan(compile_network(e), keep=key), edited))
    for e, plan in zip(edited, warm, strict=True):
        _same(plan.levels, make_plan(compile_network(e)).levels)
    KEPT.forget(key)
