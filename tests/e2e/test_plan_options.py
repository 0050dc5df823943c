"""`fabnet plan` and `fabnet whatif` options a planner relies on: a plan without demand,
a reference plan and a frozen horizon."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.e2e.test_cli import fabnet
from tests.unit.test_validation import BASE

NO_DEMAND = """\
scenario: empty
horizon: {start: 2027-01-04, bucket: week, buckets: 4}
items: [{id: A, kind: product}]
sites: [{id: S, country: FR, makes: [A]}]
"""


def _production(folder: Path) -> dict[tuple[str, str, str], float]:
    with (folder / "production.csv").open() as f:
        return {(r["site"], r["item"], r["bucket"]): float(r["qty"]) for r in csv.DictReader(f)}


def test_a_plan_without_demand_says_no_demand_not_full_fill(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(NO_DEMAND)
    r = fabnet("plan", str(p), "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "no demand" in r.stdout and "100.0 %" not in r.stdout
    assert "warning" in r.stderr and "no demand" in r.stderr
    kpis = json.loads((tmp_path / "out" / "plan.json").read_text())["kpis"]
    assert kpis["note"] == "no demand" and "fill_rate" not in kpis


def test_a_whatif_without_demand_compares_without_rates(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(NO_DEMAND)
    r = fabnet("whatif", str(p), "--disrupt", "S@2027-01-11+1")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr


def test_frozen_needs_a_reference(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = fabnet("plan", str(p), "--frozen", "2")
    assert r.returncode == 1
    assert "--reference" in r.stderr and "Traceback" not in r.stderr


def test_plan_with_a_reference_and_frozen_keeps_its_first_buckets(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    first = tmp_path / "first"
    assert fabnet("plan", str(p), "--out", str(first)).returncode == 0
    again = tmp_path / "again"
    r = fabnet("plan", str(p), "--reference", str(first), "--frozen", "3", "--out", str(again))
    assert r.returncode == 0, r.stderr
    ref, new = _production(first), _production(again)
    frozen = {k: v for k, v in ref.items() if int(k[2]) < 3}
    assert frozen, "the reference plan makes something in its first buckets"
    for key, qty in frozen.items():
        assert abs(new.get(key, 0.0) - qty) <= 1e-6 * max(1.0, qty)


def test_whatif_takes_a_frozen_horizon(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = fabnet("whatif", str(p), "--disrupt", "FR-LYON@2027-02-01+1x0.5", "--frozen", "1",
               "--json")
    assert r.returncode == 0, r.stderr
    assert "units_lost" in json.loads(r.stdout)
