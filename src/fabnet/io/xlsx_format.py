"""The XLSX form of a scenario: one sheet per section, same columns as the CSV files.

A workbook is a zip of XML parts; before openpyxl opens one, its directory is checked so
a zip bomb (a small file that unpacks to gigabytes) is refused, and its sheets are read
row by row, trusting the cells and not the size a sheet declares. Sheet and column names
match regardless of case and spaces; extra sheets and columns are ignored with a warning.
"""

from __future__ import annotations

import re
import struct
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from fabnet.io import limits
from fabnet.io.csv_format import FORMULA_STARTS
from fabnet.io.limits import short_text
from fabnet.io.records import SECTIONS, columns
from fabnet.io.tables import RawTables, match_header, match_sections, report_missing_columns
from fabnet.model.errors import Issue

MAX_PARTS = 10_000
"""Most files inside a workbook's zip (a scenario workbook has about 30)."""


def _zip_problem(path: Path) -> str:
    """Why the workbook's zip is refused before unpacking ("" when it is fine)."""
    size = path.stat().st_size
    if size > limits.MAX_FILE_BYTES:
        return limits.too_large(path)
    with path.open("rb") as f:  # the end-of-directory record says how big the directory is
        f.seek(max(0, size - 65_557))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return "not an .xlsx file (no zip directory)"
    parts, directory = struct.unpack("<HI", tail[at + 10:at + 16])
    if directory > MAX_PARTS * 1024 or (parts != 0xFFFF and parts > MAX_PARTS):
        return f"the workbook holds more than {MAX_PARTS:,} parts"
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        return f"not an .xlsx file ({e})"
    if len(infos) > MAX_PARTS:
        return f"the workbook holds more than {MAX_PARTS:,} parts"
    unpacked = sum(i.file_size for i in infos)
    if unpacked > limits.MAX_UNPACKED_BYTES:
        return (f"the workbook unpacks to {unpacked / limits.MiB:,.0f} MiB, over the limit "
                f"of {limits.MAX_UNPACKED_BYTES // limits.MiB} MiB")
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > limits.MiB and ratio > limits.MAX_COMPRESSION_RATIO:
            return (f"part {short_text(i.filename)} unpacks {ratio:,.0f} times its packed "
                    f"size (a zip bomb?); at most {limits.MAX_COMPRESSION_RATIO} is read")
    return ""


def _is_formula(v: Any) -> bool:
    return (isinstance(v, str) and v.startswith("=")) or isinstance(
        v, ArrayFormula | DataTableFormula)


def _rows(ws: Any) -> Any:
    """A sheet's rows as value tuples, read lazily whatever size the sheet declares."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()
    return ws.iter_rows(values_only=True)


Blanks = dict[tuple[int, int], tuple[str, str]]
"""Blank cells of data rows, (row, column index) -> (record label, column name)."""


def _read_sheet(raw: RawTables, section: str, ws: Any) -> Blanks:
    """Read one sheet into raw rows; return its blank cells (formulas without a saved
    value read as blanks)."""
    rows = _rows(ws)
    header = match_header(raw, section, [str(h) if h is not None else ""
                                         for h in next(rows, ())])
    blanks: Blanks = {}
    for n, cells in enumerate(rows, start=2):
        if not cells:  # a row the sheet doesn't hold: skip it fast (there may be a million)
            continue
        cells = cells[:limits.MAX_COLUMNS]
        if all(c is None or c == "" for c in cells):
            continue
        values: dict[str, Any] = {}
        empty: list[int] = []
        for j, (h, c) in enumerate(zip(header, cells, strict=False)):
            if not h:
                continue
            if c is None or c == "":
                empty.append(j)
                continue
            values[h] = c.date() if isinstance(c, datetime) else \
                unescape_text(c) if isinstance(c, str) else c
        key = values.get("id") or (f"{values.get('from')}>{values.get('to')}"
                                   if section == "lanes" else "")
        label = f"row {n}" + (f" {short_text(key)}" if key else "")
        empty += [j for j in range(len(cells), len(header)) if header[j]]
        for j in empty:
            blanks[(n, j)] = (label, header[j] or "")
        if not raw.add(section, label, values):
            break
    report_missing_columns(raw, section, header)
    return blanks


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any sheet of the workbook holds a formula (most scenario workbooks don't)."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with z.open(name) as f:
                    tail = b""
                    while chunk := f.read(1 << 20):
                        if _FORMULA.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
    return False


def _report_formulas(raw: RawTables, path: Path, sheets: dict[str, str],
                     blanks: dict[str, Blanks]) -> None:
    """Name every blank cell that is really a formula Excel never calculated and saved."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for section, cells in blanks.items():
            last = max(n for n, _ in cells)
            for n, row in enumerate(_rows(wb[sheets[section]]), start=1):
                if n > last:
                    break
                for j, v in enumerate(row[:limits.MAX_COLUMNS]):
                    if (n, j) in cells and _is_formula(v):
                        label, col = cells[(n, j)]
                        raw.issues.append(Issue(
                            section, label, col, f"cell {get_column_letter(j + 1)}{n} is a "
                            "formula with no saved value",
                            "open and save the file in Excel, or type the value",
                            raw.file_of(section)))
    finally:
        wb.close()


def read_xlsx(path: Path) -> RawTables:
    """Read a workbook; each sheet named after a section, header row first."""
    raw = RawTables(source=str(path), unreadable=True)
    why = _zip_problem(path)
    if why:
        raw.issues.append(Issue("workbook", "", "", f"refused: {why}",
                                "save it as .xlsx from Excel or LibreOffice", str(path)))
        return raw
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        raw.issues.append(Issue("workbook", "", "", f"can't open workbook: {short_text(e)}",
                                "save it as .xlsx from Excel or LibreOffice", str(path)))
        return raw
    raw.unreadable = False
    sheets = match_sections(raw, list(wb.sheetnames), "sheet")
    blanks: dict[str, Blanks] = {}
    try:
        for section in SECTIONS:
            name = sheets.get(section, section)
            raw.files[section] = f"{path} sheet {name}"
            if section in sheets:
                if cells := _read_sheet(raw, section, wb[name]):
                    blanks[section] = cells
        wb.close()
        if blanks and _has_formulas(path):
            _report_formulas(raw, path, sheets, blanks)
    except Exception as e:  # a damaged sheet: openpyxl's XML and value errors vary
        wb.close()
        raw.issues.append(Issue("workbook", "", "", f"can't read a sheet: {short_text(e)}",
                                "save it as .xlsx from Excel or LibreOffice", str(path)))
    return raw


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    return v


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def escape_text(text: str) -> str:
    """Text as a workbook holds it (OOXML's `_xHHHH_`, as Excel writes it): a control
    character XML can't carry, or would turn into a newline (CR), as `_x000D_`, and the
    `_` of a text that reads like such an escape as `_x005F_`."""
    return _UNWRITABLE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def unescape_text(text: str) -> str:
    """The text a workbook's `_xHHHH_` escapes stand for (what `escape_text` wrote)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _text_cell(ws: Any, row: int, column: int, text: str) -> None:
    """Write text as a string cell, never a formula: openpyxl would make `=…` one (a name
    like `=HYPERLINK(…)` would run in Excel, and read back as a blank). A text Excel
    would turn into a formula when the cell is edited gets Excel's quote prefix too."""
    cell = ws.cell(row=row, column=column)
    cell.value = escape_text(text)
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def write_xlsx(tables: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Write one sheet per section with a header row; dates as real Excel dates, text as
    string cells (never formulas), so the round trip is exact."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for section, rows in tables.items():
        ws = wb.create_sheet(section)
        cols = columns(section)
        for col, name in enumerate(cols, start=1):
            _text_cell(ws, 1, col, name)
        for n, r in enumerate(rows, start=2):
            for col, name in enumerate(cols, start=1):
                v = _cell(r[name])
                if isinstance(v, str):
                    _text_cell(ws, n, col, v)
                else:
                    ws.cell(row=n, column=col, value=v)
        for col, name in enumerate(cols, start=1):
            if any(isinstance(r[name], date) for r in rows):
                for cell in ws.iter_cols(min_col=col, max_col=col, min_row=2):
                    for c in cell:
                        c.number_format = "yyyy-mm-dd"
    wb.save(path)
