"""Plotly figures of the dashboard, built from plan documents and job results as a
caller may see them (already scoped), and handed to the page as JSON.

Time runs along the x axis as dates (each bucket at its start date), never as bucket
numbers. The figures carry only what their rows carry: a page draws nothing its caller
may not read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

Row = Mapping[str, Any]


def _look() -> go.layout.Template:
    """plotly_white's look (white ground, light grid, its colours and fonts) without its
    defaults for every kind of trace and subplot and without `automargin`, which the
    browser would work through for each chart: a chart draws in about half the time."""
    white = pio.templates["plotly_white"].layout.to_plotly_json()
    layout = {k: white[k] for k in ("colorway", "font", "hoverlabel", "hovermode",
                                    "paper_bgcolor", "plot_bgcolor", "title")}
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {k: v for k, v in white[axis].items() if k != "automargin"}
    return go.layout.Template(layout=layout)


LOOK = _look()


def _is_date(v: Any) -> bool:
    return isinstance(v, str) and len(v) >= 10 and v[4:5] == "-" and v[7:8] == "-"


def _names_on(fig: go.Figure) -> tuple[bool, bool]:
    """Whether the x and the y axis carry names (categories other than dates), whose
    length the margin must make room for."""
    def named(values: Any) -> bool:
        return values is not None and any(isinstance(v, str) and not _is_date(v)
                                          for v in values)
    return (any(named(getattr(t, "x", None)) for t in fig.data),
            any(named(getattr(t, "y", None)) for t in fig.data))


def figure_json(fig: go.Figure, height: int = 380) -> str:
    """A figure as JSON for `Plotly.newPlot`, in the dashboard's look; only an axis that
    carries names widens its margin to fit them."""
    on_x, on_y = _names_on(fig)
    fig.update_xaxes(automargin=on_x)
    fig.update_yaxes(automargin=on_y)
    fig.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 50}, template=LOOK,
                      height=height, font={"family": "system-ui, sans-serif"})
    return str(pio.to_json(fig, validate=False))


def bucket_dates(doc: Mapping[str, Any]) -> list[str]:
    """The start date of every bucket of a plan document (ISO)."""
    return [str(b["start"]) for b in doc.get("buckets") or []]


def _day(dates: Sequence[str], bucket: Any) -> str:
    """The start date of `bucket`, or the last bucket's for one past the horizon."""
    b = int(bucket)
    return dates[min(b, len(dates) - 1)] if dates else ""


def demand_vs_plan(doc: Mapping[str, Any], demand: Iterable[Row]) -> str:
    """Units demanded (by due month) vs planned (by arrival month), bars per product."""
    dates = bucket_dates(doc)
    demanded: dict[tuple[str, str], float] = defaultdict(float)
    planned: dict[tuple[str, str], float] = defaultdict(float)
    for d in demand:
        demanded[(str(d["item"]), str(d["due"])[:7])] += float(d["qty"])
    for r in (doc.get("tables") or {}).get("deliveries", []):
        planned[(str(r["item"]), _day(dates, r["arrival_bucket"])[:7])] += float(r["qty"])
    fig = go.Figure()
    for item in sorted({i for i, _ in demanded} | {i for i, _ in planned}):
        months = sorted({m for i, m in demanded if i == item} |
                        {m for i, m in planned if i == item})
        x = [f"{m}-01" for m in months]
        fig.add_bar(x=x, y=[round(demanded[(item, m)]) for m in months],
                    name=f"{item} demanded", opacity=0.45, xperiod="M1",
                    xperiodalignment="middle")
        fig.add_bar(x=x, y=[round(planned[(item, m)]) for m in months],
                    name=f"{item} planned", xperiod="M1", xperiodalignment="middle")
    fig.update_layout(title="Units demanded (by due month) vs planned (by arrival month)",
                      barmode="group", yaxis_title="units", xaxis_title="month")
    fig.update_xaxes(type="date", tickformat="%b %Y")
    return figure_json(fig)


def load_heatmap(doc: Mapping[str, Any]) -> str:
    """Hours used / hours available per work center and bucket, dates along x."""
    dates = bucket_dates(doc)
    rows = (doc.get("tables") or {}).get("load", [])
    names = sorted({f"{r['site']}/{r['work_center']}" for r in rows})
    pos = {n: i for i, n in enumerate(names)}
    z: list[list[float | None]] = [[None] * len(dates) for _ in names]
    for r in rows:
        avail = float(r["hours_available"])
        b = int(r["bucket"])
        if avail > 0 and b < len(dates):
            z[pos[f"{r['site']}/{r['work_center']}"]][b] = round(
                float(r["hours_used"]) / avail, 4)
    fig = go.Figure(go.Heatmap(z=z, x=dates, y=names, zmin=0, zmax=1, colorscale="YlOrRd",
                               colorbar={"title": "load"},
                               hovertemplate="%{y}<br>from %{x}<br>load %{z:.0%}"
                                             "<extra></extra>"))
    fig.update_layout(title="Capacity load (hours used / available)",
                      xaxis_title="bucket starting")
    fig.update_xaxes(type="date", tickformat="%d %b %Y")
    return figure_json(fig, height=max(300, 60 + 22 * len(names)))


def purchases_by_country(doc: Mapping[str, Any], country_of: Mapping[str, str]) -> str:
    """Units bought per bucket (by order date), stacked by the supplier's country."""
    dates = bucket_dates(doc)
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(dates))
    for r in (doc.get("tables") or {}).get("purchases", []):
        b = int(r["order_bucket"])
        if b < len(dates):
            series[country_of.get(str(r["supplier"]), "?")][b] += float(r["qty"])
    fig = go.Figure()
    for c in sorted(series):
        fig.add_bar(x=dates, y=[round(v, 1) for v in series[c]], name=c)
    fig.update_layout(title="Purchases by supplier country (by order date)",
                      barmode="stack", xaxis_title="ordered in the bucket starting",
                      yaxis_title="units")
    fig.update_xaxes(type="date", tickformat="%d %b %Y")
    return figure_json(fig)


def risk_matrix(nodes: Sequence[Row], horizon_days: float | None) -> str:
    """TTS vs TTR per node, marker size by PI; nodes below the diagonal are exposed.

    A node that survives the whole horizon has no finite TTS (null): it is drawn on the
    top edge at the horizon as a triangle, so the axis stays readable.
    """
    # a failed node (status not optimal) has no proven TTS: it is not drawn
    nodes = [n for n in nodes if n.get("status", "optimal") == "optimal"]
    ttrs = [float(n.get("ttr_days") or 0.0) for n in nodes]
    finite = [float(n["tts_days"]) for n in nodes if n.get("tts_days") is not None]
    cap = horizon_days or max(finite + ttrs + [1.0])
    top = min(cap, 1.15 * max([t for t in finite if t < cap] + ttrs + [1.0]))
    pis = [float(n.get("pi_units") or 0.0) for n in nodes]
    scale = 40.0 / max(max(pis, default=0.0) ** 0.5, 1.0)
    fig = go.Figure()
    for kind in sorted({str(n.get("kind")) for n in nodes}):
        for survives in (False, True):
            mine = [n for n in nodes if str(n.get("kind")) == kind and
                    (n.get("tts_days") is None or float(n["tts_days"]) >= cap) == survives]
            if not mine:
                continue
            fig.add_scatter(
                x=[float(n.get("ttr_days") or 0.0) for n in mine],
                y=[top if survives else float(n["tts_days"]) for n in mine], mode="markers",
                name=f"{kind}, survives the horizon" if survives else kind,
                text=[f"{n['node']}<br>TTS "
                      + ("≥ horizon" if survives else f"{float(n['tts_days']):.1f} d")
                      + f", TTR {float(n.get('ttr_days') or 0):.0f} d, "
                      f"PI {float(n.get('pi_units') or 0):,.0f}" for n in mine],
                hoverinfo="text",
                marker={"size": [6 + scale * float(n.get("pi_units") or 0.0) ** 0.5
                                 for n in mine], "opacity": 0.6,
                        "symbol": "triangle-up" if survives else "circle"})
    edge = max(ttrs + [1.0])
    fig.add_scatter(x=[0, edge], y=[0, min(edge, top)], mode="lines", name="TTS = TTR",
                    line={"dash": "dash", "color": "grey"})
    fig.update_layout(title="Risk matrix: time-to-survive vs time-to-recover (size: PI)",
                      xaxis_title="TTR (days)",
                      yaxis_title="TTS (days; ▲ on the top edge: survives the horizon)",
                      yaxis={"range": [0, top * 1.05]})
    return figure_json(fig, height=440)


def bars(title: str, labels: Sequence[str], values: Sequence[float], x_title: str,
         horizontal: bool = False) -> str:
    """A plain bar chart (stress-test critical nodes, units lost per product, exposure)."""
    if horizontal:
        fig = go.Figure(go.Bar(x=list(values)[::-1], y=list(labels)[::-1], orientation="h"))
        fig.update_layout(xaxis_title=x_title)
    else:
        fig = go.Figure(go.Bar(x=list(labels), y=list(values)))
        fig.update_layout(yaxis_title=x_title)
    fig.update_layout(title=title)
    return figure_json(fig, height=max(300, 60 + 24 * len(labels)) if horizontal else 360)


def horizon_days(doc_or_dates: Sequence[str]) -> float | None:
    """Days from the first bucket's start to one bucket past the last (None: unknown)."""
    if len(doc_or_dates) < 2:
        return None
    first, second = date.fromisoformat(doc_or_dates[0]), date.fromisoformat(doc_or_dates[1])
    last = date.fromisoformat(doc_or_dates[-1])
    return float((last - first).days + (second - first).days)


def exposure_shares(value_share: Mapping[str, Mapping[str, float]]) -> str:
    """Per product, the bought-in BOM value by country of origin, as stacked % bars."""
    products = list(value_share)
    countries = sorted({c for sh in value_share.values() for c in sh},
                       key=lambda c: -sum(sh.get(c, 0.0) for sh in value_share.values()))
    fig = go.Figure([go.Bar(name=c, y=products, orientation="h",
                            x=[100.0 * value_share[p].get(c, 0.0) for p in products],
                            hovertemplate="%{y}: %{x:.1f} % from " + c + "<extra></extra>")
                     for c in countries])
    fig.update_layout(barmode="stack", title="Bought-in BOM value by country of origin",
                      xaxis_title="share of bought-in value (%)", xaxis={"range": [0, 100]},
                      legend_title="country")
    return figure_json(fig, height=max(300, 120 + 40 * len(products)))


def site_timeline(doc: Mapping[str, Any], site: str, rows: Iterable[Row]) -> str:
    """What one site makes when: units made per bucket, stacked by item, dates along x."""
    dates = bucket_dates(doc)
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(dates))
    for r in rows:
        b = int(r["bucket"])
        if b < len(dates):
            series[str(r["item"])][b] += float(r["qty"])
    fig = go.Figure()
    for item in sorted(series):
        fig.add_bar(x=dates, y=[round(v, 2) for v in series[item]], name=item,
                    hovertemplate=item + ": %{y:,.0f} units in the bucket from %{x}"
                                         "<extra></extra>")
    fig.update_layout(title=f"{site}: units made per bucket", barmode="stack",
                      xaxis_title="bucket starting", yaxis_title="units")
    fig.update_xaxes(type="date", tickformat="%d %b %Y")
    return figure_json(fig, height=320)


def histogram(title: str, values: Sequence[float], x_title: str, percent: bool = False
              ) -> str:
    """The distribution of one number over the futures of a stress test."""
    xs = [100.0 * v for v in values] if percent else list(values)
    fig = go.Figure(go.Histogram(x=xs, nbinsx=min(40, max(5, len(xs) // 2)),
                                 hovertemplate="%{x}: %{y} futures<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title="futures", bargap=0.05)
    return figure_json(fig, height=320)
