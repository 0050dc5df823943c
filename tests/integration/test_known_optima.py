"""Tiny networks with hand-computed optima: exact plans for the contract's rules.

Every scenario here starts on Monday 2027-01-04 with weekly buckets, so bucket t starts
on 2027-01-04 + 7t days (bucket 1: 01-11, 2: 01-18, 3: 01-25, 4: 02-01, 5: 02-08).
Each plan is also run through the independent checker and, at the end, compared level
by level with the reference LP of `tests.plancheck`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.plancheck import CheckedPlan, plan_and_check, reference_levels, written_levels

HEAD = """\
horizon: {start: 2027-01-04, bucket: week, buckets: %d}
customers: [{id: UA-MOD, country: UA}]
"""

CAPACITY_LIMITED = HEAD % 6 + """\
scenario: capacity-limited site
items: [{id: Q, kind: product}]
routings: {Q: [{work_center: assembly, hours: 2.5}]}
sites:
  - {id: FR-LYON, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 100}]}
lanes: [{from: FR-LYON, to: UA-MOD, transit: 0}]
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 500, due: 2027-01-25}]
"""

PRIORITY = HEAD % 4 + """\
scenario: priority before volume
items: [{id: BIG, kind: product}, {id: SMALL, kind: product}]
routings:
  BIG: [{work_center: assembly, hours: 4}]
  SMALL: [{work_center: assembly, hours: 1}]
sites:
  - {id: FR-LYON, country: FR, makes: [SMALL, BIG], work_centers: [{type: assembly, hours: 160}]}
lanes: [{from: FR-LYON, to: UA-MOD, transit: 0}]
demand:
  - {id: D-P2, customer: UA-MOD, item: SMALL, qty: 1000, due: 2027-01-25, priority: 2}
  - {id: D-P1, customer: UA-MOD, item: BIG, qty: 100, due: 2027-01-25, priority: 1}
"""

TWO_SUPPLIERS = HEAD % 8 + """\
scenario: %s
items: [{id: Q, kind: product}, {id: FC, kind: component}]
boms: {Q: [{item: FC, qty: 1}]}
routings: {Q: [{work_center: assembly, hours: 1}]}
sites:
  - {id: FR-LYON, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 1000}]}
suppliers:
  - {id: SUP-CHEAP, country: CN, offers: [{item: FC, price: 10, lead_time: %d}]}
  - {id: SUP-DEAR, country: FR, offers: [{item: FC, price: 50, lead_time: 1}]}
lanes:
  - {from: SUP-CHEAP, to: FR-LYON, transit: 0}
  - {from: SUP-DEAR, to: FR-LYON, transit: 0}
  - {from: FR-LYON, to: UA-MOD, transit: 0}
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 10, due: %s}]
"""
# cheap supplier arrives in bucket 4 at the earliest, due in bucket 2: on time needs SUP-DEAR
LATE_BUT_CHEAP = TWO_SUPPLIERS % ("cheap but late", 4, "2027-01-18")
# both arrive by bucket 1, due in bucket 5: the cheaper one wins
BOTH_IN_TIME = TWO_SUPPLIERS % ("both in time", 1, "2027-02-08")

LEAD_TIME = HEAD % 8 + """\
scenario: lead time
items: [{id: Q, kind: product}, {id: FC, kind: component}]
boms: {Q: [{item: FC, qty: 1}]}
routings: {Q: [{work_center: assembly, hours: 1}]}
sites:
  - {id: FR-LYON, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 1000}]}
suppliers:
  - {id: SUP-TW, country: TW, offers: [{item: FC, price: 5, lead_time: 3}]}
lanes:
  - {from: SUP-TW, to: FR-LYON, transit: 1}
  - {from: FR-LYON, to: UA-MOD, transit: 0}
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 20, due: 2027-01-11}]
"""

UNAPPROVED = """\
scenario: export compliance
horizon: {start: 2027-01-04, bucket: week, buckets: 4}
items: [{id: Q, kind: product}]
sites: [{id: FR-LYON, country: FR}]
customers:
  - {id: UA-MOD, country: UA}
  - {id: BROKER, country: AE, approved: false}
lanes:
  - {from: FR-LYON, to: UA-MOD, transit: 0}
  - {from: FR-LYON, to: BROKER, transit: 0}
inventory: [{site: FR-LYON, item: Q, qty: 50}]
demand:
  - {id: D-BROKER, customer: BROKER, item: Q, qty: 10, due: 2027-01-11}
  - {id: D-OK, customer: UA-MOD, item: Q, qty: 10, due: 2027-01-11, priority: 2}
"""

STRUCK_SITE = HEAD % 6 + """\
scenario: struck site
items: [{id: Q, kind: product}]
routings: {Q: [{work_center: assembly, hours: 2.5}]}
sites:
  - {id: FR-LYON, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 100}]}
lanes: [{from: FR-LYON, to: UA-MOD, transit: 0}]
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 80, due: 2027-01-11}]
disruptions: [{id: strike-1, target: FR-LYON, from: 2027-01-11, buckets: 2, capacity: 0}]
"""

LANE_CAPACITY = HEAD % 4 + """\
scenario: lane capacity
items: [{id: Q, kind: product}]
sites: [{id: FR-LYON, country: FR}]
lanes: [{from: FR-LYON, to: UA-MOD, transit: 0, capacity: 10}]
inventory: [{site: FR-LYON, item: Q, qty: 100}]
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 50, due: 2027-01-18}]
"""

RAMP = HEAD % 6 + """\
scenario: ramp-up
items: [{id: Q, kind: product}]
routings: {Q: [{work_center: assembly, hours: 2.5}]}
sites:
  - id: FR-LYON
    country: FR
    makes: [Q]
    work_centers: [{type: assembly, hours: 100, from: 2027-01-18, ramp: [0.25, 0.5, 0.75]}]
lanes: [{from: FR-LYON, to: UA-MOD, transit: 0}]
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 1000, due: 2027-02-08}]
"""

UK_PLANT = HEAD % 4 + """\
scenario: resilience circuit
items: [{id: Q, kind: product}, {id: FC, kind: component}]
boms: {Q: [{item: FC, qty: 1}]}
routings: {Q: [{work_center: assembly, hours: 2.5}]}
sites:
  - {id: FR-HUB, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 50}]}
  - {id: UK-PLANT, country: GB, makes: [Q], work_centers: [{type: assembly, hours: 100}]}
lanes:
  - {from: FR-HUB, to: UK-PLANT, transit: 1, cost: 1}
  - {from: FR-HUB, to: UA-MOD, transit: 0}
  - {from: UK-PLANT, to: UA-MOD, transit: 0}
inventory: [{site: FR-HUB, item: FC, qty: 200}]
demand: [{id: D1, customer: UA-MOD, item: Q, qty: %d, due: 2027-01-25}]
"""

EMBARGO = HEAD % 6 + """\
scenario: embargo
items: [{id: Q, kind: product}, {id: FC, kind: component}]
boms: {Q: [{item: FC, qty: 1}]}
routings: {Q: [{work_center: assembly, hours: 1}]}
sites:
  - {id: FR-LYON, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 1000}]}
suppliers:
  - {id: SUP-TW, country: TW, offers: [{item: FC, price: 5, lead_time: 0, capacity: 100}]}
lanes:
  - {from: SUP-TW, to: FR-LYON, transit: 0}
  - {from: FR-LYON, to: UA-MOD, transit: 0}
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 10, due: 2027-01-04}]
disruptions:
  - {id: embargo-tw, target: "country:TW", from: 2027-01-04, buckets: 2, capacity: 0}
"""

CLOSED_LANE = HEAD % 4 + """\
scenario: closed lane
items: [{id: Q, kind: product}]
sites: [{id: FR-LYON, country: FR}]
lanes: [{from: FR-LYON, to: UA-MOD, transit: 1}]
inventory: [{site: FR-LYON, item: Q, qty: 10}]
demand: [{id: D1, customer: UA-MOD, item: Q, qty: 10, due: 2027-01-11}]
disruptions: [{id: bridge-out, target: "lane:FR-LYON>UA-MOD", from: 2027-01-04, buckets: 2}]
"""

ALL = {
    "capacity_limited": CAPACITY_LIMITED, "priority": PRIORITY,
    "late_but_cheap": LATE_BUT_CHEAP, "both_in_time": BOTH_IN_TIME, "lead_time": LEAD_TIME,
    "unapproved": UNAPPROVED, "struck_site": STRUCK_SITE, "lane_capacity": LANE_CAPACITY,
    "ramp": RAMP, "uk_plant_needed": UK_PLANT % 120, "uk_plant_idle": UK_PLANT % 80,
    "embargo": EMBARGO, "closed_lane": CLOSED_LANE,
}


def plan(tmp_path: Path, text: str) -> CheckedPlan:
    """Plan a YAML scenario through the service, read the plan back and check it."""
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    cp = plan_and_check(path, tmp_path / "plan")
    assert cp.violations == []
    return cp


def by_bucket(cp: CheckedPlan, table: str, col: str = "bucket", **match: str) -> list[float]:
    """Quantities of `table` per bucket (summed), over the horizon."""
    out = [0.0] * cp.scenario.horizon.buckets
    for r in cp.plan.tables[table]:
        if all(r[k] == v for k, v in match.items()):
            out[r[col]] += r["qty"]
    return out


def test_capacity_limited_site_makes_hours_over_unit_hours_per_bucket(tmp_path: Path) -> None:
    # 100 h / 2.5 h = 40 a bucket for 6 buckets; due bucket 3: 160 on time, 80 late, 260 lost
    cp = plan(tmp_path, CAPACITY_LIMITED)
    assert by_bucket(cp, "production") == pytest.approx([40] * 6)
    arrivals = by_bucket(cp, "deliveries", "arrival_bucket")
    assert sum(arrivals[:4]) == pytest.approx(160)  # on time, whenever they arrive
    assert arrivals[4:] == pytest.approx([40, 40])
    k = cp.plan.kpis
    assert k["units_delivered"] == pytest.approx(240)
    assert k["units_on_time"] == pytest.approx(160)
    assert k["lateness_unit_buckets"] == pytest.approx(40 * 1 + 40 * 2)
    assert k["fill_rate"] == pytest.approx(240 / 500)
    row = cp.shortfall("D1")
    assert (row["qty_late"], row["qty_lost"]) == pytest.approx((80, 260))
    assert "FR-LYON/assembly" in row["reason"]


def test_priority_one_order_gets_capacity_before_bigger_priority_two_order(
        tmp_path: Path) -> None:
    # 640 h in all; P1 needs 4 h a unit, P2 1 h: all 100 P1 units (400 h), then 240 P2
    cp = plan(tmp_path, PRIORITY)
    assert cp.plan.total("deliveries", demand="D-P1") == pytest.approx(100)
    assert cp.plan.total("deliveries", demand="D-P2") == pytest.approx(240)
    assert cp.plan.kpis["fill_rate_p1"] == pytest.approx(1.0)
    assert cp.shortfall("D-P1")["qty_lost"] == 0
    assert cp.shortfall("D-P2")["qty_lost"] == pytest.approx(760)


def test_lateness_is_minimized_before_cost_so_the_dear_on_time_supplier_is_used(
        tmp_path: Path) -> None:
    cp = plan(tmp_path, LATE_BUT_CHEAP)
    assert cp.plan.total("purchases", supplier="SUP-DEAR") == pytest.approx(10)
    assert cp.plan.total("purchases", supplier="SUP-CHEAP") == pytest.approx(0)
    assert cp.plan.kpis["lateness_unit_buckets"] == pytest.approx(0)
    assert cp.plan.kpis["cost_purchase"] == pytest.approx(500)
    assert cp.plan.tables["shortfalls"] == []


def test_cost_is_minimized_last_so_the_cheaper_supplier_wins_when_both_are_in_time(
        tmp_path: Path) -> None:
    cp = plan(tmp_path, BOTH_IN_TIME)
    assert cp.plan.total("purchases", supplier="SUP-CHEAP") == pytest.approx(10)
    assert cp.plan.total("purchases", supplier="SUP-DEAR") == pytest.approx(0)
    assert cp.plan.kpis["cost_total"] == pytest.approx(100)
    assert cp.plan.kpis["on_time_rate"] == pytest.approx(1.0)


def test_lead_time_and_transit_make_an_early_demand_late(tmp_path: Path) -> None:
    # ordered in 0, shipped after lead time 3, 1 bucket in transit: made and delivered in 4
    cp = plan(tmp_path, LEAD_TIME)
    assert by_bucket(cp, "purchases", "arrival_bucket") == pytest.approx([0, 0, 0, 0, 20, 0, 0, 0])
    assert by_bucket(cp, "deliveries", "arrival_bucket")[4] == pytest.approx(20)
    assert cp.plan.kpis["lateness_unit_buckets"] == pytest.approx(20 * 3)
    row = cp.shortfall("D1")
    assert (row["qty_late"], row["qty_lost"]) == pytest.approx((20, 0))
    assert "lead time" in row["reason"]
    assert "bucket 4" in row["reason"]


def test_unapproved_customer_gets_nothing_and_the_reason_says_so(tmp_path: Path) -> None:
    cp = plan(tmp_path, UNAPPROVED)
    assert cp.plan.total("deliveries", customer="BROKER") == 0
    assert cp.plan.total("deliveries", demand="D-OK") == pytest.approx(10)
    row = cp.shortfall("D-BROKER")
    assert row["qty_lost"] == pytest.approx(10)
    assert "not approved" in row["reason"]
    assert cp.shortfall("D-OK")["reason"] == ""


def test_struck_site_makes_nothing_while_down_and_delivers_after(tmp_path: Path) -> None:
    # 40 a bucket; down in buckets 1-2: 40 made in 0 (on time), 40 in 3 (2 buckets late)
    cp = plan(tmp_path, STRUCK_SITE)
    prod = by_bucket(cp, "production")
    assert prod[:4] == pytest.approx([40, 0, 0, 40])
    assert by_bucket(cp, "deliveries", "arrival_bucket")[3] == pytest.approx(40)
    assert cp.plan.kpis["lateness_unit_buckets"] == pytest.approx(80)
    row = cp.shortfall("D1")
    assert (row["qty_late"], row["qty_lost"]) == pytest.approx((40, 0))


def test_struck_site_shortfall_reason_names_the_disruption(tmp_path: Path) -> None:
    row = plan(tmp_path, STRUCK_SITE).shortfall("D1")
    assert "strike-1" in row["reason"]


def test_binding_lane_capacity_limits_deliveries_and_is_named(tmp_path: Path) -> None:
    # 10 a bucket for 4 buckets: 30 on time (0-2), 10 one bucket late, 10 lost
    cp = plan(tmp_path, LANE_CAPACITY)
    assert by_bucket(cp, "deliveries", "depart_bucket") == pytest.approx([10] * 4)
    row = cp.shortfall("D1")
    assert (row["qty_late"], row["qty_lost"]) == pytest.approx((10, 10))
    assert "FR-LYON>UA-MOD" in row["reason"]


def test_work_center_ramp_limits_early_buckets_exactly(tmp_path: Path) -> None:
    # no hours before 2027-01-18 (bucket 2), then 25 %, 50 %, 75 %, 100 % of 40 units
    cp = plan(tmp_path, RAMP)
    assert by_bucket(cp, "production") == pytest.approx([0, 0, 10, 20, 30, 40])
    avail = {r["bucket"]: r["hours_available"] for r in cp.plan.tables["load"]}
    assert [avail.get(t, 0.0) for t in range(6)] == pytest.approx([0, 0, 25, 50, 75, 100])
    assert cp.plan.kpis["units_delivered"] == pytest.approx(100)


def test_uk_plant_takes_over_when_hub_capacity_is_exhausted(tmp_path: Path) -> None:
    # the hub makes 20 a bucket (80 by bucket 3); the other 40 are made in the UK from
    # flight controllers sent over from the hub, at 1 a unit
    cp = plan(tmp_path, UK_PLANT % 120)
    assert cp.plan.total("production", site="FR-HUB") == pytest.approx(80)
    assert cp.plan.total("production", site="UK-PLANT") == pytest.approx(40)
    assert cp.plan.total("transfers", **{"from": "FR-HUB", "to": "UK-PLANT"}) \
        == pytest.approx(40)
    assert cp.plan.kpis["on_time_rate"] == pytest.approx(1.0)
    assert cp.plan.kpis["cost_total"] == pytest.approx(40)


def test_uk_plant_stays_idle_while_the_hub_can_cope(tmp_path: Path) -> None:
    cp = plan(tmp_path, UK_PLANT % 80)
    assert cp.plan.total("production", site="UK-PLANT") == 0
    assert cp.plan.tables["transfers"] == []
    assert cp.plan.kpis["on_time_rate"] == pytest.approx(1.0)


def test_country_embargo_stops_its_suppliers_shipping(tmp_path: Path) -> None:
    cp = plan(tmp_path, EMBARGO)
    assert by_bucket(cp, "purchases", "order_bucket")[:2] == pytest.approx([0, 0])
    assert by_bucket(cp, "deliveries", "arrival_bucket")[2] == pytest.approx(10)
    assert cp.plan.kpis["lateness_unit_buckets"] == pytest.approx(20)
    assert "embargo-tw" in cp.shortfall("D1")["reason"]


def test_closed_lane_carries_nothing_until_it_reopens(tmp_path: Path) -> None:
    # closed in buckets 0-1: leaves in 2, arrives in 3, two buckets after due bucket 1
    cp = plan(tmp_path, CLOSED_LANE)
    assert by_bucket(cp, "deliveries", "depart_bucket") == pytest.approx([0, 0, 10, 0])
    assert cp.shortfall("D1")["qty_late"] == pytest.approx(10)
    assert cp.plan.kpis["lateness_unit_buckets"] == pytest.approx(20)
    assert "bridge-out" in cp.shortfall("D1")["reason"]


@pytest.mark.parametrize("name", sorted(ALL))
def test_reference_lp_agrees_with_the_plan_level_by_level(tmp_path: Path, name: str) -> None:
    cp = plan(tmp_path, ALL[name])
    want = reference_levels(cp.scenario)
    got = written_levels(cp.scenario, cp.plan)
    assert got == pytest.approx(want, rel=1e-6, abs=1e-3)
