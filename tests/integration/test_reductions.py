"""The model reductions (`plan.reduce`) change no level's optimum and no plan's KPIs.

Columns that can carry nothing, and purchases and transfers that only cost, are fixed at
zero in the solver's model. Solved with and without them, every network must give the
same optimum at every level (the reference level of a re-plan and a frozen horizon
included) and the same KPIs; and the unreduced optimum must already have every column
the reduction fixes at zero (they are zero in every optimal plan, not just in one).
"""

from __future__ import annotations

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
from fabnet.plan import make_plan
from fabnet.plan.lp import PlanningLP, build_lp, capacity_rows
from fabnet.plan.plan import demand_outcome
from fabnet.plan.solve import LexicographicSolver, PlanResult, PlanStatus, SolvePath
from fabnet.resilience.whatif import parse_disruption
from tests.integration.test_known_optima import ALL
from tests.integration.test_random_scenarios import RANDOM, scenarios


def _levels(result: PlanResult) -> dict[str, float]:
    assert result.status is PlanStatus.OPTIMAL
    return {lv.name: lv.objective for lv in result.levels}


def _same(a: dict[str, float], b: dict[str, float], scale: float) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == pytest.approx(b[name], rel=1e-7, abs=1e-6 * scale), name


def _solve(lp: PlanningLP, reduce: bool, path: SolvePath = SolvePath.WEIGHTED,
           **kw: object) -> PlanResult:
    return LexicographicSolver(lp, path=path, reduce=reduce).solve(**kw)  # type: ignore[arg-type]


def _check(sc: Scenario, scale: float) -> PlanningLP:
    """Reduced and unreduced solves of `sc` on both paths: the same levels and KPIs, and
    the unreduced plan zero on every reduced column."""
    net = compile_network(sc)
    lp = build_lp(net)
    assert np.array_equal(build_lp(net, reduce=False).col_upper, lp.col_upper)
    assert np.all(lp.col_lower[lp.zero_cols] == 0) and np.all(lp.col_upper[lp.zero_cols] > 0)
    for path in SolvePath:
        full, reduced = _solve(lp, False, path), _solve(lp, True, path)
        _same(_levels(reduced), _levels(full), scale)
        assert np.abs(full.x[lp.zero_cols]).max(initial=0.0) <= 1e-6 * scale
        # per demand, equal optima may share units out otherwise; in all, they may not
        a, b = demand_outcome(net, lp, full.x), demand_outcome(net, lp, reduced.x)
        for name in ("delivered", "lost", "lateness"):
            assert a[name].sum() == pytest.approx(b[name].sum(), abs=1e-5 * scale), name
        assert lp.cost @ reduced.x == pytest.approx(lp.cost @ full.x, rel=1e-7, abs=1e-5)
    return lp


@pytest.mark.parametrize("name", sorted(ALL))
def test_reductions_keep_the_known_optima(tmp_path: Path, name: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(ALL[name]), encoding="utf-8")
    sc = load_scenario(path)
    _check(sc, max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets)


@RANDOM
@given(sc=scenarios(sites=(2, 4), demands=(1, 8)))
def test_reductions_keep_every_level_on_random_networks(sc: Scenario) -> None:
    _check(sc, max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets)


def _synthetic(seed: int, buckets: int = 12) -> Scenario:
    return synthetic_scenario(4, 24, 6, 3, buckets, seed=seed)


@RANDOM
@given(seed=st.integers(0, 10_000), buckets=st.integers(6, 14))
def test_reductions_keep_every_level_on_synthetic_networks(seed: int, buckets: int) -> None:
    sc = _synthetic(seed, buckets)
    lp = _check(sc, max(1.0, sum(d.qty for d in sc.demand)) * buckets)
    assert lp.zero_cols.size > 0  # lead times alone leave early columns with nothing


def test_reductions_fix_idle_purchases_and_early_columns() -> None:
    net = compile_network(_synthetic(3))
    lp = build_lp(net)
    fixed = np.zeros(lp.num_cols, dtype=bool)
    fixed[lp.zero_cols] = True
    for name in ("purchase", "stock", "produce"):
        b = lp.cols[name]
        assert fixed[b.offset:b.offset + b.size].any(), name


def test_reductions_keep_the_reference_level_and_a_frozen_horizon() -> None:
    sc = _synthetic(11)
    lp = build_lp(compile_network(sc))
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    base = _solve(lp, False).x
    rng = np.random.default_rng(0)
    ref = base * rng.uniform(0.5, 1.5, base.size) + rng.uniform(0, 3, base.size)
    for kw in ({"reference": ref}, {"reference": base, "frozen": 3}):
        full, reduced = _solve(lp, False, **kw), _solve(lp, True, **kw)
        _same(_levels(reduced), _levels(full), scale)
        assert "reference" in _levels(reduced)


def test_reductions_hang_on_structure_not_capacities() -> None:
    # what-ifs and kept models change capacities on the built model: the fixed columns
    # must not depend on them
    sc = _synthetic(5)
    site = sc.sites[0].id
    cut = parse_disruption(f"{site}@{sc.horizon.start.isoformat()}+4x0", sc)
    a = build_lp(compile_network(sc))
    b = build_lp(compile_network(sc.with_disruptions((cut,))))
    assert np.array_equal(a.zero_cols, b.zero_cols)
    rows, caps = capacity_rows(compile_network(sc.with_disruptions((cut,))), a)
    solver = LexicographicSolver(a)
    solver.set_row_upper(rows, caps)
    scale = max(1.0, sum(d.qty for d in sc.demand)) * sc.horizon.buckets
    _same(_levels(solver.solve()), _levels(_solve(b, False)), scale)


def test_a_plan_with_reductions_has_the_unreduced_plans_kpis() -> None:
    sc = _synthetic(2)
    net = compile_network(sc)
    plan = make_plan(net)
    assert plan.status is PlanStatus.OPTIMAL
    full = _solve(build_lp(net), False)
    assert plan.levels == pytest.approx(_levels(full), rel=1e-7, abs=1e-4)
