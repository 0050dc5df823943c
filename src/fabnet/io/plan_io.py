"""Writing a plan's tables: one CSV per table plus `plan.json`, appearing whole or not at all.

The folder is written by `fabnet.io.safe_write`: files fabnet did not write are kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fabnet.io import safe_write
from fabnet.io.csv_format import guard_text


def plan_document(scenario: str, columns: Mapping[str, Sequence[str]],
                  tables: Mapping[str, Sequence[Sequence[Any]]],
                  kpis: Mapping[str, Any], bucket_starts: Sequence[date]) -> dict[str, Any]:
    """The JSON form of a plan: KPIs, bucket start dates and every table as records."""
    return {
        "scenario": scenario,
        "buckets": [{"bucket": i, "start": d.isoformat()} for i, d in enumerate(bucket_starts)],
        "kpis": dict(kpis),
        "tables": {name: [dict(zip(columns[name], row, strict=True)) for row in rows]
                   for name, rows in tables.items()},
    }


def write_folder(out: Path, files: Mapping[str, str], force: bool = False) -> None:
    """Write text files into `out`, whole, keeping any file there that fabnet did not write."""
    safe_write.write_folder(out, files, force=force)


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A table as CSV text with a header row; a text cell a spreadsheet would run as a
    formula (`=…`, `+…`, `-…`, `@…`) gets a `'` in front (`csv_format.guard_text`),
    numbers are written as they are."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([guard_text(c) for c in columns])
    w.writerows([guard_text(v) if isinstance(v, str) else v for v in row] for row in rows)
    return buf.getvalue()


def write_plan_dir(out: Path, doc: dict[str, Any],
                   columns: Mapping[str, Sequence[str]],
                   tables: Mapping[str, Sequence[Sequence[Any]]],
                   extra_files: Mapping[str, str] | None = None, force: bool = False) -> None:
    """Write one CSV per table, plan.json and extra text files into `out`, whole."""
    files = {f"{name}.csv": csv_text(columns[name], rows) for name, rows in tables.items()}
    files["plan.json"] = json.dumps(doc, indent=1, default=str)
    files.update(extra_files or {})
    write_folder(out, files, force)
