"""The stress test's model of the delivery levels leaves out deliveries that a later one of
the same demand and lane dominates: every delivery level keeps its optimum, a future that
limits such a lane in its last bucket is answered by the model with every delivery, and
licensed or capacity-limited lanes keep all their columns."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from benchmarks.montecarlo_bench import benchmark_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.model import Disruption, Scenario
from fabnet.model.network import Network, compile_network
from fabnet.plan import PlanStatus
from fabnet.plan.lp import build_lp, capacity_rows
from fabnet.plan.reduce import later_deliveries_dominate
from fabnet.plan.solve import solver_upper
from fabnet.resilience.montecarlo import _DeliveryLP, delivery_levels
from tests.integration.test_montecarlo_fast import assert_same_outcome, worker
from tests.integration.test_montecarlo_shortcuts import rich as rich  # noqa: F401 (fixture)


def kept_deliveries(sc: Scenario) -> tuple[np.ndarray, np.ndarray, Network]:
    """Per delivery arc and bucket: open in the solver's model, and left out as dominated."""
    net = compile_network(sc)
    lp = build_lp(net)
    upper = solver_upper(lp)
    dominated, _ = later_deliveries_dominate(net, lp, upper)
    b = lp.cols["deliver"]
    out = np.zeros(lp.num_cols, dtype=bool)
    out[dominated] = True
    shape = (b.count, b.per)
    return (upper[b.offset:b.offset + b.size] > 0).reshape(shape), \
        out[b.offset:b.offset + b.size].reshape(shape), net


def test_free_lanes_keep_only_their_last_delivery() -> None:
    """The benchmark network: unlimited lanes, stock that can wait; each demand keeps one
    delivery column per lane, the last whose arrival is inside the horizon."""
    sc = benchmark_scenario()
    open_, dominated, net = kept_deliveries(sc)
    assert dominated.any()
    kept = open_ & ~dominated
    T = net.buckets
    transit = net.lane_transit[net.del_lane]
    for x in range(kept.shape[0]):
        assert np.nonzero(kept[x])[0].tolist() == [T - 1 - int(transit[x])], x


def test_a_limited_lane_keeps_every_delivery(rich: Scenario) -> None:  # noqa: F811
    """FR-HUB>UA-MOD has a capacity: its deliveries differ by bucket and all stay."""
    open_, dominated, net = kept_deliveries(rich)
    lanes = net.del_lane
    names = [(net.lane_from[i], net.lane_to[i]) for i in lanes]
    limited = [k for k, (a, b) in enumerate(names) if (a, b) == ("FR-HUB", "UA-MOD")]
    free = [k for k, (a, b) in enumerate(names) if (a, b) == ("FR-HUB", "PL-MOD")]
    assert limited and free
    assert not dominated[limited].any()
    assert dominated[free].any()


def level_values(model: _DeliveryLP, x: np.ndarray) -> list[float]:
    return [float(c @ x) for _, c, _ in delivery_levels(model.lp)]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(factors=st.lists(st.sampled_from([0.0, 0.3, 0.5, 1.0]), min_size=6, max_size=6),
       start=st.integers(0, 10), weeks=st.integers(1, 6))
def test_every_delivery_level_keeps_its_optimum(rich: Scenario,  # noqa: F811
                                                factors: list[float], start: int,
                                                weeks: int) -> None:
    """Random disruptions of sites, a supplier and lanes: the smaller model's levels equal
    those of the model with every delivery, future by future."""
    net = compile_network(rich)
    lp = build_lp(net)
    small, whole = _DeliveryLP(lp, None, net), _DeliveryLP(lp, None)
    assert small.keep.size < whole.keep.size
    assert small.solve_base().status is PlanStatus.OPTIMAL
    assert whole.solve_base().status is PlanStatus.OPTIMAL
    s0 = rich.horizon.start + timedelta(weeks=start)
    targets = ["FR-HUB", "UA-PARTNER", "PL-LINE", "SUP-CN", "lane:FR-HUB>UA-MOD",
               "lane:FR-HUB>PL-MOD"]
    future = tuple(Disruption(f"d{k}", tg, s0, weeks, f)
                   for k, (tg, f) in enumerate(zip(targets, factors, strict=True)) if f < 1)
    rows, caps = capacity_rows(compile_network(rich, future), lp)
    rows = rows.astype(np.int64)
    a = small.solve(rows, caps)
    b = whole.solve(rows, caps)
    assert b is not None and b.status is PlanStatus.OPTIMAL
    if a is None:  # a free lane closed in its last bucket: the whole model answers
        assert any(tg == "lane:FR-HUB>PL-MOD" and f == 0 and start + weeks >= 11
                   for tg, f in zip(targets, factors, strict=True))
        return
    assert a.status is PlanStatus.OPTIMAL
    assert level_values(small, a.x) == pytest.approx(level_values(whole, b.x), abs=1e-6)


def test_a_future_closing_a_free_lane_at_the_end_uses_every_delivery(
        rich: Scenario) -> None:  # noqa: F811
    """FR-HUB>PL-MOD closed in the last two weeks: the left-out deliveries are no longer
    dominated, so the future goes to the model with every delivery, with the full
    solver's numbers."""
    end = rich.horizon.start + timedelta(weeks=10)
    future = (Disruption("x", "lane:FR-HUB>PL-MOD", end, 2, 0.0),)
    fast, full = worker(rich, fast=True), worker(rich, fast=False)
    assert fast.fast is not None and fast.fast.free_rows.size
    assert fast.fast.solve(fast.rows, fast.caps.of(future)) is None
    assert_same_outcome(fast.evaluate(future), full.evaluate(future))
    assert fast._whole is not None and fast.replans == 0


def test_licensed_deliveries_are_all_kept() -> None:
    """Under a licence, cover rows count arrivals per bucket: nothing is left out there,
    on the same network whose unlicensed deliveries are left out."""
    from dataclasses import replace

    from fabnet.model.licence import Licence

    sc = benchmark_scenario()
    _, before, _ = kept_deliveries(sc)
    assert before.any()
    end = sc.horizon.start + timedelta(weeks=sc.horizon.buckets)
    lic = Licence("L-1", sc.customers[0].id, sc.customers[0].country,
                  tuple(i.id for i in sc.items), 1e6, sc.horizon.start, end)
    open_, dominated, net = kept_deliveries(replace(sc, licences=(lic,)))
    assert (net.licence_arrays.del_cover >= 0).all()
    assert open_.any() and not dominated.any()


def test_a_bounded_stock_column_keeps_the_deliveries_that_would_wait_in_it() -> None:
    """Units that cannot wait in the origin's stock from t to t* are not dominated: with one
    stock column bounded, the deliveries that would cross it stay, the others go."""
    sc = benchmark_scenario()
    net = compile_network(sc)
    lp = build_lp(net)
    upper = solver_upper(lp)
    T = net.buckets
    x = 0  # the first delivery arc
    key = int(np.nonzero((net.stock_site == net.del_site[x])
                         & (net.stock_item == net.demand_item[net.del_demand[x]]))[0][0])
    cut = 30
    upper[lp.cols["stock"].at(key, cut)] = 100.0
    dominated, _ = later_deliveries_dominate(net, lp, upper)
    b = lp.cols["deliver"]
    gone = np.isin(b.at(x, np.arange(T)), dominated)
    open_ = upper[b.at(x, np.arange(T))] > 0
    last = T - 1 - int(net.lane_transit[net.del_lane[x]])
    assert not gone[: cut + 1][open_[: cut + 1]].any()  # would wait through bucket `cut`
    assert gone[cut + 1:last].all() and not gone[last]
    # bounded in t* - 1, every earlier delivery would wait in it; bounded in t*, none would
    for at, stay in ((last - 1, True), (last, False)):
        up = solver_upper(lp)
        up[lp.cols["stock"].at(key, at)] = 100.0
        left_out = np.isin(b.at(x, np.arange(T)), later_deliveries_dominate(net, lp, up)[0])
        assert not left_out[open_].any() if stay else left_out[:last][open_[:last]].all()
