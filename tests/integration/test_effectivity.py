"""A design change takes effect in the plan exactly at the bucket it becomes effective.

Weekly buckets from Monday 2027-01-04 (bucket 4 starts 2027-02-01). RECON-Q carries the
datalink DL-1 until 2027-01-31 and DL-2 from 2027-02-01 (same price, one per drone), and
its assembly takes 2 hours until then and 3 hours after. Ten drones are due in each of
buckets 0 to 7 and the lane to UA-MOD carries 10 a bucket, so every bucket delivers 10;
holding costs make production and purchases just in time, so the plan buys 10 DL-1 in
each of buckets 0-3, 10 DL-2 in each of buckets 4-7, and loads assembly with 20 hours a
bucket, then 30.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.plancheck import (
    CheckedPlan,
    check_tables,
    plan_and_check,
    reference_levels,
    written_levels,
)

CHANGE = """\
scenario: datalink change
horizon: {start: 2027-01-04, bucket: week, buckets: 8}
items:
  - {id: RECON-Q, kind: product, holding_cost: 5, revision: B}
  - {id: DL-1, kind: component, holding_cost: 0.1}
  - {id: DL-2, kind: component, holding_cost: 0.1}
boms:
  RECON-Q:
    - {item: DL-1, qty: 1, until: 2027-01-31}
    - {item: DL-2, qty: 1, from: 2027-02-01}
routings:
  RECON-Q:
    - {work_center: assembly, hours: 2, until: 2027-01-31}
    - {work_center: assembly, hours: 3, from: 2027-02-01}
sites:
  - {id: FR-LYON, country: FR, makes: [RECON-Q], work_centers: [{type: assembly, hours: 1000}]}
suppliers:
  - {id: SUP, country: FR, offers: [{item: DL-1, price: 10, lead_time: 0},
                                    {item: DL-2, price: 10, lead_time: 0}]}
customers: [{id: UA-MOD, country: UA}]
lanes:
  - {from: SUP, to: FR-LYON, transit: 0}
  - {from: FR-LYON, to: UA-MOD, transit: 0, capacity: 10}
demand:
""" + "".join(f"  - {{id: D{t}, customer: UA-MOD, item: RECON-Q, qty: 10, due: {day}}}\n"
              for t, day in enumerate(["2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25",
                                       "2027-02-01", "2027-02-08", "2027-02-15",
                                       "2027-02-22"]))


@pytest.fixture
def changed(tmp_path: Path) -> CheckedPlan:
    src = tmp_path / "scenario.yaml"
    src.write_text(textwrap.dedent(CHANGE))
    cp = plan_and_check(src, tmp_path / "out")
    assert cp.violations == []
    return cp


def _by_bucket(cp: CheckedPlan, table: str, item: str, col: str) -> dict[int, float]:
    got: dict[int, float] = {}
    for r in cp.plan.tables[table]:
        if r["item"] == item and r["qty"] > 0:
            got[r[col]] = got.get(r[col], 0.0) + r["qty"]
    return got


def test_component_demand_switches_at_the_effective_bucket(changed: CheckedPlan) -> None:
    assert _by_bucket(changed, "purchases", "DL-1", "arrival_bucket") == pytest.approx(
        {0: 10, 1: 10, 2: 10, 3: 10})
    assert _by_bucket(changed, "purchases", "DL-2", "arrival_bucket") == pytest.approx(
        {4: 10, 5: 10, 6: 10, 7: 10})
    assert _by_bucket(changed, "production", "RECON-Q", "bucket") == pytest.approx(
        {t: 10 for t in range(8)})


def test_routing_hours_switch_at_the_effective_bucket(changed: CheckedPlan) -> None:
    used = {r["bucket"]: r["hours_used"] for r in changed.plan.tables["load"]}
    assert [used[t] for t in range(8)] == pytest.approx([20, 20, 20, 20, 30, 30, 30, 30])


def test_reference_lp_with_effectivity_agrees_level_by_level(changed: CheckedPlan) -> None:
    assert written_levels(changed.scenario, changed.plan) == pytest.approx(
        reference_levels(changed.scenario), rel=1e-6, abs=1e-3)


def test_checker_flags_the_old_component_used_after_the_change(changed: CheckedPlan) -> None:
    rows = [dict(r) for r in changed.plan.tables["purchases"]]
    for r in rows:  # buy DL-1 for bucket 4 instead of DL-2: the stock of DL-2 goes short
        if r["item"] == "DL-2" and r["arrival_bucket"] == 4:
            r["item"] = "DL-1"
    changed.plan.tables["purchases"] = rows
    bad = check_tables(changed.scenario, changed.plan)
    assert any("stock FR-LYON/DL-2 bucket 4" in b and "< 0" in b for b in bad), bad
