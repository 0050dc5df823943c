"""The stress test's own model of the delivery levels gives every future the numbers of the
full lexicographic solver: the same capacities as a compiled network, the same fill rates,
losses per product and critical nodes, and it refuses a basis that is not optimal for
every level instead of reporting its numbers."""

from __future__ import annotations

from datetime import timedelta

import highspy
import numpy as np
import pytest

from fabnet.model import Disruption, Scenario
from fabnet.model.network import compile_network
from fabnet.plan import PlanStatus
from fabnet.plan.lp import capacity_rows
from fabnet.plan.solve import blend
from fabnet.resilience.montecarlo import (
    SampleOutcome,
    _FutureSolver,
    _Run,
    delivery_levels,
    sample_future,
)
from tests.integration.test_montecarlo_shortcuts import rich as rich  # noqa: F401 (fixture)


def futures(sc: Scenario, n: int, seed: int) -> list[tuple[Disruption, ...]]:
    """The futures `stress_test(sc, n, seed)` samples."""
    return [sample_future(sc, np.random.default_rng(s), k)
            for k, s in enumerate(np.random.SeedSequence(seed).spawn(n))]


def worker(sc: Scenario, fast: bool) -> _FutureSolver:
    """A worker's future solver; without `fast`, every future goes to the full solver."""
    w = _FutureSolver(_Run("test", sc, None, None, 0, shortcuts=False), own_model=fast)
    assert (w.fast is not None) is fast
    return w


def assert_same_outcome(a: SampleOutcome, b: SampleOutcome) -> None:
    assert a.status is b.status
    assert a.fill == pytest.approx(b.fill, abs=1e-9)
    assert a.lost_by_item is not None and b.lost_by_item is not None
    assert sorted(a.lost_by_item) == sorted(b.lost_by_item)
    for item, lost in a.lost_by_item.items():
        assert lost == pytest.approx(b.lost_by_item[item], abs=1e-6), item
    assert a.critical == b.critical


def test_capacities_are_those_of_the_compiled_network(rich: Scenario) -> None:
    """Node, country, lane and work-center disruptions, on top of the scenario's own."""
    start = rich.horizon.start
    line_down = Disruption("base-line", "FR-HUB", start + timedelta(weeks=2), 3, 0.5,
                           work_center="assembly")
    sc = rich.with_disruptions((line_down,))
    w = worker(sc, fast=True)
    extra = [
        (Disruption("a", "FR-HUB", start + timedelta(weeks=3), 2, 0.25),),
        (Disruption("b", "country:UA", start, 4, 0.5),
         Disruption("c", "lane:FR-HUB>UA-MOD", start + timedelta(weeks=1), 3, 0.0)),
        (Disruption("d", "FR-HUB", start + timedelta(weeks=1), 5, 0.0, work_center="assembly"),
         Disruption("e", "SUP-CN", start + timedelta(weeks=4), 2, 0.5)),
        (Disruption("f", "country:CN", start + timedelta(weeks=10), 9, 0.3),),
        *futures(sc, 40, 4),
    ]
    for e in extra:
        want = capacity_rows(compile_network(sc, e), w.lp)[1]
        assert np.array_equal(w.caps.of(e), want), e


@pytest.mark.parametrize("seed", [0, 3, 8])
def test_own_model_gives_the_full_solvers_numbers(rich: Scenario, seed: int) -> None:
    fast, full = worker(rich, fast=True), worker(rich, fast=False)
    assert fast.fast is not None
    todo = futures(rich, 24, seed)
    for f in todo:
        assert_same_outcome(fast.evaluate(f), full.evaluate(f))
    disrupted = sum(1 for f in todo if f)
    assert fast.replans < disrupted // 2  # the own model answered most of them
    assert full.replans == disrupted


def test_own_model_matches_a_cold_plan_of_each_future(rich: Scenario) -> None:
    """A fresh full solver per future, from scratch, reaches the same outcome."""
    w = worker(rich, fast=True)
    for f in futures(rich, 10, 5):
        cold = worker(rich, fast=False)
        assert_same_outcome(w.evaluate(f), cold.evaluate(f))
    assert w.replans < 10


def test_a_basis_optimal_only_for_the_wrong_order_is_refused(rich: Scenario) -> None:
    """With the classes weighed last first, the blended optimum is not lexicographically
    optimal for class 1 first: the check must refuse it (the future then re-plans)."""
    w = worker(rich, fast=True)
    assert w.fast is not None
    levels = delivery_levels(w.lp)
    assert len(levels) == 3
    wrong = blend(levels[::-1])[w.fast.keep]
    h = w.fast.highs
    h.changeColsCost(wrong.size, np.arange(wrong.size, dtype=np.int32), wrong)
    h.clearSolver()
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert w.fast._read(PlanStatus.OPTIMAL).status is PlanStatus.ERROR
    right = blend(levels)[w.fast.keep]
    h.changeColsCost(right.size, np.arange(right.size, dtype=np.int32), right)
    h.run()
    assert w.fast._read(PlanStatus.OPTIMAL).status is PlanStatus.OPTIMAL


def test_a_future_the_check_refuses_is_re_planned_by_the_full_solver(
        rich: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """With every certificate refused, each future goes to the full solver mid-run and
    still gets its numbers."""
    import fabnet.resilience.montecarlo as mc

    w, full = worker(rich, fast=True), worker(rich, fast=False)
    monkeypatch.setattr(mc, "DUAL_TOL", -1.0)
    todo = futures(rich, 12, 2)
    for f in todo:
        assert_same_outcome(w.evaluate(f), full.evaluate(f))
    assert w.fast is not None and w.replans == sum(1 for f in todo if f) > 0


def test_an_option_highs_refuses_is_an_error_not_ignored(rich: Scenario) -> None:
    from fabnet.model.errors import FabnetError
    from fabnet.resilience.montecarlo import stress_test

    with pytest.raises(FabnetError, match="solver option no_such_option"):
        stress_test(rich, 2, 0, options={"no_such_option": 1})


def test_a_futures_plan_does_not_depend_on_the_futures_before_it(rich: Scenario) -> None:
    """The same future after other futures, in any order, ends at the same plan and duals
    (so chunks on a pool or a cluster give the same losses and critical nodes)."""
    w = worker(rich, fast=True)
    assert w.fast is not None
    todo = [f for f in futures(rich, 16, 6) if f]
    caps = [w.caps.of(f) for f in todo]
    first = [w.fast.solve(w.rows, c) for c in caps]
    again = [w.fast.solve(w.rows, c) for c in caps[::-1]][::-1]
    for a, b in zip(first, again, strict=True):
        assert a.status is b.status is PlanStatus.OPTIMAL
        assert np.array_equal(a.x, b.x)
        assert all(np.array_equal(p, q) for p, q in zip(a.duals, b.duals, strict=True))
