"""A reference plan, given as a plan document, laid onto the columns of a planning LP.

A re-plan of a stored scenario is steered towards the last plan kept for it (the
reference level, `LexicographicSolver.solve(reference=...)`). That plan was written as a
plan document (`plan.json`'s form: tables as records, each bucket's start date), maybe
for an older version of the scenario: its rows are matched to the LP's flow columns by
name (site and item; supplier, site and item; lane and item; demand and site) and by the
bucket's start date, and rows the LP has no column for are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fabnet.model.errors import FabnetError
from fabnet.model.network import FloatArray, Network
from fabnet.plan.lp import PlanningLP

_SEP = "\x1f"


def _keys(*parts: Sequence[Any] | npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    """One string key per row from equally long name columns."""
    if not parts or not len(parts[0]):
        return np.zeros(0, dtype=str)
    out = np.asarray(parts[0], dtype=str)
    for p in parts[1:]:
        out = np.char.add(np.char.add(out, _SEP), np.asarray(p, dtype=str))
    return out


def _match(arc_keys: npt.NDArray[np.str_], row_keys: npt.NDArray[np.str_]
           ) -> npt.NDArray[np.int64]:
    """Arc index of each row key, -1 where the LP has no such arc."""
    if not arc_keys.size or not row_keys.size:
        return np.full(row_keys.size, -1, dtype=np.int64)
    order = np.argsort(arc_keys, kind="stable")
    pos = np.minimum(np.searchsorted(arc_keys[order], row_keys), arc_keys.size - 1)
    found = arc_keys[order][pos] == row_keys
    return np.where(found, order[pos], -1).astype(np.int64)


def _bucket_map(net: Network, doc: Mapping[str, Any]) -> npt.NDArray[np.int64]:
    """The LP bucket of each of the document's buckets (-1: outside this horizon)."""
    starts = [str(d) for d in net.scenario.horizon.starts()]
    theirs = [str(b["start"]) for b in doc.get("buckets", [])] or starts
    where = {s: i for i, s in enumerate(starts)}
    return np.array([where.get(s, -1) for s in theirs], dtype=np.int64)


def reference_values(net: Network, lp: PlanningLP, doc: Mapping[str, Any]) -> FloatArray:
    """The value of every LP column in the plan document `doc` (0 where it has none)."""
    tables = doc.get("tables")
    if not isinstance(tables, Mapping):
        raise FabnetError("reference plan: no tables (fix: give a plan.json that "
                          "`fabnet plan --out` wrote, or a stored plan run)")
    sites, items = np.array(net.sites, dtype=object), np.array(net.items, dtype=object)
    sup = np.array(net.suppliers, dtype=object)
    o = net.pur_offer
    arcs = {
        "production": ("produce", ("site", "item"), "bucket",
                       (sites[net.make_site], items[net.make_item])),
        "purchases": ("purchase", ("supplier", "site", "item"), "order_bucket",
                      (sup[net.offer_supplier[o]], sites[net.pur_site], items[net.offer_item[o]])),
        "transfers": ("transfer", ("from", "to", "item"), "depart_bucket",
                      (sites[net.tr_from], sites[net.tr_to], items[net.tr_item])),
        "deliveries": ("deliver", ("demand", "site"), "depart_bucket",
                       (np.array(net.demand_ids, dtype=object)[net.del_demand],
                        sites[net.del_site])),
    }
    bucket_of = _bucket_map(net, doc)
    x = np.zeros(lp.num_cols)
    for table, (block, fields, bucket_field, names) in arcs.items():
        rows = tables.get(table) or []
        if not rows:
            continue
        try:
            row_keys = _keys(*[[r[f] for r in rows] for f in fields])
            their_t = np.array([int(r[bucket_field]) for r in rows], dtype=np.int64)
            qty = np.array([float(r["qty"]) for r in rows])
            if table == "transfers":  # the firm part is units in transit: no column
                qty -= np.array([float(r.get("firm", 0.0)) for r in rows])
        except (KeyError, TypeError, ValueError) as e:
            raise FabnetError(f"reference plan: tables.{table}: a row lacks a valid {e} "
                              f"(fix: rows need {', '.join(fields)}, {bucket_field}, qty)"
                              ) from None
        arc = _match(_keys(*names), row_keys)
        inside = (their_t >= 0) & (their_t < bucket_of.size)
        t = np.where(inside, bucket_of[np.where(inside, their_t, 0)], -1)
        ok = (arc >= 0) & (t >= 0)
        b = lp.cols[block]
        np.add.at(x, b.at(arc[ok], t[ok]), qty[ok])
    return np.clip(x, lp.col_lower, lp.col_upper)
