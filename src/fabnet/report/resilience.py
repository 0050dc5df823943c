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


def risk_matrix(risks: list[NodeRisk], horizon_days: float | None = None) -> str:
    """TTS vs TTR per node, marker size by PI; nodes below the diagonal are exposed.

    TTS is capped at the horizon: nodes that survive it all would stretch the axis far
    beyond every TTR, so the axis stops just above the largest TTR and uncapped TTS, and
    capped nodes sit on its top edge as triangles, as the axis title says. Failed nodes
    (no proven TTS) are not drawn; the caption counts them.
    """
    fig = go.Figure()
    shown = [r for r in risks if r.tts is not None]
    cap = horizon_days if horizon_days is not None else float("inf")
    capped = [r for r in shown if r.tts is not None and r.tts >= cap - 1e-6]
    below = [float(r.tts) for r in shown if r not in capped and r.tts is not None]
    ceiling = max(below + [r.ttr for r in risks] + [1.0])
    if capped:  # the capped nodes sit on the top edge, just above the rest
        ceiling = min(cap, 1.15 * ceiling)
    pis = np.array([r.pi or 0.0 for r in shown]) if shown else np.zeros(0)
    scale = 40.0 / max(float(np.sqrt(pis.max())) if pis.size and pis.max() > 0 else 1.0, 1e-9)
    for kind in sorted({str(r.kind) for r in shown}):
        for at_cap in (False, True):
            mine = [r for r in shown if str(r.kind) == kind and (r in capped) == at_cap]
            if not mine:
                continue
            fig.add_scatter(
                x=[r.ttr for r in mine],
                y=[min(float(r.tts or 0.0), ceiling) for r in mine], mode="markers",
                name=f"{kind}, survives the horizon" if at_cap else kind,
                text=[f"{r.node}<br>TTS {r.tts:.1f} d{' (capped)' if at_cap else ''}, "
                      f"TTR {r.ttr:.0f} d, PI {r.pi or 0.0:,.0f}" for r in mine],
                hoverinfo="text",
                marker={"size": [6 + scale * float(np.sqrt(r.pi or 0.0)) for r in mine],
                        "opacity": 0.6, "symbol": "triangle-up" if at_cap else "circle"})
    top = max([r.ttr for r in risks] + [1.0])
    fig.add_scatter(x=[0, top], y=[0, min(top, ceiling)], mode="lines", name="TTS = TTR",
                    line={"dash": "dash", "color": "grey"})
    y_title = "TTS (days)"
    if capped and horizon_days is not None:
        y_title = (f"TTS (days); TTS capped at horizon ({horizon_days:,.0f} days): "
                   f"{len(capped)} nodes ▲ at the top survive it all")
        fig.add_hline(y=ceiling, line_dash="dot", line_color="grey",
                      annotation_text=f"TTS capped at horizon ({horizon_days:,.0f} days)")
    fig.update_layout(title="Risk matrix: time-to-survive vs time-to-recover (size: PI)",
                      xaxis_title="TTR (days)", yaxis_title=y_title,
                      yaxis={"range": [0, ceiling * 1.05]})
    return _html(fig)


def _num(v: float | None) -> float | str:
    """A TTS or PI for a table: the number, or a dash where it is unknown."""
    return "—" if v is None else v


def tts_section(risks: list[NodeRisk], top: int = 15, horizon_days: float | None = None
                ) -> tuple[str, str]:
    """Risk matrix, the most exposed nodes, and apart from them every failed node."""
    exposed = [r for r in risks if r.exposed]
    failed = [r for r in risks if r.failed]
    ranked = [r for r in risks if not r.failed]
    cols = ("node", "kind", "TTS (days)", "TTR (days)", "PI (units)", "status")
    rows = [(r.node, str(r.kind), _num(r.tts), r.ttr, _num(r.pi), str(r.status))
            for r in ranked[:top]]
    html = (f"<p>{len(exposed)} of {len(risks)} nodes can't survive their recovery time "
            "(TTS &lt; TTR). Ranked by performance impact (units lost over the TTR). "
            "Every TTS and PI is the aggregate LP's optimum, checked on the unscaled "
            "model.</p>")
    if failed:
        html += (f"<p><strong>{len(failed)} of {len(risks)} nodes failed</strong>: the "
                 "solver did not prove their LP's optimum, so their TTS or PI is unknown "
                 "(listed apart below, not ranked, not drawn).</p>")
    html += risk_matrix(risks, horizon_days) + table(cols, rows)
    if failed:
        html += "<h3>Failed nodes</h3>" + table(cols, [
            (r.node, str(r.kind), _num(r.tts), r.ttr, _num(r.pi), str(r.status))
            for r in failed])
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
    """Fill-rate histogram, units lost per product, nodes most often critical.

    Futures that did not solve are counted by status above the statistics, which are
    over the futures that solved; they never enter a chart or a mean.
    """
    parts = []
    if res.failed:
        why = ", ".join(f"{n} {k.replace('_', ' ')}"
                        for k, n in sorted(res.failed_by_status.items()))
        parts.append(f"<p><strong>{res.failed} of {res.samples} futures did not solve "
                     f"({escape(why)})</strong>: they are left out of every statistic "
                     f"below, which covers the {res.solved} that solved.</p>")
    s = res.summary()
    parts.append(table(("statistic", "value"),
                       [(k, "n/a (no future solved)" if v is None else v)
                        for k, v in s.items()]))
    if res.solved:
        fig = go.Figure(go.Histogram(x=(100 * res.solved_fill).tolist(), nbinsx=30))
        fig.add_vline(x=100 * res.target, line_dash="dash", annotation_text="target")
        fig.update_layout(title=f"Fill rate over {res.solved} solved futures of "
                                f"{res.samples} (seed {res.seed})",
                          xaxis_title="fill rate (%)", yaxis_title="futures")
        parts.append(_html(fig))
        parts.append(table(("product", "mean lost", "p95 lost", "max lost"),
                           [(k, float(v.mean()), float(np.percentile(v, 95)), float(v.max()))
                            for k, v in ((k, res.solved_lost(k)) for k in res.lost_by_item)]))
        nodes = list(res.critical_counts.items())[:top]
        bar = go.Figure(go.Bar(x=[c / res.solved for _, c in nodes][::-1],
                               y=[n for n, _ in nodes][::-1], orientation="h"))
        bar.update_layout(title="Nodes most often on the critical path (share of solved "
                                "futures)", xaxis_title="share of futures")
        parts.append(_html(bar))
    return "Stress test (Monte Carlo)", "".join(parts)


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
