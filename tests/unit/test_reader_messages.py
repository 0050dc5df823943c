"""Readers say what is wrong in one line per problem: bad dates, non-finite numbers, unsafe
ids, wrong columns and sections (once, not once per row), and they read what Excel writes
(semicolon CSV with decimal commas, sheet and column names in any case)."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from fabnet.io import load_scenario, save_scenario
from fabnet.model import ScenarioError
from fabnet.model.scenario import Scenario
from tests.unit.test_validation import BASE, base, problems, write


def _messages(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    return [str(i) for i in e.value.issues]


def _tiny(tmp_path: Path) -> Scenario:
    return load_scenario(write(tmp_path, base()))


def _many_demands(tmp_path: Path, n: int) -> Scenario:
    """The tiny scenario with `n` demand lines, for flood tests."""
    doc = base()
    doc["demand"] = [dict(doc["demand"][0], id=f"D{k}") for k in range(n)]
    return load_scenario(write(tmp_path, doc))


def _edit_sheet(path: Path, sheet: str, edit: object) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb[sheet])  # type: ignore[operator]
    wb.save(path)


# ---------------------------------------------------------------- calendar dates

def test_yaml_day_not_in_calendar_names_record_field_and_fix(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("due: 2027-02-01", "due: 2027-02-30"))
    assert _messages(p) == [f"{p}: demand[D1].due: 2027-02-30 is not a calendar date "
                            "(February 2027 has 28 days) (fix: use a day from 1 to 28)"]


def test_yaml_month_13_is_named(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("start: 2027-01-04", "start: 2027-13-04"))
    [m] = _messages(p)
    assert "scenario[horizon].start: 2027-13-04 is not a calendar date (no month 13)" in m


def test_csv_day_not_in_calendar(tmp_path: Path) -> None:
    save_scenario(_tiny(tmp_path), tmp_path / "csv")
    demand = tmp_path / "csv" / "demand.csv"
    demand.write_text(demand.read_text().replace("2027-02-01", "2027-04-31"))
    [m] = _messages(tmp_path / "csv")
    assert "demand.csv" in m and "demand[row 2 D1].due: 2027-04-31 is not a calendar date " \
        "(April 2027 has 30 days) (fix: use a day from 1 to 30)" in m


def test_xlsx_text_cell_day_not_in_calendar(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    save_scenario(_tiny(tmp_path), path)
    _edit_sheet(path, "demand", lambda ws: setattr(ws["E2"], "value", "2027-02-29"))
    [m] = _messages(path)
    assert "sheet demand: demand[row 2 D1].due: 2027-02-29 is not a calendar date" in m


# ---------------------------------------------------------------- non-finite numbers

@pytest.mark.parametrize(("old", "new", "where"), [
    ("hours: 2.5", "hours: .inf", "routings[RECON-Q/assembly].hours"),
    ("qty: 10}", "qty: .nan}", "inventory[FR-LYON/FC-H7].qty"),
    ("cost: 0.8", "cost: -.inf", "lanes[SUP-TW>FR-LYON].cost"),
    ("capacity: 30", "capacity: .inf", "offers[SUP-TW/FC-H7].capacity"),
    ("unit_cost: 60", "unit_cost: 1.0e999", "items[FC-H7].unit_cost"),
])
def test_non_finite_number_is_refused_in_yaml(tmp_path: Path, old: str, new: str,
                                              where: str) -> None:
    p = tmp_path / "s.yaml"
    assert old in BASE
    p.write_text(BASE.replace(old, new))
    msgs = _messages(p)
    assert any(f"{where}: Input should be a finite number" in m
               and "(fix: use a finite number (not .inf or .nan))" in m for m in msgs), msgs


def test_non_finite_ramp_factor_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("{type: assembly, hours: 100}",
                              "{type: assembly, hours: 100, ramp: [0.5, .nan]}"))
    msgs = _messages(p)
    assert any("work_centers[FR-LYON/assembly].ramp.1: Input should be a finite number" in m
               for m in msgs), msgs


def test_csv_inf_cell_is_refused(tmp_path: Path) -> None:
    save_scenario(_tiny(tmp_path), tmp_path / "csv")
    demand = tmp_path / "csv" / "demand.csv"
    demand.write_text(demand.read_text().replace(",50,", ",inf,"))
    [m] = _messages(tmp_path / "csv")
    assert "demand[row 2 D1].qty: Input should be a finite number" in m


# ---------------------------------------------------------------- ids

@pytest.mark.parametrize(("bad", "message", "fix"), [
    ("FC;H7", "id contains ';', which separates ids in a list cell",
     "use another character, such as '-'"),
    ("FC\nH7", "id contains the control character U+000A",
     "remove it (ids are printable text on one line)"),
    ("FC\u200bH7", "id contains the control character U+200B",
     "remove it (ids are printable text on one line)"),
    (" FC-H7", "id has leading or trailing spaces", "remove the spaces"),
    ("FC-H7 ", "id has leading or trailing spaces", "remove the spaces"),
    ("F" * 65, "id is 65 characters long, over the limit of 64",
     "shorten it to at most 64 characters"),
])
def test_unsafe_item_id_is_refused(tmp_path: Path, bad: str, message: str, fix: str) -> None:
    doc = base()
    doc["items"][1]["id"] = bad
    msgs = problems(tmp_path, doc)
    assert any(".id: " + message in m and f"(fix: {fix})" in m for m in msgs), msgs


def test_unsafe_id_reference_is_refused(tmp_path: Path) -> None:
    doc = base()
    doc["demand"][0]["customer"] = "UA-MOD;X"
    doc["sites"][0]["makes"] = ["RECON-Q\t"]
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].customer: id contains ';'" in m for m in msgs), msgs
    assert any("sites[FR-LYON].makes.0: id contains the control character U+0009" in m
               for m in msgs), msgs


def test_id_of_64_characters_and_inner_spaces_is_fine(tmp_path: Path) -> None:
    doc = base()
    long_id = "C" * 64
    doc["customers"][0]["id"] = long_id
    doc["lanes"][1]["to"] = long_id
    doc["demand"][0]["customer"] = long_id
    doc["demand"][0]["id"] = "order 1"
    sc = load_scenario(write(tmp_path, doc))
    assert sc.customers[0].id == long_id and sc.demand[0].id == "order 1"


def test_lane_target_may_be_longer_than_an_id(tmp_path: Path) -> None:
    doc = base()
    a, b = "S" * 60, "F" * 60
    doc["suppliers"][0]["id"] = a
    doc["lanes"][0]["from"] = a
    doc["disruptions"] = [{"id": "X1", "target": "lane:" + "FR-LYON>UA-MOD",
                           "from": "2027-01-11", "buckets": 2}]
    load_scenario(write(tmp_path, doc))
    doc["disruptions"][0]["target"] = f"lane:{a}>{b}" + "X" * 20
    msgs = problems(tmp_path, doc)
    assert any("disruptions[X1].target: id is 146 characters long, over the limit of 136"
               in m for m in msgs), msgs


def test_csv_cell_with_padded_id_says_remove_the_spaces(tmp_path: Path) -> None:
    save_scenario(_tiny(tmp_path), tmp_path / "csv")
    demand = tmp_path / "csv" / "demand.csv"
    demand.write_text(demand.read_text().replace(",UA-MOD,", ", UA-MOD ,"))
    [m] = _messages(tmp_path / "csv")
    assert "demand[row 2 D1].customer: id has leading or trailing spaces, got ' UA-MOD '" \
        " (fix: remove the spaces)" in m


def test_list_cell_spaces_around_semicolons_are_not_padding(tmp_path: Path) -> None:
    doc = base()
    doc["items"].append({"id": "SPARE", "kind": "product"})
    doc["routings"]["SPARE"] = [{"work_center": "assembly", "hours": 1}]
    doc["sites"][0]["makes"] = ["RECON-Q", "SPARE"]
    sc = load_scenario(write(tmp_path, doc))
    save_scenario(sc, tmp_path / "csv")
    assert "RECON-Q; SPARE" in (tmp_path / "csv" / "sites.csv").read_text()
    assert load_scenario(tmp_path / "csv").sites[0].makes == ("RECON-Q", "SPARE")


# ---------------------------------------------------------------- floods

def test_wrong_column_name_in_workbook_is_one_warning_and_one_error(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    save_scenario(_many_demands(tmp_path, 300), path)
    _edit_sheet(path, "demand", lambda ws: setattr(ws["D1"], "value", "Quantity"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert [str(i) for i in e.value.issues] == [
        f"{path} sheet demand: demand.qty: no column 'qty' (300 rows need it) "
        "(fix: add a column 'qty' to the header row)"]
    assert [str(w) for w in e.value.warnings if "Quantity" in str(w)] == [
        f"{path} sheet demand: warning: demand.Quantity: column 'Quantity' is not a column "
        "of demand; ignored (fix: columns are: id, customer, item, qty, due, priority)"]


def test_csv_misspelt_column_suggests_the_right_one(tmp_path: Path) -> None:
    save_scenario(_many_demands(tmp_path, 50), tmp_path / "csv")
    demand = tmp_path / "csv" / "demand.csv"
    demand.write_text(demand.read_text().replace("customer,", "custmer,", 1))
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path / "csv")
    assert len(e.value.issues) == 1 and "no column 'customer' (50 rows" in str(e.value.issues[0])
    [w] = [w for w in e.value.warnings if "custmer" in str(w)]
    assert "(fix: did you mean 'customer'? columns are: id, customer" in str(w)


def test_header_case_and_spaces_do_not_matter(tmp_path: Path) -> None:
    sc = _many_demands(tmp_path, 5)
    path = tmp_path / "s.xlsx"
    save_scenario(sc, path)
    _edit_sheet(path, "demand", lambda ws: setattr(ws["D1"], "value", "Qty"))
    _edit_sheet(path, "demand", lambda ws: setattr(ws["A1"], "value", " ID "))
    wb = openpyxl.load_workbook(path)
    wb["items"].title = "x"  # openpyxl refuses a title equal to the old one but for case
    wb["x"].title = " Items"
    wb.save(path)
    assert load_scenario(path) == sc
    save_scenario(sc, tmp_path / "csv")
    (tmp_path / "csv" / "items.csv").rename(tmp_path / "csv" / "Items.CSV")
    demand = tmp_path / "csv" / "demand.csv"
    demand.write_text(demand.read_text().replace("qty", " QTY "))
    assert load_scenario(tmp_path / "csv") == sc


def test_extra_sheet_and_columns_are_ignored_with_one_warning_each(tmp_path: Path) -> None:
    sc = _many_demands(tmp_path, 20)
    path = tmp_path / "s.xlsx"
    save_scenario(sc, path)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Notes").append(["remember to ask the supplier"])
    ws = wb["demand"]
    ws["G1"], ws["H1"] = "comment", "Notes"
    for r in range(2, 22):
        ws[f"G{r}"], ws[f"H{r}"] = "urgent", "call"
    wb.save(path)
    back = load_scenario(path)
    assert back == sc
    assert sorted(str(w).split(": warning: ")[1] for w in back.warnings) == [
        "Notes: sheet 'Notes' is not a section; ignored (fix: sections are: scenario, items, "
        "boms, routings, sites, work_centers, suppliers, offers, customers, lanes, inventory, "
        "demand, disruptions, recovery, risks, test_plans, licences, mitigations)",
        "demand.Notes: column 'Notes' is not a column of demand; ignored (fix: columns are: "
        "id, customer, item, qty, due, priority)",
        "demand.comment: column 'comment' is not a column of demand; ignored (fix: columns "
        "are: id, customer, item, qty, due, priority)",
    ]


def test_extra_csv_file_is_ignored_with_a_warning(tmp_path: Path) -> None:
    sc = _tiny(tmp_path)
    save_scenario(sc, tmp_path / "csv")
    (tmp_path / "csv" / "notes.csv").write_text("text\nhello\n")
    back = load_scenario(tmp_path / "csv")
    assert back == sc
    assert any("file 'notes.csv' is not a section; ignored" in str(w) for w in back.warnings)


def test_missing_items_section_is_one_problem(tmp_path: Path) -> None:
    doc = base()
    del doc["items"]
    msgs = problems(tmp_path, doc)
    assert msgs == [f"{tmp_path / 'scenario.yaml'}: items: no items given, but 7 references "
                    "name one (boms.item, boms.parent, demand.item, inventory.item, offers.item,"
                    " routings.item, sites.makes) (fix: add the items section (or items.csv, "
                    "or a sheet named items))"]


def test_missing_items_file_in_csv_folder_is_one_problem(tmp_path: Path) -> None:
    save_scenario(_many_demands(tmp_path, 40), tmp_path / "csv")
    (tmp_path / "csv" / "items.csv").unlink()
    [m] = _messages(tmp_path / "csv")
    assert "items: no items given, but 46 references name one" in m


def test_same_error_in_many_rows_is_one_line_naming_some(tmp_path: Path) -> None:
    doc = base()
    doc["demand"] = [dict(doc["demand"][0], id=f"D{k}", item="NOPE") for k in range(10)]
    msgs = problems(tmp_path, doc)
    assert msgs == [f"{tmp_path / 'scenario.yaml'}: demand[D0].item: unknown item 'NOPE'; "
                    "the same in 9 more records (D1, D2, D3, …) (fix: add item 'NOPE' to the "
                    "scenario or correct the id)"]


def test_a_few_alike_errors_are_each_listed(tmp_path: Path) -> None:
    doc = base()
    doc["demand"] = [dict(doc["demand"][0], id=f"D{k}", qty=-k - 1) for k in range(3)]
    msgs = problems(tmp_path, doc)
    assert [m.split(": ")[1] for m in msgs] == ["demand[D0].qty", "demand[D1].qty",
                                                "demand[D2].qty"]


# ---------------------------------------------------------------- what Excel writes

def _semicolon_folder(sc: Scenario, folder: Path) -> None:
    """The scenario's CSV folder as European Excel saves it: `;` and decimal commas."""
    save_scenario(sc, folder)
    for p in folder.glob("*.csv"):
        rows = list(csv.reader(p.open(newline="", encoding="utf-8")))
        with p.open("w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f, delimiter=";")
            for r in rows:
                w.writerow([c.replace(".", ",") if c.replace(".", "").replace("; ", "")
                            .isdigit() else c for c in r])


def test_semicolon_csv_with_decimal_commas_reads_the_same(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("{type: assembly, hours: 100}",
                              "{type: assembly, hours: 100.5, ramp: [0.25, 0.5]}"))
    sc = load_scenario(p)
    _semicolon_folder(sc, tmp_path / "csv")
    text = (tmp_path / "csv" / "work_centers.csv").read_text(encoding="utf-8-sig")
    assert "100,5" in text and "0,25; 0,5" in text and text.startswith("site;type")
    back = load_scenario(tmp_path / "csv")
    assert back == sc
    assert back.work_centers[0].ramp == (0.25, 0.5)


def test_formula_cell_without_saved_value_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    save_scenario(_tiny(tmp_path), path)
    _edit_sheet(path, "demand", lambda ws: setattr(ws["D2"], "value", "=10*5"))
    _edit_sheet(path, "lanes", lambda ws: setattr(ws["E2"], "value", "=100+1"))
    msgs = _messages(path)
    assert msgs == [
        f"{path} sheet lanes: lanes[row 2 SUP-TW>FR-LYON].capacity: cell E2 is a formula "
        "with no saved value (fix: open and save the file in Excel, or type the value)",
        f"{path} sheet demand: demand[row 2 D1].qty: cell D2 is a formula with no saved "
        "value (fix: open and save the file in Excel, or type the value)",
    ]


def test_formula_cell_with_saved_value_reads_the_value(tmp_path: Path) -> None:
    """A formula Excel calculated and saved is read as its value (data_only)."""
    import zipfile

    sc = _tiny(tmp_path)
    path = tmp_path / "s.xlsx"
    save_scenario(sc, path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/")
                 and b"<v>50</v>" in parts[n])
    parts[sheet] = parts[sheet].replace(b"<v>50</v>", b"<f>10*5</f><v>50</v>", 1)
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    assert load_scenario(path) == sc


def test_missing_section_with_few_references_names_each(tmp_path: Path) -> None:
    doc = base()
    del doc["customers"]
    msgs = problems(tmp_path, doc)
    assert any("demand[D1].customer: unknown customer 'UA-MOD'" in m for m in msgs), msgs
    assert not any("no customers given" in m for m in msgs)


def test_a_second_yaml_document_is_one_syntax_line(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE + "---\nscenario: again\n")
    assert _messages(p) == [f"{p}: yaml[line {BASE.count(chr(10)) + 1}, column 1]: not valid "
                            "YAML: expected a single document in the stream but found another "
                            "document (fix: fix the YAML syntax there)"]
