"""Plotly figures for the report, each a function of plain rows.

Time runs along the x axis as dates (each bucket at its start date), never as bucket
numbers: a planner reads "week of 2027-03-01", not "bucket 8".
"""

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


def date_axis(fig: go.Figure, period: str = "month") -> go.Figure:
    """Show the x axis as dates: ticks at months (or at the buckets' own dates)."""
    fig.update_xaxes(type="date", tickformat="%b %Y" if period == "month" else "%d %b %Y")
    return fig


def demand_vs_plan(lines: list[MonthLine]) -> str:
    """Grouped bars per month: demanded vs planned, one pair of traces per product."""
    fig = go.Figure()
    for item in sorted({ln.item for ln in lines}):
        mine = [ln for ln in lines if ln.item == item and ln.month != "total"]
        x = [ln.month_start.isoformat() for ln in mine]
        fig.add_bar(x=x, y=[ln.demanded for ln in mine], name=f"{item} demanded",
                    opacity=0.45, xperiod="M1", xperiodalignment="middle")
        fig.add_bar(x=x, y=[ln.planned for ln in mine], name=f"{item} planned",
                    xperiod="M1", xperiodalignment="middle")
    fig.update_layout(title="Units demanded (by due month) vs planned (by arrival month)",
                      barmode="group", yaxis_title="units", xaxis_title="month")
    return _html(date_axis(fig))


def _bucket_dates(net: Network) -> list[str]:
    return [d.isoformat() for d in net.scenario.horizon.starts()]


def utilization_heatmap(net: Network, load: list[dict[str, Any]]) -> str:
    """Hours used / hours available per work center and bucket."""
    names = [f"{net.sites[int(s)]}/{t}" for s, t in zip(net.wc_site, net.wc_type, strict=True)]
    z = np.full((len(names), net.buckets), np.nan)
    pos = {n: i for i, n in enumerate(names)}
    for r in load:
        i = pos[f"{r['site']}/{r['work_center']}"]
        avail = float(r["hours_available"])
        z[i, int(r["bucket"])] = float(r["hours_used"]) / avail if avail > 0 else np.nan
    fig = go.Figure(go.Heatmap(z=z, x=_bucket_dates(net), y=names, zmin=0, zmax=1,
                               colorscale="YlOrRd", colorbar={"title": "load"},
                               hovertemplate="%{y}<br>from %{x}<br>load %{z:.0%}"
                                             "<extra></extra>"))
    fig.update_layout(title=f"Work-center utilization by {net.scenario.horizon.bucket}",
                      xaxis_title=f"{net.scenario.horizon.bucket} starting")
    return _html(date_axis(fig, "bucket"))


def purchases_by_origin(net: Network, purchases: list[dict[str, Any]]) -> str:
    """Units bought per bucket, stacked by the supplier's country."""
    country = {s.id: s.country for s in net.scenario.suppliers}
    series: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(net.buckets))
    for r in purchases:
        series[country[r["supplier"]]][int(r["order_bucket"])] += float(r["qty"])
    fig = go.Figure()
    for c in sorted(series):
        fig.add_bar(x=_bucket_dates(net), y=series[c].tolist(), name=c)
    fig.update_layout(title="Purchases by supplier country (by order date)",
                      barmode="stack", xaxis_title=f"{net.scenario.horizon.bucket} ordered",
                      yaxis_title="units")
    return _html(date_axis(fig, "bucket"))
