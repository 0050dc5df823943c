"""YAML, CSV folder and XLSX workbook carry exactly the same scenario."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from fabnet.io import load_scenario, save_scenario
from fabnet.model import ScenarioError
from tests.unit.test_validation import BASE

EUROPE = Path(__file__).resolve().parents[2] / "examples" / "europe" / "scenario.yaml"


@pytest.fixture(params=["tiny", "europe"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "europe":
        if not EUROPE.exists():
            pytest.skip("examples/europe/scenario.yaml not present")
        return EUROPE
    p = tmp_path / "tiny.yaml"
    p.write_text(BASE)
    return p


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_yaml_to_xlsx_and_back_is_exact(source: Path, tmp_path: Path) -> None:
    sc = load_scenario(source)
    save_scenario(sc, tmp_path / "a.xlsx")
    back = load_scenario(tmp_path / "a.xlsx")
    assert back == sc
    save_scenario(back, tmp_path / "b.xlsx")
    assert _cells(tmp_path / "a.xlsx") == _cells(tmp_path / "b.xlsx")


def test_csv_folder_round_trip(source: Path, tmp_path: Path) -> None:
    sc = load_scenario(source)
    save_scenario(sc, tmp_path / "csv")
    assert load_scenario(tmp_path / "csv") == sc


def test_yaml_written_then_read_is_identical_text(source: Path, tmp_path: Path) -> None:
    sc = load_scenario(source)
    save_scenario(sc, tmp_path / "one.yaml")
    save_scenario(load_scenario(tmp_path / "one.yaml"), tmp_path / "two.yaml")
    assert (tmp_path / "one.yaml").read_text() == (tmp_path / "two.yaml").read_text()
    assert load_scenario(tmp_path / "one.yaml") == sc


def test_fractional_values_survive_every_format(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("hours: 2.5", "hours: 0.1").replace("cost: 0.8", "cost: 0.3"))
    sc = load_scenario(p)
    for target in ("x.xlsx", "csvdir", "y.yaml"):
        save_scenario(sc, tmp_path / target)
        assert load_scenario(tmp_path / target) == sc


def test_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    sc = load_scenario(p)
    target = tmp_path / "out.xlsx"
    save_scenario(sc, target)
    before = target.read_bytes()
    from dataclasses import replace

    broken = replace(sc, name=object())  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        save_scenario(broken, target, force=True)
    assert target.read_bytes() == before
    assert [x.name for x in tmp_path.iterdir() if x.name.startswith(".fabnet-")] == []


def test_site_location_survives_every_format(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("    country: FR\n", "    country: FR\n    location: Lyon, zone B\n"))
    sc = load_scenario(p)
    assert sc.sites[0].location == "Lyon, zone B"
    for target in ("x.xlsx", "csvdir", "y.yaml"):
        save_scenario(sc, tmp_path / target)
        assert load_scenario(tmp_path / target) == sc


def test_a_second_horizon_row_is_refused_not_dropped(source: Path, tmp_path: Path) -> None:
    save_scenario(load_scenario(source), tmp_path / "csv")
    meta = tmp_path / "csv" / "scenario.csv"
    meta.write_text(meta.read_text() + meta.read_text().splitlines()[1] + "\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path / "csv")
    assert any("scenario: 2 rows; a scenario has one horizon" in str(i)
               for i in e.value.issues)


def test_a_section_file_that_is_a_folder_is_an_error_not_an_empty_section(
        source: Path, tmp_path: Path) -> None:
    save_scenario(load_scenario(source), tmp_path / "csv")
    (tmp_path / "csv" / "demand.csv").unlink()
    (tmp_path / "csv" / "demand.csv").mkdir()
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path / "csv")
    assert any("demand.csv is not a file" in str(i) for i in e.value.issues)
