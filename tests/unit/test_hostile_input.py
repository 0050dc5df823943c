"""Hostile or broken files are refused fast, in one line, without eating the machine:
alias bombs, huge lists, deep nesting, huge files, zip bombs and workbooks that lie about
their size. Memory is measured in a child process (its peak resident set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from fabnet.io import limits, load_scenario, save_scenario
from fabnet.model import ScenarioError
from tests.unit.test_validation import BASE, base, write

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024

# the peak comes from /proc/self/status (VmHWM, this program's own address space):
# getrusage's ru_maxrss keeps the peak of the forking parent across exec, so under a big
# pytest process it would report the parent's size, not the reader's
_CHILD = """
import json, sys
from fabnet.io import load_scenario
from fabnet.model import ScenarioError
try:
    load_scenario(sys.argv[1])
    issues = []
except ScenarioError as e:
    issues = [str(i) for i in e.issues]
with open("/proc/self/status") as f:
    peak = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) * 1024
print(json.dumps({"issues": issues, "peak": peak}))
"""


def _load_in_child(path: Path) -> tuple[list[str], int]:
    """Load a scenario in a fresh interpreter: (issues, peak memory in bytes)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                         text=True, cwd=ROOT, timeout=300, check=True)
    result = json.loads(out.stdout)
    return result["issues"], result["peak"]


def _messages(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    return [str(i) for i in e.value.issues]


# ---------------------------------------------------------------- YAML

BILLION_LAUGHS = ("scenario: x\n"
                  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                  + "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
                            for p, c in zip("abcdefgh", "bcdefghi", strict=True))
                  + "items: [{id: X, name: *i}]\n")
"""Nine levels of nine aliases: 488 bytes that stand for 9**9 strings."""


def test_yaml_alias_bomb_is_refused_in_one_line_with_little_memory(tmp_path: Path) -> None:
    p = tmp_path / "bomb.yaml"
    p.write_text(BILLION_LAUGHS)
    assert p.stat().st_size < 600
    issues, peak = _load_in_child(p)
    assert issues == [f"{p}: yaml[line 7, column 8]: refused: aliases expand to more than "
                      "100,000 values (fix: write the records out instead of using *aliases)"]
    assert peak < 500 * MiB


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    one = "    work_centers:\n      - {type: assembly, hours: 100}\n"
    assert one in BASE
    p.write_text(BASE.replace(one, "    work_centers:\n      - &wc {type: assembly, hours: 100}\n"
                              "  - id: DE-PLANT\n    country: DE\n    work_centers: [*wc]\n"))
    assert [w.site for w in load_scenario(p).work_centers] == ["FR-LYON", "DE-PLANT"]


def test_yaml_list_of_a_million_records_is_refused_before_validating(tmp_path: Path) -> None:
    p = tmp_path / "many.yaml"
    p.write_text(BASE.replace("disruptions: []\n", "") + "disruptions:\n"
                 + "- {id: X, target: FR-LYON, from: 2027-01-11, buckets: 1}\n" * 1_000_000)
    issues, peak = _load_in_child(p)
    assert issues == [f"{p}: yaml[line 41, column 3]: refused: a list or mapping with more "
                      "than 200,000 entries (fix: split the scenario or remove records)"
                      .replace("line 41", f"line {BASE.count(chr(10)) + 200_001}")]
    assert peak < 500 * MiB


@pytest.mark.parametrize("nest", [
    "[" * 50_000 + "]" * 50_000,
    "{a: " * 50_000 + "1" + "}" * 50_000,
    "\n" + "".join("  " * i + "-\n" for i in range(200)),
])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path, nest: str) -> None:
    p = tmp_path / "deep.yaml"
    p.write_text("scenario: x\nitems: " + nest + "\n")
    [m] = _messages(p)
    assert m.startswith(f"{p}: yaml[line ") and "refused: nested" in m
    assert "(fix: a scenario nests sections, records and lists only)" in m


def test_yaml_nesting_within_the_limit_reads(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE + "risks: " + "[" * (limits.MAX_DEPTH - 1) + "]" * (limits.MAX_DEPTH - 1)
                 + "\n")
    [m] = _messages(p)  # deep but within the limit: the schema names the bad record
    assert "risks[#1]: expected a record, got [[[...]]]" in m


def test_yaml_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    p = tmp_path / "big.yaml"
    p.write_text(BASE)
    os.truncate(p, limits.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    assert _messages(p) == [f"{p}: yaml: file is 64 MiB, over the limit of 64 MiB "
                            "(fix: split the scenario or remove records)"]


def test_yaml_huge_integer_and_id_are_named_in_short_messages(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("buckets: 8", "buckets: " + "9" * 5000)
                 .replace("id: D1", "id: " + "D" * 1_000_000))
    msgs = _messages(p)
    assert any("scenario[horizon].buckets: Unable to parse input string as an integer" in m
               for m in msgs), msgs
    assert any(".id: id is 1000000 characters long, over the limit of 64" in m for m in msgs)
    assert all(len(m) < 600 for m in msgs)


def test_yaml_record_of_the_wrong_shape_is_shown_short(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("disruptions: []", "disruptions: [" + "x" * 100_000 + "]"))
    [m] = _messages(p)
    assert "disruptions[#1]: expected a record, got 'xxxx" in m and len(m) < 300


def test_records_limit_applies_to_yaml_sections(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RECORDS", 20)
    doc = base()
    doc["items"] += [{"id": f"X{k}", "kind": "component"} for k in range(20)]
    msgs = _messages(write(tmp_path, doc))
    assert msgs == [f"{tmp_path / 'scenario.yaml'}: yaml[line 51, column 3]: refused: a list "
                    "or mapping with more than 20 entries (fix: split the scenario or remove "
                    "records)"]


def test_records_limit_counts_nested_lines_too(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_RECORDS", 3)
    doc = base()
    doc["routings"] = {p: [{"work_center": w, "hours": 1} for w in ("assembly", "test")]
                       for p in ("RECON-Q", "FC-H7")}
    msgs = _messages(write(tmp_path, doc))
    assert msgs == [f"{tmp_path / 'scenario.yaml'}: routings: more than 3 records; the rest "
                    "were not read (fix: split the scenario or remove records)"]


# ---------------------------------------------------------------- CSV

def test_csv_rows_over_the_limit_are_one_problem(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    save_scenario(load_scenario(write(tmp_path, base())), tmp_path / "csv")
    demand = tmp_path / "csv" / "demand.csv"
    line = demand.read_text().splitlines()[1]
    demand.write_text(demand.read_text() + (line + "\n") * 150)
    monkeypatch.setattr(limits, "MAX_RECORDS", 100)
    assert _messages(tmp_path / "csv") == [
        f"{demand}: demand: more than 100 records; the rest were not read "
        "(fix: split the scenario or remove records)"]


def test_csv_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    save_scenario(load_scenario(write(tmp_path, base())), tmp_path / "csv")
    demand = tmp_path / "csv" / "demand.csv"
    os.truncate(demand, limits.MAX_FILE_BYTES + 5 * MiB)
    msgs = _messages(tmp_path / "csv")
    assert f"{demand}: demand: file is 69 MiB, over the limit of 64 MiB (fix: split the " \
        "scenario or remove records)" in msgs


def test_csv_cell_too_large_for_the_csv_module_is_one_line(tmp_path: Path) -> None:
    save_scenario(load_scenario(write(tmp_path, base())), tmp_path / "csv")
    items = tmp_path / "csv" / "items.csv"
    items.write_text(items.read_text() + 'X,"' + "n" * 200_000 + '",component,,,\n')
    msgs = _messages(tmp_path / "csv")
    assert any(f"{items}: items[row 4]: can't read the CSV: field larger than field limit"
               in m for m in msgs), msgs


def test_csv_nul_byte_is_one_line(tmp_path: Path) -> None:
    save_scenario(load_scenario(write(tmp_path, base())), tmp_path / "csv")
    items = tmp_path / "csv" / "items.csv"
    items.write_bytes(items.read_bytes() + b"X\x00,x,component,,,\n")
    assert _messages(tmp_path / "csv") == [
        f"{items}: items[row 4 X\x00].id: id contains the control character U+0000, got "
        "'X\\x00' (fix: remove it (ids are printable text on one line))"]


# ---------------------------------------------------------------- XLSX

def _workbook(tmp_path: Path) -> Path:
    path = tmp_path / "s.xlsx"
    save_scenario(load_scenario(write(tmp_path, base())), path)
    return path


def _rewrite(path: Path, edit: object, extra: tuple[str, int] | None = None) -> None:
    """Rewrite a workbook's zip, editing each part's bytes and adding `extra` zeros."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, edit(n, data))  # type: ignore[operator]
        if extra:
            with z.open(extra[0], "w", force_zip64=True) as f:
                block = bytes(MiB)
                for _ in range(extra[1]):
                    f.write(block)


def test_workbook_declaring_the_whole_sheet_reads_only_its_cells(tmp_path: Path) -> None:
    import re

    path = _workbook(tmp_path)
    sc = load_scenario(path)
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t></t></is></c></row>'
    demand = "xl/worksheets/sheet12.xml"  # sections are written in order, demand 12th
    _rewrite(path, lambda n, d: re.sub(rb'<dimension ref="[^"]*" ?/>',
                                       b'<dimension ref="A1:XFD1048576"/>', d)
             .replace(b"</sheetData>", (far if n == demand else b"") + b"</sheetData>"))
    assert openpyxl.load_workbook(path, read_only=True)["demand"].max_row == 1048576
    issues, peak = _load_in_child(path)
    assert issues == [] and peak < 500 * MiB
    assert load_scenario(path) == sc


def test_workbook_unpacking_past_the_limit_is_refused_before_opening(tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    _rewrite(path, lambda n, d: d, extra=("xl/media/image1.bin", 300))
    assert path.stat().st_size < 2 * MiB
    issues, peak = _load_in_child(path)
    assert issues == [f"{path}: workbook: refused: the workbook unpacks to 300 MiB, over the "
                      "limit of 256 MiB (fix: save it as .xlsx from Excel or LibreOffice)"]
    assert peak < 500 * MiB


def test_workbook_part_with_a_bomb_ratio_is_refused(tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    _rewrite(path, lambda n, d: d, extra=("xl/worksheets/sheet99.xml", 20))
    [m] = _messages(path)
    assert m.startswith(f"{path}: workbook: refused: part xl/worksheets/sheet99.xml unpacks ")
    assert "times its packed size (a zip bomb?); at most 200 is read" in m


def test_workbook_rows_over_the_limit_are_one_problem(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    doc = base()
    doc["demand"] = [dict(doc["demand"][0], id=f"D{k}") for k in range(30)]
    path = tmp_path / "s.xlsx"
    save_scenario(load_scenario(write(tmp_path, doc)), path)
    monkeypatch.setattr(limits, "MAX_RECORDS", 20)
    assert _messages(path) == [f"{path} sheet demand: demand: more than 20 records; the rest "
                               "were not read (fix: split the scenario or remove records)"]


def test_not_a_zip_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    path.write_text("id,name\n")
    assert _messages(path) == [f"{path}: workbook: refused: not an .xlsx file (no zip "
                               "directory) (fix: save it as .xlsx from Excel or LibreOffice)"]


def test_workbook_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = _workbook(tmp_path)
    os.truncate(path, limits.MAX_FILE_BYTES + 1)
    [m] = _messages(path)
    assert "workbook: refused: file is 64 MiB, over the limit of 64 MiB" in m
