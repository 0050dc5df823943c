"""What-if, stress test and exposure on small networks and on the Europe example."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from fabnet.io import load_scenario, save_scenario
from fabnet.model import Disruption, DurationDist, Risk, Scenario
from fabnet.model.errors import FabnetError
from fabnet.resilience.exposure import country_exposure
from fabnet.resilience.montecarlo import sample_future, stress_test
from fabnet.resilience.whatif import Replanner, compare_plans, parse_disruption

ROOT = Path(__file__).resolve().parents[2]
EUROPE = ROOT / "examples" / "europe" / "scenario.yaml"
WILLEMS = ROOT.parent / "shared" / "data" / "willems"

TWO_PLANTS = """
scenario: two plants
horizon: {start: 2027-01-04, bucket: week, buckets: 10}
items:
  - {id: Q, kind: product}
  - {id: FC, kind: component, origin: CN, unit_cost: 30}
  - {id: FRAME, kind: component, origin: PL, unit_cost: 10}
boms: {Q: [{item: FC, qty: 1}, {item: FRAME, qty: 2}]}
routings: {Q: [{work_center: assembly, hours: 1}]}
sites:
  - {id: FR-HUB, country: FR, makes: [Q], work_centers: [{type: assembly, hours: 100}]}
  - {id: UK-PLANT, country: GB, makes: [Q], work_centers: [{type: assembly, hours: 100}]}
suppliers:
  - {id: SUP-CN, country: CN, offers: [{item: FC, price: 30, lead_time: 0}]}
  - {id: SUP-PL, country: PL, offers: [{item: FRAME, price: 10, lead_time: 0}]}
customers: [{id: UA-MOD, country: UA}]
lanes:
  - {from: SUP-CN, to: FR-HUB, transit: 0}
  - {from: SUP-CN, to: UK-PLANT, transit: 0}
  - {from: SUP-PL, to: FR-HUB, transit: 0}
  - {from: SUP-PL, to: UK-PLANT, transit: 0}
  - {from: FR-HUB, to: UA-MOD, transit: 0, cost: 1}
  - {from: UK-PLANT, to: UA-MOD, transit: 0, cost: 3}
demand:
  - {id: D1, customer: UA-MOD, item: Q, qty: 100, due: 2027-01-18}
  - {id: D2, customer: UA-MOD, item: Q, qty: 100, due: 2027-02-15}
risks:
  - {id: strike, target: FR-HUB, rate: 0.2, dist: uniform, duration: 1, duration_max: 3}
  - {id: embargo, target: "country:CN", rate: 0.05, dist: geometric, duration: 2}
"""


@pytest.fixture
def two_plants(tmp_path: Path) -> Scenario:
    p = tmp_path / "two.yaml"
    p.write_text(TWO_PLANTS)
    return load_scenario(p)


def test_struck_site_moves_orders_to_uk_plant(two_plants: Scenario) -> None:
    rp = Replanner(two_plants)
    base = rp.plan()
    assert {r["site"] for r in base.rows("deliveries")} == {"FR-HUB"}
    strike = parse_disruption("FR-HUB@2027-01-04+10", two_plants)
    new = rp.plan((strike,))
    assert {r["site"] for r in new.rows("deliveries")} == {"UK-PLANT"}
    diff = compare_plans(two_plants, base, new, [strike])
    assert {(m["demand"], m["from"], m["to"]) for m in diff.moved} == {
        ("D1", "FR-HUB", "UK-PLANT"), ("D2", "FR-HUB", "UK-PLANT")}
    assert diff.cost_delta == pytest.approx(200 * (3 - 1))
    assert diff.units_lost_delta == 0.0


def test_zero_length_disruption_equals_the_base_plan(two_plants: Scenario) -> None:
    rp = Replanner(two_plants)
    base = rp.plan()
    same = rp.plan((Disruption("none", "FR-HUB", date(2027, 1, 4), 0),))
    timing = {"solve_seconds"}
    assert {k: v for k, v in same.tables.items() if k != "kpis"} == \
        {k: v for k, v in base.tables.items() if k != "kpis"}
    assert {k: v for k, v in same.kpis.items() if k not in timing} == \
        {k: v for k, v in base.kpis.items() if k not in timing}
    assert same.levels == pytest.approx(base.levels)


def test_replans_reuse_the_model_and_match_a_fresh_build(two_plants: Scenario) -> None:
    rp = Replanner(two_plants)
    rp.plan()
    cut = parse_disruption("country:CN@2027-01-11+3x0.5", two_plants)
    warm = rp.plan((cut,))
    fresh = Replanner(two_plants.with_disruptions((cut,))).plan()
    assert warm.levels == pytest.approx(fresh.levels)
    assert warm.kpis["units_lost"] == fresh.kpis["units_lost"]


def test_bad_disrupt_spec_is_a_clear_error(two_plants: Scenario) -> None:
    with pytest.raises(FabnetError, match="TARGET@YYYY-MM-DD"):
        parse_disruption("FR-HUB for 3 weeks", two_plants)
    with pytest.raises(FabnetError, match="outside the horizon"):
        parse_disruption("FR-HUB@2030-01-01+3", two_plants)


@pytest.mark.parametrize(("spec", "says"), [
    ("FR-HUV@2027-01-11+2", "target: unknown node 'FR-HUV' (fix: did you mean FR-HUB?)"),
    ("fr-hub@2027-01-11+2", "target: unknown node 'fr-hub' (fix: did you mean FR-HUB?)"),
    ("country:XX@2027-01-11+2", "target: no node is in country 'XX' (fix: use one of: "
                                "country:CN, country:FR, country:GB, country:PL, country:UA)"),
    ("lane:FOO>BAR@2027-01-11+2", "target: no lane 'FOO>BAR' (fix: use one of: lane:"),
    ("FR-HUB@2027-13-03+2", "date: 2027-13-03 is not a calendar date (month must be in "
                            "1..12) (fix: give a real day as YYYY-MM-DD"),
    ("FR-HUB@2027-02-30+2", "date: 2027-02-30 is not a calendar date"),
    ("FR-HUB@2027-01-11+0", "buckets: 0 is not in 1 .. 10"),
    ("FR-HUB@2027-01-11+99999999999", "buckets: 99999999999 is not in 1 .. 10"),
    ("FR-HUB@2027-01-11+2x" + "9" * 400, "capacity factor: 999"),
])
def test_disrupt_spec_part_that_names_nothing_is_refused(two_plants: Scenario, spec: str,
                                                         says: str) -> None:
    with pytest.raises(FabnetError) as e:
        parse_disruption(spec, two_plants)
    assert str(e.value).startswith(f"--disrupt {spec!r}: {says}")


def test_parsed_disruption_carries_the_checked_target(two_plants: Scenario) -> None:
    d = parse_disruption("lane:FR-HUB>UA-MOD@2027-01-11+10x0.5", two_plants, 3)
    assert d == Disruption("whatif-3", "lane:FR-HUB>UA-MOD", date(2027, 1, 11), 10, 0.5)


def test_unknown_extra_disruption_is_refused_by_the_network(two_plants: Scenario) -> None:
    rp = Replanner(two_plants)
    with pytest.raises(FabnetError, match="unknown node 'UA-PARTNR'"):
        rp.plan((Disruption("x", "UA-PARTNR", date(2027, 1, 11), 2),))


def test_montecarlo_is_reproducible_by_seed(two_plants: Scenario) -> None:
    a = stress_test(two_plants, 12, seed=7)
    b = stress_test(two_plants, 12, seed=7, workers=2)
    assert np.array_equal(a.fill, b.fill)
    assert a.critical_counts == b.critical_counts
    c = stress_test(two_plants, 12, seed=8)
    assert sum(c.events) != sum(a.events) or not np.array_equal(a.fill, c.fill)
    assert a.p_target is not None and a.worst5_mean is not None
    assert 0.0 <= a.p_target <= 1.0 and a.worst5_mean <= a.fill.mean() + 1e-12


def test_montecarlo_samples_follow_the_risks(two_plants: Scenario) -> None:
    sure = replace(two_plants, risks=(Risk("always", "FR-HUB", 1.0, 2, DurationDist.FIXED),))
    future = sample_future(sure, np.random.default_rng(0), 0)
    assert len(future) == sure.horizon.buckets
    assert all(d.buckets == 2 and d.target == "FR-HUB" for d in future)
    never = replace(two_plants, risks=(Risk("never", "FR-HUB", 0.0, 2),))
    res = stress_test(never, 4, seed=1)
    assert np.allclose(res.fill, 1.0)


def test_exposure_shares_sum_to_one(two_plants: Scenario) -> None:
    rp = Replanner(two_plants)
    ex = country_exposure(two_plants, 13, rp.units_lost)
    assert ex.value_share["Q"] == pytest.approx({"CN": 30 / 50, "PL": 20 / 50})
    assert ex.unit_share["Q"] == pytest.approx({"CN": 1 / 3, "PL": 2 / 3})
    assert sorted(ex.single_sourced) == ["FC", "FRAME"]
    assert ex.embargo_lost["CN"] == pytest.approx(200.0)  # no part for the whole horizon
    assert ex.embargo_lost["GB"] == 0.0


@pytest.mark.skipif(not EUROPE.exists(), reason="Europe example missing")
def test_europe_exposure_shares_sum_to_one() -> None:
    sc = load_scenario(EUROPE)
    ex = country_exposure(sc)
    for p, sh in ex.value_share.items():
        assert sum(sh.values()) == pytest.approx(1.0), p
        assert sum(ex.unit_share[p].values()) == pytest.approx(1.0), p
    assert ex.single_sourced


def fabnet(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "fabnet"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600)


def test_cli_whatif_and_exposure(tmp_path: Path) -> None:
    p = tmp_path / "two.yaml"
    p.write_text(TWO_PLANTS)
    r = fabnet("whatif", str(p), "--disrupt", "FR-HUB@2027-01-04+10", "--out",
               str(tmp_path / "w"))
    assert r.returncode == 0, r.stderr
    assert "Orders moved between sites" in r.stdout and "UK-PLANT" in r.stdout
    doc = json.loads((tmp_path / "w" / "plan.json").read_text())
    assert doc["whatif"]["kpis"]["cost_total"]["whatif"] > doc["whatif"]["kpis"][
        "cost_total"]["base"]
    assert "What-if" in (tmp_path / "w" / "report.html").read_text()
    r = fabnet("exposure", str(p), "--out", str(tmp_path / "e"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "e" / "shares.csv").read_text().startswith("product,country")


@pytest.mark.parametrize("args", [
    ("whatif", "--disrupt", "UA-PARTNR@2027-01-11+2"),
    ("plan", "--continuity", "--strike", "UA-PARTNR@2027-01-11+2"),
])
def test_cli_refuses_an_unknown_disruption_target(tmp_path: Path, args: tuple[str, ...]
                                                  ) -> None:
    p = tmp_path / "two.yaml"
    p.write_text(TWO_PLANTS.replace("UK-PLANT", "UA-PARTNER"))
    r = fabnet(args[0], str(p), *args[1:])
    assert r.returncode == 1, r.stdout
    assert "unknown node 'UA-PARTNR' (fix: did you mean UA-PARTNER?)" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_montecarlo(tmp_path: Path) -> None:
    p = tmp_path / "two.yaml"
    p.write_text(TWO_PLANTS)
    runs = [fabnet("stress", "montecarlo", str(p), "--samples", "6", "--seed", "3",
                   "--out", str(tmp_path / f"mc{i}")) for i in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    a, b = ((tmp_path / f"mc{i}" / "samples.csv").read_text() for i in range(2))
    assert a == b
    assert "histogram" in (tmp_path / "mc0" / "report.html").read_text()


def test_cli_montecarlo_without_risks_says_so(tmp_path: Path, two_plants: Scenario) -> None:
    p = tmp_path / "norisk.yaml"
    save_scenario(replace(two_plants, risks=()), p)
    r = fabnet("stress", "montecarlo", str(p), "--samples", "2")
    assert r.returncode == 1 and "no risks" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not WILLEMS.exists(), reason="../shared/data/willems not present")
def test_import_willems_then_tts_equals_direct_willems(tmp_path: Path) -> None:
    f = WILLEMS / "willems_05.csv"
    r = fabnet("import", "willems", str(f), "--out", str(tmp_path / "w5.yaml"))
    assert r.returncode == 0, r.stderr
    a = fabnet("stress", "tts", str(tmp_path / "w5.yaml"), "--kinds", "site", "--out",
               str(tmp_path / "a"))
    b = fabnet("stress", "tts", "--willems", str(f), "--out", str(tmp_path / "b"))
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ta = (tmp_path / "a" / "tts.csv").read_text()
    assert ta == (tmp_path / "b" / "tts.csv").read_text()
    assert ta.splitlines()[0] == "node,tts,ttr,pi,status"
    assert "Risk matrix" in (tmp_path / "b" / "report.html").read_text()


def test_disruption_dataclass_roundtrip(tmp_path: Path, two_plants: Scenario) -> None:
    sc = two_plants.with_disruptions((Disruption("x", "FR-HUB", date(2027, 1, 11), 2, 0.5),))
    for target in ("s.xlsx", "csv", "s.yaml"):
        save_scenario(sc, tmp_path / target)
        assert load_scenario(tmp_path / target) == sc


def test_a_what_if_does_not_depend_on_the_ones_before_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a synthetic network whose levels pivot after the weighted start: what-if A gives
    # the same plan first and after what-if B, and each what-if is one solve of the
    # model (the base's start is kept, not solved again per what-if)
    from datetime import timedelta

    from benchmarks.synthetic import synthetic_scenario

    from fabnet.plan.solve import LexicographicSolver

    sc = synthetic_scenario(5, 40, 10, 4, 26, seed=7)
    sites = [s.id for s in sc.sites]
    start = sc.horizon.start
    a = (Disruption("a", sites[0], start + timedelta(weeks=2), 6, 0.3),)
    b = (Disruption("b", sites[1], start + timedelta(weeks=4), 8, 0.0),)
    _, a_first = Replanner(sc).solve(a)
    other = Replanner(sc)
    other.solve(b)
    solves: list[str | None] = []
    real = LexicographicSolver.solve

    def counted(self: LexicographicSolver, levels_upto: str | None = None,
                *args: object, **kw: object) -> object:
        solves.append(levels_upto)
        return real(self, levels_upto, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(LexicographicSolver, "solve", counted)
    _, a_after = other.solve(a)
    assert solves == [None]
    assert a_first.start_iterations > 0
    assert np.array_equal(a_first.x, a_after.x)
    assert [lv.objective for lv in a_first.levels] == [lv.objective for lv in a_after.levels]
