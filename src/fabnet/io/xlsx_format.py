"""The XLSX form of a scenario: one sheet per section, same columns as the CSV files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from fabnet.io.records import SECTIONS, columns
from fabnet.io.tables import RawTables
from fabnet.model.errors import Issue


def read_xlsx(path: Path) -> RawTables:
    """Read a workbook; each sheet named after a section, header row first."""
    raw = RawTables(source=str(path))
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        raw.issues.append(Issue("workbook", "", "", f"can't open workbook: {e}",
                                "save it as .xlsx from Excel or LibreOffice", str(path)))
        return raw
    for name in wb.sheetnames:
        if name not in SECTIONS:
            raw.issues.append(Issue(name, "", "", f"unknown sheet {name!r}",
                                    f"name sheets after sections: {', '.join(SECTIONS)}",
                                    str(path)))
    for section in SECTIONS:
        raw.files[section] = f"{path} sheet {section}"
        if section not in wb.sheetnames:
            continue
        rows = wb[section].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for n, cells in enumerate(rows, start=2):
            if all(c is None or c == "" for c in cells):
                continue
            values: dict[str, Any] = {}
            for h, c in zip(header, cells, strict=False):
                if c is None or c == "" or not h:
                    continue
                values[h] = c.date() if isinstance(c, datetime) else c
            key = values.get("id") or (f"{values.get('from')}>{values.get('to')}"
                                       if section == "lanes" else "")
            raw.add(section, f"row {n}" + (f" {key}" if key else ""), values)
    wb.close()
    return raw


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    if isinstance(v, date):
        return v
    return v


def write_xlsx(tables: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Write one sheet per section with a header row; dates as real Excel dates."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for section, rows in tables.items():
        ws = wb.create_sheet(section)
        cols = columns(section)
        ws.append(cols)
        for r in rows:
            ws.append([_cell(r[c]) for c in cols])
        for col, name in enumerate(cols, start=1):
            if any(isinstance(r[name], date) for r in rows):
                for cell in ws.iter_cols(min_col=col, max_col=col, min_row=2):
                    for c in cell:
                        c.number_format = "yyyy-mm-dd"
    wb.save(path)
