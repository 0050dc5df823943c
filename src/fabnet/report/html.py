"""Render a plan as one self-contained HTML file (Plotly's JavaScript inlined)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
from plotly.offline import get_plotlyjs

from fabnet.model.network import Network
from fabnet.plan.plan import NO_DEMAND, Plan
from fabnet.plan.summary import (
    displayed_months,
    kpi_label,
    kpi_summary,
    monthly_summary,
    top_shortfalls,
)
from fabnet.report import charts


def _template() -> jinja2.Template:
    text = resources.files("fabnet.report").joinpath("templates/report.html.j2").read_text(
        encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["fmt"] = _fmt
    return env.from_string(text)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3f}".rstrip("0").rstrip(".")
    return str(v)


def render_plan_report(net: Network, plan: Plan, sections: list[tuple[str, str]] | None = None
                       ) -> str:
    """The report's HTML: KPIs, demand vs plan, utilization, purchases, shortfalls.

    Every figure is in words and rounded for people (parts that are shown with their
    total add up to it); `sections` adds (title, html) blocks, e.g. resilience results,
    after the plan's own.
    """
    sc = net.scenario
    lines = monthly_summary(sc, plan)
    k = plan.kpis
    shown = dict(kpi_summary(k))
    tiles = [(shown.get(kpi_label(n), NO_DEMAND), kpi_label(n))
             for n in ("fill_rate", "on_time_rate")]
    tiles += [(shown[kpi_label("units_delivered")],
               f"units delivered of {shown[kpi_label('units_demanded')]}"),
              (shown[kpi_label("units_lost")], kpi_label("units_lost")),
              (shown[kpi_label("units_late")], kpi_label("units_late")),
              (shown[kpi_label("cost_total")], "cost (purchase, transport, holding)")]
    all_kpis = [(label, value, name)
                for name, (label, value) in zip(k, kpi_summary(k), strict=True)]
    return _template().render(
        scenario=sc.name, horizon=sc.horizon, kpis=k, lines=displayed_months(lines),
        tiles=tiles, all_kpis=all_kpis, no_demand=k.get("note") == NO_DEMAND,
        shortfalls=top_shortfalls(plan, sc, 25),
        n_shortfalls=len(plan.tables["shortfalls"]),
        charts=[charts.demand_vs_plan(lines),
                charts.utilization_heatmap(net, plan.rows("load")),
                charts.purchases_by_origin(net, plan.rows("purchases"))],
        sections=sections or [],
        plotlyjs=get_plotlyjs(),
    )


def render_page(title: str, subtitle: str, sections: list[tuple[str, str]]) -> str:
    """A self-contained page of report sections (for the continuity commands)."""
    text = resources.files("fabnet.report").joinpath("templates/page.html.j2").read_text(
        encoding="utf-8")
    tpl = jinja2.Environment(autoescape=True).from_string(text)
    return tpl.render(title=title, subtitle=subtitle, sections=sections,
                      plotlyjs=get_plotlyjs())
