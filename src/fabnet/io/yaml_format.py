"""The YAML form of a scenario: DESIGN.md's contract, with nested BOMs, work centers, offers.

Reading is guarded (`fabnet.io.yaml_guard`): nesting deeper than `MAX_DEPTH`, lists
longer than `MAX_RECORDS` and aliases that would expand past `MAX_ALIAS_NODES` nodes
("billion laughs") are refused in moments, in one pass for an ordinary file. A date or
integer that can't be built stays text and is named by the schema.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from fabnet.io import limits, yaml_guard
from fabnet.io.limits import short_repr, short_text
from fabnet.io.tables import RawTables
from fabnet.model.errors import Issue

TOP_KEYS = ("scenario", "horizon", "items", "boms", "routings", "sites", "suppliers",
            "customers", "lanes", "inventory", "demand", "disruptions", "recovery", "risks",
            "test_plans", "licences", "mitigations")

def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"


def _text(v: Any) -> str:
    """A value as a short label: ids are short, a hostile one must not flood a message."""
    return short_text(v.isoformat() if isinstance(v, date) else v)


def _label(rec: Any, i: int, key: str = "id") -> str:
    if isinstance(rec, dict) and rec.get(key) not in (None, ""):
        return _text(rec[key])
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
    raw.issues.append(Issue(section, label, "", f"expected a record, got {short_repr(rec)}",
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
            key = "item" if section == "boms" else "work_center"
            label = f"{_text(parent)}/{_label(line, j, key)}"
            rec = _record(raw, section, label, line)
            if rec is not None and not raw.add(section, label, {parent_key: str(parent), **rec}):
                return


def read_yaml(path: Path) -> RawTables:
    """Read a YAML scenario into raw tables; syntax errors and limits become located issues."""
    raw = RawTables(source=str(path), unreadable=True)
    data = limits.read_limited(path)
    if data is None:
        raw.issues.append(Issue("yaml", "", "", limits.too_large(path),
                                "split the scenario or remove records", str(path)))
        return raw
    try:
        text = data.decode("utf-8")
        del data
        doc = yaml_guard.load(text)
    except UnicodeDecodeError as e:
        raw.issues.append(Issue("yaml", f"byte {e.start}", "", "not UTF-8 text",
                                "save the file as UTF-8", str(path)))
        return raw
    except yaml_guard.Refused as e:
        raw.issues.append(Issue("yaml", _where(e.mark), "", f"refused: {e.why}", e.fix,
                                str(path)))
        return raw
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = " ".join(str(x) for x in (getattr(e, "context", None),
                                            getattr(e, "problem", None)) if x) or str(e)
        if "nesting depth" in problem:  # libyaml's own limit, met before ours
            raw.issues.append(Issue("yaml", _where(mark), "", "refused: nested too deep",
                                    "a scenario nests sections, records and lists only",
                                    str(path)))
        else:
            raw.issues.append(Issue("yaml", _where(mark), "", "not valid YAML: "
                                    f"{short_repr(problem)[1:-1]}",
                                    "fix the YAML syntax there", str(path)))
        return raw
    except (ValueError, TypeError, RecursionError) as e:
        raw.issues.append(Issue("yaml", "", "", f"can't read a value: {short_repr(str(e))}",
                                "check the values near the end of the last record read",
                                str(path)))
        return raw
    if not isinstance(doc, dict):
        raw.issues.append(Issue("yaml", "", "", "the file is not a mapping of sections",
                                "start with 'scenario:' and 'horizon:' keys", str(path)))
        return raw
    raw.unreadable = False
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
                    "risks", "test_plans", "licences", "mitigations"):
        for i, rec in enumerate(_as_list(raw, section, doc.get(section))):
            if section == "lanes" and isinstance(rec, dict):
                label = f"{_text(rec.get('from'))}>{_text(rec.get('to'))}"
            elif section == "inventory" and isinstance(rec, dict):
                label = f"{_text(rec.get('site'))}/{_text(rec.get('item'))}"
            elif section == "recovery":
                label = _label(rec, i, "target")
            elif section == "test_plans" and isinstance(rec, dict):
                label = f"{_text(rec.get('item'))}/{_text(rec.get('step'))}"
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
        boms.setdefault(b["parent"], []).append(
            _clean({k: v for k, v in b.items() if k != "parent"}))
    routings: dict[str, list[dict[str, Any]]] = {}
    for r in tables["routings"]:
        routings.setdefault(r["item"], []).append(
            _clean({k: v for k, v in r.items() if k != "item"}))
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
        "items": [_clean({k: v for k, v in i.items() if k != "serialized" or v})
                  for i in tables["items"]], "boms": boms, "routings": routings,
        "sites": sites, "suppliers": suppliers,
    }
    for section in ("customers", "lanes", "inventory", "demand", "disruptions"):
        doc[section] = [_clean(r) for r in tables[section]]
    for section in ("recovery", "risks", "test_plans", "licences",
                    "mitigations"):  # written only when used
        if tables[section]:
            doc[section] = [_clean(r) for r in tables[section]]
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


def _date_repr(dumper: yaml.SafeDumper, data: date) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", data.isoformat())


_Dumper.add_representer(date, _date_repr)
