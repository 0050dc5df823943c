"""The independent plan checker: it passes a planned network and catches every tampering.

One small two-plant network is planned once through `plan_scenario`; each test breaks
one rule of the contract in a copy of the written plan and expects the checker to say
which rule, where.
"""

from __future__ import annotations

import copy
import csv
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.scenario import Customer, Disruption, Lane, Scenario, Site, Supplier
from tests.plancheck import (
    CheckedPlan,
    Contract,
    WrittenPlan,
    check_plan,
    check_tables,
    plan_and_check,
    reference_levels,
    written_levels,
)

TWO_PLANTS = """\
scenario: two plants, one supplier, an unapproved broker
horizon: {start: 2027-01-04, bucket: week, buckets: 8}
items:
  - {id: Q, kind: product, holding_cost: 0.1}
  - {id: FC, kind: component, holding_cost: 0.01}
boms: {Q: [{item: FC, qty: 2}]}
routings: {Q: [{work_center: assembly, hours: 2.5}]}
sites:
  - {id: FR-HUB, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 50}]}
  - id: UK-PLANT
    country: GB
    makes: [Q]
    work_centers: [{type: assembly, hours: 100, from: 2027-01-11, ramp: [0.5]}]
suppliers:
  - {id: SUP-TW, country: TW, offers: [{item: FC, price: 5, lead_time: 1, capacity: 60}]}
customers: [{id: UA-MOD, country: UA}, {id: BROKER, country: AE, approved: false}]
lanes:
  - {from: SUP-TW, to: FR-HUB, transit: 1, cost: 0.5, capacity: 100}
  - {from: FR-HUB, to: UK-PLANT, transit: 1, cost: 1}
  - {from: FR-HUB, to: UA-MOD, transit: 1, capacity: 30}
  - {from: UK-PLANT, to: UA-MOD, transit: 0}
  - {from: FR-HUB, to: BROKER, transit: 0}
inventory: [{site: FR-HUB, item: FC, qty: 100}, {site: FR-HUB, item: Q, qty: 5}]
demand:
  - {id: D1, customer: UA-MOD, item: Q, qty: 60, due: 2027-01-25}
  - {id: D2, customer: UA-MOD, item: Q, qty: 120, due: 2027-02-15, priority: 2}
  - {id: D3, customer: BROKER, item: Q, qty: 5, due: 2027-01-25}
disruptions: [{id: strike-1, target: UK-PLANT, from: 2027-02-01, buckets: 1, capacity: 0.5}]
"""


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[CheckedPlan, Path]:
    d = tmp_path_factory.mktemp("two-plants")
    (d / "scenario.yaml").write_text(TWO_PLANTS, encoding="utf-8")
    return plan_and_check(d / "scenario.yaml", d / "plan"), d / "plan"


def tampered(cp: CheckedPlan, change: Callable[[dict[str, list[dict[str, Any]]]], None]
             ) -> list[str]:
    """Violations the checker finds in a copy of the plan after `change` to its tables."""
    plan = copy.deepcopy(cp.plan)
    change(plan.tables)
    kpis = {r["name"]: r["value"] for r in plan.tables["kpis"]}
    return check_tables(cp.scenario, WrittenPlan(plan.tables, {**plan.kpis, **kpis},
                                                 plan.bucket_starts))


def row(tables: dict[str, list[dict[str, Any]]], table: str, **match: Any) -> dict[str, Any]:
    """The first row of `table` whose columns equal `match`."""
    return next(r for r in tables[table] if all(r[k] == v for k, v in match.items()))


def assert_flags(violations: list[str], *fragments: str) -> None:
    assert any(all(f in v for f in fragments) for v in violations), violations


def test_planned_network_passes_and_uses_every_table(planned: tuple[CheckedPlan, Path]) -> None:
    cp, _ = planned
    assert cp.violations == []
    for table in ("production", "purchases", "transfers", "deliveries", "stock", "load",
                  "shortfalls", "kpis"):
        assert cp.plan.tables[table], table


def test_checker_reads_the_folder_as_written(planned: tuple[CheckedPlan, Path]) -> None:
    cp, out = planned
    assert check_plan(cp.scenario, out) == []


def test_csv_that_disagrees_with_plan_json_is_flagged(planned: tuple[CheckedPlan, Path],
                                                      tmp_path: Path) -> None:
    cp, out = planned
    copy_dir = tmp_path / "plan"
    copy_dir.mkdir()
    for f in out.iterdir():
        (copy_dir / f.name).write_bytes(f.read_bytes())
    path = copy_dir / "production.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    q = rows[0].index("qty")
    rows[1][q] = str(float(rows[1][q]) + 1)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    assert_flags(check_plan(cp.scenario, copy_dir), "plan.json", "production[0].qty")


def test_ramp_and_partial_strike_hours_are_recomputed_from_the_scenario(
        planned: tuple[CheckedPlan, Path]) -> None:
    cp, _ = planned
    hours = Contract(cp.scenario).wc_hours[("UK-PLANT", "assembly")]
    # none before 2027-01-11, half in the first ramp bucket, half again under strike-1
    assert hours == [0, 50, 100, 100, 50, 100, 100, 100]
    avail = {r["bucket"]: r["hours_available"] for r in cp.plan.tables["load"]
             if r["site"] == "UK-PLANT"}
    assert all(avail[t] == hours[t] for t in avail)


def test_extra_production_breaks_the_stock_balance(planned: tuple[CheckedPlan, Path]) -> None:
    r = planned[0].plan.tables["production"][0]

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["production"][0]["qty"] += 1
    assert_flags(tampered(planned[0], change), f"stock {r['site']}/Q bucket {r['bucket']}")


def test_missing_stock_row_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    r = planned[0].plan.tables["stock"][0]

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["stock"].pop(0)
    assert_flags(tampered(planned[0], change),
                 f"stock {r['site']}/{r['item']} bucket {r['bucket']}", "table says 0")


def test_consuming_stock_that_is_not_there_is_flagged(planned: tuple[CheckedPlan, Path]
                                                      ) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["purchases"] = []  # opening stock makes 50 units, 180 are delivered
    assert_flags(tampered(planned[0], change), "stock FR-HUB/FC bucket", "< 0")


def test_production_of_an_item_the_site_does_not_make_is_flagged(
        planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["production"].append({"site": "FR-HUB", "item": "FC", "bucket": 0, "qty": 0.0})
    assert_flags(tampered(planned[0], change), "FR-HUB makes FC")


def test_work_center_overload_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    # UK-PLANT has 50 h in bucket 1 (ramp 0.5): 21 units need 52.5 h
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["production"].append({"site": "UK-PLANT", "item": "Q", "bucket": 1, "qty": 21.0})
    assert_flags(tampered(planned[0], change), "work center UK-PLANT/assembly bucket 1",
                 "hours used")


def test_misreported_hours_available_are_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "load", site="UK-PLANT", bucket=4)["hours_available"] = 100.0
    assert_flags(tampered(planned[0], change), "load UK-PLANT/assembly bucket 4",
                 "hours_available")


def test_purchase_arriving_before_lead_time_and_transit_is_flagged(
        planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["purchases"][0]["arrival_bucket"] -= 1
    assert_flags(tampered(planned[0], change), "purchases[0]", "lead time 1 + transit 1")


def test_supplier_over_capacity_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    # one offer, one site: the first order is the only one shipped in its bucket
    ships = planned[0].plan.tables["purchases"][0]["order_bucket"] + 1

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["purchases"][0]["qty"] = 61.0
    assert_flags(tampered(planned[0], change), "supplier SUP-TW ships 61",
                 f"bucket {ships},")


def test_lane_over_capacity_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    t0 = row(planned[0].plan.tables, "deliveries", site="FR-HUB")["depart_bucket"]

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "deliveries", site="FR-HUB")["qty"] += 30  # the lane's capacity
    assert_flags(tampered(planned[0], change), "lane FR-HUB>UA-MOD",
                 f"departing in bucket {t0},")


def test_transfer_without_a_lane_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        r = t["transfers"][0]
        r["from"], r["to"] = r["to"], r["from"]
    assert_flags(tampered(planned[0], change), "no site-to-site lane UK-PLANT>FR-HUB")


def test_delivery_to_an_unapproved_customer_is_flagged(planned: tuple[CheckedPlan, Path]
                                                       ) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["deliveries"].append({"demand": "D3", "site": "FR-HUB", "customer": "BROKER",
                                "item": "Q", "depart_bucket": 0, "arrival_bucket": 0,
                                "qty": 5.0})
    assert_flags(tampered(planned[0], change), "BROKER", "not approved")


def test_delivery_arriving_too_early_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    i = next(i for i, r in enumerate(planned[0].plan.tables["deliveries"])
             if r["site"] == "FR-HUB")

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["deliveries"][i]["arrival_bucket"] -= 1
    assert_flags(tampered(planned[0], change), f"deliveries[{i}]", "transit 1")


def test_more_delivered_than_ordered_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["deliveries"].append({"demand": "D1", "site": "UK-PLANT", "customer": "UA-MOD",
                                "item": "Q", "depart_bucket": 7, "arrival_bucket": 7,
                                "qty": 1.0})
    assert_flags(tampered(planned[0], change), "demand D1", "only 60.0 ordered")


def test_bucket_outside_the_horizon_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "stock")["bucket"] = 8
    assert_flags(tampered(planned[0], change), "stock[0].bucket = 8 outside 0..7")


def test_wrong_shortfall_quantities_are_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    # 5 units one bucket late: on D1 or D2, whichever the solver picked
    d_late = next(r["demand"] for r in planned[0].plan.tables["shortfalls"] if r["qty_late"])

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "shortfalls", demand="D3")["qty_lost"] = 4.0
        row(t, "shortfalls", demand=d_late)["qty_late"] = 0.0
    v = tampered(planned[0], change)
    assert_flags(v, "shortfalls D3: qty_lost 4.0, expected 5")
    assert_flags(v, f"shortfalls {d_late}: qty_late 0.0")


def test_missing_shortfall_row_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["shortfalls"] = [r for r in t["shortfalls"] if r["demand"] != "D3"]
    assert_flags(tampered(planned[0], change), "shortfalls D3: qty_lost 0.0")


def test_shortfall_without_reason_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "shortfalls", demand="D3")["reason"] = " "
    assert_flags(tampered(planned[0], change), "demand D3 has no reason")


@pytest.mark.parametrize("kpi", ["fill_rate", "units_delivered", "units_lost",
                                 "lateness_unit_buckets", "fill_rate_p1", "cost_total",
                                 "cost_holding"])
def test_inconsistent_kpi_is_flagged(planned: tuple[CheckedPlan, Path], kpi: str) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "kpis", name=kpi)["value"] += 0.5
    assert_flags(tampered(planned[0], change), f"kpis: {kpi} =")


def test_reference_lp_agrees_with_the_plan(planned: tuple[CheckedPlan, Path]) -> None:
    cp, _ = planned
    want = reference_levels(cp.scenario)
    assert want["delivered_p1"] == pytest.approx(60)
    assert want["delivered_p2"] == pytest.approx(120)
    assert written_levels(cp.scenario, cp.plan) == pytest.approx(want, rel=1e-6, abs=1e-3)


def test_country_and_lane_disruptions_hit_exactly_their_targets() -> None:
    sc = Scenario(
        "factors", Horizon(date(2027, 1, 4), BucketKind.WEEK, 4),
        sites=(Site("FR-HUB", "FR"), Site("UK-PLANT", "GB")),
        suppliers=(Supplier("SUP-FR", "FR"), Supplier("SUP-TW", "TW")),
        customers=(Customer("UA-MOD", "UA"),),
        lanes=(Lane("FR-HUB", "UA-MOD", 1), Lane("UK-PLANT", "UA-MOD", 1, capacity=10)),
        disruptions=(Disruption("embargo", "country:FR", date(2027, 1, 11), 2, 0.5),
                     Disruption("strike", "FR-HUB", date(2027, 1, 18), 5, 0.5),
                     Disruption("flood", "lane:UK-PLANT>UA-MOD", date(2027, 1, 25), 1)))
    c = Contract(sc)
    assert [c.node_factor("FR-HUB", t) for t in range(4)] == [1, 0.5, 0.25, 0.5]
    assert [c.node_factor("SUP-FR", t) for t in range(4)] == [1, 0.5, 0.5, 1]
    assert [c.node_factor(n, 1) for n in ("UK-PLANT", "SUP-TW")] == [1, 1]
    assert [c.lane_capacity("UK-PLANT", "UA-MOD", t) for t in range(4)] == [10, 10, 10, 0]
    assert c.lane_capacity("FR-HUB", "UA-MOD", 3) == math.inf


def test_europe_example_plan_meets_the_contract(tmp_path: Path) -> None:
    example = Path(__file__).parents[2] / "examples" / "europe" / "scenario.yaml"
    cp = plan_and_check(example, tmp_path / "plan")
    assert cp.violations == []
    assert cp.plan.kpis["units_delivered"] > 0


def test_stock_off_by_a_millionth_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    # written plans balance to 1e-9 relative: a millionth of a unit is far outside it
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "stock")["qty"] += 1e-6
    r = row(planned[0].plan.tables, "stock")
    assert_flags(tampered(planned[0], change), f"stock {r['site']}/{r['item']} bucket "
                 f"{r['bucket']}", "balance gives")


def test_solver_noise_listed_as_a_shortfall_is_flagged(planned: tuple[CheckedPlan, Path]
                                                       ) -> None:
    short = {r["demand"] for r in planned[0].plan.tables["shortfalls"]}
    served = next(d for d in ("D1", "D2") if d not in short)

    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        t["shortfalls"].append({"demand": served, "qty_late": 1e-9, "qty_lost": 0.0,
                                "reason": "noise"})
    assert_flags(tampered(planned[0], change), f"shortfalls {served}: qty_late 1e-09",
                 "short only beyond")


def test_a_wrong_bucket_start_date_is_flagged(planned: tuple[CheckedPlan, Path]) -> None:
    def change(t: dict[str, list[dict[str, Any]]]) -> None:
        row(t, "deliveries")["arrival_start"] = "2027-01-04"
    assert_flags(tampered(planned[0], change), "deliveries[0].arrival_start")
