"""The plan as files a planner opens in a spreadsheet: one CSV per table, or one XLSX
workbook with a sheet per table, made from the plan document the caller may see.

Text cells a spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`) get a `'` in
front, as every CSV fabnet writes (`fabnet.io.csv_format.guard_text`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from fabnet.io.csv_format import guard_text
from fabnet.io.plan_io import csv_text
from fabnet.plan import PLAN_COLUMNS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str) -> dict[str, str]:
    """Headers that make the browser save the answer as `filename`."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _columns(name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A table's columns: the plan contract's, else those of its first row."""
    return list(PLAN_COLUMNS.get(name) or (rows[0].keys() if rows else []))


def table_csv(doc: Mapping[str, Any], name: str) -> str | None:
    """One table of the plan document as CSV (None when the document has no such table)."""
    tables: Mapping[str, Sequence[Mapping[str, Any]]] = doc.get("tables") or {}
    if name not in tables:
        return None
    rows = tables[name]
    cols = _columns(name, rows)
    return csv_text(cols, [[r.get(c) for c in cols] for r in rows])


def workbook(doc: Mapping[str, Any]) -> bytes:
    """Every table of the plan document as a sheet of one XLSX workbook, plus the bucket
    start dates."""
    wb = Workbook()
    first = wb.active
    if first is not None:
        wb.remove(first)
    tables: Mapping[str, Sequence[Mapping[str, Any]]] = doc.get("tables") or {}
    for name, rows in tables.items():
        ws = wb.create_sheet(name[:31])
        cols = _columns(name, rows)
        ws.append(cols)
        for r in rows:
            ws.append([guard_text(v) if isinstance(v, str) else v
                       for v in (r.get(c) for c in cols)])
    ws = wb.create_sheet("buckets")
    ws.append(["bucket", "start"])
    for b in doc.get("buckets") or []:
        ws.append([b.get("bucket"), b.get("start")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
