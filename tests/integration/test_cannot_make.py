"""A site that lists an item it has no work center for: valid, made nowhere there, named.

DESIGN.md: a site makes an item "only if it has a work center of every type that the
item's routing uses". FR-LYON lists RECON-Q (assembly + flight-test) but has only an
assembly line; UK-PLANT has both, 100 assembly hours a week at 2 h a unit: 50 a week.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from fabnet.io import load_scenario
from fabnet.model.network import compile_network
from fabnet.plan import PlanStatus, make_plan

SCENARIO = """\
scenario: site without flight test
horizon: {start: 2027-01-04, bucket: week, buckets: 4}
items: [{id: RECON-Q, kind: product}]
routings:
  RECON-Q: [{work_center: assembly, hours: 2}, {work_center: flight-test, hours: 0.5}]
sites:
  - id: FR-LYON
    country: FR
    makes: [RECON-Q]
    work_centers: [{type: assembly, hours: 10000}]
  - id: UK-PLANT
    country: GB
    makes: [RECON-Q]
    work_centers: [{type: assembly, hours: 100}, {type: flight-test, hours: 100}]
customers: [{id: UA-MOD, country: UA}]
lanes:
  - {from: FR-LYON, to: UA-MOD, transit: 0}
  - {from: UK-PLANT, to: UA-MOD, transit: 0}
demand: [{id: D1, customer: UA-MOD, item: RECON-Q, qty: 300, due: 2027-01-25}]
"""

REASON = "FR-LYON lists RECON-Q but has no flight-test work center"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "scenario.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_listing_an_item_without_its_work_center_is_a_warning_not_an_error(
        tmp_path: Path) -> None:
    sc = load_scenario(_write(tmp_path, SCENARIO))
    warnings = [str(w) for w in sc.warnings]
    assert len(warnings) == 1
    assert "warning: sites[FR-LYON].makes" in warnings[0] and REASON in warnings[0]
    assert "fix: add a 'flight-test' work center to FR-LYON" in warnings[0]


def test_site_without_flight_test_makes_nothing_and_the_shortfall_names_it(
        tmp_path: Path) -> None:
    net = compile_network(load_scenario(_write(tmp_path, SCENARIO)))
    assert {net.sites[int(s)] for s in net.make_site} == {"UK-PLANT"}
    plan = make_plan(net)
    assert plan.status is PlanStatus.OPTIMAL
    made = {(r["site"], r["item"]): 0.0 for r in plan.rows("production")}
    for r in plan.rows("production"):
        made[(r["site"], r["item"])] += float(r["qty"])
    assert ("FR-LYON", "RECON-Q") not in made
    assert abs(made[("UK-PLANT", "RECON-Q")] - 200.0) < 1e-6  # 4 weeks x 50
    [short] = plan.rows("shortfalls")
    assert short["demand"] == "D1" and abs(float(short["qty_lost"]) - 100.0) < 1e-6
    assert REASON in str(short["reason"])
    assert "UK-PLANT/assembly at capacity" in str(short["reason"])


def test_only_site_listing_the_product_cannot_make_it_says_why(tmp_path: Path) -> None:
    text = """\
    scenario: only FR-LYON lists RECON-Q
    horizon: {start: 2027-01-04, bucket: week, buckets: 4}
    items: [{id: RECON-Q, kind: product}, {id: FPV, kind: product}]
    routings:
      RECON-Q: [{work_center: assembly, hours: 2}, {work_center: flight-test, hours: 0.5}]
      FPV: [{work_center: assembly, hours: 1}]
    sites:
      - id: FR-LYON
        country: FR
        makes: [RECON-Q, FPV]
        work_centers: [{type: assembly, hours: 10000}]
      - id: UK-PLANT
        country: GB
        makes: []
        work_centers: [{type: flight-test, hours: 100}]
    customers: [{id: UA-MOD, country: UA}]
    lanes: [{from: FR-LYON, to: UA-MOD, transit: 0}]
    demand:
      - {id: D1, customer: UA-MOD, item: RECON-Q, qty: 300, due: 2027-01-25}
      - {id: D2, customer: UA-MOD, item: FPV, qty: 5, due: 2027-01-25}
    """
    plan = make_plan(compile_network(load_scenario(_write(tmp_path, text))))
    assert {r["item"] for r in plan.rows("production")} == {"FPV"}
    [short] = plan.rows("shortfalls")
    assert short["demand"] == "D1" and float(short["qty_lost"]) == 300.0
    assert str(short["reason"]).startswith(REASON)


def test_component_a_site_cannot_make_is_named_in_the_product_shortfall(
        tmp_path: Path) -> None:
    text = """\
    scenario: sub-assembly without its bench
    horizon: {start: 2027-01-04, bucket: week, buckets: 4}
    items: [{id: RECON-Q, kind: product}, {id: BATT, kind: assembly}, {id: FPV, kind: product}]
    boms: {RECON-Q: [{item: BATT, qty: 1}]}
    routings:
      RECON-Q: [{work_center: assembly, hours: 1}]
      FPV: [{work_center: assembly, hours: 1}]
      BATT: [{work_center: battery-bench, hours: 1}]
    sites:
      - id: FR-LYON
        country: FR
        makes: [RECON-Q, BATT, FPV]
        work_centers: [{type: assembly, hours: 1000}]
      - id: UK-PLANT
        country: GB
        makes: []
        work_centers: [{type: battery-bench, hours: 1}]
    customers: [{id: UA-MOD, country: UA}]
    lanes: [{from: FR-LYON, to: UA-MOD, transit: 0}]
    demand:
      - {id: D1, customer: UA-MOD, item: RECON-Q, qty: 10, due: 2027-01-25}
      - {id: D2, customer: UA-MOD, item: FPV, qty: 5, due: 2027-01-25}
    """
    plan = make_plan(compile_network(load_scenario(_write(tmp_path, text))))
    [short] = plan.rows("shortfalls")
    assert "FR-LYON lists BATT but has no battery-bench work center" in str(short["reason"])
