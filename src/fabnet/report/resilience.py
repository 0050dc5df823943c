"""Report sections for continuity results: risk matrix, what-if, stress test, exposure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
import numpy as np
import plotly.graph_objects as go
from markupsafe import escape

from fabnet.report.charts import _html
from fabnet.resilience.exposure import Exposure
from fabnet.resilience.montecarlo import StressResult
from fabnet.resilience.tts import NodeRisk
from fabnet.resilience.whatif import WhatIfDiff

_ENV = jinja2.Environment(autoescape=True)
_TABLE = _ENV.from_string("""<table><tr>{% for c in cols %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>""")


def table(cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain HTML table, values escaped."""
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.3f}"
        return str(v)
    return _TABLE.render(cols=cols, rows=[[fmt(v) for v in r] for r in rows])


def risk_matrix(risks: list[NodeRisk]) -> str:
    """TTS vs TTR per node, marker size by PI; nodes below the diagonal are exposed."""
    fig = go.Figure()
    pis = np.array([r.pi for r in risks]) if risks else np.zeros(0)
    scale = 40.0 / max(float(np.sqrt(pis.max())) if pis.size and pis.max() > 0 else 1.0, 1e-9)
    for kind in sorted({str(r.kind) for r in risks}):
        mine = [r for r in risks if str(r.kind) == kind]
        fig.add_scatter(
            x=[r.ttr for r in mine], y=[r.tts for r in mine], mode="markers", name=kind,
            text=[f"{r.node}<br>TTS {r.tts:.1f} d, TTR {r.ttr:.0f} d, PI {r.pi:,.0f}"
                  for r in mine], hoverinfo="text",
            marker={"size": [6 + scale * float(np.sqrt(r.pi)) for r in mine], "opacity": 0.6})
    top = max([r.ttr for r in risks] + [r.tts for r in risks] + [1.0])
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="TTS = TTR",
                    line={"dash": "dash", "color": "grey"})
    fig.update_layout(title="Risk matrix: time-to-survive vs time-to-recover (size: PI)",
                      xaxis_title="TTR (days)", yaxis_title="TTS (days)")
    return _html(fig)


def tts_section(risks: list[NodeRisk], top: int = 15) -> tuple[str, str]:
    """Risk matrix and the most exposed nodes."""
    exposed = [r for r in risks if r.exposed]
    rows = [(r.node, str(r.kind), r.tts, r.ttr, r.pi) for r in risks[:top]]
    html = (f"<p>{len(exposed)} of {len(risks)} nodes can't survive their recovery time "
            "(TTS &lt; TTR). Ranked by performance impact (units lost over the TTR).</p>"
            + risk_matrix(risks)
            + table(("node", "kind", "TTS (days)", "TTR (days)", "PI (units)"), rows))
    return "Time-to-survive and time-to-recover", html


def whatif_section(diff: WhatIfDiff, title: str = "What-if") -> tuple[str, str]:
    """KPI deltas, customers and products hit, moved orders, changed purchases."""
    what = ", ".join(f"{d.target} from {d.start} for {d.buckets} buckets at {d.capacity:g}"
                     for d in diff.disruptions)
    kpi = table(("KPI", "base", "what-if", "change"),
                [(k, b, n, n - b) for k, (b, n) in diff.kpis.items()])
    parts = [f"<p>Disruption: {escape(what)}.</p>", kpi]
    if diff.by_customer_item:
        parts.append("<h3>Customers and products hit</h3>" + table(
            ("customer", "item", "demanded", "late (base)", "late", "lost (base)", "lost"),
            [tuple(r.values()) for r in diff.by_customer_item]))
    if diff.moved:
        parts.append("<h3>Orders moved between sites</h3>" + table(
            ("demand", "customer", "item", "from", "to", "qty"),
            [tuple(r.values()) for r in diff.moved[:40]]))
    if diff.purchases:
        parts.append("<h3>Purchases changed</h3>" + table(
            ("supplier", "item", "base", "what-if", "change"),
            [tuple(r.values()) for r in diff.purchases[:40]]))
    return title, "".join(parts)


def montecarlo_section(res: StressResult, top: int = 15) -> tuple[str, str]:
    """Fill-rate histogram, units lost per product, nodes most often critical."""
    fig = go.Figure(go.Histogram(x=(100 * res.fill).tolist(), nbinsx=30))
    fig.add_vline(x=100 * res.target, line_dash="dash", annotation_text="target")
    fig.update_layout(title=f"Fill rate over {res.samples} sampled futures (seed {res.seed})",
                      xaxis_title="fill rate (%)", yaxis_title="futures")
    nodes = list(res.critical_counts.items())[:top]
    bar = go.Figure(go.Bar(x=[c / res.samples for _, c in nodes][::-1],
                           y=[n for n, _ in nodes][::-1], orientation="h"))
    bar.update_layout(title="Nodes most often on the critical path (share of futures)",
                      xaxis_title="share of futures")
    s = res.summary()
    lost = table(("product", "mean lost", "p95 lost", "max lost"),
                 [(k, float(v.mean()), float(np.percentile(v, 95)), float(v.max()))
                  for k, v in res.lost_by_item.items()])
    head = table(("statistic", "value"), [(k, v) for k, v in s.items()])
    return "Stress test (Monte Carlo)", head + _html(fig) + lost + _html(bar)


def exposure_section(ex: Exposure) -> tuple[str, str]:
    """Stacked shares of BOM value by country per product; gaps; embargo losses."""
    fig = go.Figure()
    countries = sorted({c for sh in ex.value_share.values() for c in sh})
    products = list(ex.value_share)
    for c in countries:
        fig.add_bar(x=products, y=[100 * ex.value_share[p].get(c, 0.0) for p in products],
                    name=c)
    fig.update_layout(barmode="stack", title="Bought-in BOM value by country of origin",
                      yaxis_title="% of value")
    parts = [_html(fig)]
    parts.append(f"<p>Single-sourced items ({len(ex.single_sourced)}): "
                 f"{escape(', '.join(ex.single_sourced))}</p>")
    if ex.one_country:
        parts.append("<p>Items whose every source is in one country: " + str(
            escape(", ".join(f"{k} ({v})"
                                                     for k, v in ex.one_country.items())))
            + "</p>")
    if ex.embargo_lost:
        emb = go.Figure(go.Bar(x=list(ex.embargo_lost), y=list(ex.embargo_lost.values())))
        emb.update_layout(title="Units lost if a country stops (embargo what-if)",
                          yaxis_title="units lost beyond the base plan")
        parts.append(_html(emb))
    return "Country-of-origin exposure", "".join(parts)
