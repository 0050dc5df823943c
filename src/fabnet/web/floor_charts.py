"""Plotly figures of the floor and desk pages, from rows the caller may already see:
first-pass yield by week, the failure Pareto, licence validity and balances, and an
ECO's change in component demand. Time runs along x as dates (an ISO week at its
Monday, a bucket at its start date)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

import plotly.graph_objects as go

from fabnet.services.desk_pages import LicenceLine
from fabnet.services.eco import DemandChange
from fabnet.shop.testing import FailureRow, YieldRow
from fabnet.web.charts import figure_json


def week_start(week: str) -> str:
    """The Monday of an ISO week written `2027-W05` (ISO date)."""
    year, _, w = week.partition("-W")
    return date.fromisocalendar(int(year), int(w), 1).isoformat()


def fpy_by_week(rows: Iterable[YieldRow]) -> str:
    """First-pass yield per test step and ISO week (all items and sites shown summed)."""
    tested: dict[tuple[str, str], int] = defaultdict(int)
    passed: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        k = (r.step, week_start(r.week))
        tested[k] += r.tested
        passed[k] += r.first_pass
    fig = go.Figure()
    for step in sorted({s for s, _ in tested}):
        weeks = sorted(w for s, w in tested if s == step)
        fig.add_scatter(x=weeks, y=[passed[(step, w)] / tested[(step, w)] for w in weeks],
                        mode="lines+markers", name=step,
                        customdata=[tested[(step, w)] for w in weeks],
                        hovertemplate="week of %{x}<br>first-pass yield %{y:.0%}"
                        "<br>%{customdata} units tested")
    fig.update_layout(title="First-pass yield by week and test step", yaxis_title="yield",
                      xaxis_title="week (starting Monday)")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    weeks = sorted({w for _, w in tested})
    if weeks:  # a week's margin either side, ticks on Mondays, even for a single week
        lo = date.fromisoformat(weeks[0]) - timedelta(days=7)
        hi = date.fromisoformat(weeks[-1]) + timedelta(days=7)
        fig.update_xaxes(range=[lo.isoformat(), hi.isoformat()], tick0=weeks[0],
                         dtick=7 * 86_400_000 * max(1, len(weeks) // 8))
    fig.update_xaxes(type="date", tickformat="%d %b %Y")
    return figure_json(fig, 340)


def failure_pareto(rows: Sequence[FailureRow]) -> str:
    """Failures per item and test step, most first, with the cumulative share."""
    labels = [f"{r.item} / {r.step}" for r in rows]
    cum, total = [], 0.0
    for r in rows:
        total += r.share
        cum.append(round(total, 4))
    fig = go.Figure()
    fig.add_bar(x=labels, y=[r.failures for r in rows], name="failures")
    fig.add_scatter(x=labels, y=cum, name="cumulative share", yaxis="y2",
                    mode="lines+markers")
    fig.update_layout(title="Failure Pareto (failed results per item and step)",
                      yaxis_title="failures",
                      yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%",
                              "range": [0, 1.05], "title": "cumulative"})
    return figure_json(fig, 340)


def _ms(d: date) -> float:
    return datetime.combine(d, time()).timestamp() * 1000


def licence_validity(lines: Sequence[LicenceLine], on: date) -> str:
    """Each licence's validity as a bar from its first to its last day, today marked."""
    colour = {"valid": "#2e7d32", "pending": "#f9a825", "expired": "#b3261e",
              "revoked": "#6d6d6d"}
    fig = go.Figure()
    for st in sorted({x.status.value for x in lines}):
        mine = [x for x in lines if x.status.value == st]
        fig.add_bar(y=[x.id for x in mine], base=[x.start.isoformat() for x in mine],
                    x=[_ms(x.until) + 86_400_000 - _ms(x.start) for x in mine],
                    orientation="h", name=st, marker_color=colour.get(st, "#1f5fbf"),
                    customdata=[[x.start.isoformat(), x.until.isoformat()] for x in mine],
                    hovertemplate="%{y}<br>%{customdata[0]} to %{customdata[1]}")
    fig.add_vline(x=_ms(on), line_dash="dot", line_color="#1d2430")
    fig.update_layout(title=f"Licence validity (dotted line: {on.isoformat()})",
                      barmode="overlay", xaxis_title="date")
    fig.update_xaxes(type="date", tickformat="%b %Y")
    return figure_json(fig, 120 + 40 * max(len(lines), 1))


def licence_balances(lines: Sequence[LicenceLine]) -> str:
    """Units drawn and left on each licence."""
    ids = [x.id for x in lines]
    fig = go.Figure()
    fig.add_bar(x=ids, y=[round(x.qty - x.remaining, 3) for x in lines], name="drawn")
    fig.add_bar(x=ids, y=[round(x.remaining, 3) for x in lines], name="left")
    fig.update_layout(title="Licence balances (units)", barmode="stack", yaxis_title="units")
    return figure_json(fig, 320)


def demand_change(rows: Iterable[DemandChange]) -> str:
    """An ECO's change in planned purchases and production per item, by bucket start."""
    fig = go.Figure()
    by: dict[tuple[str, str], list[DemandChange]] = defaultdict(list)
    for r in rows:
        by[(r.item, r.table)].append(r)
    for (item, table), rs in sorted(by.items()):
        rs.sort(key=lambda r: r.start)
        fig.add_bar(x=[r.start.isoformat() for r in rs], y=[round(r.delta, 3) for r in rs],
                    name=f"{item} {table}")
    fig.update_layout(title="Planned component demand: with the change minus without",
                      barmode="relative", yaxis_title="units", xaxis_title="bucket start")
    fig.update_xaxes(type="date", tickformat="%d %b %Y")
    return figure_json(fig, 340)
