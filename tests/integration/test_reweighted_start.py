"""Re-solves of a kept model start re-weighted where its first solve's levels pivoted.

Where the weighted start's weights fall short for a level, the first solve pivots on
from the start to that level's optimum. A re-solve then starts from that first solve's
final basis, with level weights under which it is optimal for the combined objective
(`LexicographicSolver._reweighted_start`, `certify.level_weights`), instead of going
through the same level pivots again. Checked here: the levels are a cold plan's through
edits up, down and back, with fewer level pivots than re-solves from the first start
(none on these networks), the same plan from the same bounds whatever came before, and
the weights' own property: the final basis is optimal for the combined objective.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import highspy
import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario

from fabnet.io.scenario_io import load_scenario
from fabnet.model import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan.certify import level_weights
from fabnet.plan.lp import build_lp, capacity_rows
from fabnet.plan.solve import WEIGHT_RANGE, LexicographicSolver, PlanResult, SolvePath
from tests.integration.test_known_optima import ALL
from tests.integration.test_solve_paths import _levels, _same

#: networks whose weighted start leaves lateness and cost to pivot on
NETWORKS = {"xs": (5, 40, 10, 4, 26, 7), "s": (10, 60, 20, 8, 32, 7)}
#: the first work center's hours in turn: down, far down, up, as built
FACTORS = (0.8, 0.5, 1.3, 1.0)


def _scenario(name: str) -> Scenario:
    sites, items, suppliers, customers, buckets, seed = NETWORKS[name]
    return synthetic_scenario(sites, items, suppliers, customers, buckets, seed=seed)


def _hours(sc: Scenario, factor: float) -> Scenario:
    first, *rest = sc.work_centers
    return dataclasses.replace(sc, work_centers=(
        dataclasses.replace(first, hours=first.hours * factor), *rest))


def _edit(solver: LexicographicSolver, sc: Scenario, factor: float) -> PlanResult:
    """Set the first work center's hours × `factor` on the kept model and re-solve."""
    rows, caps = capacity_rows(compile_network(_hours(sc, factor)), solver.lp)
    solver.set_row_upper(rows, caps)
    return solver.solve()


def _scale(sc: Scenario) -> float:
    """Units × buckets: lateness' scale, as test_warm_replan compares it."""
    return max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_re_plans_start_re_weighted_and_equal_cold_plans(name: str) -> None:
    # the first work center's hours (the start barely moves), then random cuts of a
    # fifth of the capacities (it moves by 80 to 450 pivots)
    sc = _scenario(name)
    net = compile_network(sc)
    rows, caps = capacity_rows(net, build_lp(net))
    edits = [capacity_rows(compile_network(_hours(sc, f)), build_lp(net))[1] for f in FACTORS]
    edits += [_cut((rows, caps), seed) for seed in (1, 2, 3)]
    kept = LexicographicSolver(build_lp(net), perturbed_start=True)
    first_start = LexicographicSolver(build_lp(net), perturbed_start=True, reweigh=False)
    first = kept.solve()
    assert sum(first.level_iterations) > 0  # the start's weights fell short for a level
    first_start.solve()
    pivots, pivots_before = [], []
    for edit in edits:
        kept.set_row_upper(rows, edit)
        first_start.set_row_upper(rows, edit)
        warm, before = kept.solve(), first_start.solve()
        lp = build_lp(net)
        lp.row_upper[rows] = edit
        cold = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
        _same(_levels(warm), _levels(cold), _scale(sc))
        _same(_levels(before), _levels(cold), _scale(sc))
        pivots.append(sum(warm.level_iterations))
        pivots_before.append(sum(before.level_iterations))
    assert kept._reweighted[None] is not None
    assert pivots[:len(FACTORS)] == [0] * len(FACTORS)
    assert all(p < q for p, q in zip(pivots, pivots_before, strict=True))


def test_an_unchanged_re_solve_shows_every_level_at_the_final_basis() -> None:
    sc = _scenario("xs")
    solver = LexicographicSolver(build_lp(compile_network(sc)))
    first = solver.solve()
    again = solver.solve()
    assert sum(first.level_iterations) > 0
    assert again.start_iterations == 0 and again.level_iterations == [0] * len(again.levels)
    _same(_levels(again), _levels(first), _scale(sc))
    assert np.allclose(again.x, first.x, atol=1e-7)


def _cut(rows_caps: tuple[np.ndarray, np.ndarray], seed: int) -> np.ndarray:
    """A fifth of the capacities at 0, 50, 80 or 130 % (drawn with `seed`)."""
    _, caps = rows_caps
    rng = np.random.default_rng(seed)
    f = np.ones(caps.size)
    pick = rng.random(caps.size) < 0.2
    f[pick] = rng.choice([0.0, 0.5, 0.8, 1.3], int(pick.sum()))
    return np.where(np.isfinite(caps), caps * np.where(np.isfinite(caps), f, 1.0), caps)


@pytest.mark.parametrize("before", ["nothing", "another edit", "unchanged", "delivered only",
                                    "reference and frozen horizon", "plain path"])
def test_a_re_plan_does_not_depend_on_the_ones_before_it(before: str) -> None:
    # edits that move the start (about 200 pivots): the same plan from the same bounds,
    # whether it is the first re-plan or comes after any other solve of the model
    sc = _scenario("xs")
    net = compile_network(sc)
    rows, caps = capacity_rows(net, build_lp(net))
    edit, other = _cut((rows, caps), 1), _cut((rows, caps), 2)

    def replan(history: str) -> tuple[PlanResult, LexicographicSolver]:
        solver = LexicographicSolver(build_lp(net), perturbed_start=True)
        base = solver.solve()
        if history != "nothing":
            solver.set_row_upper(rows, caps if history == "unchanged" else other)
            if history == "delivered only":
                solver.solve(levels_upto="delivered")
            elif history == "reference and frozen horizon":
                solver.solve(reference=base.x, frozen=3)
            elif history == "plain path":
                solver.solve(crash=False)
            else:
                solver.solve()
        solver.set_row_upper(rows, edit)
        return solver.solve(), solver

    first, solver = replan("nothing")
    assert first.start_iterations > 0 and solver._reweighted[None] is not None
    again, _ = replan(before)
    assert np.array_equal(again.x, first.x)
    assert again.start_iterations == first.start_iterations


def test_no_re_weighting_after_a_start_that_showed_every_level(tmp_path: Path) -> None:
    # a known optimum whose start is optimal for every level: re-solves keep that start
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(ALL["capacity_limited"]), encoding="utf-8")
    sc = load_scenario(path)
    solver = LexicographicSolver(build_lp(compile_network(sc)))
    first = solver.solve()
    assert first.level_iterations == [0] * len(first.levels) and solver._final == {}
    again = _edit(solver, sc, 0.5)
    assert solver._reweighted == {None: None}
    cold = LexicographicSolver(build_lp(compile_network(_hours(sc, 0.5))),
                               path=SolvePath.SEQUENTIAL).solve()
    _same(_levels(again), _levels(cold))


def test_the_weights_make_the_final_basis_optimal_for_the_combined_objective() -> None:
    lp = build_lp(compile_network(_scenario("s")))
    solver = LexicographicSolver(lp)
    solver.solve()
    final = solver._final_of(solver._final[None])
    assert final is not None
    h = solver.highs
    solver.release_holds()
    h.setBasis(final.basis)
    objectives = solver.objectives()
    costs = [(-c if mx else c) / float(np.abs(c).max()) for _, c, mx in objectives]
    h.setOptionValue("simplex_iteration_limit", 0)
    h.run()
    h.setOptionValue("simplex_iteration_limit", highspy.kHighsIInf)
    w = level_weights(h, lp.matrix.T.tocsr(), costs, final.col_up, final.row_up,
                      final.open_c, final.open_r, 1e-7, WEIGHT_RANGE)
    assert w is not None and w[-1] == 1.0 and np.all(np.diff(w) <= 0)
    assert w[0] <= WEIGHT_RANGE
    # HiGHS, given that objective at that basis, takes no pivot: it is optimal there
    c = np.sum([wk * ck for wk, ck in zip(w, costs, strict=True)], axis=0)
    h.changeColsCost(lp.num_cols, np.arange(lp.num_cols, dtype=np.int32), c)
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.setBasis(final.basis)
    h.setOptionValue("simplex_strategy", 1)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().simplex_iteration_count == 0
    # without the weights, the blend's: not optimal at that basis
    assert level_weights(h, lp.matrix.T.tocsr(), costs, final.col_up, final.row_up,
                         final.open_c, final.open_r, 1e-7, 1.0) is None
