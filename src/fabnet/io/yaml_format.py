"""The YAML form of a scenario: DESIGN.md's contract, with nested BOMs, work centers, offers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from fabnet.io.tables import RawTables
from fabnet.model.errors import Issue

TOP_KEYS = ("scenario", "horizon", "items", "boms", "routings", "sites", "suppliers",
            "customers", "lanes", "inventory", "demand", "disruptions", "recovery", "risks")


def _label(rec: Any, i: int, key: str = "id") -> str:
    if isinstance(rec, dict) and rec.get(key) not in (None, ""):
        return str(rec[key])
    return f"#{i + 1}"


def _as_list(raw: RawTables, section: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raw.issues.append(Issue(section, "", "", f"expected a list, got {type(value).__name__}",
                                f"write {section} as a list of records", raw.source))
        return []
    return value


def _record(raw: RawTables, section: str, label: str, rec: Any) -> dict[str, Any] | None:
    if isinstance(rec, dict):
        return dict(rec)
    raw.issues.append(Issue(section, label, "", f"expected a record, got {rec!r}",
                            "write the record as {field: value, ...}", raw.source))
    return None


def _nested(raw: RawTables, section: str, value: Any, parent_key: str) -> None:
    """`boms:` and `routings:` map a parent item to a list of lines."""
    if value is None:
        return
    if not isinstance(value, dict):
        raw.issues.append(Issue(section, "", "", "expected a mapping item -> list of lines",
                                f"write {section} as ITEM: [{{...}}, ...]", raw.source))
        return
    for parent, lines in value.items():
        for j, line in enumerate(_as_list(raw, section, lines)):
            label = f"{parent}/{_label(line, j, 'item' if section == 'boms' else 'work_center')}"
            rec = _record(raw, section, label, line)
            if rec is not None:
                raw.add(section, label, {parent_key: str(parent), **rec})


def read_yaml(path: Path) -> RawTables:
    """Read a YAML scenario into raw tables; syntax errors become located issues."""
    raw = RawTables(source=str(path))
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raw.issues.append(Issue("yaml", f"byte {e.start}", "", "not UTF-8 text",
                                "save the file as UTF-8", str(path)))
        return raw
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raw.issues.append(Issue("yaml", where, "", f"not valid YAML: "
                                f"{getattr(e, 'problem', e)}", "fix the YAML syntax there",
                                str(path)))
        return raw
    if not isinstance(doc, dict):
        raw.issues.append(Issue("yaml", "", "", "the file is not a mapping of sections",
                                "start with 'scenario:' and 'horizon:' keys", str(path)))
        return raw
    for key in doc:
        if key not in TOP_KEYS:
            raw.issues.append(Issue(str(key), "", "", f"unknown section {key!r}",
                                    f"use one of: {', '.join(TOP_KEYS)}", str(path)))
    horizon = doc.get("horizon")
    if isinstance(horizon, dict):
        raw.add("scenario", "horizon", {"scenario": doc.get("scenario") or "", **horizon})
    elif horizon is not None:
        raw.issues.append(Issue("horizon", "", "", "expected {start, bucket, buckets}",
                                "write horizon: {start: YYYY-MM-DD, bucket: week, buckets: N}",
                                str(path)))
    for i, rec in enumerate(_as_list(raw, "items", doc.get("items"))):
        if (r := _record(raw, "items", _label(rec, i), rec)) is not None:
            raw.add("items", _label(rec, i), r)
    _nested(raw, "boms", doc.get("boms"), "parent")
    _nested(raw, "routings", doc.get("routings"), "item")
    for i, rec in enumerate(_as_list(raw, "sites", doc.get("sites"))):
        label = _label(rec, i)
        if (r := _record(raw, "sites", label, rec)) is None:
            continue
        for j, wc in enumerate(_as_list(raw, "work_centers", r.pop("work_centers", None))):
            wl = f"{label}/{_label(wc, j, 'type')}"
            if (w := _record(raw, "work_centers", wl, wc)) is not None:
                raw.add("work_centers", wl, {"site": r.get("id"), **w})
        raw.add("sites", label, r)
    for i, rec in enumerate(_as_list(raw, "suppliers", doc.get("suppliers"))):
        label = _label(rec, i)
        if (r := _record(raw, "suppliers", label, rec)) is None:
            continue
        for j, off in enumerate(_as_list(raw, "offers", r.pop("offers", None))):
            ol = f"{label}/{_label(off, j, 'item')}"
            if (o := _record(raw, "offers", ol, off)) is not None:
                raw.add("offers", ol, {"supplier": r.get("id"), **o})
        raw.add("suppliers", label, r)
    for section in ("customers", "lanes", "inventory", "demand", "disruptions", "recovery",
                    "risks"):
        for i, rec in enumerate(_as_list(raw, section, doc.get(section))):
            if section == "lanes" and isinstance(rec, dict):
                label = f"{rec.get('from')}>{rec.get('to')}"
            elif section == "inventory" and isinstance(rec, dict):
                label = f"{rec.get('site')}/{rec.get('item')}"
            elif section == "recovery":
                label = _label(rec, i, "target")
            else:
                label = _label(rec, i)
            if (r := _record(raw, section, label, rec)) is not None:
                raw.add(section, label, r)
    return raw


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None and v != [] and v != ""}


class _Dumper(yaml.SafeDumper):
    """Flow style for short records (one line each), block style for sections."""


def _repr_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = all(not isinstance(v, dict | list) or (isinstance(v, list) and
               all(not isinstance(x, dict) for x in v)) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _repr_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(x, dict | list) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(dict, _repr_dict)
_Dumper.add_representer(list, _repr_list)


def write_yaml(tables: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Write flat tables as the nested YAML form."""
    meta = tables["scenario"][0]
    horizon = {"start": meta["start"], "bucket": meta["bucket"], "buckets": meta["buckets"]}
    boms: dict[str, list[dict[str, Any]]] = {}
    for b in tables["boms"]:
        boms.setdefault(b["parent"], []).append(_clean({"item": b["item"], "qty": b["qty"]}))
    routings: dict[str, list[dict[str, Any]]] = {}
    for r in tables["routings"]:
        routings.setdefault(r["item"], []).append(
            _clean({"work_center": r["work_center"], "hours": r["hours"]}))
    sites = []
    for s in tables["sites"]:
        wcs = [_clean({k: v for k, v in w.items() if k != "site"})
               for w in tables["work_centers"] if w["site"] == s["id"]]
        sites.append({**_clean(s), "work_centers": wcs})
    suppliers = []
    for v in tables["suppliers"]:
        offers = [_clean({k: x for k, x in o.items() if k != "supplier"})
                  for o in tables["offers"] if o["supplier"] == v["id"]]
        suppliers.append({**_clean(v), "offers": offers})
    doc: dict[str, Any] = {
        "scenario": meta["scenario"], "horizon": horizon,
        "items": [_clean(i) for i in tables["items"]], "boms": boms, "routings": routings,
        "sites": sites, "suppliers": suppliers,
    }
    for section in ("customers", "lanes", "inventory", "demand", "disruptions"):
        doc[section] = [_clean(r) for r in tables[section]]
    for section in ("recovery", "risks"):  # optional sections, written only when used
        if tables[section]:
            doc[section] = [_clean(r) for r in tables[section]]
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


def _date_repr(dumper: yaml.SafeDumper, data: date) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", data.isoformat())


_Dumper.add_representer(date, _date_repr)
