"""The plan delivers to a customer under licence only what its licences allow.

Weekly buckets from Monday 2027-01-04: bucket t starts 2027-01-04 + 7t days (1: 01-11,
2: 01-18, 3: 01-25, 4: 02-01, 5: 02-08, 6: 02-15, 7: 02-22; the horizon ends 03-01).
FR-LYON holds 1,000 RECON-Q; the lane to UA-MOD takes one bucket and 100 units a
bucket; a holding cost makes every unit go as early as it may. UA-MOD's licences:
- L-UA-06, valid, 150 units, 2027-01-04 .. 2027-01-24: open in buckets 0-2 (it expires
  mid-horizon); nothing arrives in bucket 0 (transit 1), so 100 arrive in 1 and 50 in 2;
- L-UA-07, pending, 250 units, from 2027-02-01: opens in bucket 4, so 100 arrive in 4,
  100 in 5 and 50 in 6;
- L-UA-05, revoked, 1,000 units over the whole horizon: covers nothing.
Bucket 3 has no open licence. Delivered: 400 of the 1,000 ordered; 600 are lost.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from tests.plancheck import (
    CheckedPlan,
    check_tables,
    plan_and_check,
    reference_levels,
    written_levels,
)

LICENSED = """\
scenario: licences
horizon: {start: 2027-01-04, bucket: week, buckets: 8}
items: [{id: RECON-Q, kind: product, holding_cost: 1}, {id: FPV, kind: product}]
sites: [{id: FR-LYON, country: FR}]
customers: [{id: UA-MOD, country: UA}, {id: PL-MOD, country: PL}]
lanes:
  - {from: FR-LYON, to: UA-MOD, transit: 1, capacity: 100}
  - {from: FR-LYON, to: PL-MOD, transit: 0}
inventory: [{site: FR-LYON, item: RECON-Q, qty: 1000}, {site: FR-LYON, item: FPV, qty: 10}]
demand:
  - {id: D1, customer: UA-MOD, item: RECON-Q, qty: 1000, due: 2027-02-22}
  - {id: D-PL, customer: PL-MOD, item: FPV, qty: 10, due: 2027-01-11}
licences:
  - {id: L-UA-06, customer: UA-MOD, country: UA, items: [RECON-Q], qty: 150,
     from: 2027-01-04, until: 2027-01-24, euc: EUC-06, status: valid}
  - {id: L-UA-07, customer: UA-MOD, country: UA, items: [RECON-Q, FPV], qty: 250,
     from: 2027-02-01, until: 2027-06-30, euc: EUC-07, status: pending}
  - {id: L-UA-05, customer: UA-MOD, country: UA, items: [RECON-Q], qty: 1000,
     from: 2027-01-04, until: 2027-12-31, euc: EUC-05, status: revoked}
"""


def plan(tmp_path: Path, text: str) -> CheckedPlan:
    src = tmp_path / "scenario.yaml"
    src.write_text(textwrap.dedent(text))
    cp = plan_and_check(src, tmp_path / "out")
    assert cp.violations == []
    return cp


def arrivals(cp: CheckedPlan, demand: str) -> dict[int, float]:
    got: dict[int, float] = {}
    for r in cp.plan.tables["deliveries"]:
        if r["demand"] == demand:
            got[r["arrival_bucket"]] = got.get(r["arrival_bucket"], 0.0) + r["qty"]
    return got


def test_deliveries_follow_the_licence_windows_and_quantities_bucket_by_bucket(
        tmp_path: Path) -> None:
    cp = plan(tmp_path, LICENSED)
    assert arrivals(cp, "D1") == pytest.approx({1: 100, 2: 50, 4: 100, 5: 100, 6: 50})
    assert cp.shortfall("D1")["qty_lost"] == pytest.approx(600)


def test_customer_without_licences_is_ruled_by_approved_alone(tmp_path: Path) -> None:
    cp = plan(tmp_path, LICENSED)
    assert arrivals(cp, "D-PL") == pytest.approx({1: 10})  # due bucket 1, PL-MOD unlicensed


def test_shortfall_names_the_licence_that_ran_out(tmp_path: Path) -> None:
    reason = plan(tmp_path, LICENSED).shortfall("D1")["reason"]
    assert ("licence L-UA-07 allows 250 more RECON-Q until 2027-06-30" in reason
            or "licence L-UA-06 allows 150 more RECON-Q until 2027-01-24" in reason), reason


def test_only_revoked_licences_deliver_nothing_and_say_why(tmp_path: Path) -> None:
    doc = yaml.safe_load(LICENSED)
    doc["licences"] = [x for x in doc["licences"] if x["status"] == "revoked"]
    cp = plan(tmp_path, yaml.safe_dump(doc, sort_keys=False))
    assert arrivals(cp, "D1") == {}
    assert cp.shortfall("D1")["reason"] == ("no licence lets RECON-Q go to UA-MOD (export "
                                            "compliance): L-UA-05 revoked")


def test_a_licence_expiring_before_the_due_date_is_used_early(tmp_path: Path) -> None:
    # no holding cost: the planner would otherwise ship just in time for bucket 7
    cp = plan(tmp_path, LICENSED.replace(", holding_cost: 1", ""))
    got = arrivals(cp, "D1")
    assert sum(q for t, q in got.items() if t <= 2) == pytest.approx(150)
    assert sum(got.values()) == pytest.approx(400)


def test_reference_lp_with_licences_agrees_level_by_level(tmp_path: Path) -> None:
    cp = plan(tmp_path, LICENSED)
    assert written_levels(cp.scenario, cp.plan) == pytest.approx(
        reference_levels(cp.scenario), rel=1e-6, abs=1e-3)


def _break(cp: CheckedPlan, bucket: int, extra: float) -> list[str]:
    rows = [dict(r) for r in cp.plan.tables["deliveries"]]
    row = next(r for r in rows if r["demand"] == "D1" and r["arrival_bucket"] == bucket)
    row["qty"] += extra
    cp.plan.tables["deliveries"] = rows
    return check_tables(cp.scenario, cp.plan)


def test_checker_flags_a_delivery_in_a_bucket_no_licence_covers(tmp_path: Path) -> None:
    cp = plan(tmp_path, LICENSED)
    rows = [dict(r) for r in cp.plan.tables["deliveries"]]
    row = next(r for r in rows if r["demand"] == "D1" and r["arrival_bucket"] == 2)
    row["depart_bucket"], row["arrival_bucket"] = 2, 3
    row["depart_start"], row["arrival_start"] = "2027-01-18", "2027-01-25"
    cp.plan.tables["deliveries"] = rows
    bad = check_tables(cp.scenario, cp.plan)
    assert any("reach UA-MOD in bucket 3, where no valid or pending licence" in b for b in bad)


def test_checker_flags_more_than_a_licence_allows(tmp_path: Path) -> None:
    cp = plan(tmp_path, LICENSED)
    bad = _break(cp, 6, 1.0)
    assert any("401.0 units under licence, but licences L-UA-06, L-UA-07 can cover only 400.0"
               in b for b in bad), bad
