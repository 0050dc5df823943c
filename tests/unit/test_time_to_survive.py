"""Time-to-survive and performance impact on networks small enough to compute by hand.

One supplier feeds one site that ships to one customer. The horizon is 52 weeks = 364
days and the demand 3,640 units, so the demand rate is 10 units a day; the site can make
20 a day and the supplier ship 100 a week (about 14.3 a day).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import scipy.sparse as sp

from fabnet.model import (
    BomLine,
    BucketKind,
    Customer,
    Demand,
    Horizon,
    InventoryRecord,
    Item,
    ItemKind,
    Lane,
    Offer,
    Recovery,
    RoutingStep,
    Scenario,
    Site,
    Supplier,
    WorkCenter,
    compile_network,
)
from fabnet.model.errors import FabnetError
from fabnet.model.scenario import NodeKind
from fabnet.plan.solve import PlanStatus
from fabnet.report.resilience import tts_section
from fabnet.resilience.tts import NodeRisk, rank, recovery_days, served_rate, time_to_survive

WILLEMS = Path(__file__).resolve().parents[3] / "shared" / "data" / "willems"


def chain(product_stock: float = 50.0, part_stock: float = 0.0,
          recovery: tuple[Recovery, ...] = ()) -> Scenario:
    h = Horizon(date(2027, 1, 4), BucketKind.WEEK, 52)
    inv = [InventoryRecord("FR-HUB", "Q", product_stock)]
    if part_stock:
        inv.append(InventoryRecord("FR-HUB", "FC", part_stock))
    return Scenario(
        name="chain", horizon=h,
        items=(Item("Q", kind=ItemKind.PRODUCT), Item("FC")),
        boms=(BomLine("Q", "FC", 1.0),),
        routings=(RoutingStep("Q", "assembly", 1.0),),
        sites=(Site("FR-HUB", "FR", makes=("Q",)),),
        work_centers=(WorkCenter("FR-HUB", "assembly", 140.0),),
        suppliers=(Supplier("SUP-CN", "CN"),),
        offers=(Offer("SUP-CN", "FC", 10.0, 2, 100.0),),
        customers=(Customer("UA-MOD", "UA"),),
        lanes=(Lane("SUP-CN", "FR-HUB", 1), Lane("FR-HUB", "UA-MOD", 0)),
        inventory=tuple(inv),
        demand=tuple(Demand(f"D{k}", "UA-MOD", "Q", 280.0, h.bucket_start(4 * k + 3))
                     for k in range(13)),
        recovery=recovery,
    )


def by_node(risks: list[NodeRisk]) -> dict[str, NodeRisk]:
    return {r.node: r for r in risks}


def test_site_down_lives_on_its_finished_stock() -> None:
    r = by_node(time_to_survive(compile_network(chain())))["FR-HUB"]
    assert r.tts == pytest.approx(5.0)  # 50 units / 10 a day
    assert r.ttr == 28.0
    assert r.pi == pytest.approx((28 - 5) * 10)
    assert r.exposed


def test_supplier_down_lives_on_parts_and_products() -> None:
    r = by_node(time_to_survive(compile_network(chain(50, 30))))
    assert r["SUP-CN/FC"].tts == pytest.approx(8.0)  # (50 + 30) / 10
    assert r["lane:SUP-CN>FR-HUB"].tts == pytest.approx(8.0)
    assert r["SUP-CN/FC"].pi == pytest.approx((28 - 8) * 10)


def test_no_stock_downstream_means_no_time_to_survive() -> None:
    r = by_node(time_to_survive(compile_network(chain(0, 0))))
    assert r["lane:FR-HUB>UA-MOD"].tts == 0.0
    assert r["FR-HUB"].tts == 0.0
    assert r["lane:FR-HUB>UA-MOD"].pi == pytest.approx(280.0)


def test_customer_lane_has_no_stock_beyond_it() -> None:
    r = by_node(time_to_survive(compile_network(chain(500, 0))))
    assert r["lane:FR-HUB>UA-MOD"].tts == 0.0  # the customer holds nothing
    assert r["FR-HUB"].tts == pytest.approx(50.0)
    assert not r["FR-HUB"].exposed and r["FR-HUB"].pi == 0.0


def test_tts_is_capped_at_the_horizon() -> None:
    sc = chain(10_000, 0)
    r = by_node(time_to_survive(compile_network(sc)))
    assert r["FR-HUB"].tts == pytest.approx(364.0)


def test_recovery_times_by_node_kind_and_default() -> None:
    sc = chain(recovery=(Recovery("default", 10), Recovery("kind:site", 42),
                         Recovery("SUP-CN", 70), Recovery("lane:FR-HUB>UA-MOD", 3)))
    assert recovery_days(sc, "FR-HUB", NodeKind.SITE) == 42
    assert recovery_days(sc, "SUP-CN/FC", NodeKind.OFFER) == 70
    assert recovery_days(sc, "lane:FR-HUB>UA-MOD", NodeKind.LANE) == 3
    assert recovery_days(sc, "lane:SUP-CN>FR-HUB", NodeKind.LANE) == 10
    r = by_node(time_to_survive(compile_network(sc)))
    assert r["FR-HUB"].pi == pytest.approx((42 - 5) * 10)


def test_workers_give_the_same_answer() -> None:
    net = compile_network(chain(50, 30))
    assert time_to_survive(net) == time_to_survive(net, workers=2, chunk=2)


@pytest.mark.skipif(not WILLEMS.exists(), reason="../shared/data/willems not present")
def test_willems_chain_01_hand_computed() -> None:
    from fabnet.io.willems import derived_demand, read_stages, willems_scenario

    stages = read_stages(WILLEMS / "willems_01.csv")
    dd = derived_demand(stages)
    assert dd["Manuf_0001"] == pytest.approx(253 + 45)
    assert dd["Part_0001"] == pytest.approx(253 + 45 + 45 + 75)
    r = by_node(time_to_survive(compile_network(willems_scenario(WILLEMS / "willems_01.csv")),
                                nodes=[s.id for s in stages]))
    # retail stages have lead time 0, so no stock: nothing downstream of them survives
    assert r["Retail_0001"].tts == 0.0
    assert r["Retail_0001"].pi == pytest.approx(253 * 28)
    # a manufacturer lives on its own 10 days of stock (retail holds none)
    assert r["Manuf_0001"].tts == pytest.approx(10.0)
    # Part_0003 (lead 10) feeds both manufacturers (lead 10): 10 + 10 days
    assert r["Part_0003"].tts == pytest.approx(20.0)


@pytest.mark.skipif(not WILLEMS.exists(), reason="../shared/data/willems not present")
@pytest.mark.parametrize("chain_no", ["05", "08", "13"])
def test_folding_pass_through_transfers_changes_nothing(chain_no: str) -> None:
    from fabnet.io.willems import willems_scenario

    net = compile_network(willems_scenario(WILLEMS / f"willems_{chain_no}.csv"))
    folded = time_to_survive(net, nodes=list(net.sites))
    full = time_to_survive(net, nodes=list(net.sites), fold=False)
    assert [r.node for r in folded] == [r.node for r in full]
    for a, b in zip(folded, full, strict=True):
        assert a.tts == pytest.approx(b.tts, abs=1e-6)
        assert a.pi == pytest.approx(b.pi, rel=1e-7, abs=1e-5)


#: HiGHS stopped before its first simplex iteration (presolve off, so nothing solves)
NO_ITERATIONS: dict[str, str | int] = {"presolve": "off", "simplex_iteration_limit": 0}


def test_a_solve_stopped_by_its_limit_gives_a_status_and_no_number() -> None:
    net = compile_network(chain(50, 30))
    risks = time_to_survive(net, demand_rate=served_rate(net), options=NO_ITERATIONS)
    assert risks and all(r.status is PlanStatus.TIME_LIMIT for r in risks)
    assert all(r.tts is None and r.pi is None and r.failed and not r.exposed for r in risks)


def test_served_rate_refuses_to_turn_a_failed_solve_into_a_rate() -> None:
    with pytest.raises(FabnetError, match="time_limit"):
        served_rate(compile_network(chain()), NO_ITERATIONS)


def test_every_answer_is_certified_optimal() -> None:
    risks = time_to_survive(compile_network(chain(50, 30)))
    assert all(r.status is PlanStatus.OPTIMAL and not r.failed for r in risks)


def test_failed_nodes_rank_apart_after_every_solved_node() -> None:
    ok = NodeRisk("A", NodeKind.SITE, 40.0, 28.0, 0.0)
    exposed = NodeRisk("B", NodeKind.SITE, 5.0, 28.0, 230.0)
    failed = NodeRisk("C", NodeKind.SITE, None, 28.0, None, PlanStatus.ERROR)
    assert rank([failed, ok, exposed]) == [exposed, ok, failed]


def test_report_counts_failed_nodes_and_says_tts_is_capped_at_the_horizon() -> None:
    risks = [NodeRisk("HUB", NodeKind.SITE, 364.0, 28.0, 0.0),
             NodeRisk("LINE", NodeKind.SITE, 5.0, 28.0, 230.0),
             NodeRisk("SUP/FC", NodeKind.OFFER, None, 28.0, None, PlanStatus.TIME_LIMIT)]
    _, html = tts_section(risks, horizon_days=364.0)
    assert "TTS capped at horizon (364 days)" in html
    assert "1 of 3 nodes failed" in html and "time_limit" in html
    assert "Failed nodes" in html


def test_scaled_model_has_coefficients_near_one() -> None:
    from fabnet.resilience.tts import build_aggregate

    net = compile_network(chain(10_000_000, 0))  # stock far larger than any rate
    m = build_aggregate(net)
    a = abs(sp.diags(m.row_scale) @ m.matrix @ sp.diags(m.col_scale)).data
    assert abs(m.matrix).data.max() >= 1e7
    assert a.max() / a.min() <= 64
