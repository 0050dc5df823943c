"""A kept model's warm re-plan after capacity edits equals a cold plan at every level.

The combined LP of a kept model is re-solved by dual simplex from its kept optimal
basis with HiGHS' cost perturbation off (`LexicographicSolver._warm_dual`), falling back
to the perturbed run when the unperturbed one stalls. Each level is still solved exactly
from there, so every level's optimum must be a cold plan's: checked here on the
known-optimum cases, on random (hypothesis) scenarios and on a synthetic network, for
edits that raise capacity, lower it, and cut it so far that the old plan is infeasible,
several edits in a row on one kept model.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario
from hypothesis import given
from hypothesis import strategies as st

from fabnet.io.scenario_io import load_scenario
from fabnet.model import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import solve as solve_module
from fabnet.plan.lp import build_lp, capacity_rows
from fabnet.plan.solve import LexicographicSolver, PlanStatus, SolvePath
from tests.integration.test_known_optima import ALL
from tests.integration.test_random_scenarios import RANDOM, scenarios
from tests.integration.test_solve_paths import _levels, _same

#: edits in a row: down, up, far down (the old plans infeasible), back to as built
FACTORS = (0.7, 1.5, 0.2, 1.0)


def _with_hours(sc: Scenario, index: int, factor: float) -> Scenario:
    """`sc` with work center `index`'s hours scaled: one capacity edited."""
    wcs = list(sc.work_centers)
    wcs[index] = dataclasses.replace(wcs[index], hours=wcs[index].hours * factor)
    return dataclasses.replace(sc, work_centers=tuple(wcs))


def _replan_equals_cold(sc: Scenario, edits: list[tuple[int, float]],
                        scale: float = 1.0) -> int:
    """Re-plan one kept solver through `edits`, each against a cold sequential plan;
    returns how many edits left the previous plan infeasible."""
    lp = build_lp(compile_network(sc))
    kept = LexicographicSolver(lp, path=SolvePath.WEIGHTED)
    last = kept.solve()
    assert last.status is PlanStatus.OPTIMAL
    infeasible = 0
    for index, factor in edits:
        net = compile_network(_with_hours(sc, index, factor))
        rows, caps = capacity_rows(net, lp)
        act = lp.matrix[rows] @ last.x
        infeasible += bool(np.any(act > caps + 1e-6 * np.maximum(1.0, caps)))
        kept.set_row_upper(rows, caps)
        assert kept.has_crash_basis(None)
        last = kept.solve()
        cold = LexicographicSolver(build_lp(net), path=SolvePath.SEQUENTIAL).solve()
        _same(_levels(last), _levels(cold), scale)
        assert last.path is SolvePath.WEIGHTED
    return infeasible


@pytest.mark.parametrize("name", sorted(k for k in ALL if "work_centers:" in ALL[k]))
def test_known_optima_re_plan_warm_through_capacity_edits_as_cold(tmp_path: Path,
                                                                   name: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(ALL[name]), encoding="utf-8")
    sc = load_scenario(path)
    _replan_equals_cold(sc, [(0, f) for f in FACTORS])


def test_a_cut_that_makes_the_old_plan_infeasible_re_plans_as_cold(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(ALL["capacity_limited"]), encoding="utf-8")
    assert _replan_equals_cold(load_scenario(path), [(0, 0.5), (0, 0.1)]) == 2


@RANDOM
@given(sc=scenarios(sites=(2, 4), demands=(3, 8)), data=st.data())
def test_random_networks_re_plan_warm_through_random_edits_as_cold(
        sc: Scenario, data: st.DataObject) -> None:
    n = len(sc.work_centers)
    edits = data.draw(st.lists(st.tuples(st.integers(0, max(n - 1, 0)),
                                         st.sampled_from((0.0, 0.1, 0.5, 0.9, 1.1, 2.0, 5.0))),
                               min_size=1, max_size=4)) if n else []
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    _replan_equals_cold(sc, edits, scale)


def test_a_synthetic_network_re_plans_warm_through_capacity_edits_as_cold() -> None:
    # work centers 0 and 1 of this network bind when cut (the re-solves pivot)
    sc = synthetic_scenario(5, 40, 10, 4, 12, seed=7)
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    edits = [(1, 0.3), (0, 0.05), (1, 0.05), (1, 2.0), (0, 1.0)]
    assert _replan_equals_cold(sc, edits, scale) >= 2


def test_a_stalled_unperturbed_re_solve_falls_back_and_still_equals_cold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a guard of one pivot: every warm re-solve stops at once and the perturbed run
    # takes over from the kept basis
    monkeypatch.setattr(solve_module, "WARM_PIVOTS", 0.0)
    monkeypatch.setattr(solve_module, "WARM_MIN_PIVOTS", 1)
    sc = synthetic_scenario(5, 40, 10, 4, 12, seed=7)
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    _replan_equals_cold(sc, [(1, 0.3), (1, 0.05), (1, 1.0)], scale)
