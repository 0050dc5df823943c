"""The CSV-folder form of a scenario: one file per section, `SECTION.csv`, same columns."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from fabnet.io.records import SECTIONS, columns
from fabnet.io.tables import RawTables
from fabnet.model.errors import Issue


def _label(section: str, n: int, row: dict[str, Any]) -> str:
    key = row.get("id") or (f"{row.get('from')}>{row.get('to')}" if section == "lanes" else "")
    return f"row {n}" + (f" {key}" if key else "")


def read_csv_folder(folder: Path) -> RawTables:
    """Read every `SECTION.csv` in `folder`; a missing file is an empty section."""
    raw = RawTables(source=str(folder))
    known = {f"{s}.csv" for s in SECTIONS}
    for p in sorted(folder.glob("*.csv")):
        if p.name not in known:
            raw.issues.append(Issue(p.stem, "", "", f"unknown section file {p.name!r}",
                                    f"name it one of: {', '.join(sorted(known))}", str(p)))
    for section in SECTIONS:
        path = folder / f"{section}.csv"
        raw.files[section] = str(path)
        if not path.exists():
            if section == "scenario":
                raw.issues.append(Issue("scenario", "", "", "missing scenario.csv",
                                        "add scenario.csv with columns "
                                        + ",".join(columns("scenario")), str(path)))
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raw.issues.append(Issue(section, f"byte {e.start}", "", "not UTF-8 text",
                                    "save the file as UTF-8 CSV", str(path)))
            continue
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for n, row in enumerate(reader, start=2):
            values = {k: (v if v != "" else None) for k, v in row.items() if k is not None}
            if None in row:
                raw.issues.append(Issue(section, f"row {n}", "", "more cells than columns",
                                        "remove the extra cells", str(path)))
            raw.add(section, _label(section, n, values),
                    {k: v for k, v in values.items() if v is not None})
    return raw


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_csv_folder(tables: dict[str, list[dict[str, Any]]], folder: Path) -> None:
    """Write one CSV per section into `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for section, rows in tables.items():
        with (folder / f"{section}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(columns(section))
            for r in rows:
                w.writerow([_cell(r[c]) for c in columns(section)])
