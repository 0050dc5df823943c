"""The CSV-folder form of a scenario: one file per section, `SECTION.csv`, same columns.

Files and columns are matched regardless of case and surrounding spaces; files and
columns that aren't part of the contract are ignored with a warning. A file whose cells
are separated by `;` (as Excel writes CSV where the decimal mark is a comma) is read
too, with decimal commas in its numeric columns.

A text cell a spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`,
a tab or a carriage return) is written with one `'` in front, and the reader takes it
off again (`guard_text`, `unguard_text`): the round trip stays exact and opening the
file in Excel or LibreOffice shows the text instead of running it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from fabnet.io import limits
from fabnet.io.limits import short_text
from fabnet.io.records import SECTIONS, columns, numeric_columns
from fabnet.io.tables import RawTables, match_header, match_sections, report_missing_columns
from fabnet.model.errors import Issue

_DELIMITERS = (",", ";", "\t")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP's list)."""
QUOTE = "'"


def guard_text(text: str) -> str:
    """A text cell safe to open in a spreadsheet: one `'` before a text that starts,
    after any `'`s of its own, with a formula character (`=1+2` -> `'=1+2`, `'=x` ->
    `''=x`); every other text unchanged. `unguard_text` undoes it exactly."""
    return QUOTE + text if text.lstrip(QUOTE).startswith(FORMULA_STARTS) else text


def unguard_text(cell: str) -> str:
    """The text `guard_text` wrote: one `'` off a cell of `'`s followed by a formula
    character (`''=x` -> `'=x`); any other cell as it is (so `-5` typed by hand stays)."""
    return cell[1:] if cell.startswith(QUOTE) and \
        cell.lstrip(QUOTE).startswith(FORMULA_STARTS) else cell
_DECIMAL_COMMA = re.compile(r"\s*([+-]?\d*),(\d+)\s*")


def _label(section: str, n: int, row: dict[str, Any]) -> str:
    key = row.get("id") or (f"{row.get('from')}>{row.get('to')}" if section == "lanes" else "")
    return f"row {n}" + (f" {short_text(key)}" if key else "")


def _delimiter(first_line: str, section: str) -> str:
    """The cell separator: the one that splits the header into the most known columns."""
    known = set(columns(section))
    def hits(d: str) -> int:
        return sum(c.strip().strip('"').lower() in known for c in first_line.split(d))
    return max(_DELIMITERS, key=lambda d: (hits(d), d == ","))


def _point(v: str) -> str:
    """`2,5` as `2.5` (and each number of a `;` list): a decimal comma, not a separator."""
    parts = [(f"{m.group(1) or '0'}.{m.group(2)}" if (m := _DECIMAL_COMMA.fullmatch(x)) else x)
             for x in v.split(";")]
    return ";".join(parts)


def _read_section(raw: RawTables, section: str, path: Path) -> None:
    data = limits.read_limited(path)
    if data is None:
        raw.issues.append(Issue(section, "", "", limits.too_large(path),
                                "split the scenario or remove records", str(path)))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raw.issues.append(Issue(section, f"byte {e.start}", "", "not UTF-8 text",
                                "save the file as UTF-8 CSV", str(path)))
        return
    delim = _delimiter(text.split("\n", 1)[0], section)
    numeric = numeric_columns(section) if delim == ";" else set()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    n = 1
    header: list[str | None] = []
    try:
        first = next(reader, [])
        header = match_header(raw, section, first)
        width = len(first)
        for n, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                raw.issues.append(Issue(section, f"row {n}", "", "more cells than columns",
                                        "remove the extra cells or add their column",
                                        str(path)))
            texts = (unguard_text(c) for c in cells)
            values = {col: (_point(c) if col in numeric else c)
                      for col, c in zip(header, texts, strict=False) if col and c != ""}
            if not raw.add(section, _label(section, n, values), values):
                break
    except csv.Error as e:
        raw.issues.append(Issue(section, f"row {n + 1}", "", f"can't read the CSV: {e}",
                                "check the quotes and cells in that row", str(path)))
    report_missing_columns(raw, section, header)


def read_csv_folder(folder: Path) -> RawTables:
    """Read every `SECTION.csv` in `folder`; a missing file is an empty section."""
    raw = RawTables(source=str(folder))
    entries = [p for p in folder.iterdir() if p.suffix.lower() == ".csv"]
    for p in entries:
        if not p.is_file():
            raw.issues.append(Issue(p.stem, "", "", f"{p.name} is not a file",
                                    f"make {p.name} a CSV file, or move it out of the folder",
                                    str(p)))
    names = sorted(p.name for p in entries if p.is_file())
    found = match_sections(raw, names, "file", strip_suffix=".csv")
    for section in SECTIONS:
        name = found.get(section)
        raw.files[section] = str(folder / (name or f"{section}.csv"))
        if name is None:
            if section == "scenario":
                raw.issues.append(Issue("scenario", "", "", "missing scenario.csv",
                                        "add scenario.csv with columns "
                                        + ",".join(columns("scenario")), raw.files[section]))
            continue
        _read_section(raw, section, folder / name)
    return raw


def _cell(v: Any) -> str:
    """A value as CSV cell text; text (and lists of ids) guarded against formulas."""
    if v is None:
        return ""
    if isinstance(v, str):
        return guard_text(v)
    if isinstance(v, list):
        text = "; ".join(str(x) for x in v)
        return guard_text(text) if all(isinstance(x, str) for x in v) else text
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
