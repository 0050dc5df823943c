"""Plotly figures for the report, each a function of plain rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import plotly.graph_objects as go

from fabnet.model.network import Network
from fabnet.plan.summary import MonthLine


def _html(fig: go.Figure) -> str:
    fig.update_layout(margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white",
                      height=380)
    return str(fig.to_html(full_html=False, include_plotlyjs=False))


def demand_vs_plan(lines: list[MonthLine]) -> str:
    """Grouped bars per month: demanded vs planned, one pair of traces per product."""
    fig = go.Figure()
    for item in sorted({ln.item for ln in lines}):
        mine = [ln for ln in lines if ln.item == item]
        fig.add_bar(x=[ln.month for ln in mine], y=[ln.demanded for ln in mine],
                    name=f"{item} demanded", opacity=0.45)
        fig.add_bar(x=[ln.month for ln in mine], y=[ln.planned for ln in mine],
                    name=f"{item} planned")
    fig.update_layout(title="Units demanded (by due month) vs planned (by arrival month)",
                      barmode="group", yaxis_title="units")
    return _html(fig)


def utilization_heatmap(net: Network, load: list[dict[str, Any]]) -> str:
    """Hours used / hours available per work center and bucket."""
    names = [f"{net.sites[int(s)]}/{t}" for s, t in zip(net.wc_site, net.wc_type, strict=True)]
    z = np.full((len(names), net.buckets), np.nan)
    pos = {n: i for i, n in enumerate(names)}
    for r in load:
        i = pos[f"{r['site']}/{r['work_center']}"]
        avail = float(r["hours_available"])
        z[i, int(r["bucket"])] = float(r["hours_used"]) / avail if avail > 0 else np.nan
    fig = go.Figure(go.Heatmap(z=z, x=list(range(net.buckets)), y=names, zmin=0, zmax=1,
                               colorscale="YlOrRd", colorbar={"title": "load"}))
    fig.update_layout(title="Work-center utilization by bucket", xaxis_title="bucket")
    return _html(fig)


def purchases_by_origin(net: Network, purchases: list[dict[str, Any]]) -> str:
    """Units bought per bucket, stacked by the supplier's country."""
    country = {s.id: s.country for s in net.scenario.suppliers}
    series: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(net.buckets))
    for r in purchases:
        series[country[r["supplier"]]][int(r["order_bucket"])] += float(r["qty"])
    fig = go.Figure()
    for c in sorted(series):
        fig.add_bar(x=list(range(net.buckets)), y=series[c].tolist(), name=c)
    fig.update_layout(title="Purchases by supplier country (order bucket)", barmode="stack",
                      xaxis_title="bucket", yaxis_title="units")
    return _html(fig)
