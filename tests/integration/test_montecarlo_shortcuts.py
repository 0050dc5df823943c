"""The stress test's shortcuts are exact: a future that keeps the base plan, or repeats an
earlier future, gets the numbers a re-plan of it gives, and every future's numbers are
those of a cold lexicographic plan of that future on its own."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.io import load_scenario
from fabnet.model import Scenario
from fabnet.plan import PlanStatus
from fabnet.plan.plan import demand_outcome
from fabnet.resilience.montecarlo import Route, StressResult, sample_future, stress_test
from fabnet.resilience.whatif import Replanner

#: two products in three priority classes over shared, capacitated suppliers and lanes:
#: capacities bind (so critical nodes show), and some futures leave the base plan intact
RICH = """
scenario: two products under risk
horizon: {start: 2027-01-04, bucket: week, buckets: 12}
items:
  - {id: RECON, kind: product}
  - {id: FPV, kind: product}
  - {id: FC, kind: component, origin: CN, unit_cost: 30}
  - {id: MOTOR, kind: component, origin: CN, unit_cost: 8}
boms:
  RECON: [{item: FC, qty: 1}, {item: MOTOR, qty: 4}]
  FPV: [{item: FC, qty: 1}, {item: MOTOR, qty: 4}]
routings:
  RECON: [{work_center: assembly, hours: 2}]
  FPV: [{work_center: assembly, hours: 1}]
sites:
  - {id: FR-HUB, country: FR, makes: [RECON, FPV], work_centers: [{type: assembly, hours: 200}]}
  - {id: PL-LINE, country: PL, makes: [FPV], work_centers: [{type: assembly, hours: 80}]}
  - {id: UA-PARTNER, country: UA, makes: [RECON, FPV], work_centers: [{type: assembly, hours: 120}]}
suppliers:
  - id: SUP-CN
    country: CN
    offers: [{item: FC, price: 30, lead_time: 1, capacity: 190},
             {item: MOTOR, price: 8, lead_time: 1}]
  - {id: SUP-TW, country: TW, offers: [{item: FC, price: 36, lead_time: 2, capacity: 60}]}
customers: [{id: UA-MOD, country: UA}, {id: PL-MOD, country: PL}]
lanes:
  - {from: SUP-CN, to: FR-HUB, transit: 1}
  - {from: SUP-CN, to: PL-LINE, transit: 1}
  - {from: SUP-CN, to: UA-PARTNER, transit: 2}
  - {from: SUP-TW, to: FR-HUB, transit: 1}
  - {from: SUP-TW, to: UA-PARTNER, transit: 2}
  - {from: FR-HUB, to: UA-MOD, transit: 1, capacity: 120, cost: 1}
  - {from: FR-HUB, to: PL-MOD, transit: 1, cost: 1}
  - {from: PL-LINE, to: PL-MOD, transit: 0, cost: 1}
  - {from: PL-LINE, to: UA-MOD, transit: 1, capacity: 60, cost: 2}
  - {from: UA-PARTNER, to: UA-MOD, transit: 0, cost: 1}
inventory: [{site: FR-HUB, item: FC, qty: 150}, {site: FR-HUB, item: MOTOR, qty: 600}]
demand:
  - {id: R1, customer: UA-MOD, item: RECON, qty: 120, due: 2027-02-01, priority: 1}
  - {id: R2, customer: UA-MOD, item: RECON, qty: 400, due: 2027-03-01, priority: 1}
  - {id: F1, customer: UA-MOD, item: FPV, qty: 300, due: 2027-02-15, priority: 2}
  - {id: F2, customer: PL-MOD, item: FPV, qty: 800, due: 2027-03-15, priority: 2}
  - {id: F3, customer: PL-MOD, item: FPV, qty: 1300, due: 2027-03-22, priority: 3}
risks:
  - {id: strike-ua, target: UA-PARTNER, rate: 0.08, dist: uniform, duration: 1, duration_max: 4}
  - {id: cn-controls, target: "country:CN", rate: 0.03, dist: geometric, duration: 2, capacity: 0.5}
  - {id: hub-fire, target: FR-HUB, rate: 0.02, dist: fixed, duration: 2, capacity: 0.5}
  - {id: border, target: "lane:FR-HUB>UA-MOD", rate: 0.05, dist: uniform, duration: 1,
     duration_max: 2, capacity: 0.5}
  - {id: tw-port, target: SUP-TW, rate: 0.04, dist: fixed, duration: 3}
"""


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    p = tmp_path_factory.mktemp("mc") / "rich.yaml"
    p.write_text(RICH)
    return load_scenario(p)


def assert_same_numbers(a: StressResult, b: StressResult) -> None:
    """Two stress tests of the same futures report the same numbers."""
    assert a.status == b.status and a.events == b.events
    assert np.allclose(a.fill, b.fill, rtol=0, atol=1e-9, equal_nan=True)
    assert sorted(a.lost_by_item) == sorted(b.lost_by_item)
    for item in a.lost_by_item:
        assert np.allclose(a.lost_by_item[item], b.lost_by_item[item], rtol=0, atol=1e-6,
                           equal_nan=True), item
    assert a.critical_counts == b.critical_counts
    assert a.summary() == pytest.approx(b.summary(), abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_shortcuts_give_the_numbers_of_replanning_every_future(rich: Scenario,
                                                               seed: int) -> None:
    fast = stress_test(rich, 30, seed)
    every = stress_test(rich, 30, seed, shortcuts=False)
    assert fast.routes.get(Route.KEPT_BASE, 0) > 0 and fast.routes[Route.REPLANNED] > 0
    assert every.routes == {Route.REPLANNED: 30}
    assert fast.critical_counts  # capacities bind: the duals are compared too
    assert_same_numbers(fast, every)


def test_repeated_futures_share_the_answer_of_the_first(rich: Scenario) -> None:
    res = stress_test(rich, 30, 0)
    assert res.routes.get(Route.REPEATED, 0) > 0
    futures = [sample_future(rich, np.random.default_rng(s), n)
               for n, s in enumerate(np.random.SeedSequence(0).spawn(30))]
    keys = [tuple(sorted((d.target, d.start, d.buckets, d.capacity) for d in f))
            for f in futures]
    pairs = [(keys.index(k), n) for n, k in enumerate(keys) if keys.index(k) != n]
    assert pairs
    for first, n in pairs:
        assert res.fill[n] == res.fill[first]


def test_every_future_is_a_cold_plan_of_that_future(rich: Scenario) -> None:
    """Warm starts and shortcuts change only the work: a fresh re-planner per future,
    level by level from the first level's cold optimum, reaches the same levels."""
    seed, n = 3, 14
    res = stress_test(rich, n, seed)
    assert res.routes.get(Route.KEPT_BASE, 0) > 0
    streams = np.random.SeedSequence(seed).spawn(n)
    demanded = sum(d.qty for d in rich.demand)
    for k, stream in enumerate(streams):
        future = sample_future(rich, np.random.default_rng(stream), k)
        rp = Replanner(rich)
        net, cold = rp.solve(future, levels_upto="delivered", crash=False)
        assert cold.status is PlanStatus.OPTIMAL and res.status[k] is PlanStatus.OPTIMAL
        delivered = float(demand_outcome(net, rp.lp, cold.x)["delivered"].sum())
        assert res.fill[k] == pytest.approx(delivered / demanded, abs=1e-9), k


def test_frozen_horizon_shortcuts_give_the_same_numbers(rich: Scenario) -> None:
    fast = stress_test(rich, 16, 5, frozen=2)
    every = stress_test(rich, 16, 5, frozen=2, shortcuts=False)
    assert fast.routes.get(Route.KEPT_BASE, 0) + fast.routes.get(Route.REPEATED, 0) > 0
    assert_same_numbers(fast, every)
