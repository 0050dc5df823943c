"""Writing a plan's tables: one CSV per table plus `plan.json`, appearing whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any


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


def write_folder(out: Path, files: Mapping[str, str]) -> None:
    """Write text files into `out`, swapping the folder in whole: readers never see half."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for fname, text in files.items():
            (tmp / fname).write_text(text, encoding="utf-8")
        old = None
        if out.exists():
            old = out.parent / f".{out.name}-old-{os.getpid()}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A table as CSV text with a header row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(rows)
    return buf.getvalue()


def write_plan_dir(out: Path, doc: dict[str, Any],
                   columns: Mapping[str, Sequence[str]],
                   tables: Mapping[str, Sequence[Sequence[Any]]],
                   extra_files: Mapping[str, str] | None = None) -> None:
    """Write one CSV per table, plan.json and extra text files into `out`, whole."""
    files = {f"{name}.csv": csv_text(columns[name], rows) for name, rows in tables.items()}
    files["plan.json"] = json.dumps(doc, indent=1, default=str)
    files.update(extra_files or {})
    write_folder(out, files)
