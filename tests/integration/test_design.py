"""Redundancy design: the set chosen within a budget, its savings from exact re-plans of
the same futures, and the search methods against each other."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result
from typer.testing import CliRunner

from fabnet.cli.app import app
from fabnet.io import load_scenario
from fabnet.model import Scenario
from fabnet.model.errors import FabnetError
from fabnet.model.mitigation import MitigationError, apply
from fabnet.resilience.design import (
    Method,
    Objective,
    Search,
    design,
    units_lost,
    worst5_mean,
)
from fabnet.resilience.montecarlo import stress_test

#: one drone from two Chinese parts; the two buffers only help together (a drone needs
#: both parts), more hub hours help alone, and the lane to the customer carries nothing
SMALL = """
scenario: one drone, two risks
horizon: {start: 2027-01-04, bucket: week, buckets: 10}
items:
  - {id: DRONE, kind: product}
  - {id: FC, kind: component, origin: CN}
  - {id: BATT, kind: component, origin: CN}
boms:
  DRONE: [{item: FC, qty: 1}, {item: BATT, qty: 1}]
routings:
  DRONE: [{work_center: assembly, hours: 1}]
sites:
  - {id: HUB, country: FR, makes: [DRONE], work_centers: [{type: assembly, hours: 100}]}
suppliers:
  - id: SUP-CN
    country: CN
    offers: [{item: FC, price: 30, lead_time: 1, capacity: 100},
             {item: BATT, price: 20, lead_time: 1, capacity: 100}]
customers: [{id: MOD, country: UA}]
lanes:
  - {from: SUP-CN, to: HUB, transit: 1}
  - {from: HUB, to: MOD, transit: 0}
inventory: [{site: HUB, item: FC, qty: 200}, {site: HUB, item: BATT, qty: 200}]
demand:
  - {id: D1, customer: MOD, item: DRONE, qty: 400, due: 2027-02-01}
  - {id: D2, customer: MOD, item: DRONE, qty: 500, due: 2027-03-08}
risks:
  - {id: cn-controls, target: "country:CN", rate: 0.08, dist: uniform, duration: 1,
     duration_max: 4}
  - {id: hub-outage, target: HUB, rate: 0.05, dist: fixed, duration: 2, capacity: 0.5}
mitigations:
  - {id: fc-buffer, kind: buffer, cost: 3000, site: HUB, item: FC, qty: 150}
  - {id: batt-buffer, kind: buffer, cost: 2000, site: HUB, item: BATT, qty: 150}
  - {id: hub-hours, kind: hours, cost: 10000, site: HUB, work_center: assembly, hours: 50,
     available_after: 2}
  - {id: useless-lane, kind: lane, cost: 500, from: SUP-CN, to: MOD, transit: 1}
"""
FUTURES, SEED = 20, 7


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    p = tmp_path_factory.mktemp("design") / "small.yaml"
    p.write_text(SMALL)
    return load_scenario(p)


def test_budget_zero_chooses_nothing(small: Scenario) -> None:
    d = design(small, 0, FUTURES, SEED, marginal_step=None)
    assert d.after.chosen == () and d.after.cost == 0
    assert d.saved_expected == 0 and d.saved_worst5 == 0


def test_budget_buying_everything_chooses_every_useful_candidate(small: Scenario) -> None:
    d = design(small, 1e9, FUTURES, SEED, marginal_step=None)
    assert d.method is Method.MIP and d.bound.startswith("exact")
    assert set(d.after.chosen) == {"fc-buffer", "batt-buffer", "hub-hours"}
    assert d.after.cost == 15000
    assert d.saved_expected > 0
    # each useful candidate, dropped from the set, loses units: none is chosen idly
    for i in d.after.chosen:
        rest = tuple(m for m in small.mitigations if m.id in d.after.chosen and m.id != i)
        r = stress_test(apply(small, rest), FUTURES, SEED)
        assert float(np.nanmean(units_lost(r))) > d.after.expected + 1e-6


def test_claimed_savings_equal_a_rerun_of_the_stress_test(small: Scenario) -> None:
    d = design(small, 5000, FUTURES, SEED, marginal_step=None)
    assert set(d.after.chosen) == {"fc-buffer", "batt-buffer"}  # they only help together
    chosen = tuple(m for m in small.mitigations if m.id in d.after.chosen)
    before = units_lost(stress_test(small, FUTURES, SEED))
    after = units_lost(stress_test(apply(small, chosen), FUTURES, SEED))
    assert d.saved_expected == pytest.approx(float(before.mean() - after.mean()), abs=1e-9)
    assert d.saved_worst5 == pytest.approx(worst5_mean(before) - worst5_mean(after), abs=1e-9)
    assert d.saved_expected > 0


def test_enumeration_beats_or_equals_greedy(small: Scenario) -> None:
    for objective in Objective:
        exact = design(small, 1e9, FUTURES, SEED, objective, marginal_step=None,
                       search=Search.REPLAN)
        greedy = design(small, 1e9, FUTURES, SEED, objective, enumerate_upto=0,
                        marginal_step=None, search=Search.REPLAN)
        assert greedy.method is Method.GREEDY_SWAP and greedy.bound == "no bound proved"
        assert exact.after.value(objective) <= greedy.after.value(objective) + 1e-9


def test_greedy_equals_enumeration_where_candidates_do_not_interact(small: Scenario) -> None:
    alone = replace(small, mitigations=tuple(m for m in small.mitigations
                                             if m.id in ("hub-hours", "useless-lane")))
    exact = design(alone, 1e9, FUTURES, SEED, marginal_step=None, search=Search.REPLAN)
    greedy = design(alone, 1e9, FUTURES, SEED, enumerate_upto=0, marginal_step=None,
                    search=Search.REPLAN)
    assert exact.after.chosen == greedy.after.chosen == ("hub-hours",)
    assert exact.after.expected == greedy.after.expected


def test_marginal_budget_says_what_more_money_buys(small: Scenario) -> None:
    d = design(small, 5000, FUTURES, SEED, marginal_step=10000)
    assert d.marginal is not None and "hub-hours" in d.marginal.chosen
    assert d.marginal_saved is not None and d.marginal_saved > 0


def test_a_bad_candidate_is_named_by_record_and_field(small: Scenario) -> None:
    bad = replace(small, mitigations=(replace(small.mitigations[0], item="NOPE"),))
    with pytest.raises(MitigationError, match=r"mitigations\[fc-buffer\]\.item: unknown item"):
        design(bad, 1e6, FUTURES, SEED)


def test_a_missing_kind_field_is_named_when_read(tmp_path: Path) -> None:
    from fabnet.model.errors import ScenarioError

    p = tmp_path / "bad.yaml"
    p.write_text(SMALL.replace("item: FC, qty: 150}", "item: FC}"))
    with pytest.raises(ScenarioError, match=r"mitigations\[fc-buffer\]\.qty"):
        load_scenario(p)


def test_a_line_added_later_holds_back_its_hours_until_available(small: Scenario) -> None:
    from fabnet.model.network import compile_network

    hours = next(m for m in small.mitigations if m.id == "hub-hours")
    ramped = replace(hours, ramp=(0.5,))
    net = compile_network(apply(small, (ramped,)))
    assert net.wc_hours[0].tolist() == [100, 100, 125] + [150] * 7
    new_line = replace(hours, work_center="kitting")
    net = compile_network(apply(small, (new_line,)))
    k = net.wc_type.index("kitting")
    assert net.wc_hours[k].tolist() == [0, 0] + [50] * 8


def design_cli(tmp_path: Path, *extra: str) -> tuple[Result, Path]:
    """`fabnet design` of the small scenario with budget 5000, writing to `out/`."""
    p = tmp_path / "small.yaml"
    p.write_text(SMALL)
    out = tmp_path / "out"
    got = CliRunner().invoke(app, ["design", str(p), "--budget", "5000", "--futures",
                                   str(FUTURES), "--seed", str(SEED), "--workers", "1",
                                   *extra, "--out", str(out)])
    assert got.exit_code == 0, got.output
    return got, out


def test_cli_writes_the_design_and_the_risk_matrix(tmp_path: Path) -> None:
    import csv
    import json

    got, out = design_cli(tmp_path)
    p = tmp_path / "small.yaml"
    s = json.loads((out / "summary.json").read_text())
    assert s["chosen"] == ["fc-buffer", "batt-buffer"] and s["method"] == "mip"
    rows = {r["mitigation"]: r for r in csv.DictReader((out / "design.csv").open())}
    assert rows["fc-buffer"]["chosen"] == "True" and rows["hub-hours"]["chosen"] == "False"
    matrix = list(csv.DictReader((out / "risk_matrix.csv").open()))
    fc = next(r for r in matrix if r["node"] == "SUP-CN/FC")
    assert float(fc["tts_after_days"]) > float(fc["tts_before_days"])
    bad = CliRunner().invoke(app, ["design", str(p), "--budget", "-1"])
    assert bad.exit_code != 0


@pytest.mark.parametrize("name", ["s.yaml", "folder", "s.xlsx"])
def test_mitigations_read_back_from_every_format(small: Scenario, tmp_path: Path,
                                                 name: str) -> None:
    from fabnet.io import save_scenario

    save_scenario(small, tmp_path / name)
    assert load_scenario(tmp_path / name).mitigations == small.mitigations
    assert len(small.mitigations) == 4


def test_cli_names_a_bad_candidate_in_one_line_and_keeps_a_users_folder(
        tmp_path: Path) -> None:


    p = tmp_path / "bad.yaml"
    p.write_text(SMALL.replace("site: HUB, item: FC, qty: 150", "site: HUB, item: NOPE, qty: 1"))
    got = CliRunner().invoke(app, ["design", str(p), "--budget", "1", "--futures", "2"])
    assert got.exit_code == 1
    assert "mitigations[fc-buffer]" in got.output and "Traceback" not in got.output
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    good = tmp_path / "good.yaml"
    good.write_text(SMALL)
    refused = CliRunner().invoke(app, ["design", str(good), "--budget", "0", "--out", str(out)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert (out / "mine.txt").read_text() == "keep"


def test_a_second_source_ships_only_once_qualified(small: Scenario) -> None:
    from fabnet.model.mitigation import Mitigation, MitigationKind
    from fabnet.model.network import compile_network

    second = Mitigation("fc-tw", MitigationKind.OFFER, 1000, available_after=3,
                        supplier="SUP-TW", country="TW", item="FC", price=40, lead_time=1,
                        capacity=50, destination="HUB", transit=2)
    sc = apply(small, (second,))
    net = compile_network(sc)
    o = next(k for k, off in enumerate(sc.offers) if off.supplier == "SUP-TW")
    assert net.offer_cap[o].tolist() == [0, 0, 0] + [50] * 7
    assert any(ln.id == "SUP-TW>HUB" and ln.transit == 2 for ln in sc.lanes)
    with pytest.raises(MitigationError, match=r"mitigations\[fc-tw\]\.country"):
        apply(small, (replace(second, country=None),))


def test_more_futures_than_one_run_holds_is_one_line_before_any_sampling(
        small: Scenario) -> None:
    from fabnet.resilience.montecarlo import MAX_SAMPLES

    with pytest.raises(FabnetError, match=r"^futures: at most 100,000 in one design, got "
                                          r"1,000,000,000 \(fix: give fewer futures\)$"):
        design(small, 1.0, 10**9, 0)
    with pytest.raises(FabnetError, match=r"^samples: at most 100,000 futures in one stress "
                                          r"test, got 100,001 \(fix: sample fewer"):
        stress_test(small, MAX_SAMPLES + 1, 0)
