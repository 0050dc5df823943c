"""Every validation rule: the error names file, record and field, and a valid case passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fabnet.io import load_scenario
from fabnet.model import ScenarioError

BASE = """
scenario: Tiny
horizon: {start: 2027-01-04, bucket: week, buckets: 8}
items:
  - {id: RECON-Q, name: Reconnaissance quadcopter, kind: product}
  - {id: FC-H7, name: Flight controller, kind: component, unit_cost: 60, origin: TW}
boms:
  RECON-Q: [{item: FC-H7, qty: 1}]
routings:
  RECON-Q: [{work_center: assembly, hours: 2.5}]
sites:
  - id: FR-LYON
    country: FR
    makes: [RECON-Q]
    work_centers:
      - {type: assembly, hours: 100}
suppliers:
  - id: SUP-TW
    country: TW
    offers: [{item: FC-H7, price: 58, lead_time: 1, capacity: 30}]
customers:
  - {id: UA-MOD, country: UA, approved: true}
lanes:
  - {from: SUP-TW, to: FR-LYON, transit: 1, cost: 0.8}
  - {from: FR-LYON, to: UA-MOD, transit: 1, capacity: 5000}
inventory: [{site: FR-LYON, item: FC-H7, qty: 10}]
demand:
  - {id: D1, customer: UA-MOD, item: RECON-Q, qty: 50, due: 2027-02-01, priority: 1}
disruptions: []
"""


def write(tmp_path: Path, doc: dict) -> Path:  # type: ignore[type-arg]
    p = tmp_path / "scenario.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


def base() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(BASE)  # type: ignore[no-any-return]


def problems(tmp_path: Path, doc: dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(ScenarioError) as e:
        load_scenario(write(tmp_path, doc))
    return [str(i) for i in e.value.issues]


def test_valid_scenario_loads(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, base()))
    assert [s.id for s in sc.sites] == ["FR-LYON"]
    assert sc.horizon.buckets == 8


def test_unknown_item_in_demand_names_record_and_field(tmp_path: Path) -> None:
    doc = base()
    doc["demand"][0]["item"] = "NOPE"
    msgs = problems(tmp_path, doc)
    assert any("scenario.yaml" in m and "demand[D1].item" in m and "unknown item 'NOPE'" in m
               and "fix:" in m for m in msgs)


def test_bom_cycle_is_reported(tmp_path: Path) -> None:
    doc = base()
    doc["boms"]["FC-H7"] = [{"item": "RECON-Q", "qty": 1}]
    msgs = problems(tmp_path, doc)
    assert any("BOM cycle" in m and "RECON-Q" in m and "FC-H7" in m for m in msgs)


def test_item_without_any_source(tmp_path: Path) -> None:
    doc = base()
    doc["items"].append({"id": "GPS-M10", "kind": "component"})
    msgs = problems(tmp_path, doc)
    assert any("items[GPS-M10]" in m and "made by no site" in m for m in msgs)


def test_routing_on_work_center_type_no_site_has(tmp_path: Path) -> None:
    doc = base()
    doc["routings"]["RECON-Q"].append({"work_center": "flight-test", "hours": 0.4})
    msgs = problems(tmp_path, doc)
    assert any("routings[RECON-Q/flight-test].work_center" in m and "no site" in m
               for m in msgs)


def test_negative_quantity(tmp_path: Path) -> None:
    doc = base()
    doc["inventory"][0]["qty"] = -5
    msgs = problems(tmp_path, doc)
    assert any("inventory[FR-LYON/FC-H7].qty" in m and "-5" in m and ">= 0" in m
               for m in msgs)


def test_negative_work_center_hours(tmp_path: Path) -> None:
    doc = base()
    doc["sites"][0]["work_centers"][0]["hours"] = -5
    msgs = problems(tmp_path, doc)
    assert any("work_centers[FR-LYON/assembly].hours" in m for m in msgs)


def test_date_outside_horizon(tmp_path: Path) -> None:
    doc = base()
    doc["demand"][0]["due"] = "2028-06-01"
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].due" in m and "outside the horizon" in m for m in msgs)


def test_lane_to_nowhere(tmp_path: Path) -> None:
    doc = base()
    doc["lanes"].append({"from": "FR-LYON", "to": "MARS", "transit": 1})
    msgs = problems(tmp_path, doc)
    assert any("lanes[FR-LYON>MARS].to" in m and "lane to nowhere" in m for m in msgs)


def test_duplicate_id(tmp_path: Path) -> None:
    doc = base()
    doc["demand"].append(dict(doc["demand"][0]))
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].id" in m and "duplicate" in m for m in msgs)


def test_every_problem_listed_at_once(tmp_path: Path) -> None:
    doc = base()
    doc["demand"][0]["item"] = "NOPE"
    doc["inventory"][0]["qty"] = -1
    doc["lanes"].append({"from": "FR-LYON", "to": "MARS", "transit": 1})
    doc["items"].append({"id": "FC-H7", "kind": "component"})
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].item" in m for m in msgs)
    assert any("inventory[FR-LYON/FC-H7].qty" in m for m in msgs)
    assert any("lanes[FR-LYON>MARS].to" in m for m in msgs)
    assert any("items[FC-H7].id" in m and "duplicate" in m for m in msgs)


def test_unknown_field_is_an_error_not_ignored(tmp_path: Path) -> None:
    doc = base()
    doc["demand"][0]["qtty"] = 5
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].qtty" in m for m in msgs)


def test_unknown_section(tmp_path: Path) -> None:
    doc = base()
    doc["widgets"] = []
    msgs = problems(tmp_path, doc)
    assert any("unknown section 'widgets'" in m for m in msgs)


def test_disruption_target_must_exist(tmp_path: Path) -> None:
    doc = base()
    doc["disruptions"] = [{"id": "X1", "target": "lane:A>B", "from": "2027-01-11",
                           "buckets": 2, "capacity": 0}]
    msgs = problems(tmp_path, doc)
    assert any("disruptions[X1].target" in m for m in msgs)


def test_site_listing_item_without_its_work_center_is_a_warning(tmp_path: Path) -> None:
    doc = base()
    doc["routings"]["RECON-Q"].append({"work_center": "flight-test", "hours": 0.4})
    doc["sites"].append({"id": "UK-PLANT", "country": "GB", "makes": [],
                         "work_centers": [{"type": "flight-test", "hours": 10}]})
    sc = load_scenario(write(tmp_path, doc))
    [w] = [str(i) for i in sc.warnings]
    assert "warning: sites[FR-LYON].makes" in w
    assert "FR-LYON lists RECON-Q but has no flight-test work center" in w


def test_no_demand_is_valid_with_a_warning(tmp_path: Path) -> None:
    doc = base()
    doc["demand"] = []
    sc = load_scenario(write(tmp_path, doc))
    assert [str(w) for w in sc.warnings] == [
        f"{tmp_path / 'scenario.yaml'}: warning: demand: no demand: the plan will make "
        "nothing (fix: add orders to the demand section (demand.csv in a CSV folder))"]


def test_csv_folder_without_demand_csv_warns_no_demand(tmp_path: Path) -> None:
    from fabnet.io import save_scenario

    save_scenario(load_scenario(write(tmp_path, base())), tmp_path / "csv")
    (tmp_path / "csv" / "demand.csv").unlink()
    sc = load_scenario(tmp_path / "csv")
    assert sc.demand == ()
    assert any("no demand: the plan will make nothing" in str(w) for w in sc.warnings)


def test_a_scenario_with_demand_has_no_no_demand_warning(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, base()))
    assert sc.warnings == ()


@pytest.mark.parametrize(("target", "message", "fix"), [
    ("FR-LYOM", "unknown node 'FR-LYOM'", "did you mean FR-LYON?"),
    ("fr-lyon", "unknown node 'fr-lyon'", "did you mean FR-LYON?"),
    ("country:XX", "no node is in country 'XX'", "use one of: country:FR, country:TW"),
    ("lane:FOO>BAR", "no lane 'FOO>BAR'", "use one of: lane:FR-LYON>UA-MOD"),
    ("lane:SUP-TW>FR-LYN", "no lane 'SUP-TW>FR-LYN'", "did you mean lane:SUP-TW>FR-LYON?"),
])
def test_disruption_target_names_the_closest_known_id(tmp_path: Path, target: str,
                                                       message: str, fix: str) -> None:
    doc = base()
    doc["disruptions"] = [{"id": "X1", "target": target, "from": "2027-01-11",
                           "buckets": 2, "capacity": 0}]
    msgs = problems(tmp_path, doc)
    assert any(f"disruptions[X1].target: {message}" in m and f"(fix: {fix}" in m
               for m in msgs), msgs


def test_risk_target_names_the_closest_known_id(tmp_path: Path) -> None:
    doc = base()
    doc["risks"] = [{"id": "R1", "target": "SUP-TV", "rate": 0.1, "duration": 2}]
    msgs = problems(tmp_path, doc)
    assert any("risks[R1].target: unknown node 'SUP-TV' (fix: did you mean SUP-TW?)" in m
               for m in msgs), msgs


def test_recovery_time_may_not_name_a_country(tmp_path: Path) -> None:
    doc = base()
    doc["recovery"] = [{"target": "country:FR", "days": 10}]
    msgs = problems(tmp_path, doc)
    assert any("recovery[country:FR].target: a recovery time names a node" in m
               for m in msgs), msgs


def test_valid_disruption_risk_and_recovery_targets_load(tmp_path: Path) -> None:
    doc = base()
    doc["disruptions"] = [
        {"id": "X1", "target": "FR-LYON", "from": "2027-01-11", "buckets": 2},
        {"id": "X2", "target": "country:TW", "from": "2027-01-11", "buckets": 2},
        {"id": "X3", "target": "lane:SUP-TW>FR-LYON", "from": "2027-01-11", "buckets": 2}]
    doc["risks"] = [{"id": "R1", "target": "lane:FR-LYON>UA-MOD", "rate": 0.1,
                     "duration": 2}]
    doc["recovery"] = [{"target": "SUP-TW", "days": 10}, {"target": "kind:lane", "days": 3},
                       {"target": "SUP-TW/FC-H7", "days": 5}]
    sc = load_scenario(write(tmp_path, doc))
    assert [d.id for d in sc.disruptions] == ["X1", "X2", "X3"]


def test_bad_yaml_syntax_names_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("scenario: x\nitems: [\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "line" in str(e.value.issues[0]) and "bad.yaml" in str(e.value.issues[0])


def test_csv_error_names_the_section_file(tmp_path: Path) -> None:
    from fabnet.io import save_scenario

    sc = load_scenario(write(tmp_path, base()))
    folder = tmp_path / "csv"
    save_scenario(sc, folder)
    demand = folder / "demand.csv"
    demand.write_text(demand.read_text().replace("RECON-Q", "NOPE"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(folder)
    msg = str(e.value.issues[0])
    assert "demand.csv" in msg and "demand[D1].item" in msg


@pytest.mark.parametrize(("where", "value", "fix"), [
    (("demand", 0, "qty"), 1e300, "use a value <= 1e+12"),
    (("inventory", 0, "qty"), 2e12, "use a value <= 1e+12"),
    (("sites", 0, "work_centers", 0, "hours"), 1e20, "use a value <= 1e+12"),
])
def test_numbers_past_what_a_plan_can_hold_name_their_field(
        tmp_path: Path, where: tuple[Any, ...], value: float, fix: str) -> None:
    """From 1e20 the solver reads a bound as unlimited, and far below that a quantity is
    lost in rounding: past 1e12 the value is refused, by record and field."""
    doc = base()
    node = doc
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    msgs = problems(tmp_path, doc)
    assert f".{where[-1]}:" in msgs[0] and f"(fix: {fix})" in msgs[0], msgs


def test_a_bad_serial_pattern_is_quoted_short(tmp_path: Path) -> None:
    doc = base()
    doc["items"][1].update(serialized=True, serial_pattern="RQ-" + "{nope}" * 20)
    msgs = problems(tmp_path, doc)
    assert any("items[FC-H7].serial_pattern" in m and "unknown field {nope}" in m
               and "..." in m and len(m) < 400 for m in msgs), msgs


def test_true_or_false_for_a_number_is_refused_not_counted_as_1(tmp_path: Path) -> None:
    doc = base()
    doc["inventory"][0]["qty"] = True
    msgs = problems(tmp_path, doc)
    assert any("inventory[FR-LYON/FC-H7].qty: true or false is not a number" in m
               and "(fix: write a number, e.g. 1)" in m for m in msgs), msgs


def test_a_bound_of_1_is_told_as_1_in_the_fix(tmp_path: Path) -> None:
    doc = base()
    doc["demand"][0]["priority"] = -3
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].priority" in m and "(fix: use a value >= 1)" in m for m in msgs)


@pytest.mark.parametrize(("due", "says"), [
    ("2027-02-01T10:00:00", "has a time of day"),
    (20270201, "is a number, not a date"),
])
def test_a_date_with_a_time_or_a_bare_number_is_refused(tmp_path: Path, due: Any,
                                                        says: str) -> None:
    doc = base()
    doc["demand"][0]["due"] = due
    text = yaml.safe_dump(doc, sort_keys=False).replace("'2027-02-01T10:00:00'",
                                                        "2027-02-01T10:00:00")
    (tmp_path / "scenario.yaml").write_text(text)
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path / "scenario.yaml")
    msgs = [str(i) for i in e.value.issues]
    assert any("demand[D1].due" in m and says in m and "(fix: write the date" in m
               for m in msgs), msgs


def test_a_date_at_midnight_as_a_workbook_gives_it_is_the_day(tmp_path: Path) -> None:
    doc = base()
    text = yaml.safe_dump(doc, sort_keys=False)
    (tmp_path / "scenario.yaml").write_text(text.replace("due: 2027-02-01",
                                                         "due: 2027-02-01T00:00:00"))
    assert str(load_scenario(tmp_path / "scenario.yaml").demand[0].due) == "2027-02-01"
